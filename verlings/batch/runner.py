"""A class batch: read every submission, grade the ones not already graded, write the report.

Three ways to run the same students, with the same rows as the result:

* serial (``jobs=1``) and ``--jobs N``: each student is a child process of this machine (threads
  here only wait on them);
* ``--ray-address``: each student is a Ray task on an existing cluster
  (:mod:`verlings.batch.ray_backend`).

Results are cached per student in ``<out>.cache/`` under a key made of the student's taken
files, the chapters, the options and the course's test manifest, so an interrupted batch run
again redoes only what is missing or changed. A student whose grading crashed is retried once,
then reported as crashed; a crashed result is not cached (the next run tries again).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from verlings.batch.intake import CRASHED, GRADED, Submission, discover, learner_modules, read_submission
from verlings.batch.student import grade_files

ATTEMPTS = 2  # a crashed student is tried once more before being reported


@dataclass
class Options:
    chapters: list[str]
    partial: bool = False
    chapter_timeout: float | None = None
    test_timeout: int | None = None
    student_timeout: float | None = None

    def key(self) -> dict:
        """What changes a score (not the time limits of a run that finished)."""
        return {"partial": self.partial}

    def grade_kwargs(self) -> dict:
        return {"modules": learner_modules(self.chapters), "partial": self.partial,
                "chapter_timeout": self.chapter_timeout, "test_timeout": self.test_timeout,
                "timeout": self.student_timeout}


@dataclass
class BatchResult:
    rows: list[dict]
    graded: int = 0  # graded in this run
    cached: int = 0  # taken from the cache
    wall_s: float = 0.0
    exercises: list[dict] = field(default_factory=list)


# A backend grades a list of submissions, calling back with (submission, result) as each ends.
Backend = Callable[[list[Submission], Options, Callable[[Submission, dict], None]], None]


def local_backend(jobs: int) -> Backend:
    def run(subs: list[Submission], options: Options, done: Callable[[Submission, dict], None]) -> None:
        kwargs = options.grade_kwargs()
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(grade_with_retry, s.files, options.chapters, kwargs): s for s in subs}
            for fut in as_completed(futures):
                done(futures[fut], fut.result())
    return run


def grade_with_retry(files: dict[str, bytes], chapters: list[str], kwargs: dict) -> dict:
    """Grade, and once more if the grading crashed; ``attempts`` says how many runs it took."""
    for attempt in range(1, ATTEMPTS + 1):
        result = grade_files(files, chapters, **kwargs)
        result["attempts"] = attempt
        if result["status"] != CRASHED:
            break
    return result


def row(sub: Submission, result: dict | None, digest: str) -> dict:
    """One student's row: what intake found plus what grading gave (or why it was not graded)."""
    status = sub.status if result is None else result["status"]
    notes = list(sub.notes)
    if sub.problem:
        notes.insert(0, sub.problem)
    if result is not None and result.get("message"):
        notes.append(result["message"] + (f" (after {result['attempts']} attempts)"
                                          if result.get("attempts", 1) > 1 else ""))
    return {"student": sub.name, "status": status, "notes": notes, "digest": digest,
            "exercises": (result or {}).get("exercises", {}),
            "duration_s": (result or {}).get("duration_s", 0.0), "log": (result or {}).get("log", "")}


class Cache:
    """One JSON file per student in a folder next to the report."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, name: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        return self.folder / f"{safe}.json"

    def get(self, name: str, digest: str) -> dict | None:
        try:
            data = json.loads(self._path(name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        fresh = data.get("digest") == digest and data.get("student") == name and data.get("status") != CRASHED
        return data if fresh else None

    def put(self, data: dict) -> None:
        if data["status"] == CRASHED:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(data["student"])
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        tmp.replace(path)  # a batch killed mid-write leaves no half file behind


def run_batch(
    folder: Path, options: Options, backend: Backend, cache_dir: Path | None,
    on_student: Callable[[dict, str], None] | None = None,
) -> BatchResult:
    """Grade every submission in ``folder`` (cached ones skipped); rows in student-name order."""
    start = time.monotonic()
    entries = discover(folder)
    subs = [read_submission(e, options.chapters) for e in entries]
    names = [s.name for s in subs]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise ValueError(f"two submissions are named {clashes[0]!r} (e.g. a folder and a .zip): rename one")
    cache = Cache(cache_dir) if cache_dir is not None else None
    rows: dict[str, dict] = {}
    todo: list[Submission] = []
    digests = {s.name: s.digest(options.chapters, options.key()) for s in subs}
    cached = 0
    for sub in subs:
        hit = cache.get(sub.name, digests[sub.name]) if cache else None
        if hit is not None:
            rows[sub.name] = hit
            cached += 1
            if on_student:
                on_student(hit, "cached")
        elif sub.status != GRADED:
            rows[sub.name] = row(sub, None, digests[sub.name])
            if cache:
                cache.put(rows[sub.name])
            if on_student:
                on_student(rows[sub.name], "not graded")
        else:
            todo.append(sub)

    def done(sub: Submission, result: dict) -> None:
        data = row(sub, result, digests[sub.name])
        rows[sub.name] = data
        if cache:
            cache.put(data)
        if on_student:
            on_student(data, "graded")

    if todo:
        backend(todo, options, done)
    ordered = [rows[s.name] for s in sorted(subs, key=lambda s: s.name)]
    return BatchResult(ordered, graded=len(todo), cached=cached, wall_s=time.monotonic() - start,
                       exercises=exercise_columns(options.chapters))


def exercise_columns(chapters: Iterable[str]) -> list[dict]:
    """The report's exercise columns, in course order: id, points and English title."""
    from verlings.chapters import load_chapter

    return [{"id": e.id, "points": e.points, "title": e.title_in("en")}
            for c in chapters for e in load_chapter(c).exercises]
