"""``python grader.py batch``: resuming, retrying, bad input in a student's row, a clear Ray error.

Grading here is real but light: chapter 03 only, few students. The three modes (serial,
``--jobs``, Ray) on the synthetic class are compared in ``test_batch_ray.py``.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import textwrap
import uuid
import zipfile
from pathlib import Path

import pytest

from verlings.batch import runner
from verlings.batch.intake import CRASHED, EMPTY, GRADED, REJECTED
from verlings.batch.isolation import jail_prefix
from verlings.batch.runner import Options, local_backend, run_batch
from verlings.batch.synthetic import write_folder, write_zip
from verlings.chapters import load_chapter
from verlings.paths import ROOT, SOLUTIONS

MASKS = (SOLUTIONS / "03" / "masks.py").read_text(encoding="utf-8")


def _fake_backend(calls: list[str], status: str = GRADED):
    """Grades nothing: every exercise 1 point; records who was asked for."""
    def run(subs, options, done):
        for sub in subs:
            calls.append(sub.name)
            done(sub, {"status": status, "attempts": 1, "message": "", "duration_s": 0.0,
                       "exercises": {} if status == CRASHED else
                       {"03.response_mask": {"status": "passed", "score": 1.0, "max_score": 1, "message": ""}}})
    return run


def _class(folder: Path) -> Path:
    for name in ("ann", "ben", "cat"):
        write_folder(folder / name, {"03/masks.py": f"# {name}\n{MASKS}".encode()})
    return folder


# --- resuming and retrying (no grading) ----------------------------------------------------------

def test_rerun_skips_fresh_results_and_redoes_changed_or_missing(tmp_path):
    folder, cache = _class(tmp_path / "class"), tmp_path / "class.cache"
    calls: list[str] = []
    first = run_batch(folder, Options(["03"]), _fake_backend(calls), cache)
    assert calls == ["ann", "ben", "cat"] and first.graded == 3
    calls.clear()
    again = run_batch(folder, Options(["03"]), _fake_backend(calls), cache)
    assert calls == [] and again.cached == 3, "an unchanged class is not graded again"
    assert [r["exercises"] for r in again.rows] == [r["exercises"] for r in first.rows]
    (folder / "ben" / "03" / "masks.py").write_text("# ben, edited\n" + MASKS, encoding="utf-8")
    (cache / "cat.json").unlink()  # as if the batch was interrupted before cat finished
    run_batch(folder, Options(["03"]), _fake_backend(calls), cache)
    assert calls == ["ben", "cat"], "only the changed and the missing students are redone"
    calls.clear()
    run_batch(folder, Options(["03"], partial=True), _fake_backend(calls), cache)
    assert calls == ["ann", "ben", "cat"], "other scoring options make every cached result stale"


def test_crashed_student_is_retried_once_then_reported_and_not_cached(tmp_path, monkeypatch):
    folder, cache = _class(tmp_path / "class"), tmp_path / "class.cache"
    attempts: list[int] = []

    def crashing(files, chapters, **kwargs):
        attempts.append(1)
        return {"status": CRASHED, "exercises": {}, "message": "the grader exited with code -9 without a report",
                "duration_s": 0.0}

    monkeypatch.setattr(runner, "grade_files", crashing)
    result = run_batch(folder, Options(["03"]), local_backend(2), cache)
    assert len(attempts) == 6, "each of the 3 students: one run and one retry"
    assert all(r["status"] == CRASHED for r in result.rows)
    assert "after 2 attempts" in result.rows[0]["notes"][-1]
    assert not list(cache.glob("*.json")), "a crash is never cached: the next run tries again"


def test_real_crash_of_a_students_grading_is_retried_then_reported(tmp_path):
    folder = _class(tmp_path / "class")
    result = run_batch(folder, Options(["03"], student_timeout=0.5), local_backend(1), None)
    row = result.rows[0]
    assert row["status"] == CRASHED and "ran past 0 s" in row["notes"][-1] and "2 attempts" in row["notes"][-1]
    assert row["exercises"] == {} and len(result.rows) == 3, "the class still gets all its rows"


def test_two_submissions_with_one_name_are_refused(tmp_path):
    folder = _class(tmp_path / "class")
    write_zip(folder / "ann.zip", {"03/masks.py": MASKS.encode()})
    with pytest.raises(ValueError, match="two submissions are named 'ann'"):
        run_batch(folder, Options(["03"]), _fake_backend([]), None)


# --- the command on a class with bad input (real grading of chapter 03) --------------------------

HOSTILE_MASKS = MASKS + textwrap.dedent('''

    import os as _os
    import time as _time

    _reference_response_mask = compute_response_mask


    def compute_response_mask(*args, **kwargs):
        # forks a child that leaves the process group and sleeps forever, then answers correctly
        if _os.fork() == 0:
            _os.setsid()
            _time.sleep(10**6)
            _os._exit(0)
        return _reference_response_mask(*args, **kwargs)


    def masked_mean(*args, **kwargs):
        _time.sleep(10**6)  # sleeps forever
''')


def _run_grader(*args: str, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "grader.py"), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "COLUMNS": "300", **(env or {})})


def _processes_with(marker: str) -> list[int]:
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker.encode() in environ.read_bytes():
                found.append(int(environ.parent.name))
        except OSError:
            pass
    return found


@pytest.mark.timeout(900)
def test_bad_input_lands_in_the_students_row_and_never_stops_the_class(tmp_path):
    folder = tmp_path / "class"
    (folder / "empty").mkdir(parents=True)
    with zipfile.ZipFile(folder / "traversal.zip", "w") as zf:
        zf.writestr("03/masks.py", MASKS)
        zf.writestr("../evil.py", "print('out')\n")
    with zipfile.ZipFile(folder / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:  # 70 MB of zeros, ~70 kB
        zf.writestr("03/masks.py", MASKS)
        zf.writestr("03/zeros.bin", b"\0" * (70 << 20))
    write_folder(folder / "conftest", {"03/masks.py": MASKS.encode(),
                                       "03/conftest.py": b"import os\nos._exit(0)\n",
                                       "pytest.ini": b"[pytest]\naddopts = --co\n"})
    write_folder(folder / "hostile", {"03/masks.py": HOSTILE_MASKS.encode()})
    marker = f"verlings-batch-test-{uuid.uuid4().hex}"
    out = tmp_path / "report" / "class.csv"
    proc = _run_grader("batch", str(folder), "--out", str(out), "--chapters", "03", "--jobs", "2",
                       "--test-timeout", "5", "--timeout", "240", env={"VERLINGS_BATCH_TEST_MARKER": marker})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))}
    assert set(rows) == {"empty", "traversal", "bomb", "conftest", "hostile"}
    assert rows["empty"]["status"] == EMPTY and "no learner module" in rows["empty"]["notes"]
    assert rows["traversal"]["status"] == REJECTED and "path traversal" in rows["traversal"]["notes"]
    assert rows["bomb"]["status"] == REJECTED and "zip bomb" in rows["bomb"]["notes"]
    for name in ("empty", "traversal", "bomb"):
        assert rows[name]["total"] == "0"
    # the course's tests ran, not the student's conftest (which would have exited the run at once)
    assert rows["conftest"]["status"] == GRADED and "conftest.py" in rows["conftest"]["notes"]
    masks_exercises = [e.id for e in load_chapter("03").exercises if e.module == "masks"]
    assert all(rows["conftest"][ex] != "0" for ex in masks_exercises), rows["conftest"]
    # the forking and sleeping student: graded, the sleeper failed, the forker's answer still counts
    assert rows["hostile"]["status"] == GRADED
    assert rows["hostile"]["03.response_mask"] == "1", "the forked child must not hold up the chapter"
    assert rows["hostile"]["03.masked_mean"] == "0"
    if jail_prefix():  # the PID namespace ends every process the student started
        assert _processes_with(marker) == []
    for suffix in (".json", ".html"):
        assert out.with_suffix(suffix).is_file()


def test_unreachable_ray_address_is_one_clear_error_before_anything_runs(tmp_path):
    folder = _class(tmp_path / "class")
    out = tmp_path / "class.csv"
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = _run_grader("batch", str(folder), "--out", str(out), "--chapters", "03",
                       "--ray-address", f"127.0.0.1:{port}", timeout=120)
    assert proc.returncode == 2
    assert f"--ray-address 127.0.0.1:{port}: no Ray cluster answers there" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not out.exists() and not (tmp_path / "class.cache").exists(), "nothing was graded or written"


@pytest.mark.parametrize("args, message", [
    (["--chapters", "42"], "chapter '42' does not exist"),
    (["--out", "class.txt"], "give the CSV's name"),
    (["--jobs", "0"], "--jobs must be at least 1"),
])
def test_bad_options_are_clear_errors(tmp_path, args, message):
    folder = _class(tmp_path / "class")
    proc = _run_grader("batch", str(folder), *args, timeout=120)
    assert proc.returncode == 2 and message in proc.stdout, proc.stdout


def test_missing_submissions_folder_is_a_clear_error(tmp_path):
    proc = _run_grader("batch", str(tmp_path / "nope"), "--out", str(tmp_path / "c.csv"), timeout=120)
    assert proc.returncode == 2 and "does not exist" in proc.stdout
