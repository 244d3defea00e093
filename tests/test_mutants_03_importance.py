"""Known-wrong variants of exercises/03/importance.py: each must fail at least one graded test.

Each mutant is an edit of solutions/03/importance.py (``replace={reference text: wrong text}``).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

TIS = "03.tis"
SAFE_LOG_RATIO = "torch.clamp(old_log_prob - rollout_log_prob, min=-SAFETY_BOUND, max=SAFETY_BOUND)"
TRUNCATED = "weights = torch.exp(log_ratio).clamp(max=threshold)"
MASKED = "    weights = torch.where(response_mask.bool(), weights, torch.zeros_like(weights))\n"

MUTANTS = [
    Mutant("tis_not_detached", TIS, "importance", replace={"return weights.detach()": "return weights"}),
    Mutant("tis_not_truncated", TIS, "importance", replace={TRUNCATED: "weights = torch.exp(log_ratio)"}),
    Mutant("tis_fixed_threshold_2", TIS, "importance",
           replace={TRUNCATED: TRUNCATED.replace("max=threshold", "max=2.0")}),
    Mutant("tis_not_masked", TIS, "importance", replace={MASKED: ""}, mistake="masked_positions_leak"),
    Mutant("tis_ratio_inverted", TIS, "importance",
           replace={"old_log_prob - rollout_log_prob": "rollout_log_prob - old_log_prob"}),
    Mutant("tis_clipped_both_sides", TIS, "importance",
           replace={TRUNCATED: TRUNCATED.replace("max=threshold", "min=1.0 / threshold, max=threshold")}),
    # exp(1e4) * 0 = inf * 0 = NaN on padding; exp(30) is not clamped to exp(20)
    Mutant("tis_no_safety_clamp_mask_multiplied_first", TIS, "importance", replace={
        SAFE_LOG_RATIO: "old_log_prob - rollout_log_prob",
        TRUNCATED: "weights = (torch.exp(log_ratio) * response_mask).clamp(max=threshold)",
        MASKED: ""}),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
