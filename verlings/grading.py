"""Grading: run each chapter's graded tests in its own pytest process and score exercises.

A chapter runs as ``python -m pytest exercises/NN --target ... --verlings-report FILE``;
the plug-in streams one JSON line per test start and result, so when learner
code crashes the interpreter (segfault, ``os._exit``) or hangs past the
chapter's time limit, the grader knows which test was running. That
exercise is marked ``crashed`` / ``timeout`` and the chapter is run again
without it, so one bad function never costs the other exercises their points.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from verlings.chapters import Chapter, Exercise
from verlings.messages import CAUSE_EN
from verlings.paths import EXERCISES, ROOT

if TYPE_CHECKING:
    from verlings.worker import Worker

PASSED, FAILED, CRASHED, TIMEOUT, SKIPPED = "passed", "failed", "crashed", "timeout", "skipped"

# What every child pytest run needs, spelled out so the ini's addopts can be replaced: importlib
# mode, the course plug-in, and no plug-ins that other packages register but the course never
# uses (loading them costs seconds per run). Keep in step with pyproject's addopts.
# Two of pytest's own are off too: `logging` attaches its handler to each of torch's ~40
# non-propagating loggers around every test phase (no graded test reads logs), and
# `unraisableexception` runs gc.collect() five times at the end of a run (~0.15 s with torch
# loaded, on every watch save).
PYTEST_FLAGS = (
    "--import-mode=importlib", "-p", "verlings.pytest_plugin", "-p", "no:cacheprovider",
    "-p", "no:hydra_pytest", "-p", "no:hypothesispytest", "-p", "no:anyio", "-p", "no:platformdirs",
    "-p", "no:logging", "-p", "no:unraisableexception",
)


@dataclass
class TestResult:
    nodeid: str
    exercise: str | None
    outcome: str
    duration: float = 0.0
    headline: str = ""
    details: str = ""

    @property
    def name(self) -> str:
        return self.nodeid.split("::", 1)[-1]


@dataclass
class ExerciseResult:
    exercise: Exercise
    status: str
    tests: list[TestResult] = field(default_factory=list)
    message: str = ""
    details: str = ""
    score: float = 0.0

    @property
    def max_score(self) -> int:
        return self.exercise.points

    @property
    def duration(self) -> float:
        return sum(t.duration for t in self.tests)


@dataclass
class ChapterResult:
    chapter: Chapter
    exercises: list[ExerciseResult]
    duration: float
    runs: int = 1
    output: str = ""


@dataclass
class GradeReport:
    target: Path
    chapters: list[ChapterResult]
    duration: float

    @property
    def exercises(self) -> list[ExerciseResult]:
        return [e for ch in self.chapters for e in ch.exercises]

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def max_score(self) -> int:
        return sum(e.max_score for e in self.exercises if e.status != SKIPPED)

    @property
    def all_passed(self) -> bool:
        graded = [e for e in self.exercises if e.status != SKIPPED]
        return bool(graded) and all(e.status == PASSED for e in graded)

    def first_failure(self) -> ExerciseResult | None:
        return next((e for e in self.exercises if e.status not in (PASSED, SKIPPED)), None)


def _read_events(path: Path) -> list[dict]:
    events = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut short by a crash
    return events


def _extra_test_paths(extra_tests: Path | None, chapter: str) -> tuple[list[str], list[str]]:
    """Paths and options that bring a teacher's private tests into this chapter's run."""
    if extra_tests is None:
        return [], []
    per_chapter = extra_tests / chapter
    if per_chapter.is_dir():
        return [str(per_chapter)], []
    if any(extra_tests.glob("test_*.py")):
        return [str(extra_tests)], ["--chapter", chapter]
    return [], []


def _pytest_command(
    chapter: Chapter, target: Path, report: Path, skip: set[str], only: set[str],
    extra_tests: Path | None, test_timeout: int | None,
) -> list[str]:
    paths, filters = _extra_test_paths(extra_tests, chapter.id)
    cmd = [
        sys.executable, "-m", "pytest", str(EXERCISES / chapter.id), *paths,
        "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"),
        # replace the ini addopts so that every flag the grader relies on is explicit here
        "-o", "addopts=", *PYTEST_FLAGS, "-q", "--no-header", "--tb=short", "-rN",
        "--target", str(target), "--verlings-report", str(report), *filters,
    ]
    if test_timeout:
        cmd += ["--timeout", str(test_timeout)]
    for ex in sorted(skip):
        cmd += ["--skip-exercise", ex]
    for ex in sorted(only):
        cmd += ["--exercise", ex]
    return cmd


OUTPUT_KEPT = 1 << 20  # the end of a chapter run's output kept for messages (a print loop can write GBs)


def _run(cmd: list[str], timeout: float) -> tuple[int | None, str]:
    """Run in a new process group; afterwards kill the whole group, finished or not.

    Output goes to a file, not a pipe: a child that learner code forked and left running
    would hold a pipe open, and reading it to the end would wait for the chapter's time limit.
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, env=env)
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # children included, also after a normal exit
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
        log.seek(max(0, log.seek(0, os.SEEK_END) - OUTPUT_KEPT))
        return code, log.read().decode("utf-8", errors="replace")


def _test_files_naming(chapter: Chapter, ids: set[str]) -> list[str] | None:
    """The chapter's test files that mention any of these exercise ids; None unless each id is found."""
    found: list[str] = []
    seen: set[str] = set()
    for path in sorted((EXERCISES / chapter.id).glob("test_*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        named = {i for i in ids if f'"{i}"' in text or f"'{i}'" in text}
        if named:
            found.append(str(path))
            seen |= named
    return found if seen == ids else None


def _run_pytest(cmd: list[str], timeout: float, worker: Worker | None, tmp: Path) -> tuple[int | None, str]:
    """``_run`` in a fresh interpreter, or a child forked from the warm worker when there is one."""
    if worker is not None:
        from verlings.worker import WorkerDied

        try:
            log = tmp / "output.txt"
            code, _ = worker.run(cmd[3:], log, timeout, cwd=ROOT, env={"PYTHONUNBUFFERED": "1"})
            with open(log, "rb") as f:  # only the end, as _run keeps it
                f.seek(max(0, f.seek(0, os.SEEK_END) - OUTPUT_KEPT))
                return code, f.read().decode("utf-8", errors="replace")
        except (WorkerDied, OSError):
            pass  # the worker itself is gone (not the learner's run): a fresh interpreter grades this one
    return _run(cmd, timeout)


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "the chapter's time limit was reached while this test ran (infinite loop?)"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the test process was killed by {name} while this test ran (a crash in native code?)"
    return f"the test process exited with code {code} while this test ran (sys.exit / os._exit in your code?)"


def grade_chapter(
    chapter: Chapter,
    target: Path,
    *,
    only: set[str] | None = None,
    extra_tests: Path | None = None,
    partial: bool = False,
    timeout: float | None = None,
    test_timeout: int | None = None,
    worker: Worker | None = None,
    narrow: bool = False,
) -> ChapterResult:
    """Grade one chapter in child processes; robust to crashes and hangs of learner code.

    With ``worker`` (a started :class:`verlings.worker.Worker`) each run is a child forked from
    its warm process instead of a new interpreter; the isolation is the same. With ``narrow`` and
    ``only``, pytest collects just the test files that name those exercises (watch mode: a save is
    answered without importing the chapter's other test files).
    """
    start = time.monotonic()
    wanted = [e for e in chapter.exercises if not only or e.id in only]
    results: dict[str, TestResult] = {}
    broken: dict[str, tuple[str, str]] = {}  # exercise -> (status, message)
    collect_errors: list[str] = []
    outputs: list[str] = []
    runs = 0
    while True:
        runs += 1
        with tempfile.TemporaryDirectory(prefix="verlings-grade-") as tmp:
            report = Path(tmp) / "events.jsonl"
            cmd = _pytest_command(
                chapter, target, report, set(broken), {e.id for e in wanted} if only else set(),
                extra_tests, test_timeout,
            )
            files = _test_files_naming(chapter, {e.id for e in wanted}) if narrow and only else None
            if files:
                cmd[3:4] = files
            code, out = _run_pytest(cmd, timeout or chapter.timeout_s, worker, Path(tmp))
            events = _read_events(report)
        outputs.append(out)
        started: dict[str, dict] = {}
        finished = False
        for ev in events:
            kind = ev.get("event")
            if kind == "start":
                started[ev["nodeid"]] = ev
            elif kind == "result":
                started.pop(ev["nodeid"], None)
                results[ev["nodeid"]] = TestResult(
                    ev["nodeid"], ev.get("exercise"), ev["outcome"], ev.get("duration", 0.0),
                    ev.get("headline", ""), ev.get("details", ""),
                )
            elif kind == "collect_error":
                collect_errors.append(ev.get("details") or ev["nodeid"])
            elif kind == "finished":
                finished = True
        if finished or not started:
            if not finished and not events:
                collect_errors.append(out[-2000:] or f"pytest exited with code {code} before running any test")
            break
        nodeid, ev = next(iter(started.items()))
        ex = ev.get("exercise") or "?"
        status = TIMEOUT if code is None else CRASHED
        results[nodeid] = TestResult(nodeid, ex, status, 0.0, _describe_exit(code), out[-2000:])
        broken[ex] = (status, _describe_exit(code))
        if runs > len(chapter.exercises) + 1:
            break
    exercises = [_score(e, [r for r in results.values() if r.exercise == e.id], broken, collect_errors, partial)
                 for e in wanted]
    return ChapterResult(chapter, exercises, time.monotonic() - start, runs, "\n".join(outputs))


def _score(
    exercise: Exercise, tests: list[TestResult], broken: dict[str, tuple[str, str]],
    collect_errors: list[str], partial: bool,
) -> ExerciseResult:
    if exercise.id in broken:
        status, message = broken[exercise.id]
        details = next((t.details for t in tests if t.outcome == status), "")
        return ExerciseResult(exercise, status, tests, message, details)
    if not tests:
        detail = "\n".join(collect_errors)
        why = "the test files could not be collected" if collect_errors else "no graded test is tied to it"
        return ExerciseResult(exercise, FAILED, tests, f"no test ran: {why}", detail)
    failed = [t for t in tests if t.outcome != PASSED and t.outcome != SKIPPED]
    ran = [t for t in tests if t.outcome != SKIPPED]
    if not ran:
        return ExerciseResult(exercise, SKIPPED, tests, tests[0].headline)
    if failed:
        # a test past its budget (or not run because of one) marks the exercise as timed out;
        # else the message shown is one that names a cause, when a test's inputs isolated one
        first = next((t for t in failed if t.outcome == TIMEOUT), None) or next(
            (t for t in failed if CAUSE_EN in t.headline), failed[0])
        status = TIMEOUT if first.outcome == TIMEOUT else FAILED
        score = exercise.points * (len(ran) - len(failed)) / len(ran) if partial else 0.0
        return ExerciseResult(exercise, status, tests, first.headline, first.details, score)
    return ExerciseResult(exercise, PASSED, tests, "", "", float(exercise.points))


def _module_units(chapter: Chapter, only: set[str] | None) -> list[set[str]]:
    """The chapter's wanted exercises grouped by module, in course order: one run each."""
    units: dict[str, set[str]] = {}
    for e in chapter.exercises:
        if not only or e.id in only:
            units.setdefault(e.module, set()).add(e.id)
    return list(units.values())


def _merge(chapter: Chapter, parts: list[ChapterResult]) -> ChapterResult:
    """One chapter's result from runs over parts of it; exercises in the chapter's order."""
    by_id = {r.exercise.id: r for part in parts for r in part.exercises}
    exercises = [by_id[e.id] for e in chapter.exercises if e.id in by_id]
    return ChapterResult(chapter, exercises, sum(p.duration for p in parts), sum(p.runs for p in parts),
                         "\n".join(p.output for p in parts))


def grade(
    chapters: list[Chapter],
    target: Path,
    *,
    only: set[str] | None = None,
    extra_tests: Path | None = None,
    partial: bool = False,
    timeout: float | None = None,
    test_timeout: int | None = None,
    jobs: int | None = None,
    worker: Worker | None = None,
    split: bool = False,
) -> GradeReport:
    """Grade chapters, up to ``jobs`` runs (default: the number of cores) at a time; course order kept.

    Several chapters share one warm worker (torch, verl, transformers imported once); one chapter
    runs in a fresh interpreter, which imports only what that chapter needs. Pass ``worker`` to
    reuse one across calls (watch, a class batch). With a worker and ``split``, each module of a
    chapter is its own run (a fork costs milliseconds), so a chapter whose tests mostly wait
    (servers, sandboxes) no longer holds the others back; crash and hang handling stay per run.
    Off by default: not yet measured on an idle machine, and one trial on a crowded one was slower.
    """
    start = time.monotonic()
    todo = [c for c in chapters if not only or any(e.id in only for e in c.exercises)]
    jobs = max(1, jobs or os.cpu_count() or 1)
    own_worker = None
    if worker is None and len(todo) > 1 and os.environ.get("VERLINGS_WORKER", "1") != "0":
        from verlings.worker import Worker, WorkerDied

        try:
            worker = own_worker = Worker().start()
        except (WorkerDied, OSError):
            worker = None  # every chapter in its own interpreter, as before

    units = [(c, ids) for c in todo for ids in (_module_units(c, only) if worker is not None and split else [only])]

    def one(unit: tuple[Chapter, set[str] | None]) -> ChapterResult:
        chapter, ids = unit
        return grade_chapter(chapter, target, only=ids, extra_tests=extra_tests, partial=partial,
                             timeout=timeout, test_timeout=test_timeout, worker=worker,
                             narrow=ids is not only)

    try:
        if jobs == 1 or len(units) == 1:
            parts = [one(u) for u in units]
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=min(jobs, len(units)), thread_name_prefix="verlings-grade") as pool:
                parts = list(pool.map(one, units))  # map keeps the course order
    finally:
        if own_worker is not None:
            own_worker.close()
    done = [_merge(c, [p for (uc, _), p in zip(units, parts) if uc is c]) for c in todo]
    return GradeReport(target, done, time.monotonic() - start)
