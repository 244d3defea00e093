"""Reference solutions: verl 0.9.1's other registered policy losses (``verl/trainer/ppo/core_algos.py``)."""

from __future__ import annotations

from typing import Any

import torch

# The registry and agg_loss are losses.py's, masked_mean is masks.py's: imported, not copied.
from .losses import POLICY_LOSS_REGISTRY, agg_loss, get_policy_loss_fn, register_policy_loss
from .masks import masked_mean

__all__ = ["POLICY_LOSS_REGISTRY", "get_policy_loss_fn", "register_policy_loss"]


def _clip_range(config: Any) -> tuple[float, float]:
    low = config.clip_ratio_low if config.clip_ratio_low is not None else config.clip_ratio
    high = config.clip_ratio_high if config.clip_ratio_high is not None else config.clip_ratio
    return low, high


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


@register_policy_loss("gspo")
def compute_policy_loss_gspo(
    old_log_prob: torch.Tensor,
    log_prob: torch.Tensor,
    advantages: torch.Tensor,
    response_mask: torch.Tensor,
    loss_agg_mode: str = "seq-mean-token-mean",
    config: Any = None,
    rollout_is_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, Any]]:
    assert config is not None
    low, high = _clip_range(config)
    negative_approx_kl = log_prob - old_log_prob
    # The sequence's ratio is the geometric mean of its token ratios: exp(mean log-ratio).
    seq_lengths = response_mask.sum(dim=-1).clamp(min=1)
    seq_log_ratio = (negative_approx_kl * response_mask).sum(dim=-1) / seq_lengths
    # Value: the sequence ratio on every token. Gradient: that of the token's own log-prob
    # (log_prob - sg(log_prob) is 0 but carries d/dθ log π).
    log_ratio = log_prob - log_prob.detach() + seq_log_ratio.detach().unsqueeze(-1)
    ratio = torch.exp(torch.clamp(log_ratio, max=10.0))
    pg_losses1 = -advantages * ratio
    pg_losses2 = -advantages * torch.clamp(ratio, 1 - low, 1 + high)
    pg_losses = torch.maximum(pg_losses1, pg_losses2)
    if rollout_is_weights is not None:
        pg_losses = pg_losses * rollout_is_weights
    pg_loss = agg_loss(pg_losses, response_mask, loss_agg_mode, **config.global_batch_info)
    metrics = {
        "actor/pg_clipfrac": masked_mean(torch.gt(pg_losses2, pg_losses1).float(), response_mask).item(),
        "actor/ppo_kl": masked_mean(-negative_approx_kl, response_mask).detach().item(),
        "actor/pg_clipfrac_lower": 0.0,
    }
    return pg_loss, metrics


@register_policy_loss("cispo")
def compute_policy_loss_cispo(
    old_log_prob: torch.Tensor,
    log_prob: torch.Tensor,
    advantages: torch.Tensor,
    response_mask: torch.Tensor,
    loss_agg_mode: str = "token-mean",
    config: Any = None,
    rollout_is_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, Any]]:
    assert config is not None
    low, high = _clip_range(config)
    negative_approx_kl = torch.clamp(log_prob - old_log_prob, min=-20.0, max=20.0)
    ratio = torch.exp(negative_approx_kl)
    clipped_ratio = torch.clamp(ratio, 1 - low, 1 + high)
    # The clipped ratio is a stop-gradient weight: every token keeps a gradient, through log_prob only.
    pg_losses = -clipped_ratio.detach() * advantages * log_prob
    if rollout_is_weights is not None:
        pg_losses = pg_losses * rollout_is_weights
    pg_loss = agg_loss(pg_losses, response_mask, loss_agg_mode, **config.global_batch_info)
    metrics = {
        "actor/pg_clipfrac": masked_mean((ratio != clipped_ratio).float(), response_mask).item(),
        "actor/ppo_kl": masked_mean(-negative_approx_kl, response_mask).detach().item(),
        "actor/pg_clipfrac_lower": 0.0,
    }
    return pg_loss, metrics


@register_policy_loss("gpg")
def compute_policy_loss_gpg(
    old_log_prob: torch.Tensor,
    log_prob: torch.Tensor,
    advantages: torch.Tensor,
    response_mask: torch.Tensor,
    loss_agg_mode: str = "token-mean",
    config: Any = None,
    rollout_is_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, Any]]:
    assert config is not None
    pg_losses = -log_prob * advantages  # plain REINFORCE: no ratio, no clip
    if rollout_is_weights is not None:
        pg_losses = pg_losses * rollout_is_weights
    return agg_loss(pg_losses, response_mask, loss_agg_mode, **config.global_batch_info), {}


@register_policy_loss("geo_mean")
def compute_policy_loss_geo_mean(
    old_log_prob: torch.Tensor,
    log_prob: torch.Tensor,
    advantages: torch.Tensor,
    response_mask: torch.Tensor,
    loss_agg_mode: str = "token-mean",  # unused: verl averages over the rows
    config: Any = None,
    rollout_is_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, Any]]:
    assert config is not None
    low, high = _clip_range(config)
    negative_approx_kl = log_prob - old_log_prob
    # Clip each token's log-ratio to [-low, high], pessimistically for the advantage's sign.
    sign = torch.sign(advantages)
    clamped = torch.clamp(negative_approx_kl, -low, high)
    log_ratio = sign * torch.minimum(sign * negative_approx_kl, sign * clamped)
    lengths = response_mask.sum(dim=-1)
    # One ratio per sequence: the geometric mean of its token ratios; one advantage: the mean.
    ratio = torch.exp((log_ratio * response_mask).sum(dim=-1) / (lengths + 1e-8))
    seq_advantage = (advantages * response_mask).sum(dim=-1) / (lengths + 1e-8)
    pg_losses = -seq_advantage * ratio
    if rollout_is_weights is not None:
        seq_weights = torch.exp((torch.log(rollout_is_weights + 1e-10) * response_mask).sum(dim=-1) / (lengths + 1e-8))
        pg_losses = pg_losses * seq_weights
    # verl averages over the rows here: loss_agg_mode and global_batch_info are not used.
    pg_loss = torch.mean(pg_losses)
    clipped = torch.ne(negative_approx_kl, clamped)
    metrics = {
        "actor/pg_clipfrac": masked_mean((clipped * (advantages > 0)).float(), response_mask).item(),
        "actor/ppo_kl": masked_mean(-negative_approx_kl, response_mask).detach().item(),
        "actor/pg_clipfrac_lower": masked_mean((clipped * (advantages < 0)).float(), response_mask).item(),
    }
    return pg_loss, metrics


@register_policy_loss("clip_cov")
def compute_policy_loss_clip_cov(
    old_log_prob: torch.Tensor,
    log_prob: torch.Tensor,
    advantages: torch.Tensor,
    response_mask: torch.Tensor,
    loss_agg_mode: str = "token-mean",
    config: Any = None,
    rollout_is_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, Any]]:
    assert config is not None and config.policy_loss is not None
    clip_cov_ratio = _or(config.policy_loss.clip_cov_ratio, 0.0002)
    clip_cov_ub = _or(config.policy_loss.clip_cov_ub, 5.0)
    clip_cov_lb = _or(config.policy_loss.clip_cov_lb, 1.0)
    assert clip_cov_ratio > 0, "clip_ratio should be larger than 0."
    low, high = _clip_range(config)

    negative_approx_kl = log_prob - old_log_prob
    ratio = torch.exp(negative_approx_kl)
    pg_losses1 = -advantages * ratio
    pg_losses2 = -advantages * torch.clamp(ratio, 1 - low, 1 + high)
    valid = response_mask > 0
    clip_by_origin = (pg_losses2 > pg_losses1) & valid

    # Per-token covariance between advantage and log-prob (centred over valid tokens).
    cov = (advantages - masked_mean(advantages, response_mask)) * (
        log_prob - masked_mean(log_prob.detach(), response_mask)
    )
    cov = cov.detach().masked_fill(~valid | clip_by_origin, -torch.inf)
    # Among tokens PPO did not clip and whose covariance is in (lb, ub), cut the gradient of a few.
    clip_num = max(int(clip_cov_ratio * response_mask.sum().item()), 1)
    candidates = torch.nonzero((cov < clip_cov_ub) & (cov > clip_cov_lb) & valid)
    corr = torch.ones_like(advantages)
    if len(candidates) > 0:
        chosen = candidates[torch.randperm(len(candidates))[: min(clip_num, len(candidates))]]
        corr[chosen[:, 0], chosen[:, 1]] = 0

    pg_losses = torch.maximum(pg_losses1, pg_losses2) * corr
    if rollout_is_weights is not None:
        pg_losses = pg_losses * rollout_is_weights
    pg_loss = agg_loss(pg_losses, response_mask, loss_agg_mode, **config.global_batch_info)
    metrics = {
        "actor/pg_clipfrac": masked_mean((corr == 0).float(), response_mask).item(),
        "actor/ppo_kl": masked_mean(-negative_approx_kl, response_mask).detach().item(),
    }
    return pg_loss, metrics


@register_policy_loss("kl_cov")
def compute_policy_loss_kl_cov(
    old_log_prob: torch.Tensor,
    log_prob: torch.Tensor,
    advantages: torch.Tensor,
    response_mask: torch.Tensor,
    loss_agg_mode: str = "token-mean",
    config: Any = None,
    rollout_is_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, Any]]:
    assert config is not None and config.policy_loss is not None
    kl_cov_ratio = _or(config.policy_loss.kl_cov_ratio, 0.0002)
    ppo_kl_coef = _or(config.policy_loss.ppo_kl_coef, 1.0)
    assert kl_cov_ratio > 0, "kl_cov_ratio should be larger than 0."

    negative_approx_kl = log_prob - old_log_prob
    abs_kl = negative_approx_kl.abs()
    ratio = torch.exp(negative_approx_kl)
    pg_losses = -advantages * ratio  # no clip at all
    pg_losses_kl = pg_losses + ppo_kl_coef * abs_kl

    valid = response_mask > 0
    flat_valid_idx = torch.nonzero(valid.reshape(-1), as_tuple=True)[0]
    adv = advantages[valid].detach()
    logp = log_prob[valid].detach()
    if len(adv) > 0:
        # The tokens with the largest advantage × log-prob covariance get a |log-ratio| penalty instead.
        cov = (adv - adv.mean()) * (logp - logp.mean())
        n = max(1, int(len(cov) * kl_cov_ratio))
        flat = flat_valid_idx[torch.topk(cov, n, largest=True).indices]
        rows, cols = flat // advantages.shape[1], flat % advantages.shape[1]
        pg_losses = pg_losses.index_put((rows, cols), pg_losses_kl[rows, cols])
    if rollout_is_weights is not None:
        pg_losses = pg_losses * rollout_is_weights
    pg_loss = agg_loss(pg_losses, response_mask, loss_agg_mode, **config.global_batch_info)
    return pg_loss, {"actor/ppo_kl": masked_mean(abs_kl, response_mask).detach().item()}
