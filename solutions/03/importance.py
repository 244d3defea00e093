"""Reference solution: truncated importance-sampling weights (verl 0.9.1 rollout correction)."""

from __future__ import annotations

import torch

# verl clamps the log-ratio to [-20, 20] before exp: exp(20) ≈ 4.9e8 never overflows.
SAFETY_BOUND = 20.0


def truncated_is_weights(
    old_log_prob: torch.Tensor,
    rollout_log_prob: torch.Tensor,
    response_mask: torch.Tensor,
    threshold: float = 2.0,
) -> torch.Tensor:
    # Ratio π_old / π_rollout in log space, then clamped for safety before exp.
    log_ratio = torch.clamp(old_log_prob - rollout_log_prob, min=-SAFETY_BOUND, max=SAFETY_BOUND)
    weights = torch.exp(log_ratio).clamp(max=threshold)  # TIS: truncate from above only
    # torch.where, not * mask: padding may hold garbage (NaN * 0 is NaN).
    weights = torch.where(response_mask.bool(), weights, torch.zeros_like(weights))
    # The weight rescales the loss; it is a constant, never something to optimise.
    return weights.detach()
