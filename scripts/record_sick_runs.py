"""Record the sick runs of chapter 06 §10: real verl GRPO runs of the capstone, each made sick on
purpose, and one healthy run; keep the few scalars a diagnosis needs.

    python scripts/record_sick_runs.py                         # every run (tens of minutes on 2 cores)
    python scripts/record_sick_runs.py --runs healthy lr_too_high
    python scripts/record_sick_runs.py --extract-only          # re-read the runs already under --work

Every run starts from an SFT warm start made by verl's SFT trainer (cached by its recipe), uses
the reference solutions and the settings of :data:`BASE` (8 prompts x 4 answers, two optimizer
steps per step, lr 1e-3, verl's validation on the 64 held-out prompts before step 1 and every 5
steps) and changes one thing (:data:`RUNS`). The task, the warm-start recipe and the settings are
pinned here (:data:`TASK_FIELDS`, :data:`RECIPE_FIELDS`, :data:`BASE`), not read from the
capstone's demo, so that the recorded runs stay comparable when the demo changes. verl writes
TensorBoard events; this script reads them back and writes
``exercises/06/_snapshots/sick_runs.json``: per run its settings, wall time, the machine's load,
and the series of :data:`KEPT` (``[[step, value], ...]``), a few KB instead of the event files.
Wall times depend on the machine and on what else runs on it; the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "exercises" / "06" / "_snapshots" / "sick_runs.json"
SICK_REWARDS = ROOT / "verlings" / "capstone" / "sick_rewards.py"
START_RETRIES = 4  # the shared machine's load can keep Ray from starting in time
RAY_OOM = "ray.exceptions.OutOfMemoryError"
ACC = "val-core/verlings/arith/acc/mean@1"
KEPT = (
    "critic/score/mean",
    "actor/grad_norm",
    "actor/ppo_kl",
    "actor/pg_clipfrac",
    "actor/entropy",
    "response_length/mean",
    "response_length/clip_ratio",
    "response_length/max",
    ACC,
    "val-aux/verlings/arith/score/mean@1",  # the reward on the held-out prompts
    "val-aux/verlings/arith/correct/mean@1",  # what the reward's own "correct" term says there
)

# The capstone's first demo: additions of two numbers from 0 to 19, 64 pairs held out.
TASK_FIELDS = {"name": "add-0-19", "low": 0, "high": 19, "held_out": 64, "split_seed": 20260101}
RECIPE_FIELDS = {"steps": 120, "batch_size": 32, "lr": 3e-3, "n_rows": 4096, "seed": 1, "max_length": 64,
                 "task": "add-0-19", "model": "v1"}
BASE = {"train_batch_size": 8, "rollout_n": 4, "mini_batch_size": 4, "micro_batch_size": 8, "lr": 1e-3,
        "max_response_length": 16, "n_val": 64, "val_before_train": True, "test_freq": 5, "save_final": False,
        "n_train": 256, "seed": 1}

# name -> (what is wrong, RunConfig changes, reward function in sick_rewards.py or None)
RUNS: dict[str, tuple[str, dict, str | None]] = {
    "healthy": ("the same at a modest learning rate (3e-4)", {"steps": 8, "lr": 3e-4}, None),
    "lr_too_high": ("learning rate 5e-2 (the base is 1e-3)", {"steps": 10, "lr": 5e-2}, None),
    "entropy_collapse": ("no KL, three times the base learning rate (3e-3), 15 steps",
                         {"steps": 15, "lr": 3e-3}, None),
    "length_blowup": ("a reward that pays per digit and for any listed number, without overlong shaping; "
                      "answers up to 32 tokens", {"steps": 12, "max_response_length": 32}, "unshaped_reward"),
    # a substring verifier ('122' right for '22', substring_reward) was recorded first: 12 steps did not
    # find the hack (reward 1.50 -> 1.56, diagnose silent); a '>=' verifier is one GRPO finds
    "reward_hacking": ("a verifier that compares with '>=' where '==' was meant (any answer at least the truth "
                       "is paid as right)", {"steps": 12}, "at_least_reward"),
}


def _load() -> float:
    try:
        return round(os.getloadavg()[0], 1)
    except OSError:
        return float("nan")


def _task():  # -> verlings.capstone.data.Task
    from verlings.capstone.data import Task

    return Task(**TASK_FIELDS)


def _write_task(folder: Path, config) -> tuple[Path, Path]:  # config: a RunConfig
    from verlings.capstone.data import write_task

    return write_task(folder, n_train=config.n_train, n_val=config.n_val, seed=config.seed, task=_task())


def _warm_start() -> Path:
    """The warm start of :data:`RECIPE_FIELDS` (cached; trained by verl's SFT trainer when missing)."""
    from verlings.capstone import sft
    from verlings.capstone.data import sft_rows

    makers = getattr(sft, "ROW_MAKERS", None)
    if makers is not None:  # the SFT pipeline finds its conversations by task name
        makers.setdefault(TASK_FIELDS["name"], lambda n, seed: sft_rows(n, seed=seed, task=_task()))
    return sft.warm_start(sft.Recipe(**RECIPE_FIELDS))


def record(name: str, work: Path, device: str, start_retries: int = START_RETRIES) -> dict:
    from verlings import target as target_mod
    from verlings.capstone.launcher import RAY_START_TIMEOUT, RunConfig, execute, plan

    what, changes, reward = RUNS[name]
    root = (ROOT / "solutions").resolve()
    target_mod.set_active(root)
    learner = target_mod.load_module("06", "capstone", root=root)
    overrides = list(learner.plug_in_overrides(str(root / "06" / "capstone.py")))
    # a Ray cluster of the run's own, even when another job left one running on this machine
    # (ray.init() would join that one, and refuse the run's num_cpus/num_gpus)
    overrides.append("+ray_kwargs.ray_init.address=local")
    if reward:  # Hydra applies overrides in order: the later path and name win
        overrides += [f"reward.custom_reward_function.path={SICK_REWARDS}",
                      f"reward.custom_reward_function.name={reward}"]
    config = replace(RunConfig(**BASE), **changes)
    out = work / name
    shutil.rmtree(out, ignore_errors=True)  # no events of an earlier run mixed into this one
    out.mkdir(parents=True)
    train, val = _write_task(out / "data", config)
    p = plan(config, out, device, learner_overrides=overrides, target=root, model=_warm_start(),
             train_file=train, val_file=val)
    load0 = _load()
    wall = 0.0
    for _attempt in range(1 + start_retries):
        code, timed_out, took = execute(p, 900 + 60 * config.steps, None)
        wall += took
        log = (out / "run.log").read_text(encoding="utf-8", errors="replace")
        busy = [why for why in (RAY_START_TIMEOUT, RAY_OOM) if why in log]
        if code == 0 or timed_out or not busy:
            break
        # the machine, not the run: Ray's fixed 30-second start-up deadline, or Ray's memory monitor
        # killing a worker while other jobs fill the RAM; nothing of the run's own is wrong
        print(f"{name}: {busy[0]!r} (load {_load()}); again in 30 s", flush=True)
        time.sleep(30)
    meta = {"what": what, "reward": reward or "compute_score (the capstone's)", "task": TASK_FIELDS["name"],
            "warm_start": _warm_start().parent.name, "rc": code,
            "timed_out": timed_out, "wall_s": round(wall, 1), "load_start": load0, "load_end": _load(),
            "config": {k: v for k, v in asdict(config).items() if k in ("steps", "lr", "rollout_n", "train_batch_size",
                                                                       "max_response_length", "seed")}}
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(f"{name}: rc {code}{' (timed out)' if timed_out else ''} in {wall:.0f} s, load {load0} → {meta['load_end']}",
          flush=True)
    return meta


def extract(work: Path, names: list[str]) -> dict:
    from verlings.capstone.summary import read_scalars

    runs = json.loads(OUT.read_text(encoding="utf-8"))["runs"] if OUT.is_file() else {}
    for name in names:
        out = work / name
        meta_file = out / "meta.json"
        if not meta_file.is_file() or not (out / "tensorboard").is_dir():
            print(f"{name}: nothing recorded under {out}")
            continue
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        scalars = read_scalars(out / "tensorboard")
        kept = {tag: [[s, round(v, 6)] for s, v in scalars[tag] if math.isfinite(v)] for tag in KEPT if tag in scalars}
        runs[name] = {**meta, "scalars": kept}
    doc = {
        "about": "Scalars of real verl 0.9.1 GRPO runs of the capstone (tiny Qwen2 from the SFT warm start, CPU), "
                 "recorded by scripts/record_sick_runs.py on the course's shared 2-core machine.",
        "runs": {k: runs[k] for k in RUNS if k in runs},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KB)")
    return doc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", nargs="+", choices=list(RUNS), default=list(RUNS))
    p.add_argument("--work", default=str(ROOT / ".verlings" / "sick_runs"), help="where the runs are written")
    p.add_argument("--extract-only", action="store_true", help="only re-read the runs under --work")
    p.add_argument("--device", choices=("cpu", "gpu"), default=None)
    p.add_argument("--start-retries", type=int, default=START_RETRIES,
                   help="new starts after Ray missed its start-up deadline or was killed for memory")
    args = p.parse_args(argv)
    work = Path(args.work).resolve()
    if not args.extract_only:
        from verlings.capstone.launcher import choose_device

        device = args.device or choose_device()
        start = time.monotonic()
        for name in args.runs:
            record(name, work, device, args.start_retries)
            extract(work, [name])  # after each run: a long session keeps what it has
        print(f"all runs: {time.monotonic() - start:.0f} s")
    extract(work, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
