"""Grading one student: their learner modules in a throwaway target, the course's grader on it.

The student's files are written into a fresh folder laid out like ``exercises/``; modules they
did not hand in are the pristine stubs (so those exercises fail cleanly, as in
``run_autograder``). Then ``python grader.py --target DIR --format json CHAPTERS`` runs in its
own session inside :func:`~verlings.batch.isolation.jail_prefix`, so the per-chapter crash and
hang containment of :mod:`verlings.grading` applies unchanged, and a whole-student time limit
sits on top. This module only needs the course folder it runs from, which is what lets a Ray
worker run it from the copy that ``runtime_env`` shipped.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from verlings.batch.intake import CRASHED, GRADED
from verlings.batch.isolation import jail_prefix
from verlings.paths import EXERCISES, ROOT
from verlings.stubs import pristine

OUTPUT_TAIL = 4000  # characters of the grader's own output kept when it failed


def student_timeout(chapters: list[str], chapter_timeout: float | None) -> float:
    """A whole-student limit: every chapter may run to its own limit once, plus start-up."""
    from verlings.chapters import load_chapter

    return 120 + sum(chapter_timeout or load_chapter(c).timeout_s for c in chapters)


def stub_bytes(rel: str) -> bytes:
    """The course's stub of ``NN/module.py``: the pristine copy, or exercises/ for one not yet archived."""
    chapter, name = rel.split("/")
    try:
        return pristine(chapter, name[: -len(".py")]).encode("utf-8")
    except FileNotFoundError:
        return (EXERCISES / rel).read_bytes()


def write_target(files: dict[str, bytes], modules: list[str], target: Path) -> None:
    """Lay out ``target`` like ``exercises/``: the student's modules, pristine stubs for the rest."""
    for rel in modules:
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[rel] if rel in files else stub_bytes(rel))


def grade_files(
    files: dict[str, bytes], chapters: list[str], *, modules: list[str], partial: bool = False,
    chapter_timeout: float | None = None, test_timeout: int | None = None, timeout: float | None = None,
) -> dict:
    """Grade one student's modules; returns ``{"status", "exercises", "message", "duration_s"}``.

    ``status`` is ``graded`` when the course grader produced its report (whatever the scores)
    and ``crashed`` when it did not (killed, out of time, harness error): the caller retries.
    """
    start = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="verlings-batch-"))
    try:
        target = work / "target"
        write_target(files, modules, target)
        report = work / "report.json"
        cmd = [*jail_prefix(), sys.executable, str(ROOT / "grader.py"), "--target", str(target),
               "--format", "json", "--out", str(report), "--lang", "en", *chapters]
        if partial:
            cmd.append("--partial")
        if chapter_timeout:
            cmd += ["--timeout", str(chapter_timeout)]
        if test_timeout:
            cmd += ["--test-timeout", str(test_timeout)]
        limit = timeout or student_timeout(chapters, chapter_timeout)
        env = {**os.environ, "VERLINGS_STATE_DIR": str(work / "state"), "PYTHONUNBUFFERED": "1"}
        # Chapter 06 starts a Ray cluster of its own inside the student's grading: never the teacher's.
        for key in ("VERLINGS_TARGET", "RAY_ADDRESS"):
            env.pop(key, None)
        code, out = _run(cmd, limit, work / "grader.log", env)
        data = _load(report)
        if data is None:
            why = (f"the student's grading ran past {limit:.0f} s and was stopped" if code is None
                   else f"the grader exited with code {code} without a report")
            return {"status": CRASHED, "exercises": {}, "message": why, "log": out[-OUTPUT_TAIL:],
                    "duration_s": round(time.monotonic() - start, 3)}
        return {"status": GRADED, "exercises": _exercises(data, target), "message": "",
                "duration_s": round(time.monotonic() - start, 3)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(cmd: list[str], limit: float, log: Path, env: dict[str, str]) -> tuple[int | None, str]:
    """Run in a new session, output to a file; afterwards the whole group is killed, finished or not."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                env=env, start_new_session=True)
        try:
            code: int | None = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # a grandchild may still be running
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
    return code, log.read_text(encoding="utf-8", errors="replace")


def _load(report: Path) -> dict | None:
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "chapters" in data else None


def _exercises(data: dict, target: Path) -> dict[str, dict]:
    """Per exercise: status, score, max and the first failure's message with the temp path taken out."""
    result = {}
    for chapter in data["chapters"]:
        for ex in chapter["exercises"]:
            message = str(ex.get("message", "")).replace(str(target) + os.sep, "").replace(str(target), "")
            result[ex["id"]] = {"status": ex["status"], "score": float(ex["score"]),
                                "max_score": int(ex["max_score"]), "message": message}
    return result
