"""Known-wrong variants of exercises/03/importance.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

MUTANTS = [
    Mutant(
        "tis_not_detached",
        "03.tis",
        "importance",
        """
        def truncated_is_weights(old_log_prob, rollout_log_prob, response_mask, threshold=2.0):
            log_ratio = torch.clamp(old_log_prob - rollout_log_prob, -20.0, 20.0)
            weights = torch.exp(log_ratio).clamp(max=threshold)
            return torch.where(response_mask.bool(), weights, torch.zeros_like(weights))
        """,
    ),
    Mutant(
        "tis_not_truncated",
        "03.tis",
        "importance",
        """
        def truncated_is_weights(old_log_prob, rollout_log_prob, response_mask, threshold=2.0):
            weights = torch.exp(torch.clamp(old_log_prob - rollout_log_prob, -20.0, 20.0))
            return torch.where(response_mask.bool(), weights, torch.zeros_like(weights)).detach()
        """,
    ),
    Mutant(
        "tis_fixed_threshold_2",
        "03.tis",
        "importance",
        """
        def truncated_is_weights(old_log_prob, rollout_log_prob, response_mask, threshold=2.0):
            weights = torch.exp(torch.clamp(old_log_prob - rollout_log_prob, -20.0, 20.0)).clamp(max=2.0)
            return torch.where(response_mask.bool(), weights, torch.zeros_like(weights)).detach()
        """,
    ),
    Mutant(
        "tis_not_masked",
        "03.tis",
        "importance",
        """
        def truncated_is_weights(old_log_prob, rollout_log_prob, response_mask, threshold=2.0):
            log_ratio = torch.clamp(old_log_prob - rollout_log_prob, -20.0, 20.0)
            return torch.exp(log_ratio).clamp(max=threshold).detach()
        """,
    ),
    Mutant(
        "tis_ratio_inverted",
        "03.tis",
        "importance",
        """
        def truncated_is_weights(old_log_prob, rollout_log_prob, response_mask, threshold=2.0):
            weights = torch.exp(torch.clamp(rollout_log_prob - old_log_prob, -20.0, 20.0)).clamp(max=threshold)
            return torch.where(response_mask.bool(), weights, torch.zeros_like(weights)).detach()
        """,
    ),
    Mutant(
        "tis_clipped_both_sides",
        "03.tis",
        "importance",
        """
        def truncated_is_weights(old_log_prob, rollout_log_prob, response_mask, threshold=2.0):
            log_ratio = torch.clamp(old_log_prob - rollout_log_prob, -20.0, 20.0)
            weights = torch.exp(log_ratio).clamp(min=1.0 / threshold, max=threshold)
            return torch.where(response_mask.bool(), weights, torch.zeros_like(weights)).detach()
        """,
    ),
    Mutant(
        "tis_no_safety_clamp_mask_multiplied_first",
        "03.tis",
        "importance",
        """
        def truncated_is_weights(old_log_prob, rollout_log_prob, response_mask, threshold=2.0):
            # exp(1e4) * 0 = inf * 0 = NaN on padding; exp(30) is not clamped to exp(20)
            return (torch.exp(old_log_prob - rollout_log_prob) * response_mask).clamp(max=threshold).detach()
        """,
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
