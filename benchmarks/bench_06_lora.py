"""LoRA vs full fine-tuning on the capstone task: same warm start, same seeds, same steps.

    python benchmarks/bench_06_lora.py                         # seed 1, 10 steps, both modes
    python benchmarks/bench_06_lora.py --seeds 1 2 --steps 10 --modes lora full
    python benchmarks/bench_06_lora.py --modes lora --adapter-sync    # vLLM gets the adapter (fails, §9.4)
    python benchmarks/bench_06_lora.py --table                 # print the tables of results.json

Each run is the capstone demo (``grader.py capstone --plot`` settings, reference solutions)
from the cached SFT warm start, with verl's KL loss on so that a reference policy is needed:
full fine-tuning gets a separate reference worker, LoRA gets ``ref_in_actor`` (the actor with
its adapter off). LoRA uses verl's settings ``actor_rollout_ref.model.lora_rank``,
``lora_alpha`` and ``target_modules``, plus ``actor_rollout_ref.model.lora.merge=True`` (verl merges
the adapter into the weights it syncs to vLLM). ``--adapter-sync`` leaves it out, so verl sends
vLLM the adapter: with verl 0.9.1 and vLLM 0.32.0 that sync fails (``WeightsMapper`` has no
``get_unstacked_mapper``; lesson §9.4).

Measured per run: trainable parameters (peft on the warm start with the same LoRA config),
peak RSS of the run's whole process tree (Ray, FSDP worker, vLLM; sampled every 0.5 s from
/proc), median ``timing_s/step`` verl logged, and verl's held-out accuracy at the last step.
Writes ``results.json`` and ``table.md`` under ``--out``: one row per run, then per mode the mean
± sample standard deviation over the seeds that finished (failed runs are listed, not averaged).
Wall times depend on the machine and what else runs on it: the load average is recorded with
every run and its range is shown with the summary.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LORA = {"lora_rank": 8, "lora_alpha": 16, "target_modules": "all-linear"}
KL = [
    "actor_rollout_ref.actor.use_kl_loss=True",
    "actor_rollout_ref.actor.kl_loss_coef=0.001",
    "actor_rollout_ref.actor.kl_loss_type=low_var_kl",
]


def lora_overrides(merge: bool) -> list[str]:
    m = "actor_rollout_ref.model"
    out = [f"{m}.{k}={v}" for k, v in LORA.items()]
    return out + ([f"{m}.lora.merge=True"] if merge else [])


def trainable_params(model_dir: Path, lora: bool) -> tuple[int, int]:
    """(trainable, total) parameters of the actor as verl builds it (peft's get_peft_model for LoRA)."""
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(model_dir))
    if lora:
        cfg = LoraConfig(
            task_type=TaskType.CAUSAL_LM,
            r=LORA["lora_rank"],
            lora_alpha=LORA["lora_alpha"],
            target_modules=LORA["target_modules"],
            bias="none",
        )
        model = get_peft_model(model, cfg)
    total = sum(p.numel() for p in model.parameters())
    return sum(p.numel() for p in model.parameters() if p.requires_grad), total


def _tree_rss(root_pid: int) -> int:
    """Bytes of resident memory of root_pid and all its descendants (read from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss[int(entry.name)] = int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


class PeakRss:
    """Samples the RSS of this process's descendants (the run's Ray/vLLM tree) until stopped."""

    def __init__(self, every_s: float = 0.5) -> None:
        self.peak, self._every, self._stop = 0, every_s, threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        me = os.getpid()
        while not self._stop.wait(self._every):
            self.peak = max(self.peak, _tree_rss(me) - _tree_rss_self(me))

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _tree_rss_self(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_one(mode: str, seed: int, steps: int, out: Path, merge: bool) -> dict:
    from verlings import target as target_mod
    from verlings.capstone.cli import DEMO
    from verlings.capstone.launcher import RAY_START_TIMEOUT, RunConfig, run
    from verlings.capstone.sft import warm_start
    from verlings.capstone.summary import accuracy_tag

    root = target_mod.resolve(solutions=True, target=None)
    target_mod.set_active(root)
    model = warm_start()
    # KL needs a reference policy: LoRA's is the actor without its adapter (ref_in_actor). Full
    # fine-tuning would need verl's separate reference worker, whose FSDP2 engine pins memory
    # (CPUOffloadPolicy(pin_memory=True)) and so cannot start without an accelerator.
    kl = mode == "lora"
    extra = (KL if kl else []) + (lora_overrides(merge) if mode.startswith("lora") else [])
    extra.append("+ray_kwargs.ray_init.address=local")  # a Ray of its own, never one already running here
    config = RunConfig(steps=steps, seed=seed, **{**DEMO, "test_freq": steps}, extra=extra)
    load0 = os.getloadavg()[0]
    with PeakRss() as rss:
        for _ in range(3):  # Ray's 30 s start-up deadline fails on an overloaded machine: try again
            result = run(config, out, target=root, timeout_s=900 + 120 * steps, model=model)
            if result.ok or RAY_START_TIMEOUT not in result.log:
                break
    trainable, total = trainable_params(model, mode.startswith("lora"))
    row = {
        "mode": mode + ("+merge" if mode.startswith("lora") and merge else ""),
        "kl_loss": kl,
        "lr": config.lr,
        "seed": seed,
        "steps": steps,
        "ok": result.ok,
        "wall_s": round(result.wall_s, 1),
        "peak_rss_gib": round(rss.peak / 2**30, 2),
        "trainable_params": trainable,
        "total_params": total,
        "load_start": round(load0, 1),
        "load_end": round(os.getloadavg()[0], 1),
        "out": str(out),
    }
    s = result.summary
    step_times = [v for _, v in s.get("series", {}).get("timing_s/step", [])]
    if step_times:
        row["step_s_median"] = round(statistics.median(step_times), 2)
    tag = accuracy_tag(s)
    points = s.get("series", {}).get(tag, []) if tag else []
    if points:
        row["acc_before"], row["acc_after"] = points[0][1], points[-1][1]
    if not result.ok:
        row["failure"] = result.failure()[-2000:]
    return row


def table(rows: list[dict]) -> str:
    lines = [
        "| mode | KL loss | seed | trainable params | peak RSS (GiB) | s/step (median) "
        "| held-out acc before → after | wall (s) | load start/end | ok |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        acc = f"{r['acc_before']:.1%} → {r['acc_after']:.1%}" if "acc_after" in r else "–"
        share = f"{r['trainable_params']:,} ({r['trainable_params'] / r['total_params']:.1%})"
        lines.append(
            f"| {r['mode']} | {'on' if r.get('kl_loss') else 'off'} | {r['seed']} | {share} "
            f"| {r['peak_rss_gib']} | {r.get('step_s_median', '–')} "
            f"| {acc} | {r['wall_s']:.0f} | {r['load_start']:.0f}/{r['load_end']:.0f} | {'yes' if r['ok'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def _mean_sd(values: list[float], fmt: str) -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(statistics.mean(values), fmt)} ± {format(statistics.stdev(values), fmt)}"


def summary(rows: list[dict]) -> str:
    """Per mode: mean ± sample SD over the finished seeds of wall time, s/step, peak RSS, accuracy."""
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    lines = [
        "| mode | seeds (finished / failed) | trainable params | peak RSS (GiB) | s/step (median per run) "
        "| run wall time (s) | held-out acc before | after | change (points) | load average |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for mode in modes:
        ok = sorted((r for r in rows if r["mode"] == mode and r["ok"]), key=lambda r: r["seed"])
        failed = sorted(r["seed"] for r in rows if r["mode"] == mode and not r["ok"])
        if not ok:
            lines.append(f"| {mode} | – / {failed} | – | – | – | – | – | – | – | – |")
            continue
        acc = [r for r in ok if "acc_after" in r]
        loads = [r[k] for r in ok for k in ("load_start", "load_end")]
        share = f"{ok[0]['trainable_params']:,} ({ok[0]['trainable_params'] / ok[0]['total_params']:.1%})"
        lines.append(
            f"| {mode} | {[r['seed'] for r in ok]} / {failed or '–'} | {share} "
            f"| {_mean_sd([r['peak_rss_gib'] for r in ok], '.2f')} "
            f"| {_mean_sd([r['step_s_median'] for r in ok if 'step_s_median' in r], '.2f')} "
            f"| {_mean_sd([r['wall_s'] for r in ok], '.0f')} "
            f"| {_mean_sd([100 * r['acc_before'] for r in acc], '.1f')} % "
            f"| {_mean_sd([100 * r['acc_after'] for r in acc], '.1f')} % "
            f"| {_mean_sd([100 * (r['acc_after'] - r['acc_before']) for r in acc], '+.1f')} "
            f"| {min(loads):.0f}–{max(loads):.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[1])
    p.add_argument("--steps", type=int, default=10)
    p.add_argument(
        "--modes",
        nargs="+",
        choices=("lora", "lora-nokl", "full"),
        default=["lora", "full"],
        help="lora: with verl's KL loss (ref_in_actor); lora-nokl and full: without (see run_one)",
    )
    p.add_argument("--merge", action="store_true", default=True, help=argparse.SUPPRESS)  # the default; kept
    p.add_argument(
        "--adapter-sync",
        dest="merge",
        action="store_false",
        help="LoRA: send vLLM the adapter instead of merged weights (fails with verl 0.9.1 + vLLM 0.32)",
    )
    p.add_argument("--out", default=str(ROOT / ".verlings" / "bench06_lora"))
    p.add_argument("--table", action="store_true", help="only print the table of an earlier results.json")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.json"
    rows = json.loads(results.read_text())["runs"] if results.is_file() else []
    if args.table:
        print(table(rows) + "\n" + summary(rows), end="")
        return 0
    for seed in args.seeds:
        for mode in args.modes:
            row = run_one(mode, seed, args.steps, out / f"{mode}-seed{seed}", args.merge)
            rows = [r for r in rows if (r["mode"], r["seed"]) != (row["mode"], seed)] + [row]
            print(json.dumps({k: v for k, v in row.items() if k != "failure"}), flush=True)
            if "failure" in row:
                print(row["failure"], flush=True)
            results.write_text(json.dumps({"cpu_count": os.cpu_count(), "runs": rows}, indent=1) + "\n")
            (out / "table.md").write_text(table(rows) + "\n" + summary(rows), encoding="utf-8")
    print(table(rows) + "\n" + summary(rows), end="")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
