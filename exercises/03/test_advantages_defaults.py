"""Graded tests for exercises/03/advantages.py: the defaults the signatures and docstrings state (GRPO's
and pass@k's ``epsilon=1e-6``, pass@k's flag read from the config with ``True`` when it is missing) on
groups whose std is small enough for epsilon to show, and pass@k on an empty batch."""

import math

import numpy as np
import pytest
import torch

from verlings import learner_module
from verlings.testing import assert_close, assert_equal

adv = learner_module("03", "advantages")

# Two responses of one prompt whose scores differ by 2e-6 (float64, so the inputs are exact enough):
#   mean 1e-6, deviations ∓1e-6, unbiased std = sqrt(2 · 1e-12 / 1) = √2 · 1e-6.
#   With epsilon = 1e-6 the scale is (√2 + 1) · 1e-6; with 2e-6 it would be (√2 + 2) · 1e-6.
TINY = 2e-6
ROOT2 = math.sqrt(2.0)


@pytest.mark.exercise("03.grpo")
def test_compute_grpo_outcome_advantage_default_epsilon():
    rewards = torch.tensor([[0.0, 0.0], [0.0, TINY]], dtype=torch.float64)
    mask = torch.ones(2, 2, dtype=torch.int64)
    advantages, _ = adv.compute_grpo_outcome_advantage(
        token_level_rewards=rewards, response_mask=mask, index=np.array(["a", "a"])
    )
    # ∓1e-6 / ((√2 + 1) · 1e-6) = ∓1 / (√2 + 1) = ∓(√2 - 1) ≈ ∓0.4142 on every token
    a = ROOT2 - 1.0
    assert_close(
        advantages,
        torch.tensor([[-a, -a], [a, a]], dtype=torch.float64),
        what="compute_grpo_outcome_advantage (epsilon not given), scores [0, 2e-6] in one group",
        why="epsilon defaults to 1e-6 (verl's): (score - mean) / (unbiased std + 1e-6); with a std of "
        "√2·1e-6 epsilon is not negligible",
    )


@pytest.mark.exercise("03.grpo_passk")
def test_compute_grpo_passk_outcome_advantage_defaults():
    # Group a: scores [0, 1, 0, 0], unbiased std 0.5 → the best gets (1 - 0) / (0.5 + 1e-6).
    # Group b: scores [0, 2e-6], std √2 · 1e-6 → the best gets 2e-6 / ((√2 + 1) · 1e-6) = 2(√2 - 1).
    # config = {}: the flag is read with config.get("norm_adv_by_std_in_grpo", True), so the std is used.
    rewards = torch.tensor([[0.0], [1.0], [0.0], [0.0], [0.0], [TINY]], dtype=torch.float64)
    mask = torch.ones(6, 1, dtype=torch.int64)
    advantages, _ = adv.compute_grpo_passk_outcome_advantage(
        token_level_rewards=rewards, response_mask=mask, index=np.array(["a", "a", "a", "a", "b", "b"]), config={}
    )
    expected = torch.tensor(
        [[0.0], [1.0 / (0.5 + 1e-6)], [0.0], [0.0], [0.0], [2.0 * (ROOT2 - 1.0)]], dtype=torch.float64
    )
    assert_close(
        advantages,
        expected,
        what="compute_grpo_passk_outcome_advantage(config={}) (epsilon not given)",
        why="a config without norm_adv_by_std_in_grpo means True (config.get(..., True)); epsilon defaults "
        "to 1e-6: (r_max - r_second_max) / (unbiased std + 1e-6)",
    )


@pytest.mark.exercise("03.grpo_passk")
def test_compute_grpo_passk_outcome_advantage_empty_batch():
    # No responses means no groups: nothing to credit and nothing to reject (verl's loop over groups
    # does not run), so both results are empty (0, response_length) tensors.
    rewards = torch.zeros(0, 3)
    out = adv.compute_grpo_passk_outcome_advantage(
        token_level_rewards=rewards,
        response_mask=torch.zeros(0, 3, dtype=torch.int64),
        index=np.array([]),
        config={"norm_adv_by_std_in_grpo": True},
    )
    assert_equal(
        [tuple(x.shape) for x in out],
        [(0, 3), (0, 3)],
        what="shapes of compute_grpo_passk_outcome_advantage's (advantages, returns) on a batch of 0 rows",
        why="an empty batch has no group, so no group of fewer than 2 responses: empty results, no error",
    )
