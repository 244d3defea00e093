"""Serving the capstone model: time to first answer, endpoint vs offline evaluation.

    python benchmarks/bench_06_serve.py RUN_DIR              a run with checkpoints/ (e.g. the --plot demo)
    python benchmarks/bench_06_serve.py RUN_DIR --n-val 64 --port 8011

Measures, on the same merged checkpoint: seconds from ``serve`` starting (merge included) to the
first answer; the held-out evaluation through the endpoint (the reference ``complete_all``,
8 requests in flight) and offline with transformers (both greedy, same prompts); whether their
accuracies and answers agree. Writes ``serve_bench.json`` in RUN_DIR. Times depend on the machine
and its load: the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir")
    p.add_argument("--n-val", type=int, default=64)
    p.add_argument("--max-tokens", type=int, default=16)
    p.add_argument("--port", type=int, default=0, help="0: a free port")
    args = p.parse_args(argv)
    import openai

    from verlings import target as target_mod
    from verlings.capstone.endpoint_eval import evaluate_endpoint
    from verlings.capstone.evaluate import evaluate
    from verlings.capstone.serve import MODEL_NAME, served
    from verlings.paths import SOLUTIONS

    run_dir = Path(args.run_dir).resolve()
    port = args.port
    if port == 0:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    score = target_mod.load_module("06", "capstone", root=SOLUTIONS).compute_score
    complete_all = target_mod.load_module("06", "endpoint", root=SOLUTIONS).complete_all
    row: dict = {"load_start": round(os.getloadavg()[0], 1), "n_val": args.n_val}
    start = time.monotonic()
    with served(run_dir, port=port, timeout_s=900) as url:
        row["serve_up_s"] = round(time.monotonic() - start, 1)
        client = openai.OpenAI(base_url=url, api_key="none", max_retries=0)
        client.chat.completions.create(
            model=MODEL_NAME,
            messages=[{"role": "user", "content": "What is 2 + 3?"}],
            temperature=0,
            max_tokens=args.max_tokens,
        )
        row["first_answer_s"] = round(time.monotonic() - start, 1)
        online = evaluate_endpoint(
            url, score, complete_all, n_val=args.n_val, max_new_tokens=args.max_tokens, n_samples=args.n_val
        )
    row.update(
        endpoint_eval_s=round(online.wall_s, 1), endpoint_acc=online.accuracy, endpoint_failed=len(online.failed)
    )
    t = time.monotonic()
    offline = evaluate(run_dir / "hf", score, n_val=args.n_val, max_new_tokens=args.max_tokens, n_samples=args.n_val)
    row.update(offline_eval_s=round(time.monotonic() - t, 1), offline_acc=offline.accuracy)
    row["answers_differ"] = sum(
        a["answer"].strip() != b["answer"].strip() for a, b in zip(online.samples, offline.samples)
    )
    row["load_end"] = round(os.getloadavg()[0], 1)
    print(json.dumps(row))
    (run_dir / "serve_bench.json").write_text(json.dumps(row, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
