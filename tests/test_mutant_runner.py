"""The mutant runner tells a caught mutant from a broken one by the plug-in's typed failure kind."""

from __future__ import annotations

import contextlib

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


def test_lazy_imports_are_done_before_the_graded_tests_run():
    # An alarm of pytest-timeout firing during transformers' first import of its tokenizer classes
    # left transformers half-imported for the rest of the process (flaky test_mutants_02_data_check:
    # get_vocab raised NotImplementedError on every later run). A fresh process: after the runner's
    # preload, those imports are done, so no graded test's time budget covers them.
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from verlings.dev import mutants\n"
        "assert not [m for m in mutants.LAZY_IMPORTS if m in sys.modules], 'imported too early'\n"
        "mutants.preload()\n"
        "print([m for m in mutants.LAZY_IMPORTS if m not in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]", f"not imported by preload(): {proc.stdout}"


def _first_failing_example(shrink: bool) -> int:
    """The x that a property failing for every x >= 1000 reports (derandomized: the same every run)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from verlings.dev.mutants import without_shrinking

    seen: list[int] = []

    @settings(derandomize=True, database=None, deadline=None, max_examples=200)
    @given(st.integers(0, 10**9))
    def prop(x):
        seen.append(x)
        assert x < 1000

    with without_shrinking() if not shrink else contextlib.nullcontext():
        with pytest.raises(AssertionError):
            prop()
    return seen[-1]  # the example replayed for the report


def test_mutant_runs_keep_the_first_failing_example_and_shrinking_comes_back_after():
    from hypothesis.internal.conjecture.engine import ConjectureRunner

    before = ConjectureRunner.shrink_interesting_test_cases
    unshrunk = _first_failing_example(shrink=False)
    assert ConjectureRunner.shrink_interesting_test_cases is before, "the runner's shrink step is restored"
    assert unshrunk > 1000, f"{unshrunk}: shrunk all the same"
    assert _first_failing_example(shrink=True) == 1000, "outside the block a failure is shrunk to the smallest"
