"""Plain ``pytest`` grades the checkout it runs in, not the clone verlings was installed from.

The bug: with verlings ``pip install -e``'d from clone A, ``pytest exercises/03`` in clone B graded
A's exercises and said ``verlings target: exercises/ (your code)``. Here the installed clone is this
one and "clone B" is a copy in a temporary folder whose chapter 03 is solved.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from verlings.paths import ROOT, SOLUTIONS
from verlings.pytest_plugin import check_course_root

PYTEST = Path(sys.executable).parent / "pytest"  # the console script, not `python -m pytest` (which adds the cwd)


@pytest.fixture(scope="module")
def other_clone(tmp_path_factory) -> Path:
    clone = tmp_path_factory.mktemp("clone-b")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copy2(ROOT / "pyproject.toml", clone)
    shutil.copy2(ROOT / "conftest.py", clone)
    shutil.copytree(ROOT / "verlings", clone / "verlings", ignore=ignore)
    shutil.copytree(ROOT / "exercises" / "03", clone / "exercises" / "03", ignore=ignore)
    shutil.copy2(SOLUTIONS / "03" / "masks.py", clone / "exercises" / "03" / "masks.py")  # B has solved it
    return clone


def _pytest(clone: Path, *extra: str) -> subprocess.CompletedProcess:
    if not PYTEST.is_file():
        pytest.skip(f"no pytest console script next to {sys.executable}")
    cmd = [str(PYTEST), "exercises/03", "--exercise", "03.response_mask", "-p", "no:randomly", *extra]
    # the outer pytest exports its own target for its subprocesses; a learner's shell has none
    env = {k: v for k, v in os.environ.items() if k != "VERLINGS_TARGET"}
    return subprocess.run(cmd, cwd=clone, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.timeout(600)
def test_plain_pytest_grades_the_clone_it_runs_in(other_clone):
    result = _pytest(other_clone)
    out = result.stdout + result.stderr
    assert f"verlings target: {other_clone / 'exercises'} — " in out, out[-3000:]
    assert result.returncode == 0 and " passed" in out, out[-3000:]  # B's solved masks.py, not this clone's


@pytest.mark.timeout(600)
def test_a_harness_from_another_clone_stops_with_one_sentence(other_clone):
    # `-o pythonpath=` takes away what makes them agree: the harness is then this clone's
    result = _pytest(other_clone, "-o", "pythonpath=")
    out = result.stdout + result.stderr
    assert result.returncode == 4, out[-3000:]  # pytest's usage error
    assert f"pytest runs in the course checkout {other_clone.resolve()}" in out, out[-3000:]
    assert f"imported the verlings harness from {ROOT}" in out and "python -m pytest" in out


def test_a_folder_that_is_not_a_course_checkout_is_left_alone(tmp_path):
    check_course_root(tmp_path)  # a teacher's folder of extra tests: no error
    check_course_root(ROOT)
    with pytest.raises(pytest.UsageError, match="another clone"):
        check_course_root(ROOT, harness_root=tmp_path)
