"""Reference solutions: an async client for a served reward model, and a verl async reward function."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx

BACKOFF_S = 0.05


class RewardServerError(RuntimeError):
    """The reward server could not score a batch (down, failing, too slow, or refusing)."""


async def _post_batch(client: httpx.AsyncClient, url: str, batch: list[str], semaphore: asyncio.Semaphore,
                      timeout_s: float, retries: int) -> list[float]:
    endpoint = url.rstrip("/") + "/score"
    async with semaphore:  # at most max_concurrency batches on the wire at once
        last_error = "no attempt"
        for attempt in range(retries + 1):
            if attempt:
                await asyncio.sleep(BACKOFF_S * 2 ** (attempt - 1))  # exponential back-off
            try:
                async with asyncio.timeout(timeout_s):  # one deadline for the whole attempt
                    response = await client.post(endpoint, json={"texts": batch})
            except TimeoutError:
                last_error = f"no answer within timeout_s={timeout_s}"
                continue
            except httpx.TransportError as exc:  # refused, reset, DNS...: worth another try
                last_error = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code >= 500:  # the server's fault, maybe transient
                last_error = f"HTTP {response.status_code}: {response.text[:200]}"
                continue
            if response.status_code >= 400:  # our fault: retrying sends the same bad request
                raise RewardServerError(f"{endpoint} refused the request (HTTP {response.status_code}, "
                                        f"not retried): {response.text[:200]}")
            scores = response.json().get("scores")
            if not isinstance(scores, list) or len(scores) != len(batch):
                raise RewardServerError(f"{endpoint} returned {scores!r} for a batch of {len(batch)} texts")
            return [float(s) for s in scores]
    raise RewardServerError(f"reward server at {url} failed {retries + 1} attempt(s) for a batch of "
                            f"{len(batch)} texts; last error: {last_error}")


async def score_texts(url: str, texts: Sequence[str], batch_size: int = 8, max_concurrency: int = 4,
                      timeout_s: float = 10.0, retries: int = 2) -> list[float]:
    if batch_size < 1 or max_concurrency < 1 or retries < 0 or timeout_s <= 0:
        raise ValueError(f"bad settings: batch_size={batch_size}, max_concurrency={max_concurrency}, "
                         f"retries={retries}, timeout_s={timeout_s}")
    texts = list(texts)
    if not texts:
        return []
    batches = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
    semaphore = asyncio.Semaphore(max_concurrency)
    limits = httpx.Limits(max_connections=max_concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=None) as client:
        tasks = [asyncio.create_task(_post_batch(client, url, b, semaphore, timeout_s, retries)) for b in batches]
        try:
            # gather returns results in the order of `tasks`, whatever order they finish in.
            results = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:  # one batch failed for good: stop the others before the client closes
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
    return [score for batch in results for score in batch]


async def compute_score(data_source: str, solution_str: str, ground_truth: Any, extra_info: dict | None = None,
                        url: str | None = None, timeout_s: float = 10.0, retries: int = 2,
                        **kwargs: Any) -> dict[str, float]:
    # verl awaits a coroutine function directly (inspect.iscoroutinefunction) and merges
    # reward.custom_reward_function.reward_kwargs (url, ...) into the call; **kwargs takes what
    # verl adds when its own reward model is on (reward_router_address, reward_model_tokenizer).
    if not url:
        raise ValueError("no reward server url: set reward.custom_reward_function.reward_kwargs.url")
    [score] = await score_texts(url, [solution_str], batch_size=1, max_concurrency=1, timeout_s=timeout_s,
                                retries=retries)
    return {"score": score, "rm_score": score}
