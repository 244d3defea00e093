"""The reference truncated_is_weights agrees with live verl 0.9.1's token-level rollout correction."""

import pytest
import torch

from verlings.paths import SOLUTIONS
from verlings.target import load_module
from verlings.testing import assert_close

ref = load_module("03", "importance", root=SOLUTIONS)
from verl.trainer.ppo.rollout_corr_helper import (  # noqa: E402 - verl is required for meta-tests
    compute_rollout_correction_and_rejection_mask,
    compute_rollout_correction_weights,
)


def _verl(old, rollout, mask, threshold):
    proto, _, _ = compute_rollout_correction_and_rejection_mask(
        old_log_prob=old, rollout_log_prob=rollout, response_mask=mask,
        rollout_is="token", rollout_is_threshold=threshold,
    )
    return proto.batch["rollout_is_weights"]


def _batch(seed: int, spread: float, bs: int = 8, response_length: int = 16):
    g = torch.Generator().manual_seed(seed)
    rollout = torch.log(torch.rand(bs, response_length, generator=g) * 0.99 + 0.01)
    old = rollout + torch.randn(bs, response_length, generator=g) * spread
    lengths = torch.randint(1, response_length + 1, (bs,), generator=g)
    mask = (torch.arange(response_length)[None, :] < lengths[:, None]).long()
    return old, rollout, mask


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("spread", [0.1, 1.0, 30.0])
@pytest.mark.parametrize("threshold", [1.2, 2.0, 5.0, 1e12])
def test_truncated_is_weights_agrees(seed, spread, threshold):
    old, rollout, mask = _batch(seed, spread)
    seen = ref.truncated_is_weights(old, rollout, mask, threshold=threshold)
    assert_close(seen, _verl(old, rollout, mask, threshold), what="truncated_is_weights")
    assert not seen.requires_grad


@pytest.mark.parametrize("mask_kind", ["long", "bool", "float"])
def test_truncated_is_weights_agrees_for_mask_dtypes(mask_kind):
    old, rollout, mask = _batch(0, 1.0)
    mask = {"long": mask, "bool": mask.bool(), "float": mask.float()}[mask_kind]
    log_ratio = old - rollout
    expected, _ = compute_rollout_correction_weights(log_ratio, mask, rollout_is="token", rollout_is_threshold=2.0)
    assert_close(ref.truncated_is_weights(old, rollout, mask), expected, what="truncated_is_weights")


def test_truncated_is_weights_inputs_with_grad_agree():
    # verl detaches too: the weights of inputs that require grad are constants.
    old, rollout, mask = _batch(1, 1.0)
    old.requires_grad_(True)
    expected = _verl(old, rollout, mask, 2.0)
    seen = ref.truncated_is_weights(old, rollout, mask)
    assert not expected.requires_grad and not seen.requires_grad
    assert_close(seen, expected, what="truncated_is_weights")


def test_truncated_is_weights_padding_garbage_agrees():
    # verl multiplies by the mask, the reference selects with torch.where: both give exact zeros for
    # finite and infinite garbage (verl's ±20 clamp keeps exp finite), so the graded test is fair to both.
    old, rollout, mask = _batch(2, 1.0)
    pad = ~mask.bool()
    old = torch.where(pad, 1e4, old)
    rollout = torch.where(pad, -torch.inf, rollout)
    expected = _verl(old, rollout, mask, 2.0)
    assert bool((expected[pad] == 0).all())
    assert torch.equal(ref.truncated_is_weights(old, rollout, mask), expected)
