"""Serving the capstone model: time to first answer, endpoint vs offline evaluation.

    python benchmarks/bench_06_serve.py RUN_DIR                  a run with checkpoints/ (e.g. the --plot demo)
    python benchmarks/bench_06_serve.py RUN_DIR --repeat 3       three starts; medians in the summary
    python benchmarks/bench_06_serve.py RUN_DIR --cold           merge (and fold) again before every start
    python benchmarks/bench_06_serve.py RUN_DIR --concurrency 8 64   endpoint evaluation at each bound
    python benchmarks/bench_06_serve.py RUN_DIR --baseline       as serve started before issue 25's cuts

Per start, on the same checkpoint: seconds from ``serve`` starting to ``/v1/models`` answering
and to the first answer (verl's merge and peft's fold included when they run: ``--cold``, or the
first serve of a checkpoint; otherwise the stamped folders are reused), the CPU seconds that
took (merge and fold, plus the server's processes read from /proc while it runs: a figure the
load average barely moves), then the held-out evaluation through the endpoint (the reference
``complete_all`` at each ``--concurrency``) and offline with transformers (both greedy, same
prompts): their wall times, accuracies and how many answers differ. Writes ``serve_bench.json``
in RUN_DIR. Times depend on the machine and its load: the load average is recorded.

``--baseline`` starts the server as ``serve`` did before its start-up was cut (for a before/after
on the same machine): merge and fold every time, vLLM's CPU defaults otherwise (the model in a
third process, a 1 GiB KV cache, vLLM's own ``max_num_seqs``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TICK = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_s_self_and_children() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _tree_cpu_s(root: int) -> float:
    """User + system CPU seconds of root's live descendants (the server's processes), from /proc."""
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        cpu[pid] = (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
    total, todo = 0.0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo += children.get(pid, [])
    return total


def _median(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return round(statistics.median(values), 1) if values else None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir")
    p.add_argument("--n-val", type=int, default=None, help="default: the task's held-out prompts")
    p.add_argument("--max-tokens", type=int, default=16)
    p.add_argument("--repeat", type=int, default=1, help="server starts (and evaluations) to take medians over")
    p.add_argument("--cold", action="store_true", help="merge (and fold a LoRA adapter) again before every start")
    p.add_argument("--concurrency", type=int, nargs="+", default=None, help="default: evaluate_endpoint's")
    p.add_argument("--baseline", action="store_true", help="serve as before the start-up cuts (implies --cold)")
    args = p.parse_args(argv)
    import openai

    from verlings import target as target_mod
    from verlings.capstone import serve
    from verlings.capstone.endpoint_eval import evaluate_endpoint
    from verlings.capstone.evaluate import evaluate
    from verlings.paths import SOLUTIONS

    run_dir = Path(args.run_dir).resolve()
    if args.n_val is None:
        from verlings.capstone.data import TASK

        args.n_val = TASK.held_out
    score = target_mod.load_module("06", "capstone", root=SOLUTIONS).compute_score
    complete_all = target_mod.load_module("06", "endpoint", root=SOLUTIONS).complete_all
    bounds = args.concurrency or [None]
    if args.baseline:
        _as_before(serve)
        args.cold = True
    starts, evals = [], []
    for i in range(args.repeat):
        if args.cold:
            for folder in ("hf", "served"):
                (run_dir / folder / serve.STAMP).unlink(missing_ok=True)
        row: dict = {"start": i + 1, "load_start": round(os.getloadavg()[0], 1)}
        row["merged"] = "reused" if serve.is_current(run_dir / "hf", _source(serve, run_dir)) else "fresh"
        cpu0, start = _cpu_s_self_and_children(), time.monotonic()
        with serve.served(run_dir, port=_free_port(), timeout_s=900) as url:
            row["serve_up_s"] = round(time.monotonic() - start, 1)
            row["cpu_s_to_up"] = round(_cpu_s_self_and_children() - cpu0 + _tree_cpu_s(os.getpid()), 1)
            client = openai.OpenAI(base_url=url, api_key="none", max_retries=0)
            client.chat.completions.create(
                model=serve.MODEL_NAME,
                messages=[{"role": "user", "content": "What is 2 + 3?"}],
                temperature=0,
                max_tokens=args.max_tokens,
            )
            row["first_answer_s"] = round(time.monotonic() - start, 1)
            for bound in bounds:
                kw = {} if bound is None else {"max_concurrency": bound}
                online = evaluate_endpoint(
                    url, score, complete_all, n_val=args.n_val, max_new_tokens=args.max_tokens,
                    n_samples=args.n_val, **kw,
                )  # fmt: skip
                evals.append(
                    {
                        "start": i + 1,
                        "concurrency": bound or "default",
                        "endpoint_eval_s": round(online.wall_s, 2),
                        "endpoint_acc": online.accuracy,
                        "endpoint_failed": len(online.failed),
                        "answers": [s["answer"].strip() for s in online.samples],
                        "load": round(os.getloadavg()[0], 1),
                    }
                )
        row["load_end"] = round(os.getloadavg()[0], 1)
        starts.append(row)
        print(json.dumps(row), flush=True)
    offline_rows = []
    for _ in range(args.repeat):
        t = time.monotonic()
        offline = evaluate(
            run_dir / "hf", score, n_val=args.n_val, max_new_tokens=args.max_tokens, n_samples=args.n_val
        )
        offline_rows.append({"offline_eval_s": round(time.monotonic() - t, 2), "load": round(os.getloadavg()[0], 1)})
    truth = [s["answer"].strip() for s in offline.samples]
    for e in evals:
        e["answers_differ"] = sum(a != b for a, b in zip(e.pop("answers"), truth))
    offline_median = statistics.median(r["offline_eval_s"] for r in offline_rows)
    summary: dict = {
        "n_val": args.n_val,
        "repeat": args.repeat,
        "serve_up_s_median": _median(starts, "serve_up_s"),
        "first_answer_s_median": _median(starts, "first_answer_s"),
        "cpu_s_to_up_median": _median(starts, "cpu_s_to_up"),
        "offline_eval_s_median": round(offline_median, 2),
        "offline_acc": offline.accuracy,
    }
    for bound in bounds:
        mine = [e for e in evals if e["concurrency"] == (bound or "default")]
        med = statistics.median(e["endpoint_eval_s"] for e in mine)
        summary[f"endpoint_eval_s_median@{bound or 'default'}"] = round(med, 2)
        summary[f"endpoint_over_offline@{bound or 'default'}"] = round(med / offline_median, 2)
    result = {"summary": summary, "starts": starts, "endpoint": evals, "offline": offline_rows}
    print(json.dumps(summary))
    (run_dir / "serve_bench.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


def _as_before(serve) -> None:
    """serve's server command and environment as they were before the start-up cuts."""
    command, environment = serve.server_command, serve.server_env

    def old_command(model, port, python, max_model_len=serve.MAX_MODEL_LEN, device="gpu"):
        return command(model, port, python, max_model_len, device="gpu")  # no CPU flags

    def old_env(device, kv_from_flag=True):
        env = environment(device, kv_from_flag=False)
        env.pop("VLLM_ENABLE_V1_MULTIPROCESSING", None)  # vLLM's default: the model in its own process
        return env

    serve.server_command, serve.server_env = old_command, old_env


def _source(serve, run_dir: Path) -> dict:
    from verlings.capstone.evaluate import ExportError, latest_actor_checkpoint

    try:
        return serve.checkpoint_source(latest_actor_checkpoint(run_dir))
    except ExportError:
        return {}


if __name__ == "__main__":
    raise SystemExit(main())
