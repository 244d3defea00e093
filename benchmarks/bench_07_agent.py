"""Chapter 07: how long the graded agent run takes, and what the demo does over several seeds.

    python benchmarks/bench_07_agent.py                      # graded run once, then 3 demo seeds
    python benchmarks/bench_07_agent.py --seeds 1 2 3 --steps 15 --out .verlings/bench07
    python benchmarks/bench_07_agent.py --skip-graded        # only the seeds

1. **The graded run** (what ``pytest exercises/07 --solutions`` trains): ``python grader.py agent
   --solutions`` — wall time from the command's start to its end, Ray/vLLM/FSDP start-up
   included, the SFT warm start excluded (cached first, timed separately). Budget: 4 minutes
   on the 2-core machine.
2. **The demo over seeds**: ``python grader.py agent --plot --solutions --seed S``. Per seed:
   held-out accuracy of the warm start (verl's validation before step 1, the policy already
   calling the tool) and after the last step, the tool-call rate on the first and last
   training step, and the wall time.

Prints one JSON line per run and the mean and spread, writes ``results.json``. Wall times depend
on what else runs on the machine: the load average (``os.getloadavg``) at start and end is
recorded with each of them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _loadavg() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _grader(args: list[str], log: Path) -> tuple[int, float, float, float]:
    start, load0 = time.monotonic(), _loadavg()
    done = subprocess.run([sys.executable, str(ROOT / "grader.py"), "agent", "--solutions", "--quiet", *args],
                          capture_output=True, text=True, cwd=ROOT)
    log.write_text(done.stdout + done.stderr, encoding="utf-8")
    return done.returncode, round(time.monotonic() - start, 1), round(load0, 1), round(_loadavg(), 1)


def _row(summary_path: Path) -> dict:
    from verlings.agent_rl.metrics import TOOL_CALL_RATE, TOOL_SUCCESS_RATE
    from verlings.capstone.summary import LENGTH, accuracy_tag

    if not summary_path.is_file():
        return {}
    s = json.loads(summary_path.read_text())
    row: dict = {"grpo_wall_s": s.get("wall_s"), "steps": s.get("steps")}
    tag = accuracy_tag(s)
    acc = s["series"].get(tag, []) if tag else []
    if acc:
        row.update(acc_warm_start=acc[0][1], acc_after=acc[-1][1], acc_gain_points=100 * (acc[-1][1] - acc[0][1]))
    for key, tag in (("tool_call_rate", TOOL_CALL_RATE), ("tool_success_rate", TOOL_SUCCESS_RATE),
                     ("response_length", LENGTH)):
        pts = s["series"].get(tag, [])
        if pts:
            row[f"{key}_first"], row[f"{key}_last"] = pts[0][1], pts[-1][1]
    return row


def _spread(rows: list[dict], key: str) -> dict | None:
    values = [r[key] for r in rows if key in r]
    if not values:
        return None
    return {"mean": statistics.mean(values), "stdev": statistics.stdev(values) if len(values) > 1 else 0.0,
            "values": values}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3])
    p.add_argument("--steps", type=int, default=None, help="demo steps (default: the demo's)")
    p.add_argument("--skip-graded", action="store_true")
    p.add_argument("--out", default=str(ROOT / ".verlings" / "bench07"))
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    from verlings.agent_rl.warm_start import RECIPE, warm_start
    from verlings.capstone.sft import cache_dir

    start, load0 = time.monotonic(), _loadavg()
    cached = cache_dir(RECIPE).exists()
    warm_start()
    sft = {"cached": cached, "wall_s": round(time.monotonic() - start, 1), "load_start": round(load0, 1),
           "load_end": round(_loadavg(), 1)}
    seconds = cache_dir(RECIPE) / "sft_seconds.txt"
    if seconds.is_file():
        sft["trained_in_s"] = float(seconds.read_text())
    print(f"warm start: {'cached' if cached else 'trained'} ({json.dumps(sft)})", flush=True)
    result: dict = {"sft": sft, "cpu_count": os.cpu_count(), "runs": []}
    if not args.skip_graded:
        rc, wall, l0, l1 = _grader(["--out", str(out / "graded")], out / "graded.log")
        graded = {"run": "graded", "rc": rc, "wall_s": wall, "load_start": l0, "load_end": l1,
                  **_row(out / "graded" / "metrics.json")}
        result["graded"] = graded
        print(json.dumps(graded), flush=True)
    for seed in args.seeds:
        extra = ["--steps", str(args.steps)] if args.steps else []
        rc, wall, l0, l1 = _grader(["--plot", "--seed", str(seed), "--out", str(out / f"seed{seed}"), *extra],
                                   out / f"seed{seed}.log")
        row = {"run": f"seed{seed}", "seed": seed, "rc": rc, "wall_s": wall, "load_start": l0, "load_end": l1,
               **_row(out / f"seed{seed}" / "metrics.json")}
        result["runs"].append(row)
        print(json.dumps(row), flush=True)
    for key in ("acc_warm_start", "acc_after", "acc_gain_points", "tool_call_rate_first", "tool_call_rate_last"):
        spread = _spread(result["runs"], key)
        if spread:
            result[key] = spread
            print(f"{key}: {spread['mean']:.3f} ± {spread['stdev']:.3f} over seeds {args.seeds}")
    (out / "results.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    runs = [*result["runs"], *([result["graded"]] if "graded" in result else [])]
    return 0 if all(r["rc"] == 0 for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
