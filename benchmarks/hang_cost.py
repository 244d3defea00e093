"""What an infinite loop costs the learner: grading chapter 03 with one function that never returns.

For each graded function of chapter 03 (or those named), the reference solutions are copied to
a temporary target with that function replaced by ``while True: pass``, and the chapter is
graded as ``python grader.py 03`` would (chapter.toml budgets, one child process). The cost is
the wall time minus that of grading the unmodified solutions (measured first, and again last).
Issue 16's goal: at most 15 s for a loop anywhere in chapter 03.

    python benchmarks/hang_cost.py                      # every function of chapter 03
    python benchmarks/hang_cost.py masked_mean gae      # some of them (function or exercise names)
    python benchmarks/hang_cost.py --json out.json

Not a pytest-benchmark file (``grader.py bench`` collects ``bench_*.py``): it runs minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from verlings.chapters import load_chapter
from verlings.grading import PASSED, grade_chapter
from verlings.paths import SOLUTIONS

LOOP_FUNCTION = "\n\ndef {name}(*args, **kwargs):  # benchmarks/hang_cost.py\n    while True:\n        pass\n"
LOOP_CLASS = (
    "\n\nclass {name}:  # benchmarks/hang_cost.py\n    def __init__(self, *args, **kwargs):\n"
    "        while True:\n            pass\n"
)


def _target(root: Path, module: str, function: str) -> Path:
    shutil.copytree(SOLUTIONS / "03", root / "03", ignore=shutil.ignore_patterns("__pycache__"))
    path = root / "03" / f"{module}.py"
    template = LOOP_CLASS if function[0].isupper() else LOOP_FUNCTION
    path.write_text(path.read_text(encoding="utf-8") + template.format(name=function), encoding="utf-8")
    return root


def _grade(target: Path, verbose: bool = False) -> tuple[float, dict[str, str]]:
    start = time.monotonic()
    result = grade_chapter(load_chapter("03"), target)
    wall = time.monotonic() - start
    if verbose:
        for r in result.exercises:
            if r.status != PASSED:
                print(f"    {r.exercise.id} {r.status}: {r.message.splitlines()[0][:150]}", flush=True)
    return wall, {r.exercise.id: r.status for r in result.exercises}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="functions or exercise names (default: all of chapter 03)")
    parser.add_argument("--json", metavar="FILE", help="write the measurements here")
    parser.add_argument("-v", "--verbose", action="store_true", help="print why each exercise did not pass")
    args = parser.parse_args(argv)
    chapter = load_chapter("03")
    cases = [(ex, fn) for ex in chapter.exercises for fn in ex.functions[:1]]
    if args.names:
        cases = [(ex, fn) for ex, fn in cases if fn in args.names or ex.name in args.names]
    seen_fns: set[str] = set()
    cases = [(ex, fn) for ex, fn in cases if not (fn in seen_fns or seen_fns.add(fn))]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; {len(cases)} loops", flush=True)
    base_before, _ = _grade(SOLUTIONS, args.verbose)
    print(f"baseline (solutions): {base_before:.1f} s", flush=True)
    rows = []
    for ex, fn in cases:
        with tempfile.TemporaryDirectory(prefix="hang-cost-") as tmp:
            wall, statuses = _grade(_target(Path(tmp), ex.module, fn), args.verbose)
        hit = sorted(i for i, s in statuses.items() if s != PASSED)
        rows.append({"function": fn, "exercise": ex.id, "wall_s": round(wall, 2), "not_passed": hit})
        print(f"{fn:48s} {wall:6.1f} s   not passed: {', '.join(hit)}", flush=True)
    base_after, _ = _grade(SOLUTIONS)
    baseline = statistics.mean([base_before, base_after])
    worst = max(rows, key=lambda r: r["wall_s"]) if rows else None
    print(f"baseline after: {base_after:.1f} s (mean {baseline:.1f} s)")
    if worst:
        print(f"worst: {worst['function']} {worst['wall_s']:.1f} s = baseline + {worst['wall_s'] - baseline:.1f} s")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"baseline_s": [base_before, base_after], "loops": rows, "load_average": os.getloadavg()[0]}, indent=2
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
