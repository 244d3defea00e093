"""Reference solutions: advantage estimators (verl 0.9.1 ``verl/trainer/ppo/core_algos.py`` semantics)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def _masked_whiten(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    # A private copy of masks.masked_whiten (§1.3): one chapter module never imports another,
    # because a learner's target folder may not have that module done yet.
    m = mask.bool()
    n = m.sum()
    if n < 2:
        raise ValueError("whitening needs at least two valid tokens (the unbiased variance divides by n - 1)")
    mean = torch.where(m, values, 0.0).sum() / (n + 1e-8)
    var = torch.where(m, (values - mean) ** 2, 0.0).sum() / (n + 1e-8) * (n / (n - 1))
    return (values - mean) * torch.rsqrt(var + 1e-8)


def _group_ids(index: Any, device: torch.device) -> tuple[torch.Tensor, int]:
    # Map arbitrary uids (strings, ints, objects) to 0..G-1 once; everything after is tensor maths.
    _, inverse = np.unique(np.asarray(index), return_inverse=True)
    ids = torch.from_numpy(inverse.reshape(-1).astype(np.int64)).to(device)
    return ids, int(ids.max()) + 1 if ids.numel() else 0


def _group_sum(x: torch.Tensor, ids: torch.Tensor, groups: int) -> torch.Tensor:
    # (groups,) sums of x per group id: one scatter-add instead of a loop over responses.
    return torch.zeros(groups, dtype=x.dtype, device=x.device).index_add_(0, ids, x)


def compute_gae_advantage_return(
    token_level_rewards: torch.Tensor,
    values: torch.Tensor,
    response_mask: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.no_grad():
        mask = response_mask.to(values.dtype)
        gen_len = token_level_rewards.shape[-1]
        advantages = torch.empty_like(values)
        nextvalues = torch.zeros_like(values[:, 0])
        lastgaelam = torch.zeros_like(values[:, 0])
        for t in reversed(range(gen_len)):
            m = mask[:, t]
            delta = token_level_rewards[:, t] + gamma * nextvalues - values[:, t]
            # A masked token (padding, a tool's output) is not a step of the policy: it keeps
            # the value and the running advantage of the next real token instead of resetting them.
            nextvalues = m * values[:, t] + (1 - m) * nextvalues
            lastgaelam = m * (delta + gamma * lam * lastgaelam) + (1 - m) * lastgaelam
            advantages[:, t] = lastgaelam
        # The critic's target is the un-whitened advantage plus the value it was measured against.
        returns = advantages + values
        advantages = _masked_whiten(advantages, response_mask)
    return advantages, returns


def compute_grpo_outcome_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray,
    epsilon: float = 1e-6,
    norm_adv_by_std_in_grpo: bool = True,
    config: Any = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.no_grad():
        scores = token_level_rewards.sum(dim=-1)
        ids, groups = _group_ids(index, scores.device)
        count = _group_sum(torch.ones_like(scores), ids, groups)
        total = _group_sum(scores, ids, groups)
        mean = total / count
        centered = scores - mean[ids]
        # Unbiased (n - 1) variance, as torch.std; two passes keep float32 accurate.
        sq = _group_sum(centered * centered, ids, groups)
        std = torch.sqrt(sq / (count - 1).clamp_min(1))
        # A prompt sampled once has no group to compare with: verl uses mean 0 and std 1.
        single = count < 2
        mean = torch.where(single, 0.0, mean)
        std = torch.where(single, 1.0, std)
        scalars = scores - mean[ids]
        if norm_adv_by_std_in_grpo:
            # epsilon keeps an all-equal group (std 0) at 0 / epsilon = 0 instead of NaN.
            scalars = scalars / (std[ids] + epsilon)
        advantages = scalars.unsqueeze(-1) * response_mask.to(scalars.dtype)
    return advantages, advantages


def compute_rloo_outcome_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray,
    epsilon: float = 1e-6,
    config: Any = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.no_grad():
        scores = token_level_rewards.sum(dim=-1)
        ids, groups = _group_ids(index, scores.device)
        count = _group_sum(torch.ones_like(scores), ids, groups)
        total = _group_sum(scores, ids, groups)
        n, s = count[ids], total[ids]
        # s_i - mean of the *others* = (n * s_i - sum) / (n - 1); a singleton keeps its raw score.
        scalars = torch.where(n > 1, (n * scores - s) / (n - 1).clamp_min(1), scores)
        advantages = scalars.unsqueeze(-1) * response_mask.to(scalars.dtype)
    return advantages, advantages


def compute_reinforce_plus_plus_outcome_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    gamma: float | None = None,
    config: Any = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    if gamma is None:  # verl's trainer passes the discount inside the algorithm config
        gamma = config.gamma
    with torch.no_grad():
        mask = response_mask.to(token_level_rewards.dtype)
        returns = torch.zeros_like(token_level_rewards)
        running = torch.zeros_like(token_level_rewards[:, 0])
        for t in reversed(range(token_level_rewards.shape[1])):
            m = mask[:, t]
            new = token_level_rewards[:, t] + gamma * running
            returns[:, t] = new * m
            # Masked tokens are skipped: the running return passes through them unchanged.
            running = m * new + (1 - m) * running
        # One mean and std over every valid token of the batch (not per sequence, not per group).
        advantages = _masked_whiten(returns, response_mask) * mask
    return advantages, returns
