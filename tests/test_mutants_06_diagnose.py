"""Known-wrong variants of exercises/06/diagnose.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

MUTANTS = [
    Mutant(
        "kl_mean_not_max",
        "06.diagnose",
        "diagnose",
        replace={"if kl and max(kl) > KL_LIMIT:": "if kl and sum(kl) / len(kl) > KL_LIMIT:"},
    ),
    Mutant(
        "kl_limit_inclusive",
        "06.diagnose",
        "diagnose",
        replace={"if kl and max(kl) > KL_LIMIT:": "if kl and max(kl) >= KL_LIMIT:"},
    ),
    Mutant(
        "entropy_last_value_not_window",
        "06.diagnose",
        "diagnose",
        replace={"and _end(entropy) < ENTROPY_KEPT * _start(entropy):": "and entropy[-1] < ENTROPY_KEPT * entropy[0]:"},
    ),
    Mutant(
        "entropy_inclusive",
        "06.diagnose",
        "diagnose",
        replace={
            "and _end(entropy) < ENTROPY_KEPT * _start(entropy):":
                "and _end(entropy) <= ENTROPY_KEPT * _start(entropy):"
        },
    ),
    # one step's dip (0.496 at step 14 of the recorded entropy_collapse run) is not a collapse
    Mutant(
        "entropy_min_not_window",
        "06.diagnose",
        "diagnose",
        replace={
            "and _end(entropy) < ENTROPY_KEPT * _start(entropy):": "and min(entropy) < ENTROPY_KEPT * _start(entropy):"
        },
    ),
    Mutant(
        "entropy_short_series_fires",
        "06.diagnose",
        "diagnose",
        replace={"if len(entropy) >= 2 * WINDOW and _end(entropy)": "if len(entropy) >= 2 and _end(entropy)"},
    ),
    Mutant(
        "points_not_sorted",
        "06.diagnose",
        "diagnose",
        replace={"for _, v in sorted(scalars.get(tag, []), key=lambda p: p[0])]": "for _, v in scalars.get(tag, [])]"},
    ),
    Mutant(
        "length_last_value_not_window",
        "06.diagnose",
        "diagnose",
        replace={"_end(length) >= LENGTH_GROWTH * _start(length)": "length[-1] >= LENGTH_GROWTH * length[0]"},
    ),
    # an absolute threshold where the rule is a growth factor: a run whose length stays at 3 tokens "blows up"
    Mutant(
        "length_absolute_not_growth",
        "06.diagnose",
        "diagnose",
        replace={"_end(length) >= LENGTH_GROWTH * _start(length)": "_end(length) >= LENGTH_GROWTH"},
    ),
    Mutant(
        "length_growth_strict",
        "06.diagnose",
        "diagnose",
        replace={"_end(length) >= LENGTH_GROWTH * _start(length)": "_end(length) > LENGTH_GROWTH * _start(length)"},
    ),
    Mutant(
        "hacking_without_accuracy",
        "06.diagnose",
        "diagnose",
        replace={
            "            and accuracy[-1] <= accuracy[0]):":
                "            and (not accuracy or accuracy[-1] <= accuracy[0])):",
            "and len(accuracy) >= 2\n": "\n",
        },
    ),
    Mutant(
        "hacking_any_rise",
        "06.diagnose",
        "diagnose",
        replace={"_end(reward) - _start(reward) >= REWARD_RISE * abs(_start(reward))": "_end(reward) > _start(reward)"},
    ),
    Mutant(
        "hacking_relative_to_signed_start",
        "06.diagnose",
        "diagnose",
        replace={"REWARD_RISE * abs(_start(reward))": "REWARD_RISE * _start(reward)"},
    ),
    Mutant(
        "hacking_accuracy_strictly_down",
        "06.diagnose",
        "diagnose",
        replace={"accuracy[-1] <= accuracy[0]": "accuracy[-1] < accuracy[0]"},
    ),
    Mutant(
        "symptoms_sorted_by_name",
        "06.diagnose",
        "diagnose",
        replace={"    return found\n": "    return sorted(found)\n"},
    ),
    Mutant(
        "only_the_first_symptom", "06.diagnose", "diagnose", replace={"    return found\n": "    return found[:1]\n"}
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
