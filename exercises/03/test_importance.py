"""Graded tests for exercises/03/importance.py (goldens from verl 0.9.1: verlings/goldens/ch03_importance.py)."""

import math

import pytest
import torch

from verlings import learner_module
from verlings.testing import assert_close, assert_equal, golden, tensors

importance = learner_module("03", "importance")


@pytest.mark.exercise("03.tis")
def test_truncated_is_weights_matches_verl():
    g = tensors(golden("03", "tis"))
    seen = importance.truncated_is_weights(
        old_log_prob=g["old_log_prob"], rollout_log_prob=g["rollout_log_prob"], response_mask=g["response_mask"],
    )
    shape = tuple(g["old_log_prob"].shape)
    assert tuple(seen.shape) == shape, f"shape {tuple(seen.shape)}, expected (bs, response_length) = {shape}"
    assert_close(
        seen, g["weights"], mask=g["response_mask"], what="truncated_is_weights (default threshold 2.0)",
        why="weight = min(exp(old_log_prob - rollout_log_prob), threshold): π_old / π_rollout, capped from above",
    )


@pytest.mark.exercise("03.tis")
def test_truncated_is_weights_uses_threshold():
    g = tensors(golden("03", "tis"))
    seen = importance.truncated_is_weights(
        old_log_prob=g["old_log_prob"], rollout_log_prob=g["rollout_log_prob"], response_mask=g["response_mask"],
        threshold=1.5,
    )
    assert_close(
        seen, g["weights_t15"], mask=g["response_mask"], what="truncated_is_weights(threshold=1.5)",
        why="truncate at the `threshold` argument, not at a fixed 2.0",
    )


@pytest.mark.exercise("03.tis")
def test_truncated_is_weights_clamps_log_ratio_before_exp():
    # log-ratios of +30, +25 and -30: verl clamps them to [-20, 20] before exp, so with a huge
    # threshold the weights are exp(20) ≈ 4.85e8 and exp(-20) ≈ 2.1e-9 (see the golden file).
    g = tensors(golden("03", "tis"))
    seen = importance.truncated_is_weights(
        old_log_prob=g["far_old_log_prob"], rollout_log_prob=g["far_rollout_log_prob"],
        response_mask=g["far_mask"], threshold=float(g["far_threshold"]),
    )
    assert_close(
        seen, g["weights_far"], what="truncated_is_weights with log-ratios beyond ±20 and threshold 1e10",
        why="clamp old_log_prob - rollout_log_prob to [-20, 20] (verl's SAFETY_BOUND) before exp",
    )


@pytest.mark.exercise("03.tis")
def test_truncated_is_weights_on_policy_is_one():
    # old == rollout: exp(0) = 1 on every valid token (1 ≤ threshold), 0 on padding.
    log_prob = torch.log(torch.tensor([[0.5, 0.25, 0.9, 0.1], [0.3, 0.6, 0.2, 0.7]]))
    mask = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0]])
    seen = importance.truncated_is_weights(old_log_prob=log_prob, rollout_log_prob=log_prob.clone(), response_mask=mask)
    assert_close(seen, mask.float(), what="truncated_is_weights when old == rollout", mask=mask)


@pytest.mark.exercise("03.tis")
def test_truncated_is_weights_hand_worked():
    # 0.5/0.5 = 1; 0.9/0.3 = 3 → truncated to 2; 0.2/0.4 = 0.5 (never raised: TIS only caps from above).
    old = torch.log(torch.tensor([[0.5, 0.9, 0.2]]))
    rollout = torch.log(torch.tensor([[0.5, 0.3, 0.4]]))
    seen = importance.truncated_is_weights(old_log_prob=old, rollout_log_prob=rollout,
                                           response_mask=torch.tensor([[1, 1, 1]]))
    assert_close(seen, torch.tensor([[1.0, 2.0, 0.5]]), what="truncated_is_weights",
                 why="the ratio is π_old / π_rollout = exp(old_log_prob - rollout_log_prob)")


@pytest.mark.exercise("03.tis")
@pytest.mark.parametrize("mask_dtype", [torch.int64, torch.bool, torch.float32])
def test_truncated_is_weights_exactly_zero_on_padding(mask_dtype):
    # Padding holds whatever the engines left there: huge log-probs and -inf.
    g = tensors(golden("03", "tis"))
    mask = g["response_mask"]
    pad = ~mask.bool()
    old = torch.where(pad, torch.full_like(g["old_log_prob"], 1e4), g["old_log_prob"])
    rollout = torch.where(pad, torch.full_like(g["rollout_log_prob"], -math.inf), g["rollout_log_prob"])
    seen = importance.truncated_is_weights(
        old_log_prob=old, rollout_log_prob=rollout, response_mask=mask.to(mask_dtype),
    )
    assert_close(
        seen, g["weights"], mask=mask, what=f"truncated_is_weights with garbage padding ({mask_dtype} mask)",
        why="padding weights must be exactly 0 whatever the log-probs there (inf * 0 is NaN)",
    )
    assert bool((seen[pad] == 0).all()), "padding weights must be exactly 0"
    assert seen.dtype == g["old_log_prob"].dtype, f"weights are {seen.dtype}, expected old_log_prob's dtype"


@pytest.mark.exercise("03.tis")
def test_truncated_is_weights_are_detached():
    g = tensors(golden("03", "tis"))
    old = g["old_log_prob"].clone().requires_grad_(True)
    rollout = g["rollout_log_prob"].clone().requires_grad_(True)
    seen = importance.truncated_is_weights(old_log_prob=old, rollout_log_prob=rollout, response_mask=g["response_mask"])
    assert_equal(
        seen.requires_grad, False, what="truncated_is_weights(...).requires_grad",
        why="the IS weights rescale each token's loss and must be constants: .detach() them",
    )
    assert_close(seen, g["weights"], what="truncated_is_weights (inputs requiring grad)")
