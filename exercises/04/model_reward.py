"""Model-served rewards: an async client for a reward-model HTTP server, and a verl reward function.

Lesson: exercises/04/README.md §3 (中文: README.zh-CN.md §3).
Mirrors verl 0.9.1: ``verl/experimental/reward_loop/reward_loop.py`` (``RewardLoopWorker._post_request``:
retries, back-off, no retry on 4xx) and the reward managers in
``verl/experimental/reward_loop/reward_manager/`` (``naive.py``: an ``async def`` reward function
is awaited; ``reward_kwargs`` are merged into every call).

A reward model is a network service: it is slow (a forward pass per text), it is shared (many
rollout workers call it), and it fails (restarts, overload). A client that sends one text at a
time wastes it; one that sends everything at once knocks it over; one that gives up on the
first 503 kills your training run. You write the client that does it right.

The server (``verlings/fixtures/reward_server.py``; start one with
``python -m verlings.fixtures.reward_server``) speaks::

    POST {url}/score   {"texts": ["...", ...]}  ->  200 {"scores": [float, ...]}   (same order)

and answers 503 when it is overloaded (the tests make it fail on purpose), 404/422 when the
request itself is wrong. ``httpx`` (``httpx.AsyncClient``) is installed with the course; ``aiohttp``
(what verl uses) works as well.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx

BACKOFF_S = 0.05  # wait BACKOFF_S * 2**k seconds before retry k+1: 0.05, 0.1, 0.2, ...


class RewardServerError(RuntimeError):
    """The reward server could not score a batch (down, failing, too slow, or refusing)."""


async def score_texts(url: str, texts: Sequence[str], batch_size: int = 8, max_concurrency: int = 4,
                      timeout_s: float = 10.0, retries: int = 2) -> list[float]:
    """Score every text with the reward model at ``url``: batched, concurrent, bounded, retried.

    Rules (each one is a test):

    * **batching**: consecutive batches of at most ``batch_size`` texts, one POST each
      (20 texts, ``batch_size=8`` → 8, 8, 4); an empty ``texts`` returns ``[]`` without a request;
    * **bounded concurrency**: at most ``max_concurrency`` requests in flight at once — all batches
      are started as tasks, an ``asyncio.Semaphore(max_concurrency)`` lets only that many through;
    * **order**: ``result[i]`` is the score of ``texts[i]``, whatever order the replies arrive in
      (``asyncio.gather`` returns results in the order of its arguments);
    * **timeouts**: each attempt gets at most ``timeout_s`` seconds (``async with asyncio.timeout(timeout_s)``);
    * **retries**: a timeout, a connection error or an HTTP 5xx is retried up to ``retries`` times,
      after ``BACKOFF_S * 2**k`` seconds (exponential back-off); an HTTP 4xx is **not** retried
      (the same wrong request would fail again);
    * **errors**: when a batch fails for good, raise :class:`RewardServerError` (a ``RuntimeError``)
      whose message names ``url`` and the last error — never hang, never return partial results;
    * ``batch_size < 1``, ``max_concurrency < 1`` or ``retries < 0`` → ``ValueError``.

    Args:
        url: the server's base address, e.g. ``"http://127.0.0.1:8000"`` (POST to ``url + "/score"``).
        texts: the texts to score.
        batch_size, max_concurrency, timeout_s, retries: as above.

    Returns:
        One float per text, in order.

    Example:
        >>> await score_texts("http://127.0.0.1:8000", ["a", "b", "c"], batch_size=2)
        [0.021..., -0.187..., 0.138...]      # 2 requests: ["a", "b"] and ["c"]
    """
    # TODO: your implementation (stuck? `python grader.py hint 04.score_texts`).
    raise NotImplementedError("implement score_texts — see exercises/04/README.md §3.2")


async def compute_score(data_source: str, solution_str: str, ground_truth: Any, extra_info: dict | None = None,
                        url: str | None = None, timeout_s: float = 10.0, retries: int = 2,
                        **kwargs: Any) -> dict[str, float]:
    """A verl custom reward function (async) that asks the reward model for ``solution_str``'s score.

    verl 0.9.1 loads it from ``reward.custom_reward_function.{path, name, reward_kwargs}`` and, because
    it is a coroutine function (``inspect.iscoroutinefunction``), awaits it once per sample —
    concurrently for the whole batch — with ``data_source``, ``solution_str``, ``ground_truth``,
    ``extra_info`` and every key of ``reward_kwargs`` as keyword arguments. So::

        reward.custom_reward_function.path=exercises/04/model_reward.py
        reward.custom_reward_function.name=compute_score
        +reward.custom_reward_function.reward_kwargs.url=http://127.0.0.1:8000

    Args:
        data_source, solution_str, ground_truth, extra_info: verl's arguments (a reward model needs
            only ``solution_str``).
        url: the reward server, from ``reward_kwargs``; missing → ``ValueError`` that says "url".
        timeout_s, retries: passed to :func:`score_texts`.
        **kwargs: whatever else verl passes (with its own reward model on: ``reward_router_address``,
            ``reward_model_tokenizer``) — accept and ignore.

    Returns:
        ``{"score": s, "rm_score": s}`` where ``s`` is the model's score of ``solution_str``
        (verl logs every key; ``"score"`` is the reward).
    """
    # TODO: your implementation (stuck? `python grader.py hint 04.rm_reward`).
    raise NotImplementedError("implement compute_score — see exercises/04/README.md §3.3")
