#!/usr/bin/env python3
"""Benchmark README's set-up command (`bash install.sh`) as a newcomer meets it.

Each round, in a temporary folder:

1. **cold** — a fresh clone of this repository's HEAD, a fresh ``python3.11 -m venv``, pip's and
   uv's caches pointed at empty folders, then ``bash install.sh`` (engine included unless
   ``--no-engine``);
2. **again** — ``bash install.sh`` a second time in the same clone: everything is in place;
3. **warm cache** — a second fresh clone and venv, with the caches the cold run filled
   (a Gradescope rebuild or a learner's second clone).

Wall times of ``bash install.sh`` only (the venv is made before the clock starts), and the CPU time
(user + system) it and its children used: on a shared machine the wall time follows the other jobs'
load, the CPU time much less. It prints one line per round, then median, min and max, with the
machine's core count and load average, because the spread is part of the answer. Standard library only.

    python3 scripts/bench_install.py                 # 1 round
    python3 scripts/bench_install.py --rounds 3 --json bench.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("cold", "again", "warm_cache", "cold_cpu", "again_cpu", "warm_cache_cpu")


def _python() -> str:
    return shutil.which("python3.11") or sys.executable


def _fresh_clone(where: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(ROOT), str(where)], check=True)
    subprocess.run([_python(), "-m", "venv", str(where / ".venv")], check=True)
    return where


def _install(clone: Path, caches: Path, args: list[str], log: Path) -> tuple[float, float]:
    venv = clone / ".venv"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "VERLINGS_TARGET")}
    env.update(
        {
            "VIRTUAL_ENV": str(venv),
            "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            "PIP_CACHE_DIR": str(caches / "pip"),
            "UV_CACHE_DIR": str(caches / "uv"),
        }
    )
    start = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with log.open("a", encoding="utf-8") as out:
        code = subprocess.run(
            ["bash", "install.sh", *args], cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT
        ).returncode
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        sys.exit(f"bash install.sh failed (exit {code}) in {clone}; see {log}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def one_round(args: list[str], keep_logs: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="verlings-bench-") as tmp:
        tmp_path = Path(tmp)
        caches = tmp_path / "caches"
        (caches / "pip").mkdir(parents=True)
        (caches / "uv").mkdir()
        log = keep_logs / f"round-{int(time.time())}.log"
        first = _fresh_clone(tmp_path / "clone")
        figures = {}
        figures["cold"], figures["cold_cpu"] = _install(first, caches, args, log)
        figures["again"], figures["again_cpu"] = _install(first, caches, args, log)
        second = _fresh_clone(tmp_path / "clone2")
        figures["warm_cache"], figures["warm_cache_cpu"] = _install(second, caches, args, log)
        return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-engine", action="store_true", help="bash install.sh --no-engine")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--logs", type=Path, default=Path(tempfile.gettempdir()) / "verlings-bench-logs")
    opts = parser.parse_args(argv)
    args = ["--no-engine"] if opts.no_engine else []
    opts.logs.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    print(
        f"bash install.sh {' '.join(args)}: {opts.rounds} round(s) of commit {commit} on {os.cpu_count()} cores, "
        f"load average {load_before[0]:.1f}; logs in {opts.logs}"
    )
    rounds = []
    for i in range(opts.rounds):
        figures = one_round(args, opts.logs)
        rounds.append(figures)
        print(f"round {i + 1}: " + ", ".join(f"{k} {v:.0f} s" for k, v in figures.items()), flush=True)
    summary = {
        k: {
            "median": statistics.median(r[k] for r in rounds),
            "min": min(r[k] for r in rounds),
            "max": max(r[k] for r in rounds),
        }
        for k in KINDS
    }
    load_after = os.getloadavg()
    for k, s in summary.items():
        print(f"{k:>10}: median {s['median']:.0f} s (min {s['min']:.0f}, max {s['max']:.0f})")
    print(f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    if opts.json:
        opts.json.write_text(
            json.dumps(
                {
                    "commit": commit,
                    "args": args,
                    "cores": os.cpu_count(),
                    "load_before": load_before,
                    "load_after": load_after,
                    "rounds": rounds,
                    "summary": summary,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
