"""Classroom formats, hidden tests and the tamper check (issue: classroom autograding)."""

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from verlings import formats
from verlings.chapters import load_chapter
from verlings.grading import GradeReport, grade, grade_chapter
from verlings.manifest import build, protected_files, verify
from verlings.paths import EXERCISES, ROOT, SOLUTIONS

ONLY = {"03.response_mask", "03.masked_mean"}

GRADESCOPE_TOP = {"score", "execution_time", "output", "visibility", "stdout_visibility", "tests", "leaderboard"}
GRADESCOPE_TEST = {"name", "score", "max_score", "status", "output", "tags", "visibility"}
CLASSROOM_TOP = {"version", "status", "max_score", "tests"}
CLASSROOM_TEST = {"name", "status", "score", "message", "test_code", "filename", "line_no", "duration"}


@pytest.fixture(scope="module", params=["solutions", "stubs"])
def report(request) -> GradeReport:
    target = SOLUTIONS if request.param == "solutions" else EXERCISES
    return grade([load_chapter("03")], target, only=ONLY)


def test_gradescope_results_have_every_field(report):
    data = json.loads(formats.render(report, "gradescope"))
    assert GRADESCOPE_TOP <= set(data)
    assert isinstance(data["score"], int | float) and isinstance(data["execution_time"], int)
    assert data["visibility"] in {"hidden", "after_due_date", "after_published", "visible"}
    assert len(data["tests"]) == len(ONLY)
    for test in data["tests"]:
        assert GRADESCOPE_TEST <= set(test)
        assert test["status"] in {"passed", "failed"}
        assert 0 <= test["score"] <= test["max_score"]
    assert data["score"] == sum(t["score"] for t in data["tests"])
    for entry in data["leaderboard"]:
        assert {"name", "value"} <= set(entry)


def test_classroom_results_have_every_field(report):
    data = json.loads(formats.render(report, "classroom"))
    assert CLASSROOM_TOP <= set(data) and data["version"] == 1
    assert data["status"] in {"pass", "fail", "error"}
    assert data["max_score"] == sum(e.points for e in load_chapter("03").exercises if e.id in ONLY)
    for test in data["tests"]:
        assert CLASSROOM_TEST <= set(test)
        assert test["status"] in {"pass", "fail", "error"}
    passed = all(r.status == "passed" for r in report.exercises)
    assert (data["status"] == "pass") == passed


def test_junit_is_well_formed_and_counts_failures(report):
    root = ET.fromstring(formats.render(report, "junit").split("\n", 1)[1])
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == int(root.get("tests")) > 0
    failures = sum(1 for c in cases if c.find("failure") is not None)
    assert failures == int(root.get("failures"))
    assert all(c.get("classname") in ONLY for c in cases)
    stubs = any(r.status != "passed" for r in report.exercises)
    assert (failures > 0) == stubs


def test_grader_writes_gradescope_file(tmp_path):
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "grader.py", "03.masked_mean", "--solutions", "--format", "gradescope",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(out.read_text())["score"] == load_chapter("03").exercises[2].points


# --- hidden tests --------------------------------------------------------------------------------

PRIVATE_TEST = '''
import pytest
import torch
from verlings import learner_module

masks = learner_module("03", "masks")


@pytest.mark.exercise("03.masked_mean")
def test_private_masked_mean_needs_float_dtype():
    out = masks.masked_mean(values=torch.ones(3), mask=torch.ones(3))
    assert out.dtype == torch.float16, "a teacher's deliberately strict hidden test"
'''


@pytest.mark.parametrize("layout", ["per_chapter", "flat"])
def test_extra_tests_are_graded_with_the_visible_ones(tmp_path, layout):
    folder = tmp_path / "private" / ("03" if layout == "per_chapter" else "")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test_private.py").write_text(PRIVATE_TEST)
    result = grade_chapter(load_chapter("03"), SOLUTIONS, only=ONLY, extra_tests=tmp_path / "private")
    by_id = {r.exercise.id: r for r in result.exercises}
    assert by_id["03.masked_mean"].status == "failed", "the hidden test must count"
    assert any("test_private" in t.nodeid for t in by_id["03.masked_mean"].tests)
    assert by_id["03.response_mask"].status == "passed"


# --- tamper check --------------------------------------------------------------------------------

@pytest.fixture
def course_copy(tmp_path):
    for rel in protected_files():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, tmp_path / rel)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"version": 1, "files": build(tmp_path)}))
    return tmp_path, manifest


def test_committed_manifest_is_current():
    result = verify()
    assert result.ok, (
        f"edited {result.edited}, missing {result.missing}, added {result.added} — "
        "after changing graded tests or harness run `python -m verlings.manifest --write`"
    )


def test_verify_catches_an_edited_assertion(course_copy):
    root, manifest = course_copy
    test_file = root / "exercises" / "03" / "test_masks.py"
    test_file.write_text(test_file.read_text().replace("assert_close(", "(lambda *a, **k: None)(", 1))
    assert verify(root, manifest).edited == ["exercises/03/test_masks.py"]


def test_verify_catches_a_deleted_test_file(course_copy):
    root, manifest = course_copy
    (root / "exercises" / "03" / "test_masks.py").unlink()
    assert verify(root, manifest).missing == ["exercises/03/test_masks.py"]


def test_verify_catches_a_changed_or_added_conftest(course_copy):
    root, manifest = course_copy
    (root / "conftest.py").write_text("# everything passes now\n")
    (root / "exercises" / "03" / "conftest.py").write_text("def pytest_runtest_call(item): pass\n")
    result = verify(root, manifest)
    assert result.edited == ["conftest.py"] and result.added == ["exercises/03/conftest.py"]


def test_verify_cli_exit_codes():
    proc = subprocess.run([sys.executable, "grader.py", "verify"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == (0 if verify().ok else 1)
