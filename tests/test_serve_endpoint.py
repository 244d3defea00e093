"""Serve a trained checkpoint with vLLM and evaluate it through the endpoint: the same accuracy
as the offline greedy evaluation (transformers on the merged folder).

Slow (a 1-step verl run from the warm start, then vLLM's server start-up: minutes on two
shared CPU cores) and needs the rollout engine (``bash scripts/install_rollout_engine.sh``).
"""

from __future__ import annotations

import socket

import pytest

from verlings.capstone.launcher import RunConfig, engine_missing, run
from verlings.paths import SOLUTIONS

N_VAL = 16
MAX_TOKENS = 16


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_served_accuracy_agrees_with_the_offline_evaluation(tmp_path):
    missing = engine_missing()
    if missing:
        pytest.skip(missing)
    from verlings import target as target_mod
    from verlings.capstone.endpoint_eval import evaluate_endpoint
    from verlings.capstone.evaluate import evaluate
    from verlings.capstone.serve import served
    from verlings.capstone.sft import warm_start

    out = tmp_path / "run"
    config = RunConfig(steps=1, save_final=True, n_val=N_VAL, max_response_length=MAX_TOKENS)
    result = run(config, out, target=SOLUTIONS, timeout_s=1500, model=warm_start())
    assert result.ok, result.failure()
    score = target_mod.load_module("06", "capstone", root=SOLUTIONS).compute_score
    client = target_mod.load_module("06", "endpoint", root=SOLUTIONS).complete_all

    with served(out, port=_free_port(), timeout_s=600) as url:  # merges with verl's model merger first
        online = evaluate_endpoint(url, score, client, n_val=N_VAL, max_new_tokens=MAX_TOKENS, n_samples=N_VAL)
    offline = evaluate(out / "hf", score, n_val=N_VAL, max_new_tokens=MAX_TOKENS, n_samples=N_VAL)

    assert not online.failed, online.failed
    assert online.n == offline.n == N_VAL
    # greedy on the same weights: the answers agree, up to a kernel-level tie on one prompt
    differ = [(a, b) for a, b in zip(online.samples, offline.samples) if a["answer"].strip() != b["answer"].strip()]
    assert len(differ) <= 1, f"served and offline greedy answers differ on {len(differ)} prompts: {differ[:3]}"
    assert abs(online.accuracy - offline.accuracy) <= 1 / N_VAL, (online.accuracy, offline.accuracy)
