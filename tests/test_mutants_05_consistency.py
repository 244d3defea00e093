"""Known-wrong variants of exercises/05/consistency.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

EX = "05.consistency"


def _without(tag: str) -> str:
    return f"""
        _solution_check = check_trajectory

        def check_trajectory(output, tokenizer, messages, tools=None):
            return [p for p in _solution_check(output, tokenizer, messages, tools) if not p.startswith("{tag}:")]
        """


MUTANTS = [
    Mutant("no_drift_check", EX, "consistency", _without("drift")),
    Mutant("no_prompt_check", EX, "consistency", _without("prompt")),
    Mutant("no_length_check", EX, "consistency", _without("length")),
    Mutant("no_logprob_check", EX, "consistency", _without("logprob")),
    Mutant(
        "mask_check_misses_tokens_after_eos",
        EX,
        "consistency",
        """
        _solution_check = check_trajectory

        def check_trajectory(output, tokenizer, messages, tools=None):
            class _NoEos:  # the same tokenizer, but the EOS rule never fires
                def __getattr__(self, name):
                    return getattr(tokenizer, name)

                eos_token_id = -1

            problems = _solution_check(output, _NoEos(), messages, tools)
            return problems
        """,
    ),
    Mutant(
        "mask_check_only_looks_for_tool_response",
        EX,
        "consistency",
        """
        NON_MODEL_TOKENS = ("<tool_response>",)
        _solution_check = check_trajectory

        def check_trajectory(output, tokenizer, messages, tools=None):
            class _NoEos:
                def __getattr__(self, name):
                    return getattr(tokenizer, name)

                eos_token_id = -1

            return _solution_check(output, _NoEos(), messages, tools)
        """,
    ),
    Mutant(
        "logprob_allows_positive_values",
        EX,
        "consistency",
        """
        import math as _math

        _solution_check = check_trajectory

        def check_trajectory(output, tokenizer, messages, tools=None):
            problems = [p for p in _solution_check(output, tokenizer, messages, tools) if not p.startswith("logprob:")]
            lps = output.response_logprobs
            if lps is not None:
                n = min(len(lps), len(output.response_mask))
                if any(output.response_mask[i] == 0 and lps[i] != 0 for i in range(n)):
                    problems.append("logprob: tool tokens carry log-probs")
                if any(output.response_mask[i] == 1 and not _math.isfinite(lps[i]) for i in range(n)):
                    problems.append("logprob: model log-probs are not finite")  # but 0.5 passes
            return problems
        """,
    ),
    Mutant(
        "prompt_checked_without_tools",
        EX,
        "consistency",
        """
        _solution_check = check_trajectory

        def check_trajectory(output, tokenizer, messages, tools=None):
            return _solution_check(output, tokenizer, messages, None)
        """,
    ),
    Mutant(
        "drift_on_the_whole_response",
        EX,
        "consistency",
        """
        _solution_check = check_trajectory

        def check_trajectory(output, tokenizer, messages, tools=None):
            problems = [p for p in _solution_check(output, tokenizer, messages, tools) if not p.startswith("drift:")]
            ids = list(output.response_ids)
            if tokenizer.encode(tokenizer.decode(ids), add_special_tokens=False) != ids:
                problems.append("drift: the response re-tokenises differently")
            return problems
        """,
    ),
    Mutant(
        "one_message_per_token",
        EX,
        "consistency",
        """
        _solution_check = check_trajectory

        def check_trajectory(output, tokenizer, messages, tools=None):
            problems = _solution_check(output, tokenizer, messages, tools)
            return [p for p in problems for _ in range(2 if p.startswith(("mask:", "drift:", "length:")) else 1)]
        """,
    ),
    Mutant(
        "untagged_messages",
        EX,
        "consistency",
        """
        _solution_check = check_trajectory

        def check_trajectory(output, tokenizer, messages, tools=None):
            return [p.split(": ", 1)[1] for p in _solution_check(output, tokenizer, messages, tools)]
        """,
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
