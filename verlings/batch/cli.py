"""The ``batch`` sub-command of ``python grader.py``.

    python grader.py batch SUBMISSIONS_DIR --out class.csv [--jobs N] [--ray-address ADDR] [--chapters 03 04]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console

from verlings.batch import classreport, isolation
from verlings.batch.runner import Options, local_backend, run_batch


def add_parser(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("batch", help="teachers: grade a folder of submissions into class.csv/.json/.html")
    b.add_argument("submissions", metavar="SUBMISSIONS_DIR",
                   help="one entry per student: a folder or a .zip (repository, exercises/ or NN/ folders)")
    b.add_argument("--out", metavar="FILE", default="class.csv",
                   help="the CSV; class.json and class.html are written next to it (default class.csv)")
    where = b.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=int, default=1, metavar="N", help="students graded in parallel here")
    where.add_argument("--ray-address", metavar="ADDR",
                       help="grade on an existing Ray cluster: auto or HOST:PORT (as `ray start --head` prints)")
    b.add_argument("--cpus-per-student", type=float, default=1, metavar="N",
                   help="with --ray-address: CPUs a student's task reserves (default 1; chapter 06: a node's cores)")
    b.add_argument("--chapters", nargs="+", metavar="NN", default=None, help="chapters to grade (default: all)")
    b.add_argument("--partial", action="store_true", help="partial credit: points × fraction of tests passed")
    b.add_argument("--timeout", type=float, default=None, help="seconds per chapter (default: chapter.toml)")
    b.add_argument("--test-timeout", type=int, default=None, help="seconds per test (default: pyproject, 60)")
    b.add_argument("--student-timeout", type=float, default=None,
                   help="seconds per student (default: the chapters' limits added up, plus 120)")
    b.add_argument("--fresh", action="store_true", help="ignore cached results and grade everyone again")


def _chapters(names: list[str] | None) -> list[str]:
    from verlings.paths import chapter_ids

    known = chapter_ids()
    if not names:
        return known
    chosen = []
    for name in names:
        cid = name.zfill(2) if name.isdigit() else name
        if cid not in known:
            raise ValueError(f"chapter {name!r} does not exist; chapters: {', '.join(known)}")
        if cid not in chosen:
            chosen.append(cid)
    return sorted(chosen)


def cmd_batch(args: argparse.Namespace, console: Console) -> int:
    folder = Path(args.submissions)
    out = Path(args.out)
    if out.suffix.lower() != ".csv":
        raise ValueError(f"--out {args.out!r}: give the CSV's name, e.g. class.csv (.json and .html go next to it)")
    if args.jobs < 1:
        raise ValueError("--jobs must be at least 1")
    options = Options(_chapters(args.chapters), partial=args.partial, chapter_timeout=args.timeout,
                      test_timeout=args.test_timeout, student_timeout=args.student_timeout)
    if not folder.is_dir():
        raise ValueError(f"submissions folder {args.submissions!r} does not exist or is not a folder")
    cache = out.with_name(out.stem + ".cache")
    if args.fresh and cache.is_dir():
        for f in cache.glob("*.json"):
            f.unlink()
    if args.ray_address:
        from verlings.batch import ray_backend

        # Joins the cluster before anything is graded: a wrong address is one clear error.
        if args.cpus_per_student <= 0:
            raise ValueError("--cpus-per-student must be positive")
        backend = ray_backend.ray_backend(args.ray_address, extra_excludes=[folder, cache],
                                          cpus_per_student=args.cpus_per_student)
        mode = f"Ray cluster at {args.ray_address}"
        console.print(f"the course runs on the cluster from {ray_backend.course_root_on_cluster()}",
                      highlight=False)
    else:
        backend = local_backend(args.jobs)
        mode = f"{args.jobs} job(s) on this machine"
    console.print(f"grading {folder} (chapters {' '.join(options.chapters)}) with {mode}; "
                  f"each student confined by: {', '.join(isolation.layers())}", highlight=False)
    start = time.monotonic()

    def progress(row: dict, how: str) -> None:
        total = sum(e["score"] for e in row["exercises"].values())
        console.print(f"  {row['student']:<24} {row['status']:<9} {total:g} points  ({how}, "
                      f"{time.monotonic() - start:.0f} s)", highlight=False)

    try:
        result = run_batch(folder, options, backend, cache, on_student=progress)
    finally:
        if args.ray_address:
            from verlings.batch import ray_backend

            ray_backend.disconnect()
    meta = {"chapters": options.chapters, "mode": "ray" if args.ray_address else f"jobs={args.jobs}",
            "wall_s": round(result.wall_s, 1), "graded_now": result.graded, "from_cache": result.cached}
    paths = classreport.write_reports(out, result.rows, result.exercises, meta)
    console.print(f"{len(result.rows)} students ({result.graded} graded now, {result.cached} from the cache) "
                  f"in {result.wall_s:.0f} s → {', '.join(str(p) for p in paths)}", highlight=False)
    return 0
