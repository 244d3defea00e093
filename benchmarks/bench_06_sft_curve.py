"""How the warm start's accuracy grows with verl's SFT steps: one SFT run, a checkpoint every few steps.

    python benchmarks/bench_06_sft_curve.py --task max-0-9 --steps 80 --every 10 --seed 1

Runs verl's SFT trainer with the demo's recipe (``verlings.capstone.sft.DEMO_RECIPE``, with the given
task, steps, seed and lr) plus ``trainer.save_freq=EVERY``, then prints one JSON line per saved step:
greedy exact-match accuracy (transformers) on the task's training pairs and on its held-out pairs.
verl's SFT optimiser runs at a constant lr with no warm-up, so step ``k`` of this run is the warm start
a ``k``-step recipe makes (checked: the demo's 40-step warm start gave the same accuracies). Used to
choose the demo's SFT length on the *training* pairs (ch06 §5.1). Wall time depends on the load.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", default="max-0-9", help="a name in verlings.capstone.data.TASKS")
    p.add_argument("--steps", type=int, default=80)
    p.add_argument("--every", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--out", default=str(ROOT / ".verlings" / "sft_curve"))
    a = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from verlings.capstone import sft
    from verlings.capstone.data import TASKS
    from verlings.capstone.evaluate import greedy_answers

    task = TASKS[a.task]
    recipe = replace(sft.DEMO_RECIPE, task=a.task, steps=a.steps, seed=a.seed, lr=a.lr)
    work = Path(a.out)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    sft.write_data(recipe, work / "data")
    cmd, env = sft.command(recipe, work)
    cmd.append(f"trainer.save_freq={a.every}")
    start = time.time()
    with open(work / "sft.log", "w", encoding="utf-8") as f:
        rc = subprocess.run(cmd, env=env, cwd=work, stdout=f, stderr=subprocess.STDOUT).returncode
    print(json.dumps({"rc": rc, "sft_wall_s": round(time.time() - start, 1)}), flush=True)
    train, held = task.pairs()
    for step in range(a.every, a.steps + 1, a.every):
        hf = work / "checkpoints" / f"global_step_{step}" / "huggingface"
        if not hf.is_dir():
            continue
        row = {"step": step}
        for name, pairs in (("train", train), ("held", held)):
            answers = greedy_answers(hf, [task.question(x, y) for x, y in pairs], 16)
            right = sum(t.strip() == task.answer(x, y) for t, (x, y) in zip(answers, pairs))
            row[name] = round(right / len(pairs), 4)
        print(json.dumps(row), flush=True)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
