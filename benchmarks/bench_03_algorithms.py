"""Which algorithm when, measured: the capstone demo with several estimators / losses, same task and seed.

    python benchmarks/bench_03_algorithms.py                         # every arm, seed 1, 10 steps
    python benchmarks/bench_03_algorithms.py --arms grpo rloo --seeds 1 2
    python benchmarks/bench_03_algorithms.py --extract-only          # re-read the runs under --work

Each arm is one real verl 0.9.1 run (``python -m verl.trainer.main_ppo``, the v1 trainer, CPU or
GPU path of the capstone launcher) from the capstone's SFT warm start, with the reference
solutions plugged in (``--solutions``): the capstone's reward and, as the estimator, the
learner-side chapter-03 code — ``verlings_grpo`` (the capstone's own), ``verlings_rloo`` and
``verlings_rpp_baseline`` (registered by ``benchmarks/bench_03_plugin.py``). Only the algorithm
changes between arms (:data:`ARMS`); the task, warm-start recipe and run settings are pinned here
(:data:`TASK_FIELDS`, :data:`RECIPE_FIELDS`, :data:`BASE`: the demo of ``grader.py capstone --plot``
as it was when this script was written, fewer steps), so the arms stay comparable when the demo
changes. The GAE arm uses verl's own ``gae`` (verl feeds the critic's values only to that name)
with a critic made from the same warm start.

Per run it records (``--out``, default ``benchmarks/results/bench_03_algorithms.json``): held-out
accuracy before / after (verl's greedy validation on the never-trained prompts), the mean reward
of the first and last steps, entropy and response length at both ends, seconds per step
(verl's ``timing_s/step``, first step left out: it pays for warm-up), wall time, and the
machine's load average at start and end. Wall times depend on the machine and what else runs on
it: on the course's shared 2-core machine they are indications, not a benchmark of verl.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "benchmarks" / "results" / "bench_03_algorithms.json"
PLUGIN = "benchmarks.bench_03_plugin"
START_RETRIES = 4  # the shared machine's load can keep Ray from starting in time
RAY_OOM = "ray.exceptions.OutOfMemoryError"
ACC = "val-core/verlings/arith/acc/mean@1"
REWARD = "critic/score/mean"
ENTROPY = "actor/entropy"
LENGTH = "response_length/mean"
STEP_S = "timing_s/step"
WINDOW = 3  # steps averaged at each end of a curve

# The demo's task and warm start when this was written (verlings/capstone/data.py TASK, sft.DEMO_RECIPE).
TASK_FIELDS = {"name": "add-0-9", "low": 0, "high": 9, "held_out": 32, "split_seed": 20260101}
RECIPE_FIELDS = {
    "steps": 120,
    "batch_size": 32,
    "lr": 3e-3,
    "n_rows": 4096,
    "seed": 1,
    "max_length": 64,
    "task": "add-0-9",
    "model": "v1",
    # sft.DEMO_RECIPE: padded rows with an attention mask (packed rows attend to each other under sdpa)
    "remove_padding": False,
}
# The demo's settings (verlings/capstone/cli.py DEMO): 8 prompts x 8 answers, one optimizer step
# per batch at lr 3e-4, validation on the 32 held-out prompts before step 1 and every 5 steps.
BASE = {
    "train_batch_size": 8,
    "rollout_n": 8,
    "mini_batch_size": 8,
    "micro_batch_size": 32,
    "lr": 3e-4,
    "max_response_length": 16,
    "n_val": 32,
    "val_before_train": True,
    "test_freq": 5,
    "save_final": False,
    "n_train": 256,
    "use_remove_padding": False,  # as the demo since 84fd425: no packed rows in the actor either
}

A = "actor_rollout_ref.actor"
# name -> (what it is, estimator name, extra overrides)
ARMS: dict[str, tuple[str, str, list[str]]] = {
    "grpo": ("GRPO: group mean and std, token-mean loss (verl's defaults)", "verlings_grpo", []),
    # as chapter 03 §3.13's switch: the loss normalised by the constant max_response_length (16)
    "dr_grpo": (
        "Dr.GRPO: no std division, seq-mean-token-sum-norm loss / 16",
        "verlings_grpo",
        [
            "algorithm.norm_adv_by_std_in_grpo=False",
            f"{A}.loss_agg_mode=seq-mean-token-sum-norm",
            f"{A}.loss_scale_factor=16",
        ],
    ),
    "rloo": ("RLOO: leave-one-out group mean, no std", "verlings_rloo", []),
    "rpp_baseline": ("REINFORCE++ baseline: group mean, then one batch-wide whitening", "verlings_rpp_baseline", []),
    "gae": (
        "PPO with GAE: a critic (value model from the warm start, lr 1e-3), gamma = lam = 1",
        "gae",
        ["critic.strategy=fsdp2", "critic.optim.lr=1e-3", "+critic.model.override_config.attn_implementation=sdpa"],
    ),
}


def _load() -> float:
    try:
        return round(os.getloadavg()[0], 1)
    except OSError:
        return float("nan")


def _task():  # -> verlings.capstone.data.Task
    from verlings.capstone.data import Task

    return Task(**TASK_FIELDS)


def _warm_start() -> Path:
    from verlings.capstone import sft

    return sft.warm_start(sft.Recipe(**RECIPE_FIELDS))


def _write_task(folder: Path, config) -> tuple[Path, Path]:  # config: a RunConfig
    from verlings.capstone.data import write_task

    return write_task(folder, n_train=config.n_train, n_val=config.n_val, seed=config.seed, task=_task())


def plan_arm(arm: str, seed: int, steps: int, out: Path, device: str, model: Path):  # -> launcher.Plan
    """The verl command of one arm (its data written under ``out``; nothing started)."""
    from verlings import target as target_mod
    from verlings.capstone.launcher import RunConfig, plan

    _what, estimator, extra = ARMS[arm]
    root = (ROOT / "solutions").resolve()
    target_mod.set_active(root)
    learner = target_mod.load_module("06", "capstone", root=root)
    # the capstone's reward; the estimator of the arm (last: Hydra's later override wins)
    overrides = [*learner.plug_in_overrides(str(root / "06" / "capstone.py")), f"algorithm.adv_estimator={estimator}"]
    config = replace(RunConfig(**BASE), steps=steps, seed=seed)
    if arm == "gae":
        overrides += [
            f"critic.model.path={model}",
            f"critic.ppo_mini_batch_size={config.mini_batch_size}",
            f"critic.ppo_micro_batch_size_per_gpu={config.micro_batch_size}",
            *extra,
        ]
    else:
        overrides += extra
    train, val = _write_task(out / "data", config)
    p = plan(
        config,
        out,
        device,
        learner_overrides=overrides,
        target=root,
        model=model,
        train_file=train,
        val_file=val,
        modules=[PLUGIN],
    )
    if estimator != "verlings_grpo":
        # the probe would register the capstone's GRPO under this name; the plug-in does it
        p.env.pop("VERLINGS_CAPSTONE_ESTIMATOR", None)
    return p


def record(arm: str, seed: int, steps: int, work: Path, device: str, start_retries: int = START_RETRIES) -> dict:
    from verlings.capstone.launcher import RAY_START_TIMEOUT, execute

    what, estimator, extra = ARMS[arm]
    out = work / f"{arm}-seed{seed}"
    shutil.rmtree(out, ignore_errors=True)  # no events of an earlier run mixed into this one
    out.mkdir(parents=True)
    p = plan_arm(arm, seed, steps, out, device, _warm_start())
    load0, wall = _load(), 0.0
    for _attempt in range(1 + start_retries):
        code, timed_out, took = execute(p, 900 + 60 * steps, None)
        wall += took
        log = (out / "run.log").read_text(encoding="utf-8", errors="replace")
        busy = [why for why in (RAY_START_TIMEOUT, RAY_OOM) if why in log]
        if code == 0 or timed_out or not busy:
            break
        print(f"{arm} seed {seed}: {busy[0]!r} (load {_load()}); again in 30 s", flush=True)
        time.sleep(30)
    meta = {
        "arm": arm,
        "what": what,
        "estimator": estimator,
        "overrides": extra,
        "seed": seed,
        "steps": steps,
        "rc": code,
        "timed_out": timed_out,
        "wall_s": round(wall, 1),
        "load_start": load0,
        "load_end": _load(),
        "device": device,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(
        f"{arm} seed {seed}: rc {code}{' (timed out)' if timed_out else ''} in {wall:.0f} s, "
        f"load {load0} → {meta['load_end']}",
        flush=True,
    )
    return meta


def _ends(points: list[tuple[int, float]]) -> tuple[float, float] | None:
    values = [v for _, v in sorted(points) if math.isfinite(v)]
    if not values:
        return None
    k = min(WINDOW, len(values))
    return round(sum(values[:k]) / k, 4), round(sum(values[-k:]) / k, 4)


def summarise(folder: Path) -> dict | None:
    from verlings.capstone.summary import read_scalars

    meta_file = folder / "meta.json"
    if not meta_file.is_file():
        return None
    row = json.loads(meta_file.read_text(encoding="utf-8"))
    s = read_scalars(folder / "tensorboard") if (folder / "tensorboard").is_dir() else {}
    acc = s.get(ACC, [])
    if acc:
        row["acc_curve"] = [[step, round(v, 4)] for step, v in acc]
        row["acc_before"], row["acc_after"] = acc[0][1], acc[-1][1]
    for key, tag in (("reward", REWARD), ("entropy", ENTROPY), ("length", LENGTH)):
        ends = _ends(s.get(tag, []))
        if ends:
            row[f"{key}_first{WINDOW}"], row[f"{key}_last{WINDOW}"] = ends
    rewards = s.get(REWARD, [])
    if rewards:
        row["reward_curve"] = [[step, round(v, 4)] for step, v in rewards]
    step_s = [v for step, v in s.get(STEP_S, []) if step > 1]
    if step_s:
        row["s_per_step"] = round(statistics.mean(step_s), 1)
    row["steps_done"] = len(rewards)
    return row


def extract(work: Path, out: Path) -> dict:
    old = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
    runs = old.get("runs", {})
    for folder in sorted(p for p in work.iterdir() if p.is_dir()) if work.is_dir() else []:
        row = summarise(folder)
        if row is not None:
            runs[folder.name] = row
    doc = {
        "about": "Real verl 0.9.1 runs of the capstone demo (tiny Qwen2 from the SFT warm start), one arm per "
        "estimator / loss, recorded by benchmarks/bench_03_algorithms.py on the course's shared "
        "2-core CPU machine (wall times: indications; the load is recorded per run).",
        "task": TASK_FIELDS,
        "warm_start_recipe": RECIPE_FIELDS,
        "settings": BASE,
        "runs": dict(sorted(runs.items())),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out} ({out.stat().st_size // 1024} KB)")
    return doc


def table(doc: dict) -> str:
    """A markdown table of the recorded runs (for the lesson)."""
    lines = [
        "| arm | seed | held-out acc before → after | reward first 3 → last 3 | entropy | length | s/step | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["runs"].values():
        if r.get("rc") != 0:
            lines.append(f"| {r['arm']} | {r['seed']} | failed (rc {r['rc']}) | | | | | {r['load_start']} |")
            continue
        lines.append(
            f"| {r['arm']} | {r['seed']} "
            f"| {r.get('acc_before', float('nan')):.1%} → {r.get('acc_after', float('nan')):.1%} "
            f"| {r.get('reward_first3', float('nan')):+.3f} → {r.get('reward_last3', float('nan')):+.3f} "
            f"| {r.get('entropy_first3', float('nan')):.3f} → {r.get('entropy_last3', float('nan')):.3f} "
            f"| {r.get('length_first3', float('nan')):.2f} → {r.get('length_last3', float('nan')):.2f} "
            f"| {r.get('s_per_step', float('nan'))} | {r['load_start']}–{r['load_end']} |"
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arms", nargs="+", choices=list(ARMS), default=list(ARMS))
    p.add_argument("--seeds", type=int, nargs="+", default=[1])
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--work", default=str(ROOT / ".verlings" / "bench03"), help="where the runs are written")
    p.add_argument("--out", default=str(OUT), help="the JSON summary (merged with the runs already in it)")
    p.add_argument("--extract-only", action="store_true", help="only re-read the runs under --work")
    p.add_argument("--device", choices=("cpu", "gpu"), default=None)
    p.add_argument(
        "--start-retries",
        type=int,
        default=START_RETRIES,
        help="new starts after Ray missed its start-up deadline or was killed for memory",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    work, out = Path(args.work).resolve(), Path(args.out).resolve()
    if not args.extract_only:
        from verlings.capstone.launcher import choose_device

        device = args.device or choose_device()
        for arm in args.arms:
            for seed in args.seeds:
                record(arm, seed, args.steps, work, device, args.start_retries)
                extract(work, out)  # after each run: a long session keeps what it has
    doc = extract(work, out)
    print(table(doc))
    return 0 if all(r.get("rc") == 0 for r in doc["runs"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
