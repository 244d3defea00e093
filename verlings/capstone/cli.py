"""``python grader.py capstone``: run the capstone's verl training and show what happened.

    python grader.py capstone                  2 GRPO steps with your code (what the graded test runs)
    python grader.py capstone --plot           the learning demo: 30 steps, reward curve as a PNG
    python grader.py capstone --steps 60 --plot
    python grader.py capstone --solutions      the same with the reference solutions

The CPU or GPU path is chosen automatically (``VERLINGS_CAPSTONE_DEVICE=cpu|gpu`` forces one).
Everything a run writes lands in ``--out`` (default ``.verlings/capstone/run`` or ``.../demo``):
``run.log``, ``command.sh`` (the exact command), ``tensorboard/``, ``metrics.json``,
``calls.jsonl`` and, with ``--plot``, ``reward_curve.png``.
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import time
from pathlib import Path

from verlings.capstone.launcher import RunConfig, choose_device, engine_missing, preflight, run
from verlings.capstone.summary import REWARD, not_finite, plot_reward
from verlings.paths import STATE_DIR, display

# The learning demo: more answers per step (a steadier signal) and two optimizer steps per batch.
DEMO = {"train_batch_size": 8, "rollout_n": 4, "mini_batch_size": 4, "micro_batch_size": 8, "lr": 3e-3}
DEMO_STEPS = 30

_STEP = re.compile(r"step:(\d+) - ")
_SCORE = re.compile(r"critic/score/mean:([-\d.eE+]+|nan)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python grader.py capstone", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--solutions", action="store_true", help="run the reference solutions")
    which.add_argument("--target", metavar="DIR", help="run the implementation in DIR (laid out like exercises/)")
    p.add_argument("--plot", action="store_true", help=f"learning demo ({DEMO_STEPS} steps) and reward_curve.png")
    p.add_argument("--steps", type=int, default=None, help="training steps (default 2, or 30 with --plot)")
    p.add_argument("--out", metavar="DIR", default=None, help="output folder (emptied first)")
    p.add_argument("--device", choices=("cpu", "gpu"), default=None, help="default: gpu when CUDA is available")
    p.add_argument("--timeout", type=float, default=None, help="seconds before the run is stopped")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def main(argv: list[str] | None = None) -> int:
    from verlings import target as target_mod

    args = build_parser().parse_args(argv)
    try:
        root = target_mod.resolve(solutions=args.solutions, target=args.target)
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    target_mod.set_active(root)
    steps = args.steps if args.steps is not None else (DEMO_STEPS if args.plot else 2)
    if steps < 1:
        print("error: --steps must be at least 1")
        return 2
    config = RunConfig(steps=steps, **(DEMO if args.plot else {}))
    device = args.device or choose_device()
    problem = preflight(root)  # milliseconds: a stub or a crash before minutes of start-up
    if problem:
        print(problem)
        return 1
    missing = engine_missing()
    if missing:
        print(f"cannot train: {missing}")
        return 2
    out = Path(args.out) if args.out else STATE_DIR / "capstone" / ("demo" if args.plot else "run")
    shutil.rmtree(out, ignore_errors=True)
    timeout = args.timeout or 600 + 60 * steps

    start = time.monotonic()
    print(f"verl GRPO, {steps} step(s) on the {device.upper()} path, code from {target_mod.describe(root)}")
    print("starting Ray, the FSDP actor, vLLM and the reward worker — on 2 CPU cores the first step "
          "comes after 1–3 minutes")

    def progress(line: str) -> None:
        m = _STEP.search(line)
        if m and not args.quiet:
            score = _SCORE.search(line)
            shown = f"mean reward {float(score.group(1)):+.3f}" if score else ""
            print(f"  step {int(m.group(1)):>3}/{steps}  {shown}  ({time.monotonic() - start:.0f} s)", flush=True)

    result = run(config, out, target=root, device=device, timeout_s=timeout, on_line=progress)
    if not result.ok:
        print(result.failure())
        return 1
    s = result.summary
    print(f"finished {s['steps']} step(s) in {result.wall_s:.0f} s; verl called your estimator "
          f"{result.calls.get('estimator', 0)}× and your reward {result.calls.get('reward', 0)}×")
    for tag in ("critic/score/mean", "actor/pg_loss", "actor/grad_norm", "response_length/mean"):
        if tag in s["final"]:
            print(f"  {tag:<24} {s['final'][tag]:+.4f}  (last step)")
    bad = not_finite(s)
    if bad:
        print(f"warning: not finite: {', '.join(bad)}")
    print(f"metrics: {display(out / 'metrics.json')}   "
          f"TensorBoard: tensorboard --logdir {display(out / 'tensorboard')}")
    if args.plot:
        rewards = [v for _, v in s["series"].get(REWARD, []) if math.isfinite(v)]
        k = max(1, min(5, len(rewards) // 2))
        if rewards:
            first, last = sum(rewards[:k]) / k, sum(rewards[-k:]) / k
            print(f"mean reward: first {k} steps {first:+.3f} → last {k} steps {last:+.3f}")
        png = plot_reward(s, out / "reward_curve.png",
                          title=f"verl GRPO, tiny Qwen2 on {device.upper()}: {steps} steps in {result.wall_s:.0f} s")
        if png is None:
            print("no plot: matplotlib is not installed (pip install matplotlib); the numbers are in metrics.json")
        else:
            print(f"reward curve: {display(png)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

