"""The plug-in, tested with pytest's own pytester on tiny synthetic test files (as pytest-timeout does).

Each run is a fresh pytest process (``runpytest_subprocess``): the plug-in sets the active target
and the environment, which must not leak into this process. The synthetic tests load no learner
code, so a run costs a pytest start-up, not a chapter's imports.
"""

from __future__ import annotations

import json
import os

import pytest

from verlings.paths import EXERCISES, SOLUTIONS

pytest_plugins = ["pytester"]

FLAGS = (
    "-p",
    "verlings.pytest_plugin",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:hydra_pytest",
    "-p",
    "no:anyio",
    "-p",
    "no:benchmark",
    "-p",
    "no:hypothesispytest",
    "-p",
    "no:xdist",
)
# each run is a pytest start-up (seconds on a busy 2-core machine); the precedence test makes four
pytestmark = pytest.mark.timeout(300)

TESTS = """
import pytest
from verlings.testing import assert_close

@pytest.mark.exercise("03.masked_mean")
def test_mean():
    assert_close(1.0, 2.0, what="masked_mean")

@pytest.mark.exercise("03.masked_var")
def test_var():
    pass

def test_unmarked():
    pass
"""

KINDS = """
import pytest
from verlings.target import LearnerCodeError

@pytest.mark.exercise("03.masked_mean")
def test_stub():
    raise NotImplementedError("implement masked_mean")

@pytest.mark.exercise("03.masked_mean")
def test_unusable():
    raise LearnerCodeError("masks.py not found")

@pytest.mark.exercise("03.masked_mean")
def test_wrong():
    assert 1 == 2

@pytest.mark.exercise("03.masked_mean")
def test_crash():
    return {}["key"]

@pytest.fixture
def broken():
    raise RuntimeError("fixture")

@pytest.mark.exercise("03.masked_mean")
def test_setup(broken):
    pass
"""


def _run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_synthetic=source)
    return pytester.runpytest_subprocess(*FLAGS, *args)


def test_unknown_exercise_id_in_a_marker_stops_collection(pytester):
    result = _run(pytester, TESTS.replace("03.masked_var", "03.masked_vra"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    result.stderr.fnmatch_lines(
        ["*exercise markers name no exercise of chapter.toml*", "*test_var: exercise('03.masked_vra')*"]
    )


def test_the_hint_line_names_the_running_tests_exercise(pytester):
    """assert_close takes no exercise=: the plug-in keeps the running test's exercise in a context."""
    result = _run(pytester, TESTS, "-q")
    result.assert_outcomes(failed=1, passed=2)
    result.stdout.fnmatch_lines(["*hint: python grader.py hint 03.masked_mean*"])


HINT_LINES = """
import pytest
from verlings.testing import assert_equal, hint_line

@pytest.mark.parametrize("ex", [pytest.param(e, marks=pytest.mark.exercise(e)) for e in ("03.gae", "03.grpo")])
def test_param(ex):
    assert_equal(1, 2, what="per parameter")

@pytest.mark.exercise("03.rloo")
def test_own_message():
    raise AssertionError("written by the test\\n" + hint_line())

def test_unmarked():
    assert hint_line() == ""
"""


def test_a_parametrized_marker_and_a_hand_written_message_name_their_exercise(pytester):
    """Each parameter's marker is the context of its run; ``hint_line()`` serves messages a test writes."""
    result = _run(pytester, HINT_LINES, "-q")
    result.assert_outcomes(failed=3, passed=1)
    out = result.stdout.str()
    for ex in ("03.gae", "03.grpo", "03.rloo"):
        assert f"hint: python grader.py hint {ex}" in out, out


def test_exercise_and_skip_exercise_options_select_by_marker(pytester):
    result = _run(pytester, TESTS, "-q", "--exercise", "03.masked_var")
    result.assert_outcomes(passed=1, deselected=2)
    result = _run(pytester, TESTS, "-q", "--skip-exercise", "03.masked_mean")
    result.assert_outcomes(passed=2, deselected=1)


def test_target_precedence_cli_over_environment(pytester, monkeypatch, tmp_path):
    monkeypatch.setenv("VERLINGS_TARGET", str(tmp_path))
    header = "verlings target: {}*"
    _run(pytester, TESTS, "--exercise", "03.masked_var").stdout.fnmatch_lines([header.format(tmp_path)])
    result = _run(pytester, TESTS, "--exercise", "03.masked_var", "--solutions")
    result.stdout.fnmatch_lines([header.format(SOLUTIONS)])
    monkeypatch.delenv("VERLINGS_TARGET")
    _run(pytester, TESTS, "--exercise", "03.masked_var").stdout.fnmatch_lines([header.format(EXERCISES)])
    result = _run(pytester, TESTS, "--solutions", "--target", str(tmp_path))
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_event_stream_has_one_start_and_one_result_per_test(pytester, tmp_path):
    report = tmp_path / "events.jsonl"
    _run(pytester, TESTS, "-q", "--verlings-report", str(report))
    events = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    results = {e["nodeid"].split("::")[-1]: e for e in events if e["event"] == "result"}
    assert [e["event"] for e in events].count("start") == 3
    assert {k: (v["exercise"], v["outcome"]) for k, v in results.items()} == {
        "test_mean": ("03.masked_mean", "failed"),
        "test_var": ("03.masked_var", "passed"),
        "test_unmarked": (None, "passed"),
    }
    assert "masked_mean: 1 of 1 values differ" in results["test_mean"]["headline"]


def test_result_events_carry_a_typed_failure_kind(pytester, tmp_path):
    """Readers (the mutant runner, reports) use ``kind``/``exception``, never the message's wording."""
    report = tmp_path / "events.jsonl"
    _run(pytester, KINDS, "-q", "--verlings-report", str(report))
    results = {
        e["nodeid"].split("::")[-1]: (e["kind"], e["exception"])
        for e in map(json.loads, report.read_text(encoding="utf-8").splitlines())
        if e["event"] == "result"
    }
    assert results == {
        "test_stub": ("stub", "NotImplementedError"),
        "test_unusable": ("learner_code", "LearnerCodeError"),
        "test_wrong": ("assertion", "AssertionError"),
        "test_crash": ("error", "KeyError"),
        "test_setup": ("error", "RuntimeError"),
    }


SLOW_PROPERTY = """
import time

import pytest
from hypothesis import given, strategies as st

from verlings.differential import PROPERTY_SETTINGS

@pytest.mark.exercise("03.masked_mean")
@pytest.mark.timeout(1)
@PROPERTY_SETTINGS
@given(st.integers(0, 1000))
def test_slow_property(x):
    time.sleep(0.05)  # 120 examples: 6 s against a 1 s budget
"""


def test_a_slow_hypothesis_test_is_a_clean_timeout_not_a_flaky_failure(pytester, tmp_path):
    # pytest-timeout's alarm used to be taken by Hypothesis for a failing example: it replayed
    # the example, saw it pass, shrank on past the budget and reported a FlakyFailure.
    report = tmp_path / "events.jsonl"
    result = _run(pytester, SLOW_PROPERTY, "-q", "--verlings-report", str(report))
    (event,) = [e for e in map(json.loads, report.read_text(encoding="utf-8").splitlines()) if e["event"] == "result"]
    assert (event["outcome"], event["kind"]) == ("timeout", "timeout"), event
    assert "Flaky" not in event["details"], event["details"]
    result.stdout.fnmatch_lines(["*Timeout: the test ran past its 1 s budget*"])


SWALLOWS_THE_FIRST_ALARM = """
import time

import pytest
from hypothesis import given, strategies as st

from verlings.differential import PROPERTY_SETTINGS

swallowed = []

@pytest.mark.exercise("03.masked_mean")
@pytest.mark.timeout(1)
@PROPERTY_SETTINGS
@given(st.integers(0, 1000))
def test_slow_property(x):
    try:
        time.sleep(0.05)
    except BaseException:  # as when the alarm lands in Hypothesis's gc callback: unraisable, lost
        if swallowed:
            raise
        swallowed.append(x)
"""


def test_a_timeout_lost_where_exceptions_are_unraisable_still_stops_the_test(pytester, tmp_path):
    # CI saw the alarm land in Hypothesis's gc callback, where the exception was dropped: the
    # test then ran on to its end and passed. The handler re-arms, so the next alarm stops it.
    report = tmp_path / "events.jsonl"
    _run(pytester, SWALLOWS_THE_FIRST_ALARM, "-q", "--verlings-report", str(report))
    (event,) = [e for e in map(json.loads, report.read_text(encoding="utf-8").splitlines()) if e["event"] == "result"]
    assert (event["outcome"], event.get("kind")) == ("timeout", "timeout"), event


SEES_SOLUTIONS = """
import os

from verlings import target
from verlings.paths import SOLUTIONS

def test_sees_the_runs_target():
    assert target.active() == SOLUTIONS and os.environ[target.ENV_VAR] == str(SOLUTIONS)
"""


def test_an_in_process_run_puts_the_target_and_environment_back(pytester, monkeypatch, tmp_path):
    """The mutant runner and the never-failing audit run pytest in their own process, run after run:
    the plug-in sets the target (a module global) and VERLINGS_TARGET for its run and puts both back."""
    from verlings import target

    before = tmp_path / "the outer target"
    monkeypatch.setattr(target, "_active", before)
    monkeypatch.setenv(target.ENV_VAR, str(before))
    pytester.makepyfile(SEES_SOLUTIONS)
    result = pytester.inline_run(*FLAGS, "-p", "no:asyncio", "-q", "--solutions")
    result.assertoutcome(passed=1)
    assert target._active == before and os.environ[target.ENV_VAR] == str(before)
    monkeypatch.delenv(target.ENV_VAR)
    result = pytester.inline_run(*FLAGS, "-p", "no:asyncio", "-q", "--solutions")
    result.assertoutcome(passed=1)
    assert target._active == before and target.ENV_VAR not in os.environ
