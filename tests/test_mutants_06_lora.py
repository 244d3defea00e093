"""Known-wrong variants of exercises/06/lora.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

EX = "06.lora"


def _variant(forward: str, window: str = "logits[:, -R - 1 : -1]", gather: str = "responses") -> str:
    return f"""
        def ref_log_prob_from_actor(model, input_ids, attention_mask, responses):
            R = responses.shape[-1]
            pos = torch.clamp(torch.cumsum(attention_mask.long(), dim=-1) - 1, min=0)
            kw = dict(input_ids=input_ids, attention_mask=attention_mask, position_ids=pos, use_cache=False)
            {forward}
            logits = {window}.float()
            return torch.gather(torch.log_softmax(logits, -1), -1, {gather}.unsqueeze(-1)).squeeze(-1)
        """


MUTANTS = [
    # the classic three of the issue
    Mutant("adapter_left_on", EX, "lora", _variant("with torch.no_grad(): logits = model(**kw).logits")),
    Mutant(
        "gradients_flow_into_the_reference",
        EX,
        "lora",
        _variant("with model.disable_adapter(): logits = model(**kw).logits"),
    ),
    Mutant(
        "log_probs_over_the_prompt",
        EX,
        "lora",
        _variant(
            "with torch.no_grad(), model.disable_adapter(): logits = model(**kw).logits",
            window="logits[:, : input_ids.shape[1] - R - 1]",
            gather="input_ids[:, 1 : input_ids.shape[1] - R]",
        ),
    ),
    Mutant(
        "first_positions_score_the_response",
        EX,
        "lora",
        _variant("with torch.no_grad(), model.disable_adapter(): logits = model(**kw).logits", window="logits[:, :R]"),
    ),
    # neighbours
    Mutant(
        "off_by_one_window",
        EX,
        "lora",
        _variant("with torch.no_grad(), model.disable_adapter(): logits = model(**kw).logits", window="logits[:, -R:]"),
    ),
    Mutant(
        "positions_ignore_left_padding",
        EX,
        "lora",
        _variant(
            "kw.pop('position_ids')\n"
            "            with torch.no_grad(), model.disable_adapter(): logits = model(**kw).logits"
        ),
    ),
    Mutant(
        "adapter_never_switched_back_on",
        EX,
        "lora",
        _variant(
            "model.base_model.disable_adapter_layers()\n            with torch.no_grad(): logits = model(**kw).logits"
        ),
    ),
    Mutant("detached_but_adapter_on", EX, "lora", _variant("logits = model(**kw).logits.detach()")),
    # every token scored, as for an SFT loss: one log-prob per position, not per response token
    Mutant(
        "log_probs_over_the_whole_sequence",
        EX,
        "lora",
        _variant(
            "with torch.no_grad(), model.disable_adapter(): logits = model(**kw).logits",
            window="logits[:, :-1]",
            gather="input_ids[:, 1:]",
        ),
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
