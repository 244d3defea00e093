"""``python grader.py agent``: chapter 07's multi-turn GRPO run with your agent, and what it did.

    python grader.py agent                    the graded run: 2 steps from the SFT warm start
    python grader.py agent --plot             the demo: more steps, held-out validation before
                                              step 1 and every 5 steps; agent_curves.png
    python grader.py agent --plot --steps 20 --seed 2
    python grader.py agent --solutions        the same with the reference solutions

The warm start (verl's SFT trainer on tool-using conversations) is made once and cached under
``.verlings/cache/capstone/``. Everything a run writes lands in ``--out`` (default
``.verlings/agent/run`` or ``.../demo``): ``run.log``, ``command.sh``, ``tool_config.yaml``,
``trajectories.jsonl`` (every trajectory your loop returned), ``batch_step1.json`` (the batch
the trainer received), ``tensorboard/`` and ``metrics.json``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import time
from dataclasses import replace
from pathlib import Path

from verlings.paths import STATE_DIR, display

# The demo: 8 prompts × 4 answers a step, validation on 32 held-out products before step 1 and
# every 5 steps (greedy, one answer each).
DEMO = {"train_batch_size": 8, "rollout_n": 4, "mini_batch_size": 8, "micro_batch_size": 8,
        "n_val": 32, "val_before_train": True, "test_freq": 5}
DEMO_STEPS = 15

_STEP = re.compile(r"step:(\d+) - ")
_SCORE = re.compile(r"critic/score/mean:([-\d.eE+]+|nan)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python grader.py agent", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--solutions", action="store_true", help="run the reference solutions")
    which.add_argument("--target", metavar="DIR", help="run the implementation in DIR (laid out like exercises/)")
    p.add_argument("--plot", action="store_true", help=f"the demo ({DEMO_STEPS} steps) and agent_curves.png")
    p.add_argument("--steps", type=int, default=None, help=f"training steps (default 2, or {DEMO_STEPS} with --plot)")
    p.add_argument("--seed", type=int, default=1, help="data and rollout seed (default 1)")
    p.add_argument("--max-turns", type=int, default=None, help="the model's turns per trajectory (default 2)")
    p.add_argument("--rebuild-warm-start", action="store_true", help="retrain the cached SFT warm start")
    p.add_argument("--out", metavar="DIR", default=None, help="output folder (emptied first)")
    p.add_argument("--device", choices=("cpu", "gpu"), default=None, help="default: gpu when CUDA is available")
    p.add_argument("--timeout", type=float, default=None, help="seconds before the run is stopped")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def _print_rates(summary: dict) -> None:
    from verlings.agent_rl.metrics import TOOL_CALL_RATE, TOOL_SUCCESS_RATE, VAL_TOOL_CALL_RATE
    from verlings.capstone.summary import LENGTH, accuracy_tag

    series = summary.get("series", {})
    acc = accuracy_tag(summary)
    rows = [(TOOL_CALL_RATE, "tool-call rate"), (TOOL_SUCCESS_RATE, "tool success rate"),
            (VAL_TOOL_CALL_RATE, "held-out tool-call rate"), (acc, "held-out accuracy"), (LENGTH, "response length")]
    for tag, label in rows:
        pts = series.get(tag, []) if tag else []
        if not pts:
            print(f"  {label:<24} (not logged)")
            continue
        shown = "  ".join(f"{int(s)}:{v:.2f}" if tag != LENGTH else f"{int(s)}:{v:.0f}" for s, v in pts)
        print(f"  {label:<24} step:value  {shown}")


def main(argv: list[str] | None = None) -> int:
    from verlings import target as target_mod
    from verlings.agent_rl import launcher, metrics
    from verlings.agent_rl.preflight import stubs_the_run_needs
    from verlings.agent_rl.warm_start import warm_start
    from verlings.capstone.cli import activate_target
    from verlings.capstone.launcher import choose_device, engine_missing
    from verlings.capstone.sft import WarmStartError

    args = build_parser().parse_args(argv)
    root = activate_target(args)
    if root is None:
        return 2
    steps = args.steps if args.steps is not None else (DEMO_STEPS if args.plot else launcher.GRADED.steps)
    if steps < 1 or (args.max_turns is not None and args.max_turns < 1):
        print("error: --steps and --max-turns must be at least 1")
        return 2
    out = Path(args.out) if args.out else STATE_DIR / "agent" / ("demo" if args.plot else "run")
    problem = stubs_the_run_needs(root)  # milliseconds, before minutes of warm start and start-up
    if problem:
        print(problem)
        return 1
    device = args.device or choose_device()
    missing = engine_missing(device=device)
    if missing:
        print(f"cannot train: {missing}")
        return 2
    start = time.monotonic()
    try:
        model = warm_start(rebuild=args.rebuild_warm_start)
    except WarmStartError as exc:
        print(f"error: {exc}")
        return 1
    config = replace(launcher.GRADED, steps=steps, seed=args.seed, **(DEMO if args.plot else {}))
    shutil.rmtree(out, ignore_errors=True)
    print(f"verl multi-turn GRPO, {steps} step(s) on the {device.upper()} path, your agent from "
          f"{target_mod.describe(root)}, from the warm start {display(model)}")

    def progress(line: str) -> None:
        m = _STEP.search(line)
        if m and not args.quiet:
            score = _SCORE.search(line)
            shown = f"mean reward {float(score.group(1)):+.3f}" if score else ""
            print(f"  step {int(m.group(1)):>3}/{steps}  {shown}  ({time.monotonic() - start:.0f} s)", flush=True)

    result = launcher.run(config, out, model=model, target=root, device=device,
                          timeout_s=args.timeout or 600 + 60 * steps, on_line=progress,
                          max_turns=args.max_turns or launcher.MAX_TURNS)
    if not result.ok:
        print(result.run.failure())
        return 1
    summary = metrics.add_to_summary(result.run.summary, out)
    print(f"finished {summary['steps']} step(s) in {result.run.wall_s:.0f} s "
          f"(total with the warm start: {time.monotonic() - start:.0f} s)")
    _print_rates(summary)
    print(f"trajectories: {display(out / 'trajectories.jsonl')}   metrics: {display(out / 'metrics.json')}   "
          f"TensorBoard: tensorboard --logdir {display(out / 'tensorboard')}")
    if args.plot:
        png = metrics.plot(summary, out / "agent_curves.png",
                           title=f"verl multi-turn GRPO, your agent loop, tiny Qwen2 on {device.upper()}: "
                                 f"{steps} steps in {result.run.wall_s:.0f} s (seed {args.seed})")
        print(f"curves: {display(png)}" if png else "no plot: matplotlib is not installed (numbers in metrics.json)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
