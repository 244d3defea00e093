"""Masks, masked statistics and log-probabilities — the vocabulary of every RL loss.

Lesson: exercises/03/README.md §1 (中文: README.zh-CN.md §1).
Mirrors verl 0.9.1: ``verl/trainer/ppo/ray_trainer.py::compute_response_mask`` and
``verl/utils/torch_functional.py``.

Shapes used in this chapter:
    bs               number of sequences in the batch (prompts × rollout.n)
    prompt_length    left-padded prompt tokens
    response_length  right-padded response tokens
    vocab_size       size of the tokenizer's vocabulary
A sequence in verl is ``[left-padded prompt | right-padded response]``, so
``attention_mask`` is ``(bs, prompt_length + response_length)``.
"""

from __future__ import annotations

import torch


def compute_response_mask(responses: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The part of ``attention_mask`` that covers the response tokens.

    Args:
        responses: ``(bs, response_length)`` int64 token ids of the responses.
        attention_mask: ``(bs, prompt_length + response_length)`` int64, 1 = real token.

    Returns:
        ``(bs, response_length)``: the last ``response_length`` columns of ``attention_mask``
        (same dtype), 1 on real response tokens and 0 on right padding.

    Example:
        >>> attention_mask = torch.tensor([[0, 1, 1, 1, 1, 0]])  # prompt 3 (1 pad), response 3 (1 pad)
        >>> compute_response_mask(torch.zeros(1, 3, dtype=torch.long), attention_mask)
        tensor([[1, 1, 0]])
    """
    # TODO: slice the response columns out of attention_mask.
    raise NotImplementedError("implement compute_response_mask — see exercises/03/README.md §1.1")


def masked_mean(values: torch.Tensor, mask: torch.Tensor, axis: int | None = None) -> torch.Tensor:
    """Mean of ``values`` over the positions where ``mask`` is 1.

    Args:
        values: any shape, float.
        mask: same shape as ``values``; bool or 0/1 numbers.
        axis: dimension to reduce; ``None`` reduces everything to a scalar.

    Returns:
        ``sum(values * mask) / (sum(mask) + 1e-8)`` over ``axis``. Masked positions must not
        influence the result even when they hold ``inf`` or ``NaN``; the ``1e-8`` keeps an
        all-zero mask from dividing by zero (the result is then 0).

    Example:
        >>> masked_mean(torch.tensor([1.0, 2.0, 100.0]), torch.tensor([1, 1, 0]))
        tensor(1.5000)
    """
    # TODO: zero the masked positions first (torch.where), then sum and divide.
    raise NotImplementedError("implement masked_mean — see exercises/03/README.md §1.3")
