"""Known-wrong variants of exercises/04/model_reward.py and custom_reward.py: each must fail a graded test.

The graded tests of model_reward run against the live reward server; one server (started here,
in this process) serves every mutant's run, through VERLINGS_REWARD_URL. Each mutant is an edit
of solutions/04/<module>.py (``replace={reference text: wrong text}``).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

# A broken mutant may leave a coroutine un-awaited; that warning is the mutant's, not the test's.
pytestmark = pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")

SCORE, RM, CUSTOM = "04.score_texts", "04.rm_reward", "04.custom_reward"
COMBINE = "rules.combine(components, WEIGHTS if weights is None else weights)"

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
    Mutant("client_without_concurrency_bound", SCORE, "model_reward", replace={
        "semaphore = asyncio.Semaphore(max_concurrency)": "semaphore = asyncio.Semaphore(len(batches))",
        "httpx.Limits(max_connections=max_concurrency)": "httpx.Limits(max_connections=len(batches))"}),
    # one batch at a time: never concurrent
    Mutant("client_sequential", SCORE, "model_reward",
           replace={"semaphore = asyncio.Semaphore(max_concurrency)": "semaphore = asyncio.Semaphore(1)"}),
    Mutant("client_without_retries", SCORE, "model_reward",
           replace={"semaphore, timeout_s, retries)) for b": "semaphore, timeout_s, 0)) for b"}),
    # the scores in the order the batches finish, not in the order of the texts. A whole function:
    # with the reference's tasks started in order, an as_completed edit finishes in order too.
    Mutant("client_loses_order", SCORE, "model_reward", code="""
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
        """),
    Mutant("client_without_timeout", SCORE, "model_reward",
           replace={"async with asyncio.timeout(timeout_s):": "async with asyncio.timeout(60.0):"}),
    # a 404 retried like a 503
    Mutant("client_retries_client_errors", SCORE, "model_reward",
           replace={"if response.status_code >= 500:": "if response.status_code >= 400:"}),
    Mutant("client_error_without_url", SCORE, "model_reward", replace={
        "raise RewardServerError(f\"{endpoint} refused the request (HTTP":
        "raise RewardServerError(f\"the reward server refused the request (HTTP",
        "raise RewardServerError(f\"reward server at {url} failed {retries + 1} attempt(s) for a batch of \"\n"
        "                            f\"{len(batch)} texts; last error: {last_error}\")":
        "raise RewardServerError(\"the reward server failed\")"}),
    Mutant("rm_reward_not_async", RM, "model_reward", replace={
        "async def compute_score(": "def compute_score(",
        "[score] = await score_texts(": "[score] = asyncio.run(score_texts(",
        "retries=retries)\n    return {": "retries=retries))\n    return {"}),
    Mutant("rm_reward_rejects_verl_kwargs", RM, "model_reward",
           replace={"retries: int = 2,\n                        **kwargs: Any)": "retries: int = 2)"}),
    Mutant("custom_reward_drops_components", CUSTOM, "custom_reward",
           replace={"    return " + COMBINE: "    return {\"score\": " + COMBINE + "[\"score\"]}"}),
    Mutant("custom_reward_ignores_token_length", CUSTOM, "custom_reward",
           replace={"info = extra_info or {}": "info = {}"}),
    Mutant("custom_reward_string_equality", CUSTOM, "custom_reward", replace={
        "rules.math_equal(rules.last_boxed(solution_str), str(ground_truth))":
        "rules.last_boxed(solution_str) == str(ground_truth)"}),
    Mutant("custom_reward_ignores_weights", CUSTOM, "custom_reward",
           replace={"WEIGHTS if weights is None else weights": "WEIGHTS"}),
    # reward.custom_reward_function.reward_kwargs (weights, lengths, penalty) all ignored
    Mutant("custom_reward_ignores_reward_kwargs", CUSTOM, "custom_reward", replace={
        "WEIGHTS if weights is None else weights": "WEIGHTS",
        "max_response_length, overlong_buffer_len, penalty_factor)":
        "MAX_RESPONSE_LENGTH, OVERLONG_BUFFER_LEN, PENALTY_FACTOR)"}),
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
