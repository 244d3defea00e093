"""Known-wrong variants of exercises/06/lora.py: each must fail at least one graded test.

Each mutant is an edit of solutions/06/lora.py (``replace={reference text: wrong text}``).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

EX = "06.lora"
BLOCK = "    with torch.no_grad(), model.disable_adapter():\n"
WINDOW = "logits[:, -response_length - 1 : -1, :]"
GATHER = "responses.unsqueeze(-1)"

MUTANTS = [
    # the classic three of the issue
    Mutant("adapter_left_on", EX, "lora", replace={BLOCK: "    with torch.no_grad():\n"}),
    Mutant("gradients_flow_into_the_reference", EX, "lora", replace={BLOCK: "    with model.disable_adapter():\n"}),
    Mutant("log_probs_over_the_prompt", EX, "lora", replace={
        WINDOW: "logits[:, : input_ids.shape[1] - response_length - 1, :]",
        GATHER: "input_ids[:, 1 : input_ids.shape[1] - response_length].unsqueeze(-1)"}),
    Mutant("first_positions_score_the_response", EX, "lora", replace={WINDOW: "logits[:, :response_length, :]"}),
    # neighbours
    Mutant("off_by_one_window", EX, "lora", replace={WINDOW: "logits[:, -response_length:, :]"}),
    Mutant("positions_ignore_left_padding", EX, "lora", replace={"position_ids=position_ids, ": ""}),
    Mutant("adapter_never_switched_back_on", EX, "lora",
           replace={BLOCK: "    model.base_model.disable_adapter_layers()\n    with torch.no_grad():\n"}),
    # no block at all: the adapter stays on and the graph is built, then detached
    Mutant("detached_but_adapter_on", EX, "lora",
           replace={BLOCK: "    if True:\n", "        ).logits\n": "        ).logits.detach()\n"}),
    # every token scored, as for an SFT loss: one log-prob per position, not per response token
    Mutant("log_probs_over_the_whole_sequence", EX, "lora",
           replace={WINDOW: "logits[:, :-1, :]", GATHER: "input_ids[:, 1:].unsqueeze(-1)"}),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
