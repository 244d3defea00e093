"""``python grader.py capstone``: run the capstone's verl training and show what happened.

    python grader.py capstone                  2 GRPO steps with your code (what the graded test runs)
    python grader.py capstone --plot           the learning demo: verl SFT warm start (cached), then
                                               GRPO with held-out validation; curves as a PNG
    python grader.py capstone --steps 60 --plot
    python grader.py capstone --eval           export the demo's actor (verl's model merger) and
                                               evaluate it greedily with transformers
    python grader.py capstone --solutions      the same with the reference solutions

The CPU or GPU path is chosen automatically (``VERLINGS_DEVICE=cpu|gpu`` forces one;
``VERLINGS_CAPSTONE_DEVICE`` is the older name).
Everything a run writes lands in ``--out`` (default ``.verlings/capstone/run`` or ``.../demo``):
``run.log``, ``command.sh`` (the exact command), ``tensorboard/``, ``metrics.json``,
``calls.jsonl`` and, with ``--plot``, ``reward_curve.png`` and ``checkpoints/`` (the last step).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import time
from pathlib import Path

from verlings.capstone.data import TASK
from verlings.capstone.launcher import RunConfig, choose_device, engine_missing, run
from verlings.capstone.learner_checks import preflight
from verlings.capstone.summary import REWARD, not_finite, plot_reward
from verlings.paths import STATE_DIR, display

# The learning demo, from the SFT warm start: groups of 8 answers (a warm start right ~10-20% of
# the time gives many groups both right and wrong answers, so they carry a signal), one on-policy
# optimizer step per batch at lr 1e-3 (on the max task 3e-4 moved held-out accuracy less than its
# noise in 30 steps; on the former addition task 1e-3 rose and then fell back: ch06 §6.1),
# verl's validation on every never-trained prompt before step 1 and every 5 steps, and the last
# step saved for --eval. Answers are a few tokens: 16 is plenty. Padded rows, not packed ones: under
# sdpa packed sequences attend to each other (launcher.RunConfig.use_remove_padding).
DEMO = {"train_batch_size": 8, "rollout_n": 8, "mini_batch_size": 8, "micro_batch_size": 32, "lr": 1e-3,
        "max_response_length": 16, "n_val": TASK.held_out, "val_before_train": True, "test_freq": 5,
        "save_final": True, "use_remove_padding": False}
DEMO_STEPS = 30

_STEP = re.compile(r"step:(\d+) - ")
_SCORE = re.compile(r"critic/score/mean:([-\d.eE+]+|nan)")
_ACC = re.compile(r"val-(?:core|aux)/[^ ]+/(?:acc|correct)/mean@1:(?:np\.float64\()?([-\d.eE+]+)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python grader.py capstone", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--solutions", action="store_true", help="run the reference solutions")
    which.add_argument("--target", metavar="DIR", help="run the implementation in DIR (laid out like exercises/)")
    p.add_argument("--plot", action="store_true", help=f"learning demo ({DEMO_STEPS} steps) and reward_curve.png")
    p.add_argument("--eval", action="store_true", help="merge the demo's last checkpoint and evaluate it")
    p.add_argument("--endpoint", metavar="URL", default=None,
                   help="with --eval: ask a served model instead (python grader.py serve prints the URL)")
    p.add_argument("--seed", type=int, default=1, help="the demo's data and rollout seed (default 1)")
    p.add_argument("--rebuild-warm-start", action="store_true", help="retrain the cached SFT warm start")
    p.add_argument("--sft-seed", type=int, default=None,
                   help="the SFT warm start's seed (default: the demo recipe's, 1); one cached warm start per seed")
    p.add_argument("--vllm-sleep", choices=("on", "off"), default="off",
                   help="GPU path: vLLM sleep mode between steps (default off; the CPU path never sleeps)")
    p.add_argument("--steps", type=int, default=None, help="training steps (default 2, or 30 with --plot)")
    p.add_argument("--out", metavar="DIR", default=None, help="output folder (emptied first)")
    p.add_argument("--device", choices=("cpu", "gpu"), default=None, help="default: gpu when CUDA is available")
    p.add_argument("--timeout", type=float, default=None, help="seconds before the run is stopped")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--ray-address", metavar="ADDR", default=None,
                   help="run on an existing Ray cluster: auto or HOST:PORT (default: $RAY_ADDRESS, else its own)")
    return p


def _warm_start(args: argparse.Namespace) -> Path | None:
    from dataclasses import replace

    from verlings.capstone.sft import DEMO_RECIPE, WarmStartError, warm_start

    recipe = DEMO_RECIPE if args.sft_seed is None else replace(DEMO_RECIPE, seed=args.sft_seed)
    try:
        return warm_start(recipe, rebuild=args.rebuild_warm_start)
    except WarmStartError as exc:
        print(f"error: {exc}")
        return None


def _print_accuracy(summary: dict) -> None:
    from verlings.capstone.evaluate import ACC_KEYS
    from verlings.capstone.summary import accuracy_tag

    tag = accuracy_tag(summary)
    points = summary["series"].get(tag, []) if tag else []
    if len(points) >= 1:
        (s0, a0), (s1, a1) = points[0], points[-1]
        print(f"held-out accuracy (verl's validation, {tag}): step {s0} {a0:.1%} → step {s1} {a1:.1%} "
              f"({100 * (a1 - a0):+.1f} points)")
    else:
        print(f"verl logged no held-out accuracy (looked for {', '.join(ACC_KEYS)} in val-core/val-aux)")


def _evaluate(args: argparse.Namespace, root: Path, out: Path) -> int:
    from verlings import target as target_mod
    from verlings.capstone.evaluate import ExportError, evaluate, export, logged_accuracy, write_report

    n_val = DEMO["n_val"]
    if args.endpoint:
        from verlings.capstone.endpoint_cli import evaluate_through

        return evaluate_through(args.endpoint, root, out, n_val=n_val, max_new_tokens=DEMO["max_response_length"])
    try:
        hf = export(out)
    except ExportError as exc:
        print(f"error: {exc}")
        return 1
    print(f"merged with verl's model merger: {display(hf)}")
    learner = target_mod.load_module("06", "capstone", root=root)
    ev = evaluate(hf, learner.compute_score, n_val=n_val, max_new_tokens=DEMO["max_response_length"])
    print(f"greedy exact-match accuracy on {ev.n} held-out prompts (transformers): {ev.accuracy:.1%}")
    for smp in ev.samples:
        mark = "✓" if smp["correct"] else "✗"
        print(f"  {mark} {smp['question']!r} → {smp['answer']!r} (truth {smp['truth']})")
    logged = logged_accuracy(out)
    if logged is None:
        print("verl logged no validation accuracy for this run: nothing to compare with")
    else:
        tag, points = logged
        step, value = points[-1]
        agree = abs(value - ev.accuracy) <= 1.5 / ev.n  # one prompt either way: vLLM vs transformers kernels
        print(f"verl's validation at step {step} ({tag}): {value:.1%} — "
              + ("agrees" if agree else "DISAGREES: see eval.json"))
    print(f"report: {display(write_report(out, ev, logged))}")
    return 0


def _ray_address(given: str | None) -> str | None:
    """An existing cluster to run on (--ray-address, else RAY_ADDRESS), checked to answer; None: the
    run starts a cluster of its own; "" after printing why the address cannot be used."""
    address = given or os.environ.get("RAY_ADDRESS") or None
    if address is None:
        return None
    from verlings.batch.ray_backend import RayUnavailable, match_auth_mode, resolve_address

    try:
        resolved = resolve_address(address)
    except RayUnavailable as exc:
        print(f"error: {exc}")
        return ""
    match_auth_mode()  # verl's driver joins the cluster the way `ray start` set it up
    return resolved


def activate_target(args: argparse.Namespace) -> Path | None:
    """The code a run trains with (``--solutions`` / ``--target``), made the active target; None
    after printing why it cannot be used. ``grader.py agent`` (chapter 07) uses it too."""
    from verlings import target as target_mod

    try:
        root = target_mod.resolve(solutions=args.solutions, target=args.target)
    except ValueError as exc:
        print(f"error: {exc}")
        return None
    target_mod.set_active(root)
    return root


def main(argv: list[str] | None = None) -> int:
    from verlings import target as target_mod

    args = build_parser().parse_args(argv)
    root = activate_target(args)
    if root is None:
        return 2
    steps = args.steps if args.steps is not None else (DEMO_STEPS if args.plot else 2)
    if steps < 1:
        print("error: --steps must be at least 1")
        return 2
    default_out = STATE_DIR / "capstone" / ("demo" if args.plot or args.eval else "run")
    out = Path(args.out) if args.out else default_out
    if args.eval and not args.plot:
        return _evaluate(args, root, out)
    address = _ray_address(args.ray_address)
    if address == "":
        return 2
    # No address given: launcher.plan starts a Ray cluster of the run's own (ray_init.address=local).
    config = RunConfig(steps=steps, seed=args.seed, vllm_sleep=args.vllm_sleep == "on", ray_address=address,
                       **(DEMO if args.plot else {}))
    device = args.device or choose_device()
    problem = preflight(root)  # milliseconds: a stub or a crash before minutes of start-up
    if problem:
        print(problem)
        return 1
    missing = engine_missing(device=device)
    if missing:
        print(f"cannot train: {missing}")
        return 2
    start = time.monotonic()
    model = None
    if args.plot:
        model = _warm_start(args)
        if model is None:
            return 1
    shutil.rmtree(out, ignore_errors=True)
    timeout = args.timeout or 600 + 60 * steps

    where = "2 CPU cores" if device == "cpu" else "the GPU"
    print(f"verl GRPO, {steps} step(s) on the {device.upper()} path, code from {target_mod.describe(root)}"
          + (f", from the warm start {display(model)}" if model else ""))
    print(f"starting Ray, the FSDP actor, vLLM and the reward worker — on {where} the first step "
          f"comes after {'1–3 minutes' if device == 'cpu' else 'about a minute'}")

    def progress(line: str) -> None:
        m = _STEP.search(line)
        if m and not args.quiet:
            score = _SCORE.search(line)
            shown = f"mean reward {float(score.group(1)):+.3f}" if score else ""
            acc = _ACC.search(line)
            shown += f"  held-out acc {float(acc.group(1)):.1%}" if acc else ""
            print(f"  step {int(m.group(1)):>3}/{steps}  {shown}  ({time.monotonic() - start:.0f} s)", flush=True)

    result = run(config, out, target=root, device=device, timeout_s=timeout, on_line=progress, model=model)
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
        _print_accuracy(s)
        print(f"total wall time, warm start included: {time.monotonic() - start:.0f} s")
        png = plot_reward(s, out / "reward_curve.png",
                          title=f"verl GRPO from the SFT warm start, tiny Qwen2 on {device.upper()}: "
                                f"{steps} steps in {result.wall_s:.0f} s")
        if png is None:
            print("no plot: matplotlib is not installed (pip install matplotlib); the numbers are in metrics.json")
        else:
            print(f"curves: {display(png)}")
        if args.eval:
            return _evaluate(args, root, out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

