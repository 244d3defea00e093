"""Known-wrong variants of exercises/05/consistency.py's mask rule (issue 24's mutation triage).

Edits of solutions/05/consistency.py (``replace={reference text: wrong text}``); each must fail
at least one graded test.
"""

import pytest

from verlings.dev.mutants import Mutant, caught

EX = "05.consistency"

MUTANTS = [
    # only the EOS rule: a template token in a model run with no EOS before it passes
    Mutant("mask_check_relies_on_eos_only", EX, "consistency", replace={
        "non_model = {tokenizer.convert_tokens_to_ids(t) for t in NON_MODEL_TOKENS}": "non_model = set()"}),
    # the EOS rule's positions replace the NON_MODEL_TOKENS ones: the message names a later first position
    Mutant("mask_check_eos_rule_overwrites_positions", EX, "consistency", replace={
        "bad += [start + i for i in range(first + 1, len(run))]":
            "bad = [start + i for i in range(first + 1, len(run))]"}),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
