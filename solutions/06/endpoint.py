"""Reference solution: evaluate prompts through an OpenAI-compatible endpoint (vLLM's server)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import openai


@dataclass
class Reply:
    """One prompt's outcome: the answer text, or ``None`` and why it failed."""

    text: str | None
    error: str | None = None
    attempts: int = 0


def _retryable(exc: Exception) -> bool:
    # 5xx, timeouts and dropped connections may pass on a retry; a 4xx says the request is wrong
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code >= 500
    return isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError))


def complete_all(
    client: openai.OpenAI,
    model: str,
    prompts: list[str],
    *,
    max_concurrency: int = 4,
    max_attempts: int = 3,
    timeout_s: float = 30.0,
    max_tokens: int = 16,
) -> list[Reply]:
    def one(prompt: str) -> Reply:
        error = None
        for attempt in range(1, max_attempts + 1):
            try:
                out = client.chat.completions.create(
                    model=model,
                    messages=[{"role": "user", "content": prompt}],
                    temperature=0.0,
                    max_tokens=max_tokens,
                    timeout=timeout_s,
                )
                return Reply(text=out.choices[0].message.content or "", attempts=attempt)
            except openai.OpenAIError as exc:
                error = f"{type(exc).__name__}: {exc}"
                if not _retryable(exc):
                    return Reply(text=None, error=error, attempts=attempt)
        return Reply(text=None, error=error, attempts=max_attempts)

    if not prompts:
        return []
    # the pool's size is the bound on requests in flight; map() keeps the prompts' order
    with ThreadPoolExecutor(max_workers=max(1, max_concurrency)) as pool:
        return list(pool.map(one, prompts))
