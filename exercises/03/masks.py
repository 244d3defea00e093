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
    # TODO: your implementation (lesson §1.1; `python grader.py hint 03.response_mask` when stuck).
    raise NotImplementedError("implement compute_response_mask — see exercises/03/README.md §1.1")


def get_response_mask(
    response_id: torch.Tensor, eos_token: int | list[int] = 2, dtype: torch.dtype = torch.int64
) -> torch.Tensor:
    """Mask of the tokens up to and including the first EOS of each response.

    A rollout engine keeps sampling until every sequence in the batch is done, so a
    response may hold tokens after its end-of-sequence token. They were never part of
    the answer and must not be trained on.

    Args:
        response_id: ``(bs, response_length)`` int64 token ids.
        eos_token: one EOS id, or a list of them (chat models often stop on several,
            e.g. ``<|im_end|>`` and ``<|endoftext|>``); the first *any* of them ends the response.
        dtype: dtype of the returned mask.

    Returns:
        ``(bs, response_length)`` mask of ``dtype``: 1 up to and **including** the first EOS
        token (the model chose to stop there: that choice is trained on too), 0 after it.
        A row without EOS is all ones. An EOS id that appears again later changes nothing:
        only the first one counts.

    Example:
        >>> response_id = torch.tensor([[20, 10, 1, 7, 1],
        ...                             [78, 2, 76, 1, 0]])
        >>> get_response_mask(response_id, eos_token=1)
        tensor([[1, 1, 1, 0, 0],
                [1, 1, 1, 1, 0]])
        >>> get_response_mask(response_id, eos_token=[1, 2])
        tensor([[1, 1, 1, 0, 0],
                [1, 1, 0, 0, 0]])

    In verl: ``verl/utils/torch_functional.py::get_response_mask``.
    """
    # TODO: your implementation (lesson §1.2; `python grader.py hint 03.eos_mask` when stuck).
    raise NotImplementedError("implement get_response_mask — see exercises/03/README.md §1.2")


def masked_mean(values: torch.Tensor, mask: torch.Tensor, axis: int | None = None) -> torch.Tensor:
    """Mean of ``values`` over the positions where ``mask`` is 1.

    Args:
        values: any shape, float.
        mask: same shape as ``values``; bool or 0/1 numbers.
        axis: dimension to reduce; ``None`` reduces everything to a scalar.

    Returns:
        Σ values over valid positions / (number of valid positions + 1e-8), reduced over
        ``axis``, in ``values``' dtype (as torch promotes that division: a bfloat16/float16
        tensor reduced to a 0-dim result comes back float32, as in verl). Masked positions
        must not influence the result even when they hold ``inf`` or ``NaN``. The ``1e-8``
        is added to the count, so an all-zero mask gives 0, not NaN.

    In verl: ``verl/utils/torch_functional.py::masked_mean``.

    Example:
        >>> masked_mean(torch.tensor([1.0, 2.0, 100.0]), torch.tensor([1, 1, 0]))
        tensor(1.5000)
    """
    # TODO: your implementation (lesson §1.3; `python grader.py hint 03.masked_mean` when stuck).
    raise NotImplementedError("implement masked_mean — see exercises/03/README.md §1.3")


def masked_var(values: torch.Tensor, mask: torch.Tensor, unbiased: bool = True) -> torch.Tensor:
    """Variance of ``values`` over the positions where ``mask`` is 1 (the whole tensor, no axis).

    Args:
        values: any shape, float, e.g. advantages ``(bs, response_length)``.
        mask: same shape as ``values``; bool or 0/1 numbers.
        unbiased: ``True`` applies Bessel's correction ``n / (n - 1)`` (``n = mask.sum()``),
            like ``torch.var``; ``False`` gives the population variance.

    Returns:
        A 0-dim tensor of ``values``' dtype: with μ the masked mean and n the number of
        valid positions, Σ (x − μ)² / n over valid x (population), times n / (n − 1) when
        ``unbiased``. The mean and the squared deviations use the same ``1e-8`` convention
        as ``masked_mean``. Masked positions must not influence it, even when they hold
        ``inf`` or ``NaN``.

    Raises:
        ValueError: when ``unbiased`` and ``n == 0`` or ``n == 1`` (as verl does: the
            correction would divide by zero).

    Example:
        >>> masked_var(torch.tensor([1.0, 2.0, 3.0, 100.0]), torch.tensor([1, 1, 1, 0]))
        tensor(1.)       # mean 2, squared deviations 1 + 0 + 1 = 2, 2 / (3 - 1) = 1
        >>> masked_var(torch.tensor([1.0, 2.0, 3.0, 100.0]), torch.tensor([1, 1, 1, 0]), unbiased=False)
        tensor(0.6667)   # 2 / 3

    In verl: ``verl/utils/torch_functional.py::masked_var``.
    """
    # TODO: your implementation (lesson §1.3; `python grader.py hint 03.masked_var` when stuck).
    raise NotImplementedError("implement masked_var — see exercises/03/README.md §1.3")


def masked_whiten(values: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True) -> torch.Tensor:
    """Normalise ``values`` to mean 0 and variance 1 using the statistics of the valid positions.

    PPO and REINFORCE++ whiten advantages over the whole batch this way.

    Args:
        values: any shape, float, e.g. advantages ``(bs, response_length)``.
        mask: same shape; bool or 0/1 numbers. Only valid positions feed the statistics.
        shift_mean: ``True`` gives zero mean; ``False`` only rescales and keeps the
            original mean (the mean is added back after scaling).

    Returns:
        Same shape and dtype as ``values``: (x − μ) / √(σ² + 1e-8) at every position, with μ
        the masked mean and σ² the **unbiased** masked variance of the valid positions;
        with ``shift_mean=False``, μ is added back afterwards. The 1e-8 sits inside the
        square root. verl applies this to every position, masked ones included, and
        callers multiply by the mask afterwards; the tests look at valid positions only.
        Fewer than two valid positions: the unbiased variance raises ``ValueError``.

    Example:
        >>> masked_whiten(torch.tensor([1.0, 2.0, 3.0, 100.0]), torch.tensor([1, 1, 1, 0]))
        tensor([-1.0000,  0.0000,  1.0000, 98.0000])   # mean 2, unbiased var 1
        >>> masked_whiten(torch.tensor([1.0, 2.0, 3.0, 100.0]), torch.tensor([1, 1, 1, 0]), shift_mean=False)
        tensor([  1.0000,   2.0000,   3.0000, 100.0000])  # var 1: only the scale could change

    In verl: ``verl/utils/torch_functional.py::masked_whiten``.
    """
    # TODO: your implementation (lesson §1.3; `python grader.py hint 03.masked_whiten` when stuck).
    raise NotImplementedError("implement masked_whiten — see exercises/03/README.md §1.3")


def logprobs_from_logits(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Log-probability of each sampled token under the distribution given by ``logits``.

    Args:
        logits: ``(bs, response_length, vocab_size)`` float (also ``(n, vocab_size)``), the
            model's unnormalised scores; may be large (thousands), and that must not overflow.
        labels: ``(bs, response_length)`` int64 (or ``(n,)``): the token ids that were sampled.

    Returns:
        ``(bs, response_length)`` (or ``(n,)``), ``logits``' dtype: log softmax(logits)
        at each label, finite even for logits in the thousands and for tokens whose
        probability underflows float32. Gradients flow back to ``logits`` (this is the
        policy's log-prob in every loss).

    Example:
        >>> logits = torch.tensor([[0.0, 0.0, 0.6931472]])       # log 2: p = [1/4, 1/4, 1/2]
        >>> logprobs_from_logits(logits, torch.tensor([2]))
        tensor([-0.6931])                                        # log(1/2)

    In verl: ``verl/utils/torch_functional.py::logprobs_from_logits``.
    """
    # TODO: your implementation (lesson §1.4; `python grader.py hint 03.logprobs` when stuck).
    raise NotImplementedError("implement logprobs_from_logits — see exercises/03/README.md §1.4")


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of the next-token distribution at every position.

    Args:
        logits: ``(bs, response_length, vocab_size)`` float (or any ``(..., vocab_size)``).

    Returns:
        ``(bs, response_length)`` (the vocabulary dimension reduced), ``logits``' dtype:
        H = −Σ p log p with p = softmax(logits). Finite (never NaN) when some
        probabilities underflow to 0, i.e. 0 · log 0 counts as 0. Gradients flow back to
        ``logits`` (the entropy bonus is trained on).

    Example:
        >>> entropy_from_logits(torch.zeros(1, 4))      # uniform over 4 tokens
        tensor([1.3863])                                # log(4)
        >>> entropy_from_logits(torch.tensor([[0.0, -1e4]]))
        tensor([0.])                                    # all mass on one token

    In verl: ``verl/utils/torch_functional.py::entropy_from_logits``.
    """
    # TODO: your implementation (lesson §1.4; `python grader.py hint 03.entropy` when stuck).
    raise NotImplementedError("implement entropy_from_logits — see exercises/03/README.md §1.4")
