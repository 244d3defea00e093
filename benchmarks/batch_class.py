"""Benchmark: one synthetic class graded serially, with ``--jobs 2`` and on a local Ray cluster.

    python benchmarks/batch_class.py                      # 8 students, chapters 01–05 (~30 min on 2 cores)
    python benchmarks/batch_class.py --students 3 --chapters 03 --out /tmp/bench.json

The class cycles through the three synthetic students (reference solutions, untouched stubs,
chapter 03 half done; :mod:`verlings.batch.synthetic`). Each mode grades every student from
scratch (its own output folder, so no cache is shared) through the real command,
``python grader.py batch …``; the Ray mode uses a one-node cluster started here with
``ray start --head --num-cpus N`` (its start-up is reported apart, not in the mode's time).
The script checks that the three CSVs are identical, and prints and saves the wall times with the
machine's load average before and after each mode: on a shared machine, quote it with the load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from verlings.batch.local_cluster import local_cluster  # noqa: E402
from verlings.batch.synthetic import make_class  # noqa: E402


def _grade(folder: Path, out: Path, chapters: list[str], *mode: str) -> dict:
    load_before = os.getloadavg()[0]
    start = time.monotonic()
    proc = subprocess.run([sys.executable, str(ROOT / "grader.py"), "batch", str(folder), "--out", str(out),
                           "--chapters", *chapters, *mode], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"batch {' '.join(mode)} failed:\n{proc.stdout}\n{proc.stderr}")
    return {"wall_s": round(wall, 1), "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2), "csv": out.read_text(encoding="utf-8")}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--students", type=int, default=8)
    p.add_argument("--chapters", nargs="+", default=["01", "02", "03", "04", "05"])
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", type=Path, default=None, help="save the figures as JSON here")
    p.add_argument("--modes", nargs="+", choices=("serial", "jobs", "ray"), default=["serial", "jobs", "ray"],
                   help="which modes to run (default all three; the CSVs are compared when more than one ran)")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="verlings-batch-bench-"))
    folder = make_class(work / "class", size=args.students)
    results: dict = {"students": args.students, "chapters": args.chapters, "cpus": os.cpu_count(),
                     "machine": platform.platform(), "python": platform.python_version(),
                     "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    modes: dict = {}
    results["modes"] = modes

    def save() -> None:  # after every mode: a later mode that fails keeps the earlier figures
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            shown = {**results, "modes": {m: {k: v for k, v in r.items() if k != "csv"} for m, r in modes.items()}}
            args.out.write_text(json.dumps(shown, indent=1) + "\n", encoding="utf-8")
    print(f"{args.students} students, chapters {' '.join(args.chapters)}, {os.cpu_count()} CPUs", flush=True)
    if "serial" in args.modes:
        modes["serial"] = _grade(folder, work / "serial" / "class.csv", args.chapters)
        print(f"  serial      {modes['serial']['wall_s']:7.1f} s", flush=True)
        save()
    if "jobs" in args.modes:
        modes[f"jobs{args.jobs}"] = _grade(folder, work / "jobs" / "class.csv", args.chapters,
                                           "--jobs", str(args.jobs))
        print(f"  --jobs {args.jobs}    {modes[f'jobs{args.jobs}']['wall_s']:7.1f} s", flush=True)
        save()
    if "ray" in args.modes:
        t = time.monotonic()
        with local_cluster(num_cpus=args.jobs) as address:
            results["ray_start_s"] = round(time.monotonic() - t, 1)
            modes["ray"] = _grade(folder, work / "ray" / "class.csv", args.chapters, "--ray-address", address)
        print(f"  Ray         {modes['ray']['wall_s']:7.1f} s   (cluster start-up {results['ray_start_s']} s, "
              "apart)", flush=True)
    results["identical_csv"] = len({r["csv"] for r in modes.values()}) == 1
    print(f"identical CSVs: {results['identical_csv']} ({', '.join(modes)})")
    save()
    return 0 if results["identical_csv"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
