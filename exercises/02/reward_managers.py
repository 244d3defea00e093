"""Two more of verl's reward managers: DAPO's overlong shaping and the batch manager.

Lesson: exercises/02/README.md §4.4–§4.6 (中文: README.zh-CN.md §4.4–§4.6).
Mirrors verl 0.9.1: ``DAPORewardManager.run_single``
(``verl/experimental/reward_loop/reward_manager/dapo.py``, registered as ``dapo`` for the reward
loop that ``main_ppo`` runs) and ``BatchRewardManager.__call__``
(``verl/workers/reward_manager/batch.py``, registered as ``batch`` in the legacy worker registry).

Both wrap a scorer like ``naive`` does (§4.2) and change one thing: ``dapo`` adds a length penalty
measured in **tokens** after scoring; ``batch`` calls the scorer **once** for the whole batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch


def dapo_reward(
    result: float | Mapping[str, Any],
    valid_response_length: int,
    max_resp_len: int | None = None,
    overlong_buffer_cfg: Mapping[str, Any] | None = None,
) -> tuple[float, dict[str, Any]]:
    """What verl's ``dapo`` reward manager makes of one response's score.

    Args:
        result: what ``compute_score`` returned for the response: a number, or a dict with at
            least ``"score"``.
        valid_response_length: the response's real tokens (``attention_mask`` over the response
            columns, summed), padding excluded.
        max_resp_len: ``reward.reward_kwargs.max_resp_len`` (usually ``data.max_response_length``).
        overlong_buffer_cfg: ``reward.reward_kwargs.overlong_buffer_cfg``, a mapping with keys
            ``enable`` (bool), ``len`` (tokens), ``penalty_factor`` (float) and ``log`` (bool,
            optional, default False); ``None`` = no shaping.

    Returns:
        ``(reward, reward_extra_info)``:

        * ``reward`` = the score (``result["score"]`` for a dict) plus, when the buffer is
          enabled, the overlong term ``min(-(L - (max_resp_len - len)) / len * penalty_factor, 0)``
          with ``L = valid_response_length`` — chapter 04's ``overlong_penalty`` in tokens. verl
          does **not** clip it from below: an ``L`` above ``max_resp_len`` (a ``max_resp_len``
          set shorter than the rollout's responses) gives less than ``-penalty_factor``.
        * ``reward_extra_info``: a dict result's items, every key (``"score"`` included); for a
          number, ``{"acc": score}``. With ``log`` on, also ``"overlong_reward"`` (the term, 0
          when not over) and ``"overlong"`` (``term < 0``).

    Raises:
        ValueError: only when the buffer is enabled, checked in verl's order: ``max_resp_len`` is
            ``None``; ``max_resp_len < len``; ``len <= 0``. (verl asserts these when it builds
            the manager; a disabled buffer checks nothing.)

    Example:
        >>> dapo_reward(1.0, 14, 16, {"enable": True, "len": 4, "penalty_factor": 1.0, "log": True})
        (0.5, {'acc': 1.0, 'overlong_reward': -0.5, 'overlong': True})
    """
    # TODO: your implementation (stuck? `python grader.py hint 02.dapo_manager`).
    raise NotImplementedError("implement dapo_reward — see exercises/02/README.md §4.5")


def batch_compute_reward(
    batch: dict, compute_score: Callable[..., Any], reward_kwargs: Mapping[str, Any] | None = None
) -> tuple[torch.Tensor, dict[str, list]]:
    """verl's ``batch`` reward manager: one scorer call for the whole batch.

    ``batch`` has the keys of :func:`reward_manager.compute_reward` (§4.2: ``responses``,
    ``attention_mask``, ``response_text``, ``data_source``, ``reward_model``, optional
    ``extra_info``) and, optionally, ``reward_scores``: ``list[dict]``, scores the rollout already
    gave (verl: ``non_tensor_batch["reward_scores"]``, e.g. from a tool in chapter 05).

    Args:
        batch: as above.
        compute_score: called **once**, by keyword, with lists in batch order::

              compute_score(data_sources=[...], solution_strs=[...], ground_truths=[...],
                            extra_infos=[...], **reward_kwargs)

            ``ground_truths[i]`` is ``reward_model[i].get("ground_truth")`` (``None`` when absent);
            ``extra_infos[i]`` is the row's ``extra_info`` dict (``{}`` when the batch has none)
            plus ``"rollout_reward_scores"``: ``reward_scores[i]``, or ``{}`` when the batch has
            no ``reward_scores``. It returns one score per response: a number or a dict with
            ``"score"``.
        reward_kwargs: extra keywords for every call (verl: the manager's ``**reward_kwargs``).

    Returns:
        ``(reward_tensor, extra_info)`` as :func:`reward_manager.compute_reward`: each reward on
        its response's last real token (use your ``place_scores``: ``from .reward_manager import
        place_scores``), and for dict scores every key (``"score"`` included) as a list in batch
        order (``{}`` for numbers).

    Raises:
        ValueError: the scorer returned a different number of scores than responses (say both).
    """
    # TODO: your implementation (stuck? `python grader.py hint 02.batch_manager`).
    raise NotImplementedError("implement batch_compute_reward — see exercises/02/README.md §4.6")
