"""Two more of verl's reward managers: DAPO's overlong shaping and the batch manager (reference solution).

Mirrors verl 0.9.1's ``DAPORewardManager.run_single``
(``verl/experimental/reward_loop/reward_manager/dapo.py``) and ``BatchRewardManager.__call__``
(``verl/workers/reward_manager/batch.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import torch


def dapo_reward(
    result: float | Mapping[str, Any],
    valid_response_length: int,
    max_resp_len: int | None = None,
    overlong_buffer_cfg: Mapping[str, Any] | None = None,
) -> tuple[float, dict[str, Any]]:
    enabled = overlong_buffer_cfg is not None and bool(overlong_buffer_cfg["enable"])
    if enabled:
        # verl checks these once, when the manager is built: a wrong config never scores anything
        buffer_len = overlong_buffer_cfg["len"]
        if max_resp_len is None:
            raise ValueError("overlong_buffer_cfg is enabled but max_resp_len is None: "
                             "set reward.reward_kwargs.max_resp_len (usually data.max_response_length)")
        if max_resp_len < buffer_len:
            raise ValueError(f"max_resp_len ({max_resp_len}) must be at least overlong_buffer_cfg.len ({buffer_len})")
        if buffer_len <= 0:
            raise ValueError(f"overlong_buffer_cfg.len must be positive when enabled, got {buffer_len} "
                             "(to switch the penalty off, set enable=False)")
    extra: dict[str, Any] = {}
    if isinstance(result, Mapping):
        score = result["score"]
        extra.update(result)  # every key, "score" included, is logged
    else:
        score = result
        extra["acc"] = score  # a bare number doubles as the accuracy verl's validation reports
    reward = score
    if enabled:
        # the ramp of chapter 04 §overlong_penalty, in TOKENS of the valid response; not clipped
        # from below: a max_resp_len shorter than the rollout's responses gives less than -factor
        expected_len = max_resp_len - overlong_buffer_cfg["len"]
        exceed_len = valid_response_length - expected_len
        overlong = min(-exceed_len / overlong_buffer_cfg["len"] * overlong_buffer_cfg["penalty_factor"], 0)
        reward += overlong
        if overlong_buffer_cfg.get("log", False):
            extra["overlong_reward"] = overlong
            extra["overlong"] = overlong < 0
    return reward, extra


def batch_compute_reward(
    batch: dict, compute_score: Callable[..., Any], reward_kwargs: Mapping[str, Any] | None = None
) -> tuple[torch.Tensor, dict[str, list]]:
    from .reward_manager import place_scores

    responses = batch["responses"]
    bs = responses.size(0)
    response_mask = batch["attention_mask"][:, -responses.size(1):]
    extras = batch.get("extra_info")
    extras = [{} for _ in range(bs)] if extras is None else [dict(e) for e in extras]
    rollout_scores = batch.get("reward_scores") or [{} for _ in range(bs)]
    for i in range(bs):
        extras[i]["rollout_reward_scores"] = rollout_scores[i]
    # ONE call for the whole batch, plural keywords: the scorer can batch its work (an HTTP
    # request, a sandbox, a reward model) instead of paying per response
    scores = compute_score(
        data_sources=batch["data_source"],
        solution_strs=batch["response_text"],
        ground_truths=[rm.get("ground_truth") for rm in batch["reward_model"]],
        extra_infos=extras,
        **dict(reward_kwargs or {}),
    )
    scores = list(scores)
    if len(scores) != bs:
        raise ValueError(f"the batch scorer returned {len(scores)} scores for {bs} responses: one per response, "
                         "in batch order")
    rewards: list[float] = []
    extra_info: dict[str, list] = defaultdict(list)
    for score in scores:
        if isinstance(score, Mapping):
            for key, value in score.items():
                extra_info[key].append(value)
            score = score["score"]
        rewards.append(float(score))
    return place_scores(rewards, response_mask), dict(extra_info)
