"""Known-wrong variants of exercises/06/endpoint.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

EX = "06.endpoint"


def _variant(
    *,
    send: str = "temperature=0.0, max_tokens=max_tokens, timeout=timeout_s",
    retry: str = "_retryable(exc)",
    attempts: str = "range(1, max_attempts + 1)",
    run: str = "with ThreadPoolExecutor(max_workers=max(1, max_concurrency)) as pool:\n"
    "                return list(pool.map(one, prompts))",
) -> str:
    return f"""
        def complete_all(client, model, prompts, *, max_concurrency=4, max_attempts=3, timeout_s=30.0,
                         max_tokens=16):
            def one(prompt):
                error, attempt = None, 0
                for attempt in {attempts}:
                    try:
                        out = client.chat.completions.create(
                            model=model, messages=[{{"role": "user", "content": prompt}}], {send})
                        return Reply(text=out.choices[0].message.content or "", attempts=attempt)
                    except openai.OpenAIError as exc:
                        error = f"{{type(exc).__name__}}: {{exc}}"
                        if not ({retry}):
                            return Reply(text=None, error=error, attempts=attempt)
                return Reply(text=None, error=error, attempts=attempt)

            if not prompts:
                return []
            {run}
        """


MUTANTS = [
    Mutant("one_prompt_at_a_time", EX, "endpoint", _variant(run="return [one(p) for p in prompts]")),
    Mutant(
        "unbounded_concurrency",
        EX,
        "endpoint",
        _variant(
            run="with ThreadPoolExecutor(max_workers=len(prompts)) as pool:\n"
            "                return list(pool.map(one, prompts))"
        ),
    ),
    Mutant(
        "answers_in_completion_order",
        EX,
        "endpoint",
        _variant(
            run="from concurrent.futures import as_completed\n"
            "            with ThreadPoolExecutor(max_workers=max(1, max_concurrency)) as pool:\n"
            "                return [f.result() for f in as_completed([pool.submit(one, p) for p in prompts])]"
        ),
    ),
    # a readiness probe before the batch: a request even when there is nothing to ask
    Mutant(
        "probes_the_server_first",
        EX,
        "endpoint",
        replace={
            "    if not prompts:\n        return []\n": "    # is the server up? one tiny request before the batch\n"
            '    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "ping"}], '
            "max_tokens=1)\n"
        },
    ),
    Mutant("no_retries", EX, "endpoint", _variant(retry="False")),
    Mutant("retries_a_4xx", EX, "endpoint", _variant(retry="True")),
    Mutant("one_attempt_too_many", EX, "endpoint", _variant(attempts="range(1, max_attempts + 2)")),
    Mutant("no_timeout", EX, "endpoint", _variant(send="temperature=0.0, max_tokens=max_tokens")),
    Mutant("sampled_not_greedy", EX, "endpoint", _variant(send="max_tokens=max_tokens, timeout=timeout_s")),
    Mutant("max_tokens_ignored", EX, "endpoint", _variant(send="temperature=0.0, max_tokens=16, timeout=timeout_s")),
    Mutant(
        "a_failure_raises",
        EX,
        "endpoint",
        """
        _solution_complete_all = complete_all

        def complete_all(client, model, prompts, **kw):
            replies = _solution_complete_all(client, model, prompts, **kw)
            for r in replies:
                if r.text is None:
                    raise RuntimeError(r.error)
            return replies
        """,
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
