"""The mutant runner tells a caught mutant from a broken one by the plug-in's typed failure kind."""

from __future__ import annotations

import pytest

from verlings.dev.mutants import Mutant, caught

MEAN = "03.masked_mean"


def test_a_wrong_mean_is_caught():
    wrong = Mutant(
        "mean_over_all_tokens",
        MEAN,
        "masks",
        """
def masked_mean(values, mask, axis=None):
    return values.mean() if axis is None else values.mean(axis)
""",
        mistake="mean_over_all_tokens",
    )
    assert caught(wrong)


@pytest.mark.parametrize(
    ("name", "code", "why"),
    [
        ("stub", "def masked_mean(values, mask, axis=None):\n    raise NotImplementedError('x')\n", "stub"),
        (
            "missing_name",
            "def masked_mean(values, mask, axis=None):\n    return helper_the_reference_lacks(values)\n",
            "NameError",
        ),
    ],
)
def test_a_mutant_that_cannot_run_is_broken_not_caught(name, code, why):
    with pytest.raises(RuntimeError, match="the mutant itself is broken"):
        caught(Mutant(name, MEAN, "masks", code))


def test_an_edit_the_reference_lacks_fails_loudly():
    with pytest.raises(ValueError, match="occurs 0 times"):
        caught(Mutant("stale_edit", MEAN, "masks", replace={"text the reference never had": "x"}))


def test_a_mutant_without_edit_or_code_is_refused():
    with pytest.raises(ValueError, match="neither replace= nor code="):
        caught(Mutant("no_change", MEAN, "masks"))
