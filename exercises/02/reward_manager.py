"""The reward manager: from decoded responses to a token-level reward tensor.

Lesson: exercises/02/README.md §4 (中文: README.zh-CN.md §4).
Mirrors verl 0.9.1: ``NaiveRewardManager.__call__`` (``verl/workers/reward_manager/naive.py``)
and ``default_compute_score`` (``verl/utils/reward_score/__init__.py``).

A rule reward scores a whole response with one number, but verl's losses work per token.
The manager puts each score on **one** token — the last real token of the response — and
zeros everywhere else, so ``reward_tensor.sum(-1)`` is the sequence score and GAE/GRPO
can read it at the end of the sequence.

Shapes used in this chapter:
    bs               number of responses in the batch (prompts × rollout.n)
    prompt_length    left-padded prompt tokens
    response_length  right-padded response tokens
A response mask row is ``1 … 1 0 … 0`` (real tokens, then right padding).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

MATH_SOURCES = ("lighteval/MATH", "DigitalLearningGmbH/MATH-lighteval", "HuggingFaceH4/MATH-500")


def place_scores(scores: torch.Tensor | Sequence[float], response_mask: torch.Tensor) -> torch.Tensor:
    """Put each response's score on its last real token.

    Args:
        scores: ``(bs,)`` one number per response (tensor or list of floats).
        response_mask: ``(bs, response_length)`` int or bool, ``1 … 1 0 … 0`` per row.

    Returns:
        ``(bs, response_length)`` float32, zero everywhere except
        ``reward[i, L_i - 1] = scores[i]`` where ``L_i = response_mask[i].sum()``.
        An **empty** response (``L_i = 0``) gets its score at index ``-1``, the last column,
        exactly as verl's ``reward_tensor[i, valid_response_length - 1]`` does: the row still
        sums to the score (GRPO groups see it), and the policy loss masks that column anyway.

    Example:
        >>> place_scores([1.0, 0.5, 2.0], torch.tensor([[1, 1, 0], [1, 1, 1], [0, 0, 0]]))
        tensor([[0.0000, 1.0000, 0.0000],
                [0.0000, 0.0000, 0.5000],
                [0.0000, 0.0000, 2.0000]])
    """
    # TODO: your implementation (stuck? `python grader.py hint 02.place_scores`).
    raise NotImplementedError("implement place_scores — see exercises/02/README.md §4.1")


def compute_reward(batch: dict, compute_score: Callable[..., Any]) -> tuple[torch.Tensor, dict[str, list]]:
    """Score every response of a batch and build the token-level reward tensor.

    ``batch`` is a plain dict holding what verl's ``DataProto`` holds at this point of a
    step, with the responses already decoded (verl decodes the valid response tokens with
    ``skip_special_tokens=True``):

    ============== ================================================ =========================
    key            value                                            verl's name
    ============== ================================================ =========================
    responses      ``(bs, response_length)`` int64 token ids        ``batch["responses"]``
    attention_mask ``(bs, prompt_length + response_length)`` int64  ``batch["attention_mask"]``
    response_mask  ``(bs, response_length)``: the last columns of   ``batch["response_mask"]``
                   ``attention_mask`` (use either)
    response_text  ``list[str]``: decoded responses                 ``tokenizer.decode(...)``
    data_source    ``list[str]``, e.g. ``"openai/gsm8k"``           ``non_tensor_batch[...]``
    reward_model   ``list[dict]``, each with ``"ground_truth"``     ``non_tensor_batch[...]``
    extra_info     ``list[dict]`` — optional, may be absent         ``non_tensor_batch[...]``
    ============== ================================================ =========================

    Args:
        batch: as above.
        compute_score: called once per response **with keyword arguments**, like verl:
            ``compute_score(data_source=..., solution_str=..., ground_truth=..., extra_info=...)``
            (``extra_info`` is ``batch["extra_info"][i]``, or ``None`` when the key is absent).
            It returns a number, or a dict with at least ``"score"``.

    Returns:
        ``(reward_tensor, extra_info)``: ``reward_tensor`` is :func:`place_scores` of the
        scores (float32, ``(bs, response_length)``); ``extra_info`` maps every key of the dict
        scores (``"score"`` included) to a list in batch order, e.g.
        ``{"score": [1.0, 0.0], "acc": [True, False]}``; ``{}`` when the scores are numbers.
    """
    # TODO: your implementation (stuck? `python grader.py hint 02.compute_reward`).
    raise NotImplementedError("implement compute_reward — see exercises/02/README.md §4.2")


def default_compute_score(
    data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None
) -> float | dict:
    """Pick the scorer by ``data_source``, like verl's ``default_compute_score``.

    Args:
        data_source: the row's ``data_source``.
        solution_str, ground_truth, extra_info: passed on to the scorer.

    Returns:
        * ``"openai/gsm8k"``: your ``gsm8k_reward.compute_score(solution_str, ground_truth)``
          (defaults: strict, format_score 0) — a sibling module: ``from .gsm8k_reward import compute_score``.
        * one of :data:`MATH_SOURCES`: verl's own MATH scorer,
          ``verl.utils.reward_score.math_reward.compute_score(solution_str, ground_truth)``
          (import it inside that branch: importing verl takes seconds).
        * A dict result is returned as it is; a number (``int``, ``bool`` or ``float``) as ``float``.

    Raises:
        NotImplementedError: for any other ``data_source``, with the source in the message
            (verl: ``f"Reward function is not implemented for {data_source=}"``). Never a
            silent 0: a wrong reward trains the policy on a wrong signal without any error.

    Example:
        >>> default_compute_score("openai/gsm8k", "#### 12", "12")
        1.0
    """
    # TODO: your implementation (stuck? `python grader.py hint 02.default_score`).
    raise NotImplementedError("implement default_compute_score — see exercises/02/README.md §4.3")
