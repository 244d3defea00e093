"""Benchmark for exercises/04/model_reward.py: a reward-model client against the course's server.

Run through ``python grader.py bench 04``, or directly::

    python -m pytest benchmarks/bench_04_reward_server.py --benchmark-only -o python_files='bench_*.py'

The server (``python -m verlings.fixtures.reward_server``) runs in its own process on 127.0.0.1
and answers after a fixed 20 ms per request (a stand-in for a real model's forward pass, so the
numbers measure the client, not this machine's CPU). One round scores 64 texts in batches of 4
(16 requests) with at most 4 requests in flight; the ideal is 16 / 4 × 20 ms ≈ 80 ms. Three
timed rounds after a warm-up. ``extra_info`` of each benchmark holds ``requests_per_s``,
``p95_latency_ms`` (server-side, per request) and ``max_in_flight``.

``verl`` is verl 0.9.1's own reward-model client, ``RewardLoopWorker._post_request`` (aiohttp,
one session per request), under the same semaphore.
"""

import asyncio
import statistics
import subprocess
import sys
import types

import pytest

from verlings.bench import implementation
from verlings.paths import ROOT

IMPLS = ["yours", "reference", "verl"]
TEXTS = [f"Response {i}: after some steps the answer is {i * 13}." for i in range(64)]
BATCH_SIZE, CONCURRENCY, DELAY_S = 4, 4, 0.02
pytestmark = pytest.mark.filterwarnings("ignore:Benchmark fixture was not used")


@pytest.fixture(scope="module")
def server():
    from verlings.fixtures.reward_server import RewardServer

    proc = subprocess.Popen([sys.executable, "-m", "verlings.fixtures.reward_server", "--port", "0",
                             "--delay-s", str(DELAY_S)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = proc.stdout.readline()
        assert line.startswith("READY "), f"the reward server did not start: {line!r}"
        handle = RewardServer.attach(line.split()[1]).start()
        handle.configure(delay_s=DELAY_S)
        yield handle
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _verl_score_texts():
    from verl.experimental.reward_loop.reward_loop import RewardLoopWorker

    async def score_texts(url, texts, batch_size=8, max_concurrency=4, timeout_s=10.0, retries=2):
        worker = types.SimpleNamespace(reward_router_address=url.removeprefix("http://"))
        semaphore = asyncio.Semaphore(max_concurrency)

        async def one(batch):
            async with semaphore:
                out = await RewardLoopWorker._post_request(worker, {"texts": batch}, "score", max_retries=retries + 1)
                return out["scores"]

        batches = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
        return [s for scores in await asyncio.gather(*map(one, batches)) for s in scores]

    return score_texts


@pytest.mark.parametrize("impl", IMPLS)
def test_score_texts_throughput(benchmark, server, impl):
    score_texts = (_verl_score_texts() if impl == "verl"
                   else implementation(impl, "04", "model_reward").score_texts)
    expected = server.expected(TEXTS)

    def one_round():
        return asyncio.run(score_texts(server.url, TEXTS, batch_size=BATCH_SIZE, max_concurrency=CONCURRENCY))

    seen = one_round()  # warm-up, and a correctness check before timing
    assert seen == pytest.approx(expected, rel=1e-6), f"{impl}: wrong scores"
    server.reset()
    server.configure(delay_s=DELAY_S)
    benchmark.group = f"score_texts: {len(TEXTS)} texts, batch {BATCH_SIZE}, concurrency {CONCURRENCY}"
    benchmark.pedantic(one_round, rounds=3, iterations=1)
    stats = server.stats()
    durations = sorted(stats["durations_s"])
    benchmark.extra_info.update({
        "requests_per_s": stats["score_requests"] / (3 * benchmark.stats.stats.mean),
        "p95_latency_ms": 1e3 * durations[int(0.95 * (len(durations) - 1))] if durations else None,
        "median_latency_ms": 1e3 * statistics.median(durations) if durations else None,
        "max_in_flight": stats["max_in_flight"],
    })
    assert stats["max_in_flight"] <= CONCURRENCY, f"{impl}: {stats['max_in_flight']} requests in flight"
