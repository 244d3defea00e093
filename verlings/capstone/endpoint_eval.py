"""``python grader.py capstone --eval --endpoint URL``: the held-out evaluation through a served model.

The same prompts, answer length and scoring as the offline evaluation
(:func:`verlings.capstone.evaluate.evaluate`), but the answers come from an OpenAI-compatible
server (``python grader.py serve``) through the ``openai`` client and *your* ``complete_all``
(exercise ``06.endpoint``): greedy, bounded concurrency, retries, a timeout, prompt order.
A prompt that still fails after its retries counts as wrong and is listed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from verlings.capstone.data import DATA_SOURCE, TASK, make_rows
from verlings.capstone.evaluate import ACC_KEYS
from verlings.capstone.serve import MAX_NUM_SEQS


@dataclass
class EndpointEvaluation:
    accuracy: float
    n: int
    wall_s: float
    failed: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)


def served_model(client: Any) -> str:
    """The one model the server serves (vLLM's ``--served-model-name``)."""
    models = [m.id for m in client.models.list().data]
    if not models:
        raise RuntimeError("the endpoint serves no model")
    return models[0]


def evaluate_endpoint(
    url: str,
    score_fn: Any,
    complete_all: Any,
    n_val: int = 64,
    max_new_tokens: int = 16,
    # as many in flight as serve lets vLLM batch (every held-out prompt): one decode step per token
    # for all of them. On 64 prompts, 8 in flight took 2.7x the offline time, 64 took 0.5x
    # (benchmarks/bench_06_serve.py --concurrency 8 16 64, lesson §10.1)
    max_concurrency: int = MAX_NUM_SEQS,
    timeout_s: float = 60.0,
    max_attempts: int = 3,
    n_samples: int = 5,
) -> EndpointEvaluation:
    """Exact-match accuracy of the endpoint's greedy answers on the first ``n_val`` held-out prompts."""
    import openai

    client = openai.OpenAI(base_url=url.rstrip("/"), api_key="none", max_retries=0)
    rows = make_rows(n_val, seed=0, split="val", task=TASK)
    questions = [r["prompt"][0]["content"] for r in rows]
    start = time.monotonic()
    replies = complete_all(
        client=client,
        model=served_model(client),
        prompts=questions,
        max_concurrency=max_concurrency,
        max_attempts=max_attempts,
        timeout_s=timeout_s,
        max_tokens=max_new_tokens,
    )
    wall = time.monotonic() - start
    hits, failed, samples = [], [], []
    for row, q, reply in zip(rows, questions, replies):
        truth = row["reward_model"]["ground_truth"]
        if reply.text is None:
            failed.append({"question": q, "error": reply.error, "attempts": reply.attempts})
            hits.append(0.0)
            continue
        result = score_fn(
            data_source=DATA_SOURCE, solution_str=reply.text, ground_truth=truth, extra_info=row["extra_info"]
        )
        key = next((k for k in ACC_KEYS if isinstance(result, dict) and k in result), None)
        hit = float(result[key]) if key else float(reply.text.strip() == truth)
        hits.append(hit)
        if len(samples) < n_samples:
            samples.append({"question": q, "answer": reply.text, "truth": truth, "correct": bool(hit)})
    return EndpointEvaluation(
        accuracy=sum(hits) / len(hits) if hits else 0.0, n=len(hits), wall_s=wall, failed=failed, samples=samples
    )
