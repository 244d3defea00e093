"""Known-wrong variants of exercises/04/model_reward.py and custom_reward.py: each must fail a graded test.

The graded tests of model_reward run against the live reward server; one server (started here,
in this process) serves every mutant's run, through VERLINGS_REWARD_URL.
"""

import pytest

from verlings.dev.mutants import Mutant, caught

# A broken mutant may leave a coroutine un-awaited; that warning is the mutant's, not the test's.
pytestmark = pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")

MUTANTS = [
    # Found by `python -m verlings.dev never-failing 04`: graded tests no variant made fail.
    # retries=-1 accepted: no attempt at all instead of a clear ValueError
    Mutant("negative_retries_accepted", "04.score_texts", "model_reward", replace={
        "if batch_size < 1 or max_concurrency < 1 or retries < 0 or timeout_s <= 0:":
        "if batch_size < 1 or max_concurrency < 1 or timeout_s <= 0:"}),
    # an empty list still sends one (empty) batch to the server
    Mutant("empty_list_posts_a_batch", "04.score_texts", "model_reward", replace={
        "    if not texts:\n        return []\n": "",
        "for i in range(0, len(texts), batch_size)]": "for i in range(0, max(len(texts), 1), batch_size)]"}),
    # the texts dealt round-robin into balanced batches: sizes 7/7/6 and the scores out of order
    Mutant("batches_dealt_round_robin", "04.score_texts", "model_reward", replace={
        "batches = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]":
        "n = -(-len(texts) // batch_size)\n    batches = [texts[i::n] for i in range(n)]"}),
    # no url check: the call fails somewhere inside httpx, not with a ValueError that names the url
    Mutant("rm_reward_without_url_check", "04.rm_reward", "model_reward", replace={
        "    if not url:\n        raise ValueError": "    if False:\n        raise ValueError"}),
    # Subtle (issue 24): only 503 is retried; verl's client retries every 5xx.
    Mutant("retries_only_503", "04.score_texts", "model_reward", replace={
        "if response.status_code >= 500:": "if response.status_code == 503:"}),
    Mutant(
        "client_without_concurrency_bound",
        "04.score_texts",
        "model_reward",
        """
        async def score_texts(url, texts, batch_size=8, max_concurrency=4, timeout_s=10.0, retries=2):
            if batch_size < 1 or max_concurrency < 1 or retries < 0:
                raise ValueError("bad settings")
            texts = list(texts)
            if not texts:
                return []
            batches = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
            unbounded = asyncio.Semaphore(len(batches))  # every batch at once
            async with httpx.AsyncClient(timeout=None) as client:
                results = await asyncio.gather(
                    *[_post_batch(client, url, b, unbounded, timeout_s, retries) for b in batches])
            return [s for r in results for s in r]
        """,
    ),
    Mutant(
        "client_sequential",
        "04.score_texts",
        "model_reward",
        """
        async def score_texts(url, texts, batch_size=8, max_concurrency=4, timeout_s=10.0, retries=2):
            if batch_size < 1 or max_concurrency < 1 or retries < 0:
                raise ValueError("bad settings")
            texts = list(texts)
            out = []
            async with httpx.AsyncClient(timeout=None) as client:
                for i in range(0, len(texts), batch_size):  # one batch at a time: never concurrent
                    out += await _post_batch(client, url, texts[i : i + batch_size], asyncio.Semaphore(1),
                                             timeout_s, retries)
            return out
        """,
    ),
    Mutant(
        "client_without_retries",
        "04.score_texts",
        "model_reward",
        """
        _reference_score_texts = score_texts

        async def score_texts(url, texts, batch_size=8, max_concurrency=4, timeout_s=10.0, retries=2):
            if retries < 0:
                raise ValueError("bad settings")
            return await _reference_score_texts(url, texts, batch_size, max_concurrency, timeout_s, retries=0)
        """,
    ),
    Mutant(
        "client_loses_order",
        "04.score_texts",
        "model_reward",
        """
        async def score_texts(url, texts, batch_size=8, max_concurrency=4, timeout_s=10.0, retries=2):
            if batch_size < 1 or max_concurrency < 1 or retries < 0:
                raise ValueError("bad settings")
            texts = list(texts)
            batches = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
            semaphore = asyncio.Semaphore(max_concurrency)
            out = []
            async with httpx.AsyncClient(timeout=None) as client:
                tasks = [_post_batch(client, url, b, semaphore, timeout_s, retries) for b in batches]
                for finished in asyncio.as_completed(tasks):  # completion order, not input order
                    out += await finished
            return out
        """,
    ),
    Mutant(
        "client_without_timeout",
        "04.score_texts",
        "model_reward",
        """
        _reference_score_texts = score_texts

        async def score_texts(url, texts, batch_size=8, max_concurrency=4, timeout_s=10.0, retries=2):
            return await _reference_score_texts(url, texts, batch_size, max_concurrency, 60.0, retries)
        """,
    ),
    Mutant(
        "client_retries_client_errors",
        "04.score_texts",
        "model_reward",
        """
        _reference_post = _post_batch

        async def _post_batch(client, url, batch, semaphore, timeout_s, retries):
            last = None
            for attempt in range(retries + 1):
                try:
                    response = await client.post(url.rstrip("/") + "/score", json={"texts": batch},
                                                 timeout=timeout_s)
                except httpx.HTTPError as exc:
                    last = exc
                    continue
                if response.status_code != 200:  # 404 retried like 503
                    last = response.status_code
                    continue
                return response.json()["scores"]
            raise RewardServerError(f"{url}: {last}")
        """,
    ),
    Mutant(
        "client_error_without_url",
        "04.score_texts",
        "model_reward",
        """
        _reference_score_texts = score_texts

        async def score_texts(url, texts, batch_size=8, max_concurrency=4, timeout_s=10.0, retries=2):
            try:
                return await _reference_score_texts(url, texts, batch_size, max_concurrency, timeout_s, retries)
            except RewardServerError:
                raise RewardServerError("the reward server failed") from None
        """,
    ),
    Mutant(
        "rm_reward_not_async",
        "04.rm_reward",
        "model_reward",
        """
        def compute_score(data_source, solution_str, ground_truth, extra_info=None, url=None, **kwargs):
            if not url:
                raise ValueError("no url")
            [score] = asyncio.run(score_texts(url, [solution_str]))
            return {"score": score}
        """,
    ),
    Mutant(
        "rm_reward_rejects_verl_kwargs",
        "04.rm_reward",
        "model_reward",
        """
        async def compute_score(data_source, solution_str, ground_truth, extra_info=None, url=None):
            if not url:
                raise ValueError("no url")
            [score] = await score_texts(url, [solution_str])
            return {"score": score}
        """,
    ),
    Mutant(
        "custom_reward_drops_components",
        "04.custom_reward",
        "custom_reward",
        """
        _reference_compute_score = compute_score

        def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
            return {"score": _reference_compute_score(data_source, solution_str, ground_truth, extra_info,
                                                      **kwargs)["score"]}
        """,
    ),
    Mutant(
        "custom_reward_ignores_token_length",
        "04.custom_reward",
        "custom_reward",
        """
        _reference_compute_score = compute_score

        def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
            return _reference_compute_score(data_source, solution_str, ground_truth, None, **kwargs)
        """,
    ),
    Mutant(
        "custom_reward_string_equality",
        "04.custom_reward",
        "custom_reward",
        """
        def compute_score(data_source, solution_str, ground_truth, extra_info=None, weights=None,
                          max_response_length=MAX_RESPONSE_LENGTH, overlong_buffer_len=OVERLONG_BUFFER_LEN,
                          penalty_factor=PENALTY_FACTOR, **kwargs):
            info = extra_info or {}
            length = info.get("response_length", len(solution_str.split()))
            components = {
                "correct": 1.0 if rules.last_boxed(solution_str) == str(ground_truth) else 0.0,
                "format": rules.format_reward(solution_str, FORMAT_PATTERN),
                "length": rules.overlong_penalty(length, max_response_length, overlong_buffer_len, penalty_factor),
            }
            return rules.combine(components, WEIGHTS if weights is None else weights)
        """,
    ),
    Mutant(
        "custom_reward_ignores_weights",
        "04.custom_reward",
        "custom_reward",
        """
        _reference_compute_score = compute_score

        def compute_score(data_source, solution_str, ground_truth, extra_info=None, weights=None, **kwargs):
            return _reference_compute_score(data_source, solution_str, ground_truth, extra_info, **kwargs)
        """,
    ),
    Mutant(
        "custom_reward_ignores_reward_kwargs",
        "04.custom_reward",
        "custom_reward",
        """
        _reference_compute_score = compute_score

        def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
            return _reference_compute_score(data_source, solution_str, ground_truth, extra_info)
        """,
    ),
]


@pytest.fixture(scope="module", autouse=True)
def shared_reward_server():
    """One server for all mutant runs (each run is a fresh pytest session that would start its own)."""
    from verlings.fixtures.reward_server import RewardServer

    with RewardServer() as server, pytest.MonkeyPatch.context() as mp:
        mp.setenv("VERLINGS_REWARD_URL", server.url)
        yield server


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
