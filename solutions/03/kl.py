"""Reference solutions: KL estimators, the KL penalty in the reward, KL controllers (verl 0.9.1 semantics)."""

from __future__ import annotations

import numpy as np
import torch


def _kl_forward(logprob: torch.Tensor, ref_logprob: torch.Tensor, name: str) -> torch.Tensor:
    if name in ("kl", "k1"):
        return logprob - ref_logprob
    if name == "abs":
        return (logprob - ref_logprob).abs()
    if name in ("mse", "k2"):
        return 0.5 * (logprob - ref_logprob).square()
    if name in ("low_var_kl", "k3"):
        # k3 = r - log r - 1 with r = pi_ref / pi: always >= 0, low variance.
        log_ratio = torch.clamp(ref_logprob - logprob, min=-20, max=20)  # exp must not overflow
        kld = torch.exp(log_ratio) - log_ratio - 1
        return torch.clamp(kld, min=-10, max=10)
    raise NotImplementedError(f"unknown KL estimator {name!r}")


def kl_penalty(logprob: torch.Tensor, ref_logprob: torch.Tensor, kl_penalty: str) -> torch.Tensor:
    base = kl_penalty[:-1] if kl_penalty.endswith("+") else kl_penalty
    forward = _kl_forward(logprob, ref_logprob, base)
    if not kl_penalty.endswith("+"):
        return forward
    # Straight-through: the value of the chosen estimator, the gradient of k2
    # (k2's gradient is the unbiased one for the KL as a loss term).
    k2 = 0.5 * (logprob - ref_logprob).square()
    return k2 - k2.detach() + forward.detach()


# apply_kl_penalty's argument `kl_penalty` hides the function of the same name; keep a second name.
_kl_penalty = kl_penalty


def apply_kl_penalty(
    token_level_scores: torch.Tensor,
    old_log_prob: torch.Tensor,
    ref_log_prob: torch.Tensor,
    response_mask: torch.Tensor,
    kl_coef: float,
    kl_penalty: str = "kl",
) -> tuple[torch.Tensor, float]:
    kld = _kl_penalty(old_log_prob, ref_log_prob, kl_penalty) * response_mask  # no penalty on padding
    token_level_rewards = token_level_scores - kl_coef * kld
    # Mean over each sequence's valid tokens, then over the batch (empty rows count as 0).
    per_seq = (kld * response_mask).sum(dim=-1) / (response_mask.sum(dim=-1) + 1e-8)
    current_kl = per_seq.mean(dim=0).item()
    return token_level_rewards, current_kl


class AdaptiveKLController:
    """Ziegler et al. 2019: move the coefficient so the measured KL tracks ``target_kl``."""

    def __init__(self, init_kl_coef: float, target_kl: float, horizon: int) -> None:
        self.value = init_kl_coef
        self.target = target_kl
        self.horizon = horizon

    def update(self, current_kl: float, n_steps: int) -> None:
        # The proportional error is clipped so one noisy batch cannot swing beta far.
        proportional_error = np.clip(current_kl / self.target - 1, -0.2, 0.2)
        self.value *= 1 + proportional_error * n_steps / self.horizon


class FixedKLController:
    def __init__(self, kl_coef: float) -> None:
        self.value = kl_coef

    def update(self, current_kl: float, n_steps: int) -> None:
        pass  # fixed: the coefficient never moves
