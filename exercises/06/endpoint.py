"""Chapter 06 · Evaluating a served model through its OpenAI-compatible endpoint.

``python grader.py serve`` starts vLLM's OpenAI-compatible server on the trained model;
``python grader.py capstone --eval --endpoint URL`` sends it the held-out prompts with the
function below. Lesson: §10.2.
"""

from __future__ import annotations

from dataclasses import dataclass

import openai


@dataclass
class Reply:
    """One prompt's outcome: the answer text, or ``None`` and why it failed."""

    text: str | None
    error: str | None = None
    attempts: int = 0


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
    """Greedy chat completions for every prompt, concurrently, robust to a flaky server.

    Args:
        client: an ``openai.OpenAI`` client for the server (``base_url=".../v1"``), made with
            ``max_retries=0``: the retrying is yours.
        model: the served model's name (vLLM's ``--served-model-name``).
        prompts: user messages; each is sent alone as ``[{"role": "user", "content": prompt}]``
            (the server applies the model's chat template, as verl's rollout does).
        max_concurrency: at most this many requests in flight at any moment (and more than one
            when there are several prompts: the point is not to wait for each in turn).
        max_attempts: attempts per prompt, the first included. Retried: HTTP 5xx, timeouts,
            connection errors. Not retried: any other error (a 4xx means the request is wrong).
        timeout_s: per attempt; a request the server has not answered by then counts as failed.
        max_tokens: the answer's length limit.

    Sampling: greedy (``temperature=0``), ``max_tokens`` as given — the settings of the offline
    evaluation, so the two accuracies can agree.

    Returns:
        one :class:`Reply` per prompt, **in the prompts' order** (whatever order the server
        answers in). On success its ``text`` is the answer and ``error`` is ``None``; after the
        last failed attempt ``text`` is ``None`` and ``error`` names the exception; ``attempts``
        counts the tries either way. A failing prompt never
        raises and never stops the others. No prompts: ``[]``.

    Example: ``complete_all(client, "verlings", ["What is 2 + 3?"])`` →
    ``[Reply(text="5", error=None, attempts=1)]``.
    """
    # TODO: your implementation (stuck? `python grader.py hint 06.endpoint`).
    raise NotImplementedError("implement complete_all — see exercises/06/README.md §10.2")
