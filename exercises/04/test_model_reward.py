"""Graded tests for exercises/04/model_reward.py, against the course's live reward-model server.

The server (verlings/fixtures/reward_server.py, fixture ``reward_server`` in conftest.py) runs on
127.0.0.1 and can be told to answer slowly, shuffle its reply times or fail some requests —
deterministically — and it counts the requests in flight, so these tests can see what your
client really does on the wire.
"""

import asyncio
import contextlib
import inspect
import socket
import time

import pytest

from verlings import learner_module
from verlings.target import active
from verlings.testing import assert_close, assert_equal

model_reward = learner_module("04", "model_reward")

TEXTS = [f"Response {i}: the answer is {i * 7}." for i in range(20)]
LIMIT_S = 15.0  # no test here needs more; a hanging client fails with a message instead of hanging


async def _score(**kwargs):
    try:
        return await asyncio.wait_for(model_reward.score_texts(**kwargs), timeout=LIMIT_S)
    except TimeoutError:
        raise AssertionError(
            f"score_texts did not return within {LIMIT_S}s — is every request bounded by timeout_s, "
            "and are the retries bounded by `retries`?"
        ) from None


@contextlib.contextmanager
def _raises_runtime_error():
    """pytest.raises(RuntimeError), except that a stub's NotImplementedError (a RuntimeError) is not accepted."""
    with pytest.raises(RuntimeError) as err:
        yield err
    if isinstance(err.value, NotImplementedError):
        raise err.value


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- §3.2 score_texts ---------------------------------------------------------------------------


@pytest.mark.exercise("04.score_texts")
async def test_score_texts_matches_the_model_in_order(reward_server):
    seen = await _score(url=reward_server.url, texts=TEXTS, batch_size=8, max_concurrency=4)
    expected = reward_server.expected(TEXTS)
    assert_equal(len(seen), len(TEXTS), what="number of scores",
                 why="one score per text")
    assert_close(seen, expected, what="score_texts vs the model's scores",
                 why="scores must come back in the order of `texts`")
    stats = reward_server.stats()
    assert_equal(sorted(stats["batch_sizes"]), [4, 8, 8], what="batch sizes the server received",
                 why="20 texts with batch_size=8 are 3 POSTs of 8, 8 and 4 texts")


@pytest.mark.exercise("04.score_texts")
async def test_score_texts_empty_list_sends_nothing(reward_server):
    assert_equal(await _score(url=reward_server.url, texts=[]), [], what="score_texts([])")
    assert_equal(reward_server.stats()["requests"], 0, what="requests for an empty list",
                 why="nothing to score: return [] without calling the server")


@pytest.mark.exercise("04.score_texts")
async def test_score_texts_bounds_concurrency(reward_server):
    reward_server.configure(delay_s=0.1)  # every request takes 0.1 s, so requests overlap
    texts = TEXTS[:12]  # batch_size 2 → 6 requests, at most 3 at a time
    seen = await _score(url=reward_server.url, texts=texts, batch_size=2, max_concurrency=3)
    assert_close(seen, reward_server.expected(texts), what="scores with a slow server")
    peak = reward_server.stats()["max_in_flight"]
    assert peak <= 3, (
        f"the server saw {peak} requests in flight at once with max_concurrency=3 — hold an "
        "asyncio.Semaphore(max_concurrency) around each request"
    )
    assert peak >= 2, (
        f"the server never saw more than {peak} request at a time: the batches are sent one after another. "
        "Start them all as tasks (asyncio.gather) and let the semaphore bound them"
    )


@pytest.mark.exercise("04.score_texts")
async def test_score_texts_concurrency_one_is_sequential(reward_server):
    reward_server.configure(delay_s=0.05)
    await _score(url=reward_server.url, texts=TEXTS[:8], batch_size=2, max_concurrency=1)
    assert_equal(reward_server.stats()["max_in_flight"], 1, what="max requests in flight with max_concurrency=1")


@pytest.mark.exercise("04.score_texts")
async def test_score_texts_keeps_order_when_replies_are_shuffled(reward_server):
    # Each batch waits a different, seeded extra time: replies arrive in a shuffled order.
    reward_server.configure(jitter_s=0.15, seed=1)
    texts = TEXTS[:10]
    seen = await _score(url=reward_server.url, texts=texts, batch_size=1, max_concurrency=10)
    assert_close(seen, reward_server.expected(texts), what="scores when replies come back out of order",
                 why="collect results by batch position (gather keeps order), not in the order they complete")


@pytest.mark.exercise("04.score_texts")
async def test_score_texts_retries_flaky_batches(reward_server):
    # With seed 3, some of the five batches fail (HTTP 503) on their first attempt, then succeed.
    reward_server.configure(fail_rate=0.5, fail_times=1, seed=3)
    seen = await _score(url=reward_server.url, texts=TEXTS, batch_size=4, max_concurrency=2, retries=2)
    stats = reward_server.stats()
    assert stats["injected_failures"] >= 1, "the flaky server injected no failure: this test proves nothing"
    assert_close(seen, reward_server.expected(TEXTS), what="scores from a flaky server",
                 why="a 5xx answer is worth retrying: try again up to `retries` times")


@pytest.mark.exercise("04.score_texts")
@pytest.mark.parametrize("status", [500, 502, 504])
async def test_score_texts_retries_every_5xx(reward_server, status):
    # verl's reward-model client retries every 5xx, not only 503: every batch fails once with `status`.
    reward_server.configure(fail_rate=1.0, fail_times=1, fail_status=status)
    seen = await _score(url=reward_server.url, texts=TEXTS[:6], batch_size=3, max_concurrency=2, retries=1)
    assert reward_server.stats()["injected_failures"] == 2, "the server injected no failure: this test proves nothing"
    assert_close(seen, reward_server.expected(TEXTS[:6]), what=f"scores after one HTTP {status} per batch",
                 why=f"HTTP {status} is a server error like 503: every 5xx is worth retrying (status >= 500)")


@pytest.mark.exercise("04.score_texts")
@pytest.mark.parametrize("retries", [0, 2])
async def test_score_texts_gives_up_after_the_retries(reward_server, retries):
    reward_server.configure(fail_rate=1.0, fail_times=1000)  # this server always fails
    start = time.monotonic()
    with _raises_runtime_error() as err:
        await _score(url=reward_server.url, texts=TEXTS[:3], batch_size=8, retries=retries)
    assert reward_server.url in str(err.value), f"the error should name the server: {err.value}"
    assert_equal(reward_server.stats()["score_requests"], retries + 1, what=f"attempts with retries={retries}",
                 why="one attempt plus `retries` retries, then raise")
    took = time.monotonic() - start
    assert took < 5.0, f"{retries + 1} failed attempts took {took:.1f}s: back-off should be short (tenths of a second)"


@pytest.mark.exercise("04.score_texts")
async def test_score_texts_times_out_a_slow_server(reward_server):
    reward_server.configure(delay_s=5.0)
    start = time.monotonic()
    with _raises_runtime_error():
        # Any time-out fails here, so it can be short (unlike the retry test's, which must let a fast
        # retry succeed on a busy machine).
        await _score(url=reward_server.url, texts=TEXTS[:2], timeout_s=0.1, retries=0)
    took = time.monotonic() - start
    assert took < 3.0, f"score_texts waited {took:.1f}s on a 5 s server with timeout_s=0.1 — apply the timeout"


@pytest.mark.exercise("04.score_texts")
async def test_score_texts_retries_after_a_timeout(reward_server):
    # The first attempt of each batch takes 5 s; the retry is fast.
    reward_server.configure(slow_first_s=5.0)
    start = time.monotonic()
    seen = await _score(url=reward_server.url, texts=TEXTS[:4], batch_size=4, timeout_s=0.3, retries=1)
    assert_close(seen, reward_server.expected(TEXTS[:4]), what="scores after a timed-out first attempt",
                 why="a timeout is worth retrying, like a 5xx")
    took = time.monotonic() - start
    assert took < 4.0, f"took {took:.1f}s: the timed-out attempt should be abandoned after timeout_s=0.3"


@pytest.mark.exercise("04.score_texts")
async def test_score_texts_does_not_retry_client_errors(reward_server):
    with _raises_runtime_error():
        await _score(url=reward_server.url + "/no-such-route", texts=TEXTS[:2], retries=3)
    assert_equal(reward_server.stats()["requests"], 1, what="attempts after an HTTP 404",
                 why="a 4xx answer means the request is wrong; retrying sends the same wrong request (verl does not)")


@pytest.mark.exercise("04.score_texts")
async def test_score_texts_server_down_is_a_clear_error():
    url = f"http://127.0.0.1:{_free_port()}"
    start = time.monotonic()
    with _raises_runtime_error() as err:
        await _score(url=url, texts=TEXTS[:2], retries=1)
    assert url in str(err.value), f"say which server is down: {err.value!r}"
    took = time.monotonic() - start
    assert took < 5.0, f"took {took:.1f}s to notice that nothing listens at {url} (retries=1): fail fast"


@pytest.mark.exercise("04.score_texts")
@pytest.mark.parametrize("bad", [{"batch_size": 0}, {"batch_size": -1}, {"max_concurrency": 0}, {"retries": -1}])
async def test_score_texts_rejects_bad_settings(reward_server, bad):
    with pytest.raises(ValueError):
        await _score(url=reward_server.url, texts=TEXTS[:2], **bad)


# --- §3.3 the async verl reward function --------------------------------------------------------


def _verl_loaded_compute_score(url: str):
    """model_reward.compute_score as verl 0.9.1 loads it: reward.custom_reward_function path/name/reward_kwargs."""
    from omegaconf import OmegaConf
    from verl.trainer.ppo.reward import get_custom_reward_fn

    config = OmegaConf.create({"reward": {"custom_reward_function": {
        "path": str(active() / "04" / "model_reward.py"), "name": "compute_score", "reward_kwargs": {"url": url},
    }}})
    return get_custom_reward_fn(config)


@pytest.mark.exercise("04.rm_reward")
async def test_compute_score_through_verls_loader(reward_server):
    fn = _verl_loaded_compute_score(reward_server.url)
    assert inspect.iscoroutinefunction(fn), (
        "verl awaits the reward function only if it is a coroutine function — declare it `async def`"
    )
    text = "The answer is \\boxed{42}."
    result = await asyncio.wait_for(
        fn(data_source="toy", solution_str=text, ground_truth="42", extra_info={"index": 0}), timeout=LIMIT_S
    )
    assert isinstance(result, dict) and "score" in result, f"return a dict with 'score', got {result!r}"
    assert_close(result["score"], reward_server.expected([text])[0], what="compute_score(...)['score']",
                 why="the score is the reward model's score of solution_str")


@pytest.mark.exercise("04.rm_reward")
async def test_compute_score_concurrent_calls(reward_server):
    # verl's reward loop calls the function once per sample, all at once (asyncio.gather).
    fn = _verl_loaded_compute_score(reward_server.url)
    texts = TEXTS[:6]
    results = await asyncio.wait_for(asyncio.gather(*[
        fn(data_source="toy", solution_str=t, ground_truth="", extra_info={}) for t in texts
    ]), timeout=LIMIT_S)
    assert_close([r["score"] for r in results], reward_server.expected(texts), what="six concurrent compute_score")


@pytest.mark.exercise("04.rm_reward")
async def test_compute_score_accepts_verls_extra_arguments(reward_server):
    # With verl's own reward model enabled, verl also passes these two keyword arguments.
    result = await asyncio.wait_for(model_reward.compute_score(
        data_source="toy", solution_str="hi", ground_truth="", extra_info=None, url=reward_server.url,
        reward_router_address=None, reward_model_tokenizer=None,
    ), timeout=LIMIT_S)
    assert_close(result["score"], reward_server.expected(["hi"])[0], what="compute_score with verl's extra kwargs",
                 why="accept **kwargs: verl may pass reward_router_address and "
                 "reward_model_tokenizer")


@pytest.mark.exercise("04.rm_reward")
async def test_compute_score_without_url_is_a_clear_error():
    with pytest.raises(ValueError) as err:
        await asyncio.wait_for(model_reward.compute_score(data_source="toy", solution_str="hi", ground_truth=""),
                               timeout=LIMIT_S)
    assert "url" in str(err.value), f"say that the url is missing: {err.value!r}"
