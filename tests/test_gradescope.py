"""Gradescope, end to end on this machine: build the autograder, grade a submission, read results.json.

The autograder is built exactly as a teacher uploads it (``make_zip.sh``) and unpacked under a
temporary ``AUTOGRADER_ROOT``. Only the heavy install is left out: ``setup.sh`` links the course
environment these tests run in (``VERLINGS_AUTOGRADER_VENV``) instead of installing a new one; the
real install is ``install.sh``, measured by ``scripts/bench_install.sh``. Slow (it grades every
chapter: ~1–3 min on 2 cores).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from verlings.chapters import load_chapter
from verlings.paths import ROOT, SOLUTIONS, chapter_ids

jsonschema = pytest.importorskip("jsonschema")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # grades every chapter

SCHEMA = json.loads((ROOT / "classroom" / "gradescope" / "results.schema.json").read_text(encoding="utf-8"))

# A conftest.py that, if pytest ever loaded it, would pass every test of its chapter.
FORCE_PASS_CONFTEST = """
import pytest

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    report.outcome = "passed"
    return report
"""
EMPTY_TEST = "def test_nothing():\n    pass\n"
HOSTILE_INI = "[pytest]\naddopts = -p no:verlings.pytest_plugin -p no:python\n"


def _env(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "VERLINGS_TARGET"}  # the outer pytest's target
    return {**env, "AUTOGRADER_ROOT": str(root), **extra}


@pytest.fixture(scope="module")
def autograder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("autograder")
    archive = root / "autograder.zip"
    subprocess.run(
        ["bash", "classroom/gradescope/make_zip.sh", str(archive)],
        cwd=ROOT,
        check=True,
        timeout=300,
        capture_output=True,
    )
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
        assert {"setup.sh", "run_autograder", "grader.py", "install.sh"} <= names  # Gradescope's layout
        zf.extractall(root / "source")
    env = _env(root, VERLINGS_AUTOGRADER_VENV=sys.prefix)
    result = subprocess.run(
        ["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert (root / "venv" / "bin" / "python").exists()
    return root


@pytest.fixture(scope="module")
def graded(autograder) -> dict:
    """A submission that solved chapter 03 only, and tries every way to reach the tests."""
    sub = autograder / "submission"
    ex = sub / "exercises"
    shutil.copytree(SOLUTIONS / "03", ex / "03", ignore=shutil.ignore_patterns("__pycache__"))
    for chapter in chapter_ids():
        if chapter == "03":
            continue
        folder = ex / chapter
        folder.mkdir(parents=True)
        (folder / "conftest.py").write_text(FORCE_PASS_CONFTEST)
        for test in (ROOT / "exercises" / chapter).glob("test_*.py"):
            (folder / test.name).write_text(EMPTY_TEST)  # "edited" graded tests
    (ex / "pytest.ini").write_text(HOSTILE_INI)
    (sub / "pytest.ini").write_text(HOSTILE_INI)
    (sub / "conftest.py").write_text(FORCE_PASS_CONFTEST)
    result = subprocess.run(
        ["bash", str(autograder / "source" / "run_autograder")],
        env=_env(autograder),
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads((autograder / "results" / "results.json").read_text(encoding="utf-8"))


def test_results_json_is_schema_valid(graded):
    jsonschema.validate(graded, SCHEMA)


def test_score_is_chapter_03_and_nothing_else(graded):
    solved = {e.id: e.points for e in load_chapter("03").exercises}
    every = {e.id: e.points for c in chapter_ids() for e in load_chapter(c).exercises}
    by_id = {t["name"].split(" — ", 1)[0]: t for t in graded["tests"]}
    assert set(by_id) == set(every)
    wrong = {i: t["status"] for i, t in by_id.items() if (t["status"] == "passed") != (i in solved)}
    assert not wrong, f"passed/failed not as submitted (conftest.py, pytest.ini or edited tests were used?): {wrong}"
    assert graded["score"] == pytest.approx(sum(solved.values()))
    assert sum(t["max_score"] for t in graded["tests"]) == pytest.approx(sum(every.values()))


def test_schema_catches_a_misspelt_field():
    bad = {"score": 1, "tests": [{"score": 1, "max_score": 1, "stauts": "passed"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"score": 1, "visibility": "public"}, SCHEMA)
