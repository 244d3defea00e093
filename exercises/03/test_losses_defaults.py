"""Graded tests for exercises/03/losses.py: what the signatures and docstrings state beyond the goldens —
the vanilla loss's defaults (``loss_agg_mode="token-mean"``, ``config.get("clip_ratio_c", 3.0)``) and its
``clip_ratio_c > 1`` check, and the deprecated flat wrapper's defaults and its FutureWarning."""

import pytest
import torch
from omegaconf import OmegaConf

from verlings import learner_module
from verlings.fixtures.actor_config import ActorConfig, call_policy_loss
from verlings.testing import assert_close

losses = learner_module("03", "losses")

# The docstring's example: ratio e² = 7.389 on both tokens, ε = 0.2, c = 3.
#   A = +1: max(-7.389, -1.2) = -1.2;  A = -1: max(7.389, 1.2) = 7.389, dual clip min(3, 7.389) = 3.
#   token-mean: (-1.2 + 3) / 2 = 0.9   (with c = 4 it would be (-1.2 + 4) / 2 = 1.4)
EXAMPLE = {
    "old_log_prob": torch.zeros(1, 2),
    "log_prob": torch.full((1, 2), 2.0),
    "advantages": torch.tensor([[1.0, -1.0]]),
    "response_mask": torch.ones(1, 2, dtype=torch.int64),
}


@pytest.mark.exercise("03.policy_loss")
def test_compute_policy_loss_vanilla_defaults_to_token_mean():
    # ratio 1 everywhere (no clip acts), mask [[1, 1], [1, 0]], A = [[1, 1], [3, 0]]: losses -A.
    #   token-mean: (-1 - 1 - 3) / 3 = -5/3;  seq-mean-token-mean would be (-1 - 3) / 2 = -2; token-sum -5.
    pg_loss, _ = call_policy_loss(
        losses.compute_policy_loss_vanilla,
        old_log_prob=torch.zeros(2, 2),
        log_prob=torch.zeros(2, 2),
        advantages=torch.tensor([[1.0, 1.0], [3.0, 0.0]]),
        response_mask=torch.tensor([[1, 1], [1, 0]]),
    )
    assert_close(
        pg_loss,
        torch.tensor(-5.0 / 3.0),
        what="compute_policy_loss_vanilla(...) without loss_agg_mode",
        why="loss_agg_mode defaults to 'token-mean' (verl's signature)",
    )


@pytest.mark.exercise("03.policy_loss")
def test_compute_policy_loss_vanilla_clip_ratio_c_defaults_to_three():
    # A config without clip_ratio_c (an OmegaConf mapping, as verl's configs are): c = 3 by default.
    config = OmegaConf.create(
        {"clip_ratio": 0.2, "clip_ratio_low": None, "clip_ratio_high": None, "global_batch_info": {}}
    )
    pg_loss, metrics = call_policy_loss(losses.compute_policy_loss_vanilla, **EXAMPLE, config=config,
                                        loss_agg_mode="token-mean")
    assert_close(
        pg_loss,
        torch.tensor(0.9),
        what="pg_loss, config without clip_ratio_c (ratio e², A = [1, -1])",
        why="config.get('clip_ratio_c', 3.0): the dual clip caps A = -1's loss at 3, token-mean 0.9",
    )
    assert_close(
        metrics["actor/pg_clipfrac_lower"],
        0.5,
        what="pg_clipfrac_lower, config without clip_ratio_c",
        why="7.389 > 3 on the A < 0 token: 1 of 2 tokens",
    )


@pytest.mark.exercise("03.policy_loss")
@pytest.mark.parametrize("c", [1.0, 0.5])
def test_compute_policy_loss_vanilla_rejects_clip_ratio_c_not_above_one(c):
    with pytest.raises(AssertionError):
        call_policy_loss(losses.compute_policy_loss_vanilla, **EXAMPLE, config=ActorConfig(clip_ratio_c=c))


@pytest.mark.exercise("03.policy_loss")
def test_deprecated_compute_policy_loss_defaults_and_warning():
    with pytest.warns(FutureWarning):  # deprecated in verl 0.9.1 (its @deprecated warns FutureWarning)
        pg_loss, *_ = losses.compute_policy_loss(**EXAMPLE, cliprange=0.2)
    assert_close(
        pg_loss,
        torch.tensor(0.9),
        what="compute_policy_loss(..., cliprange=0.2) → pg_loss",
        why="the flat signature's defaults: clip_ratio_c=3.0 and loss_agg_mode='token-mean'",
    )
