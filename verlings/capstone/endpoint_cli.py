"""What ``python grader.py capstone --eval --endpoint URL`` prints (the evaluation is in
:mod:`verlings.capstone.endpoint_eval`)."""

from __future__ import annotations

import json
from pathlib import Path

from verlings.paths import display


def evaluate_through(url: str, root: Path, out: Path, n_val: int, max_new_tokens: int) -> int:
    import openai

    from verlings import target as target_mod
    from verlings.capstone.endpoint_eval import evaluate_endpoint

    capstone = target_mod.load_module("06", "capstone", root=root)
    client_mod = target_mod.load_module("06", "endpoint", root=root)
    try:
        ev = evaluate_endpoint(
            url, capstone.compute_score, client_mod.complete_all, n_val=n_val, max_new_tokens=max_new_tokens
        )
    except NotImplementedError as exc:
        print(f"error: {exc} (06.endpoint; or run with --solutions)")
        return 1
    except openai.APIConnectionError:
        print(f"error: nothing answers at {url} — start it with: python grader.py serve")
        return 1
    print(
        f"greedy exact-match accuracy on {ev.n} held-out prompts (through {url}): {ev.accuracy:.1%} "
        f"in {ev.wall_s:.1f} s"
    )
    for smp in ev.samples:
        print(f"  {'✓' if smp['correct'] else '✗'} {smp['question']!r} → {smp['answer']!r} (truth {smp['truth']})")
    for f in ev.failed:
        print(f"  FAILED after {f['attempts']} attempt(s): {f['question']!r}: {f['error']}")
    offline = out / "eval.json"
    if offline.is_file():
        acc = json.loads(offline.read_text(encoding="utf-8"))["accuracy"]
        verdict = "agrees" if abs(acc - ev.accuracy) <= 1.5 / max(ev.n, 1) else "DISAGREES"
        print(f"offline evaluation (transformers, {display(offline)}): {acc:.1%} — {verdict}")
    report = out / "eval_endpoint.json"
    if out.is_dir():
        report.write_text(
            json.dumps(
                {
                    "url": url,
                    "accuracy": ev.accuracy,
                    "n": ev.n,
                    "wall_s": ev.wall_s,
                    "failed": ev.failed,
                    "samples": ev.samples,
                },
                indent=1,
            )
            + "\n",
            encoding="utf-8",
        )
        print(f"report: {display(report)}")
    return 1 if ev.failed else 0
