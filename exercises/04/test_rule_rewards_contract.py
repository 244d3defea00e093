"""Graded tests for exercises/04/rule_rewards.py, conventions its contract states: each clean-up rule of
math_equal on its own, with math-verify switched off (the numeric rules are the contract; math-verify is the optional
fallback and would otherwise hide a missing rule), and the fallback's own conventions: it is
optional, it also works when verl calls the reward from a worker thread, and a number against a
symbolic answer goes to it; repetition_penalty's default n-gram.
"""

import sys
import threading

import pytest

from verlings import learner_module
from verlings.testing import assert_equal

rules = learner_module("04", "rule_rewards")
EX = "04.math_equal"


@pytest.fixture
def no_math_verify(monkeypatch):
    # An entry of None in sys.modules makes `import math_verify` raise ImportError, as when it is not installed.
    monkeypatch.setitem(sys.modules, "math_verify", None)


@pytest.mark.exercise(EX)
@pytest.mark.usefixtures("no_math_verify")
@pytest.mark.parametrize(
    ("pred", "truth", "rule"),
    [
        (r"\dfrac{1}{2}", "0.5", r"\dfrac is \frac"),
        (r"\tfrac{3}{4}", "0.75", r"\tfrac is \frac"),
        (r"\tfrac12", "0.5", r"\tfrac12 is \frac12, one digit each"),
        (r"-\frac{3}{2}", "-1.5", "a sign in front of a fraction"),
        ("3/1", "3", "a/b with b = 1"),
        ("1{,}000", "1000", "LaTeX's {,} thousands comma"),
        ("1,000", "1000", "thousands commas"),
        (r"1\,000", "1000", r"LaTeX spacing: \,"),
        (r"1\;000", "1000", r"LaTeX spacing: \;"),
        (r"1\!000", "1000", r"LaTeX spacing: \!"),
        (r"1\ 000", "1000", r"LaTeX spacing: '\ '"),
        ("1~000", "1000", "LaTeX spacing: ~"),
        ("- 3", "-3", "spaces"),
        ("$5$", "5", "$ signs"),
        (r"\$5", "5", r"\$"),
        (r"50\%", "50", r"\%"),
        ("50%", "50", "%"),
        (r"90^\circ", "90", r"^\circ"),
        (r"90^{\circ}", "90", r"^{\circ}"),
        ("90°", "90", "°"),
        (r"\left(1,2\right)", "(1,2)", r"\left and \right"),
        (r"5\text{ cm}", "5", r"\text{...} is a unit"),
        (r"5\mbox{ cm}", "5", r"\mbox{...} is a unit"),
        (r"5\mathrm{cm}", "5", r"\mathrm{...} is a unit"),
        (r"5\textbf{ cm}", "5", r"\textbf{...} is a unit"),
        ("12 apples", "12", "a word after a space is a unit"),
    ],
)
def test_math_equal_each_clean_up_rule_without_math_verify(pred, truth, rule):
    assert_equal(
        rules.math_equal(pred, truth),
        True,
        what=f"math_equal({pred!r}, {truth!r}) with math-verify not installed",
        why=f"{rule}: the clean-up rules of the contract make these one number on their own (math-verify is optional)",
    )


@pytest.mark.exercise(EX)
@pytest.mark.usefixtures("no_math_verify")
@pytest.mark.parametrize(
    ("pred", "truth", "why"),
    [
        ("1.2.3/2", "0.6", "'1.2.3' is not a number, so '1.2.3/2' is no fraction (and must not raise)"),
        (r"\frac{1}{0}", "1", "a zero denominator is never a number"),
        (r"\frac{x}{2}", "0.5", r"\frac of something that is not a number is no number (and must not raise)"),
        (r"\sqrt{2}", "2^{1/2}", "without math-verify, two different strings that are not numbers are not equal"),
    ],
)
def test_math_equal_not_equal_without_math_verify(pred, truth, why):
    assert_equal(
        rules.math_equal(pred, truth), False, what=f"math_equal({pred!r}, {truth!r}) without math-verify", why=why
    )


@pytest.mark.exercise(EX)
@pytest.mark.parametrize("pred", ["x" * 600, "1" * 600 + "x", r"\sqrt{" + "2" * 600 + "}"])
def test_math_equal_long_answers_are_not_equal_to_a_short_one(pred):
    # Long model output that no clean-up rule turns into the number 5: not equal, with or without math-verify.
    assert_equal(
        rules.math_equal(pred, "5"),
        False,
        what=f"math_equal(<{len(pred)} characters>, '5')",
        why="a long answer is no number and no string equal to '5'",
    )


@pytest.mark.exercise(EX)
def test_math_equal_falls_back_to_math_verify_in_a_worker_thread():
    # verl calls reward functions from worker threads, where signal.alarm (math-verify's timeout) cannot be set:
    # the contract says pass timeouts of None there. A symbolic equality only math-verify knows:
    pytest.importorskip("math_verify", reason="math-verify is a course dependency (pyproject.toml)")
    assert rules.math_equal(r"\sqrt{2}", "2^{1/2}") is True, "math-verify should find √2 = 2^(1/2) (main thread)"
    seen: list[object] = []
    worker = threading.Thread(target=lambda: seen.append(rules.math_equal(r"\sqrt{2}", "2^{1/2}")))
    worker.start()
    worker.join(timeout=20)
    assert_equal(
        seen,
        [True],
        what=r"math_equal('\sqrt{2}', '2^{1/2}') called from a worker thread",
        why="outside the main thread pass parsing_timeout=None and timeout_seconds=None: "
        "math-verify's timeouts use signal.alarm, which only the main thread may set",
    )


@pytest.mark.exercise(EX)
def test_math_equal_number_against_a_symbolic_truth_asks_math_verify():
    # One side a number, the other not: the numeric rule cannot decide, so math-verify is asked.
    pytest.importorskip("math_verify", reason="math-verify is a course dependency (pyproject.toml)")
    assert_equal(
        rules.math_equal("1/2", r"\sqrt{1/4}"),
        True,
        what=r"math_equal('1/2', '\sqrt{1/4}')",
        why="exact comparison only when both sides are numbers; otherwise string equality, then math-verify",
    )


@pytest.mark.exercise("04.repetition_penalty")
def test_repetition_penalty_default_is_4_grams():
    # The docstring's example, ngram left out: 4-grams abcd bcda cdab dabc abcd → 1 repeat of 5 (5-grams: none).
    assert_equal(
        rules.repetition_penalty("a b c d a b c d"),
        -0.2,
        what="repetition_penalty('a b c d a b c d')",
        why="the default is ngram=4",
    )
