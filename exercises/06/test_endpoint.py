"""Graded tests for exercises/06/endpoint.py — an evaluation client for an OpenAI-compatible server.

The server is scripted (``verlings/fixtures/chat_server.py``, FastAPI on 127.0.0.1): the prompt
says what it does — answer ``"echo <prompt>"`` after a delay fixed by the text (so replies arrive
out of order), fail with HTTP 500 a given number of times, always fail, answer 400, or stall the
first attempt for 5 s. The client is the real ``openai`` library with ``max_retries=0``. A slower
test against the real served model is in ``tests/test_serve_endpoint.py`` (marked slow).
"""

from __future__ import annotations

import time

import pytest

from verlings import learner_module

ep = learner_module("06", "endpoint")
EX = "06.endpoint"


@pytest.fixture(scope="module")
def server():
    from verlings.fixtures.chat_server import ChatServer

    with ChatServer() as s:
        yield s


@pytest.fixture
def client(server):
    import openai

    server.reset()
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="none", max_retries=0)


def _run(client, prompts, **kw):
    kw = {"max_concurrency": 4, "max_attempts": 3, "timeout_s": 1.5, "max_tokens": 16, **kw}
    return ep.complete_all(client=client, model="scripted", prompts=list(prompts), **kw)


def _texts(replies):
    return [getattr(r, "text", r) for r in replies]


PROMPTS = [f"What is {a} + {b}?" for a, b in zip(range(12), range(7, 19))]


@pytest.mark.exercise(EX)
def test_answers_in_prompt_order(client):
    replies = _run(client, PROMPTS)
    assert isinstance(replies, list) and len(replies) == len(PROMPTS), (
        f"expected a list of {len(PROMPTS)} replies (one per prompt), got {replies!r}"
    )
    want = [f"echo {p}" for p in PROMPTS]
    seen = _texts(replies)
    assert seen == want, (
        "answers must come back in the prompts' order, whatever order the server finishes in (§10.2)\n"
        f"  expected: {want[:4]} ...\n  seen:     {seen[:4]} ..."
    )
    assert all(r.error is None and r.attempts == 1 for r in replies), f"clean replies expected, got {replies[:3]}"


@pytest.mark.exercise(EX)
def test_concurrency_is_bounded_and_used(client, server):
    _run(client, PROMPTS, max_concurrency=3)
    peak = server.stats()["max_in_flight"]
    assert peak <= 3, f"max_concurrency=3 but the server saw {peak} requests in flight at once (§10.2)"
    assert peak >= 2, (
        f"12 prompts with max_concurrency=3 but never more than {peak} request in flight: "
        "the prompts were sent one after another (§10.2)"
    )


@pytest.mark.exercise(EX)
def test_asks_for_greedy_answers_of_the_given_length(client, server):
    _run(client, PROMPTS[:3], max_tokens=7)
    for req in server.stats()["requests"]:
        assert req["temperature"] == 0, (
            f"temperature {req['temperature']!r}: the offline evaluation is greedy, "
            "so the endpoint's must be too (temperature=0)"
        )
        assert req["max_tokens"] == 7, f"max_tokens {req['max_tokens']!r} sent, 7 asked for"
        assert req["model"] == "scripted", f"model {req['model']!r} sent, 'scripted' asked for"


@pytest.mark.exercise(EX)
def test_retries_a_5xx_until_it_passes(client, server):
    prompts = ["fail2 What is 1 + 1?", *PROMPTS[:3]]
    replies = _run(client, prompts, max_attempts=3)
    assert _texts(replies) == [f"echo {p}" for p in prompts], (
        f"the server answers HTTP 500 twice, then the answer; with max_attempts=3 you should get it: {replies[0]}"
    )
    assert replies[0].attempts == 3, f"3 attempts were needed (500, 500, 200), your Reply says {replies[0].attempts}"
    assert server.stats()["attempts"][prompts[0]] == 3


@pytest.mark.exercise(EX)
def test_gives_up_after_max_attempts_and_reports_per_prompt(client, server):
    prompts = [PROMPTS[0], "down What is 2 + 2?", PROMPTS[1]]
    replies = _run(client, prompts, max_attempts=2)
    assert _texts(replies)[0::2] == [f"echo {PROMPTS[0]}", f"echo {PROMPTS[1]}"], (
        "one failing prompt must not stop the others"
    )
    failed = replies[1]
    assert failed.text is None and failed.error, f"a prompt that always fails: Reply(None, error, ...), got {failed}"
    assert "500" in failed.error or "InternalServerError" in failed.error, (
        f"the error should say what the server answered (HTTP 500), got {failed.error!r}"
    )
    assert failed.attempts == 2 and server.stats()["attempts"][prompts[1]] == 2, (
        f"max_attempts=2: 2 requests, you made {server.stats()['attempts'][prompts[1]]} (Reply says {failed.attempts})"
    )


@pytest.mark.exercise(EX)
def test_does_not_retry_a_4xx(client, server):
    replies = _run(client, ["bad What is 3 + 3?"], max_attempts=3)
    assert replies[0].text is None and replies[0].error, f"HTTP 400 is a failure, got {replies[0]}"
    n = server.stats()["attempts"]["bad What is 3 + 3?"]
    assert n == 1 and replies[0].attempts == 1, (
        f"HTTP 400 means the request is wrong: retrying cannot help, yet it was sent {n}× (§10.2)"
    )


@pytest.mark.exercise(EX)
def test_a_stalled_request_times_out_and_is_retried(client, server):
    start = time.monotonic()
    replies = _run(client, ["slow What is 4 + 4?"], timeout_s=1.0, max_attempts=2)
    wall = time.monotonic() - start
    assert replies[0].text == "echo slow What is 4 + 4?", f"the second attempt answers at once, got {replies[0]}"
    n = server.stats()["attempts"]["slow What is 4 + 4?"]
    assert n == 2 and replies[0].attempts == 2, (
        f"the first attempt stalls for 5 s: with timeout_s=1 it must be abandoned and retried; "
        f"the server saw {n} attempt(s) in {wall:.1f} s (§10.2)"
    )


@pytest.mark.exercise(EX)
def test_no_prompts(client, server):
    assert list(_run(client, [])) == []
    assert server.stats()["requests"] == []
