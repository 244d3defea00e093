"""Record chapter 07 §6's failures: real verl multi-turn GRPO runs, each broken on purpose, and a
healthy one; keep the few scalars that give each failure away.

    python scripts/record_agent_failures.py                          # every run (tens of minutes on 2 cores)
    python scripts/record_agent_failures.py --runs healthy parser_finds_no_calls
    python scripts/record_agent_failures.py --extract-only           # re-read the runs already under --work

Every run starts from chapter 07's SFT warm start (verl's SFT trainer, cached), uses the reference
solutions of chapters 03, 05 and 07 and the graded run's settings (4 prompts x 4 trajectories a
step) for ``--steps`` steps with ``--seed``, and changes one thing (:data:`RUNS`): a chapter-05
piece from ``verlings/agent_rl/sick.py``, or the turn limit. verl writes TensorBoard events; this
script reads them back, adds what the recorded trajectories show (share with a parsed tool call,
with a tool answer, ending in an unanswered call), and writes
``exercises/07/_snapshots/agent_failures.json``: per run its settings, wall time, the machine's load
and the series of :data:`KEPT` (``[[step, value], ...]``). Wall times depend on the machine and on
what else runs on it; the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "exercises" / "07" / "_snapshots" / "agent_failures.json"
KEPT = (
    "critic/score/mean",
    "critic/advantages/max",
    "actor/pg_loss",
    "actor/grad_norm",
    "actor/ppo_kl",
    "actor/pg_clipfrac",
    "actor/entropy",
    "response_length/mean",
    "response_length/clip_ratio",
    "num_turns/mean",
    "num_turns/max",
    "training/rollout_probs_diff_mean",
    "training/rollout_probs_diff_max",
)
KEPT_PREFIXES = ("rollout_corr/",)

# name -> (what is wrong, mutant name in verlings.agent_rl.sick or None, launcher keyword changes)
RUNS: dict[str, tuple[str, str | None, dict]] = {
    "healthy": ("the reference pieces, max_assistant_turns=2 (call, then answer)", None, {}),
    "parser_finds_no_calls": ("parse_hermes returns (text, []) for every turn", "parser_finds_no_calls", {}),
    "tool_output_mask_1": (
        "the loop appends the tool turn with response_mask 1 (log-prob 0.0)",
        "tool_output_mask_1",
        {},
    ),
    "max_turns_too_low": (
        "max_assistant_turns=1: the model may call the tool but never answer",
        None,
        {"max_turns": 1},
    ),
}


def _load() -> float:
    return round(os.getloadavg()[0], 1)


def _trajectory_stats(out_dir: Path, per_step: int) -> dict[str, list[list[float]]]:
    """Per training step: share of trajectories with a parsed call, with a tool answer read by a
    second model turn, and ending right after a call (the loop stopped before the model answered).

    A step's rollout finishes before the next one starts (synchronous trainer): the training
    trajectories, in the order they were recorded, come in blocks of ``per_step``."""
    path = out_dir / "trajectories.jsonl"
    if not path.is_file():
        return {}
    train = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    train = sorted((t for t in train if t.get("split") == "train"), key=lambda t: t["time"])
    by_step = {1 + i // per_step: train[i : i + per_step] for i in range(0, len(train), per_step)}
    stats: dict[str, list[list[float]]] = {
        "traj/with_call": [],
        "traj/answered_after_tool": [],
        "traj/ends_in_call": [],
    }
    for step, ts in sorted(by_step.items()):
        n = len(ts)
        calls = [any(turn["calls"] for turn in t["turns"]) for t in ts]
        answered = [t["num_turns"] >= 4 for t in ts]  # prompt + call + tool turn + answer
        text_of_last = [t["turns"][-1]["text"] if t["turns"] else "" for t in ts]
        ends_in_call = ["</tool_call>" in s and not a for s, a in zip(text_of_last, answered)]
        stats["traj/with_call"].append([step, round(sum(calls) / n, 4)])
        stats["traj/answered_after_tool"].append([step, round(sum(answered) / n, 4)])
        stats["traj/ends_in_call"].append([step, round(sum(ends_in_call) / n, 4)])
    return stats


def _extract(out_dir: Path, per_step: int) -> dict[str, list[list[float]]]:
    from verlings.capstone.summary import read_scalars

    logdir = out_dir / "tensorboard"
    scalars = read_scalars(logdir) if logdir.is_dir() else {}
    kept = {
        tag: [[s, round(v, 6)] for s, v in points]
        for tag, points in scalars.items()
        if tag in KEPT or tag.startswith(KEPT_PREFIXES)
    }
    return {**kept, **_trajectory_stats(out_dir, per_step)}


# The lesson's table (chapter 07 §6): these columns, each as its per-step values "a / b / c".
TABLE = (
    ("critic/score/mean", "reward"),
    ("num_turns/mean", "num_turns"),
    ("response_length/mean", "response length"),
    ("actor/grad_norm", "grad_norm"),
    ("actor/pg_loss", "pg_loss"),
    ("actor/ppo_kl", "ppo_kl"),
    ("training/rollout_probs_diff_max", "rollout_probs_diff_max"),
    ("traj/with_call", "with a parsed call"),
)


def _cell(points: list[list[float]]) -> str:
    if not points:
        return "—"
    return " / ".join(f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.1e}" for _, v in points)


def table(record: dict) -> str:
    """The markdown table of the lesson's §6, from the recorded runs (same in both languages)."""
    rows = [
        "| run | " + " | ".join(f"`{label}`" for _, label in TABLE) + " | wall s | load |",
        "|---|" + "---|" * (len(TABLE) + 2),
    ]
    for name in RUNS:
        entry = record.get("runs", {}).get(name)
        if not entry or not entry.get("ok"):
            continue
        series = entry.get("series", {})
        cells = [_cell(series.get(tag, [])) for tag, _ in TABLE]
        cells += [f"{entry.get('wall_s', 0):.0f}", f"{entry.get('load_before')}–{entry.get('load_after')}"]
        rows.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", nargs="+", choices=sorted(RUNS), default=list(RUNS))
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--work",
        type=Path,
        default=ROOT / ".verlings" / "agent_failures",
        help="where the runs' folders are kept (default: %(default)s)",
    )
    parser.add_argument("--extract-only", action="store_true", help="re-read the runs under --work, run nothing")
    parser.add_argument("--table", action="store_true", help="print the lesson's table from the record, run nothing")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.table:
        print(table(json.loads(OUT.read_text(encoding="utf-8"))))
        return 0

    from verlings.agent_rl.launcher import GRADED, run
    from verlings.agent_rl.sick import MUTANTS, build_target
    from verlings.agent_rl.warm_start import RECIPE, warm_start

    config = replace(GRADED, steps=args.steps, seed=args.seed)
    record = json.loads(OUT.read_text(encoding="utf-8")) if OUT.is_file() else {"runs": {}}
    record["config"] = {
        "steps": args.steps,
        "seed": args.seed,
        "train_batch_size": config.train_batch_size,
        "rollout_n": config.rollout_n,
        "lr": config.lr,
        "warm_start": RECIPE.key(),
    }
    model = None if args.extract_only else warm_start()
    for name in args.runs:
        what, mutant, changes = RUNS[name]
        out_dir = args.work / name
        entry = record["runs"].get(name, {})
        if not args.extract_only:
            # the target stays beside the run: trajectories.jsonl names its files, and the graded
            # checks can be run again on the recorded batch
            shutil.rmtree(out_dir / "target", ignore_errors=True)
            target = build_target(MUTANTS[mutant] if mutant else None, out_dir / "target")
            load_before, started = _load(), time.perf_counter()
            print(f"[{name}] {what} — {args.steps} steps, seed {args.seed}, load {load_before}", flush=True)
            result = run(config, out_dir, model=model, target=target, timeout_s=3000, dump_steps=args.steps, **changes)
            entry = {
                "what": what,
                "ok": result.ok,
                "wall_s": round(time.perf_counter() - started, 1),
                "load_before": load_before,
                "load_after": _load(),
                "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            }
            if not result.ok:
                print(result.run.failure(), flush=True)
        entry["series"] = _extract(out_dir, config.train_batch_size * config.rollout_n)
        record["runs"][name] = entry
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        finals = {
            tag: points[-1][1]
            for tag, points in entry["series"].items()
            if points
            and tag in ("critic/score/mean", "actor/ppo_kl", "actor/grad_norm", "num_turns/mean", "traj/with_call")
        }
        print(f"[{name}] done: {finals}", flush=True)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
