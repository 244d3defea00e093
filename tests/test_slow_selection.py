"""``python -m pytest tests`` leaves the course's slow tests out; ``-m slow`` runs only them, ``-m ""`` all.

Each case is a fresh pytest process (pytester) on a stand-in suite: ``tests/`` holds a copy of the
course's ``tests/conftest.py`` with one quick and one slow test; ``other/`` stands for ``exercises/``,
whose graded tests use ``slow`` with another meaning (verl imports) and must never be left out.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.timeout(300)  # each case is a pytest start-up: seconds on a busy 2-core machine

HERE = Path(__file__).resolve().parent
# plug-ins the stand-in never uses (seconds of start-up each run), and no cache folder
QUIET = ("-p", "no:cacheprovider", "-p", "no:hydra_pytest", "-p", "no:hypothesispytest", "-p", "no:anyio")
SUITE = """
import pytest

def test_quick():
    pass

@pytest.mark.slow
def test_end_to_end():
    pass
"""
OTHER = """
import pytest

@pytest.mark.slow
def test_graded_but_slow():
    pass
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    (pytester.path / "tests").mkdir()
    shutil.copy2(HERE / "conftest.py", pytester.path / "tests" / "conftest.py")
    (pytester.path / "tests" / "test_suite.py").write_text(SUITE)
    (pytester.path / "other").mkdir()
    (pytester.path / "other" / "test_other.py").write_text(OTHER)
    pytester.makeini("[pytest]\nmarkers =\n    slow: a real verl training run\n")
    return pytester


def _ran(result: pytest.RunResult) -> set[str]:
    return {line.split("::")[-1].split()[0] for line in result.outlines if " PASSED" in line}


def test_plain_run_leaves_the_slow_tests_out_and_says_how_to_run_them(suite):
    result = suite.runpytest_subprocess("tests", "other", "-v", "-p", "no:xdist", *QUIET)
    assert result.ret == 0, result.stdout.str()
    assert _ran(result) == {"test_quick", "test_graded_but_slow"}, result.stdout.str()
    result.stdout.fnmatch_lines(["*1 slow tests deselected*run them with: python -m pytest tests -m slow*"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-m", "slow"], {"test_end_to_end", "test_graded_but_slow"}),
        (["-m", ""], {"test_quick", "test_end_to_end", "test_graded_but_slow"}),
    ],
    ids=["m-slow", "m-empty"],
)
def test_a_chosen_marker_expression_is_taken_as_given(suite, args, expected):
    result = suite.runpytest_subprocess("tests", "other", "-v", "-p", "no:xdist", *QUIET, *args)
    assert result.ret == 0, result.stdout.str()
    assert _ran(result) == expected, result.stdout.str()
    assert "slow tests deselected" not in result.stdout.str()


def test_pytest_addopts_can_choose_too(suite, monkeypatch):
    monkeypatch.setenv("PYTEST_ADDOPTS", "-m slow")
    result = suite.runpytest_subprocess("tests", "-v", "-p", "no:xdist", *QUIET)
    assert result.ret == 0, result.stdout.str()
    assert _ran(result) == {"test_end_to_end"}, result.stdout.str()


def test_under_xdist_the_count_comes_from_the_workers(suite):
    """The workers collect and deselect; the summary line is printed once, by the controller."""
    result = suite.runpytest_subprocess("tests", "-n", "1", *QUIET)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*1 passed*"])
    assert result.stdout.str().count("1 slow tests deselected") == 1, result.stdout.str()
