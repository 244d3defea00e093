"""Reference solutions: advantage estimators (verl 0.9.1 ``verl/trainer/ppo/core_algos.py`` semantics)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .masks import masked_whiten


def _group_ids(index: Any, device: torch.device) -> tuple[torch.Tensor, int]:
    # Map arbitrary uids (strings, ints, objects) to 0..G-1 once; everything after is tensor maths.
    _, inverse = np.unique(np.asarray(index), return_inverse=True)
    ids = torch.from_numpy(inverse.reshape(-1).astype(np.int64)).to(device)
    return ids, int(ids.max()) + 1 if ids.numel() else 0


def _group_sum(x: torch.Tensor, ids: torch.Tensor, groups: int) -> torch.Tensor:
    # (groups,) sums of x per group id: one scatter-add instead of a loop over responses.
    return torch.zeros(groups, dtype=x.dtype, device=x.device).index_add_(0, ids, x)


def _broadcast(scalars: torch.Tensor, response_mask: torch.Tensor) -> torch.Tensor:
    # One number per response onto its tokens, 0 on masked ones. Multiplying in place into a
    # fresh float copy of the mask allocates one (bs, response_length) tensor instead of two.
    return response_mask.to(scalars.dtype, copy=True).mul_(scalars.unsqueeze(-1))


def compute_gae_advantage_return(
    token_level_rewards: torch.Tensor,
    values: torch.Tensor,
    response_mask: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    # verl's loop does ~12 small tensor ops per token. Two observations make it one multiply-add:
    # 1. nextvalues at t is just the value of the first *valid* token after t (0 past the end),
    #    so every TD error can be computed at once, before the loop;
    # 2. on a valid token lastgaelam = delta + gamma*lam * lastgaelam, on a masked token it is
    #    carried unchanged: both are  lastgaelam = step + decay * lastgaelam.
    with torch.no_grad():
        mask = response_mask.bool()
        bs, length = values.shape
        pos = torch.arange(length, device=values.device).expand(bs, length)
        # first valid position >= t (a reversed running minimum), then shifted to "> t"
        first_valid = torch.where(mask, pos, length).flip(-1).cummin(dim=-1).values.flip(-1)
        after = torch.cat([first_valid[:, 1:], torch.full_like(first_valid[:, :1], length)], dim=-1)
        nextvalues = torch.cat([values, torch.zeros_like(values[:, :1])], dim=-1).gather(-1, after)
        delta = token_level_rewards + gamma * nextvalues - values
        # Masked tokens are not steps of the policy: decay 1 and step 0 carry lastgaelam through.
        # Time-major and contiguous, so each step of the loop reads one contiguous row.
        decay = torch.where(mask, gamma * lam, 1.0).to(values.dtype).T.contiguous()
        step = torch.where(mask, delta, 0.0).T.contiguous()
        advantages = torch.empty_like(step)
        lastgaelam = torch.zeros_like(step[0])
        for t in range(length - 1, -1, -1):
            lastgaelam = step[t] + decay[t] * lastgaelam
            advantages[t] = lastgaelam
        advantages = advantages.T.contiguous()  # back to (bs, response_length), row-major
        # The critic's target is the un-whitened advantage plus the value it was measured against.
        returns = advantages + values
        advantages = masked_whiten(advantages, response_mask)
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
        advantages = _broadcast(scalars, response_mask)
    return advantages, advantages


def compute_rloo_outcome_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray,
    epsilon: float = 1e-6,  # unused: verl's signature
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
        advantages = _broadcast(scalars, response_mask)
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
        mask = response_mask.bool()
        # running = r + gamma * running on a valid token; a masked token is skipped (its reward is
        # not added, running passes through): both are  running = step + decay * running.
        decay = torch.where(mask, gamma, 1.0).to(token_level_rewards.dtype).T.contiguous()
        step = torch.where(mask, token_level_rewards, 0.0).T.contiguous()
        running_all = torch.empty_like(step)
        running = torch.zeros_like(step[0])
        for t in range(step.shape[0] - 1, -1, -1):
            running = step[t] + decay[t] * running
            running_all[t] = running
        returns = torch.where(mask, running_all.T.contiguous(), 0.0)
        # One mean and std over every valid token of the batch (not per sequence, not per group).
        advantages = masked_whiten(returns, response_mask) * mask
    return advantages, returns


# ---------------------------------------------------------------- more estimators (§2.6)


def compute_grpo_passk_outcome_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray,
    epsilon: float = 1e-6,
    norm_adv_by_std_in_grpo: bool = True,  # ignored: verl reads the flag from config
    config: Any = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    # verl asserts a config and reads the flag from it; the keyword of the same name is ignored.
    assert config is not None, "compute_grpo_passk_outcome_advantage needs the algorithm config"
    norm = config.get("norm_adv_by_std_in_grpo", True)
    with torch.no_grad():
        scores = token_level_rewards.sum(dim=-1)
        ids, groups = _group_ids(index, scores.device)
        scalars = torch.zeros_like(scores)
        for g in range(groups):
            members = torch.nonzero(ids == g).flatten()
            rewards = scores[members]
            if rewards.numel() < 2:
                raise ValueError(f"Pass@k requires at least 2 samples per group. Got {rewards.numel()} for group {g}.")
            # Pass@k credits only the best answer, by its margin over the runner-up; a tie at the top gives 0.
            top, top_idx = torch.topk(rewards, 2)
            advantage = top[0] - top[1]
            if norm:
                advantage = advantage / (torch.std(rewards) + epsilon)
            scalars[members[top_idx[0]]] = advantage
        advantages = _broadcast(scalars, response_mask)
    return advantages, advantages


def compute_reinforce_plus_plus_baseline_outcome_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray,
    epsilon: float = 1e-6,  # unused: verl's signature
    config: Any = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.no_grad():
        scores = token_level_rewards.sum(dim=-1)
        ids, groups = _group_ids(index, scores.device)
        count = _group_sum(torch.ones_like(scores), ids, groups)
        # The group mean as a baseline (0 for a group of one), then one whitening over the whole batch.
        mean = torch.where(count > 1, _group_sum(scores, ids, groups) / count, 0.0)
        centered = _broadcast(scores - mean[ids], response_mask)
        advantages = masked_whiten(centered, response_mask) * response_mask
    return advantages, advantages


def compute_opo_outcome_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray,
    epsilon: float = 1e-6,  # unused: verl's signature
    config: Any = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.no_grad():
        scores = token_level_rewards.sum(dim=-1)
        lengths = response_mask.sum(dim=-1).to(scores.dtype)
        ids, groups = _group_ids(index, scores.device)
        count = _group_sum(torch.ones_like(scores), ids, groups)
        # OPO's optimal baseline: the length-weighted mean score of the group (0 for a group of one).
        weighted = _group_sum(lengths * scores, ids, groups) / _group_sum(lengths, ids, groups)
        baseline = torch.where(count > 1, weighted, 0.0)
        advantages = _broadcast(scores - baseline[ids], response_mask)
    return advantages, advantages


def compute_remax_outcome_advantage(
    token_level_rewards: torch.Tensor,
    reward_baselines: torch.Tensor,
    response_mask: torch.Tensor,
    config: Any = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.no_grad():
        # Undiscounted return-to-go, minus the greedy response's reward on every valid token.
        returns = (token_level_rewards * response_mask).flip(dims=[-1]).cumsum(dim=-1).flip(dims=[-1])
        advantages = returns - reward_baselines.unsqueeze(-1) * response_mask
    return advantages, returns


def compute_gpg_outcome_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray,
    epsilon: float = 1e-6,  # unused: verl's signature
    f_norm: float = 1.0,
    alpha: float = 1.0,
    config: Any = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.no_grad():
        scores = token_level_rewards.sum(dim=-1)
        # verl recomputes alpha (the argument is ignored): batch size over responses with a non-zero score.
        alpha = scores.shape[0] / torch.count_nonzero(scores).clamp(min=1)
        ids, groups = _group_ids(index, scores.device)
        count = _group_sum(torch.ones_like(scores), ids, groups)
        mean = torch.where(count > 1, _group_sum(scores, ids, groups) / count, 0.0)
        advantages = _broadcast(alpha * (scores - mean[ids]) / f_norm, response_mask)
    return advantages, advantages
