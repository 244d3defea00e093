"""From scores to a token-level reward tensor (reference solution).

Mirrors verl's ``NaiveRewardManager`` (``verl/workers/reward_manager/naive.py``) and
``default_compute_score`` (``verl/utils/reward_score/__init__.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import torch

MATH_SOURCES = ("lighteval/MATH", "DigitalLearningGmbH/MATH-lighteval", "HuggingFaceH4/MATH-500")


def place_scores(scores: torch.Tensor | Sequence[float], response_mask: torch.Tensor) -> torch.Tensor:
    scores = torch.as_tensor(scores, dtype=torch.float32)
    reward = torch.zeros(response_mask.shape, dtype=torch.float32)
    # verl: valid_response_length - 1. An empty response gives -1, the last column, so the
    # row still sums to its score (outcome estimators such as GRPO sum over the row).
    last = response_mask.long().sum(dim=-1) - 1
    reward[torch.arange(reward.size(0)), last] = scores
    return reward


def compute_reward(batch: dict, compute_score: Callable[..., Any]) -> tuple[torch.Tensor, dict[str, list]]:
    responses = batch["responses"]
    response_mask = batch["attention_mask"][:, -responses.size(1):]
    extra_infos = batch.get("extra_info")
    scores: list[float] = []
    extra_info: dict[str, list] = defaultdict(list)
    for i in range(responses.size(0)):
        result = compute_score(
            data_source=batch["data_source"][i],
            solution_str=batch["response_text"][i],
            ground_truth=batch["reward_model"][i]["ground_truth"],
            extra_info=None if extra_infos is None else extra_infos[i],
        )
        if isinstance(result, dict):  # {"score": ..., "acc": ..., ...}: keep everything for logging
            for key, value in result.items():
                extra_info[key].append(value)
            result = result["score"]
        scores.append(float(result))
    return place_scores(scores, response_mask), dict(extra_info)


def default_compute_score(
    data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None
) -> float | dict:
    if data_source == "openai/gsm8k":
        # the sibling module, imported on first use: a mistake in it never breaks place_scores
        from .gsm8k_reward import compute_score

        result = compute_score(solution_str, ground_truth)
    elif data_source in MATH_SOURCES:
        # verl's own MATH scorer, imported only when needed (importing verl takes seconds).
        from verl.utils.reward_score import math_reward

        result = math_reward.compute_score(solution_str, ground_truth)
    else:
        # Never guess a score: a silent 0 would train the policy on a wrong signal.
        raise NotImplementedError(f"Reward function is not implemented for {data_source=}")
    if isinstance(result, dict):
        return result
    if isinstance(result, int | float | bool):
        return float(result)
    return float(result[0])
