"""Known-wrong variants of exercises/05/consistency.py: each must fail at least one graded test.

Each mutant is an edit of solutions/05/consistency.py (``replace={reference text: wrong text}``).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

EX = "05.consistency"
EOS_RULE = "        if tokenizer.eos_token_id in run[:-1]:"
RETURN = "    return problems\n"

MUTANTS = [
    Mutant("no_drift_check", EX, "consistency", replace={"        if again != run:\n": "        if False:\n"}),
    Mutant("no_prompt_check", EX, "consistency", replace={"    if prompt != expected:\n": "    if False:\n"}),
    Mutant("no_length_check", EX, "consistency", replace={
        "    if len(mask) != len(ids):\n": "    if False:\n",
        "    if logprobs is not None and len(logprobs) != len(ids):\n": "    if False:\n"}),
    Mutant("no_logprob_check", EX, "consistency", replace={
        "        if tool_lp:\n": "        if False:\n",
        "        if model_lp:\n": "        if False:\n"}),
    # the EOS rule never fires: tokens after the model's EOS pass as its own
    Mutant("mask_check_misses_tokens_after_eos", EX, "consistency", replace={EOS_RULE: "        if False:"}),
    Mutant("mask_check_only_looks_for_tool_response", EX, "consistency", replace={
        'NON_MODEL_TOKENS = ("<|im_start|>", "<tool_response>", "</tool_response>")':
            'NON_MODEL_TOKENS = ("<tool_response>",)',
        EOS_RULE: "        if False:"}),
    # finite is checked, <= 0 is not: a log-prob of 0.5 passes
    Mutant("logprob_allows_positive_values", EX, "consistency", replace={
        "not (math.isfinite(logprobs[i]) and logprobs[i] <= 0.0)": "not math.isfinite(logprobs[i])"}),
    Mutant("prompt_checked_without_tools", EX, "consistency", replace={
        "expected = _chat_ids(tokenizer, messages, tools)": "expected = _chat_ids(tokenizer, messages, None)"}),
    # one decode -> encode over the whole response instead of one per model turn
    Mutant("drift_on_the_whole_response", EX, "consistency", replace={
        "enumerate(runs):": "enumerate([(0, len(ids))]):"}),
    Mutant("one_message_per_token", EX, "consistency", replace={
        RETURN: "    return [p for p in problems\n"
                '            for _ in range(2 if p.startswith(("mask:", "drift:", "length:")) else 1)]\n'}),
    Mutant("untagged_messages", EX, "consistency",
           replace={RETURN: '    return [p.split(": ", 1)[1] for p in problems]\n'}),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
