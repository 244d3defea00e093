"""Golden values for exercises/03 importance.py, from verl 0.9.1's rollout correction."""

from __future__ import annotations

import torch

from verlings.goldens import snapshot


def _verl_token_tis(old_log_prob, rollout_log_prob, response_mask, threshold):
    from verl.trainer.ppo.rollout_corr_helper import compute_rollout_correction_and_rejection_mask

    weights, _, _ = compute_rollout_correction_and_rejection_mask(
        old_log_prob=old_log_prob,
        rollout_log_prob=rollout_log_prob,
        response_mask=response_mask,
        rollout_is="token",
        rollout_is_threshold=threshold,
    )
    return weights.batch["rollout_is_weights"]


@snapshot("03", "tis")
def tis() -> dict:
    g = torch.Generator().manual_seed(59)
    bs, response_length = 5, 8
    rollout_log_prob = torch.log(torch.rand(bs, response_length, generator=g) * 0.95 + 0.05)
    # log-ratios around ±0.8: many weights above 1.5 and 2.0, many below 1
    old_log_prob = rollout_log_prob + torch.randn(bs, response_length, generator=g) * 0.8
    lengths = torch.tensor([3, 8, 1, 6, 5])
    response_mask = (torch.arange(response_length)[None, :] < lengths[:, None]).long()
    # Far-off log-ratios (±25, ±30) where only verl's clamp to [-20, 20] keeps exp finite and bounded;
    # a huge threshold so that the clamp, not the truncation, decides.
    far_old = torch.tensor([[-0.5, -31.0, -2.0, -1.0], [-40.0, -0.1, -3.0, -0.7]])
    far_rollout = torch.tensor([[-30.5, -1.0, -27.0, -1.0], [-10.0, -0.1, -3.5, -1.2]])
    far_mask = torch.ones(2, 4, dtype=torch.long)
    return {
        "old_log_prob": old_log_prob,
        "rollout_log_prob": rollout_log_prob,
        "response_mask": response_mask,
        "weights": _verl_token_tis(old_log_prob, rollout_log_prob, response_mask, 2.0),
        "weights_t15": _verl_token_tis(old_log_prob, rollout_log_prob, response_mask, 1.5),
        "far_old_log_prob": far_old,
        "far_rollout_log_prob": far_rollout,
        "far_mask": far_mask,
        "far_threshold": torch.tensor(1e10),
        "weights_far": _verl_token_tis(far_old, far_rollout, far_mask, 1e10),
    }
