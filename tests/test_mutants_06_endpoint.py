"""Known-wrong variants of exercises/06/endpoint.py: each must fail at least one graded test.

Each mutant is an edit of solutions/06/endpoint.py (``replace={reference text: wrong text}``).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

EX = "06.endpoint"
POOL = "    with ThreadPoolExecutor(max_workers=max(1, max_concurrency)) as pool:\n"
MAP = "        return list(pool.map(one, prompts))"
RETRY = "if not _retryable(exc):"

MUTANTS = [
    Mutant("one_prompt_at_a_time", EX, "endpoint", replace={POOL + MAP: "    return [one(p) for p in prompts]"}),
    Mutant("unbounded_concurrency", EX, "endpoint",
           replace={"max_workers=max(1, max_concurrency)": "max_workers=len(prompts)"}),
    Mutant("answers_in_completion_order", EX, "endpoint", replace={
        "from concurrent.futures import ThreadPoolExecutor\n":
            "from concurrent.futures import ThreadPoolExecutor, as_completed\n",
        MAP: "        return [f.result() for f in as_completed([pool.submit(one, p) for p in prompts])]"}),
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
    Mutant("no_retries", EX, "endpoint", replace={RETRY: "if True:"}),
    Mutant("retries_a_4xx", EX, "endpoint", replace={RETRY: "if False:"}),
    # one more attempt than max_attempts, and the reply counts it
    Mutant("one_attempt_too_many", EX, "endpoint", replace={
        "range(1, max_attempts + 1)": "range(1, max_attempts + 2)",
        "attempts=max_attempts)": "attempts=attempt)"}),
    Mutant("no_timeout", EX, "endpoint", replace={"                    timeout=timeout_s,\n": ""}),
    Mutant("sampled_not_greedy", EX, "endpoint", replace={"                    temperature=0.0,\n": ""}),
    Mutant("max_tokens_ignored", EX, "endpoint", replace={"max_tokens=max_tokens,": "max_tokens=16,"}),
    # every prompt is answered, then the first failure is raised instead of returned
    Mutant("a_failure_raises", EX, "endpoint", replace={
        MAP: "        replies = list(pool.map(one, prompts))\n"
             "    for r in replies:\n"
             "        if r.text is None:\n"
             "            raise RuntimeError(r.error)\n"
             "    return replies"}),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
