"""Does the capstone demo learn? Held-out accuracy before and after GRPO, over several seeds.

    python benchmarks/bench_06_learning.py                     # 3 seeds, the demo's settings
    python benchmarks/bench_06_learning.py --seeds 1 2 3 --steps 60 --out .verlings/bench06

For each seed: the SFT warm start (verl's SFT trainer; cached, so only the first seed pays for
it and its time is reported separately; all seeds start GRPO from that one warm start, so the seeds
vary GRPO only), its greedy accuracy on the held-out and on the training pairs (transformers: does
it generalise or only remember?), then ``python grader.py capstone --plot --eval
--solutions --seed S``: verl's validation on the 32 never-trained prompts before step 1 and every 5
steps, the last step merged with verl's model merger and evaluated greedily with transformers.
Prints one line per seed (with verl's median ``timing_s/step`` and ``timing_s/testing``, so an
idle machine's wall time can be estimated) and the mean and spread, and writes ``results.json``. Wall times
depend on the machine and on what else runs on it: report the load (``uptime``) with them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _loadavg() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def warm_start_accuracy(hf: Path) -> dict:
    """Greedy exact-match accuracy of the warm start on the held-out and on the training pairs."""
    from verlings.capstone.cli import DEMO
    from verlings.capstone.data import TASK
    from verlings.capstone.evaluate import greedy_answers

    row = {}
    for name, pairs in zip(("train", "held_out"), TASK.pairs()):
        answers = greedy_answers(hf, [TASK.question(a, b) for a, b in pairs], DEMO["max_response_length"])
        right = sum(x.strip() == TASK.answer(a, b) for x, (a, b) in zip(answers, pairs))
        row[f"acc_{name}"] = round(right / len(pairs), 4)
        row[f"n_{name}"] = len(pairs)
    return row


def _median(summary: dict, tag: str) -> float | None:
    values = [v for _, v in summary["series"].get(tag, [])]
    return round(statistics.median(values), 2) if values else None


def run_seed(seed: int, steps: int, out: Path, sft_seed: int | None = None) -> dict:
    start, load0 = time.monotonic(), _loadavg()
    cmd = [
        sys.executable,
        str(ROOT / "grader.py"),
        "capstone",
        "--plot",
        "--eval",
        "--solutions",
        "--quiet",
        "--seed",
        str(seed),
        "--steps",
        str(steps),
        "--out",
        str(out),
        *(["--sft-seed", str(sft_seed)] if sft_seed is not None else []),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.monotonic() - start
    (out.parent / f"seed{seed}.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    row = {
        "seed": seed,
        "rc": done.returncode,
        "wall_s": round(wall, 1),
        "load_start": round(load0, 1),
        "load_end": round(_loadavg(), 1),
    }
    metrics = out / "metrics.json"
    if metrics.is_file():
        from verlings.capstone.summary import accuracy_tag

        summary = json.loads(metrics.read_text())
        tag = accuracy_tag(summary)
        points = summary["series"].get(tag, []) if tag else []
        if points:
            before, after = points[0][1], points[-1][1]
            row.update(acc_before=before, acc_after=after, gain_points=100 * (after - before))
            # One held-out prompt is 3.1 points and greedy accuracy swings from one validation to the
            # next: the mean of the last three validations is reported beside the last one
            last3 = statistics.mean(v for _, v in points[-3:])
            row.update(acc_curve=points, acc_after_last3=round(last3, 4), gain_last3_points=100 * (last3 - before))
        row["grpo_wall_s"] = summary.get("wall_s")
        row["s_per_step_median"] = _median(summary, "timing_s/step")
        row["s_per_validation_median"] = _median(summary, "timing_s/testing")
    report = out / "eval.json"
    if report.is_file():
        row["eval_acc_transformers"] = json.loads(report.read_text())["accuracy"]
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--steps", type=int, default=None, help="GRPO steps (default: the demo's)")
    p.add_argument("--out", default=str(ROOT / ".verlings" / "bench06"))
    p.add_argument("--sft-seed", type=int, default=None, help="the warm start's SFT seed (default: the demo's)")
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from verlings.capstone.cli import DEMO_STEPS
    from verlings.capstone.sft import DEMO_RECIPE, cache_dir, warm_start

    args.steps = args.steps or DEMO_STEPS
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start, load0 = time.monotonic(), _loadavg()
    recipe = DEMO_RECIPE if args.sft_seed is None else replace(DEMO_RECIPE, seed=args.sft_seed)
    cached = cache_dir(recipe).exists()
    hf = warm_start(recipe)
    sft = {
        "cached": cached,
        "wall_s": round(time.monotonic() - start, 1),
        "load_start": round(load0, 1),
        "recipe": asdict(recipe),  # what warm_start() trains or reuses
        "key": recipe.key(),
    }
    timed = hf.parent / "sft_seconds.txt"  # how long verl's SFT took when it was made
    sft["trained_in_s"] = timed.read_text().strip() if timed.is_file() else None
    sft.update(warm_start_accuracy(hf))
    print(
        f"warm start: {'cached' if cached else 'trained'} in {sft['wall_s']} s (load {load0:.1f}); "
        f"made in {sft['trained_in_s']} s; greedy accuracy train {sft['acc_train']:.1%}, "
        f"held-out {sft['acc_held_out']:.1%}",
        flush=True,
    )
    rows = []
    for seed in args.seeds:
        row = run_seed(seed, args.steps, out / f"seed{seed}", args.sft_seed)
        rows.append(row)
        print(json.dumps(row), flush=True)
    gains = [r["gain_points"] for r in rows if "gain_points" in r]
    summary = {"steps": args.steps, "sft": sft, "runs": rows, "cpu_count": os.cpu_count()}
    if gains:
        summary["gain_mean"] = statistics.mean(gains)
        summary["gain_stdev"] = statistics.stdev(gains) if len(gains) > 1 else 0.0
        print(
            f"held-out accuracy gain over the warm start: {summary['gain_mean']:+.1f} ± "
            f"{summary['gain_stdev']:.1f} points over seeds {args.seeds}"
        )
    (out / "results.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return 0 if all(r["rc"] == 0 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
