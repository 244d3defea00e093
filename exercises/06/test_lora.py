"""Graded tests for exercises/06/lora.py — the reference policy as the LoRA actor, adapter off.

The model is the capstone's tiny Qwen2 (random, seeded) with a LoRA adapter built the way verl
builds it (``get_peft_model`` with ``TaskType.CAUSAL_LM``, ``target_modules="all-linear"``, then
``enable_input_require_grads()``). A fresh adapter has ``lora_B == 0`` and changes nothing, so the
tests give it random weights, as after some training. The expected log-probs come from a copy of
the base model that never had an adapter: ``log_softmax`` of its logits, gathered at the response
tokens. Takes seconds.
"""

from __future__ import annotations

import copy

import pytest
import torch

from verlings import learner_module
from verlings.testing import assert_close

lora = learner_module("06", "lora")
EX = "06.lora"
PROMPT, RESPONSE = 6, 5


def _tiny_base():
    from verlings.capstone.model import build_model

    model, _ = build_model(seed=7)
    return model.eval()


def _with_trained_adapter(base, seed: int = 0):
    """A LoRA actor as verl builds it, with random (non-zero) adapter weights."""
    from peft import LoraConfig, TaskType, get_peft_model

    model = get_peft_model(
        base, LoraConfig(task_type=TaskType.CAUSAL_LM, r=4, lora_alpha=16, target_modules="all-linear", bias="none")
    )
    model.enable_input_require_grads()  # verl's _build_lora_module does this first
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    return model.eval()


def _batch(vocab: int, seed: int = 1) -> dict:
    """Three rows as verl lays them out: prompt left-padded, response right-padded.
    Row 0: no padding; row 1: 3 pad tokens before the prompt; row 2: 2 pads after the response."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, vocab, (3, PROMPT + RESPONSE), generator=g)
    mask = torch.ones_like(ids)
    mask[1, :3] = 0
    mask[2, -2:] = 0
    ids[mask == 0] = 0
    return {"input_ids": ids, "attention_mask": mask, "responses": ids[:, PROMPT:].clone()}


def _expected(base, b: dict) -> torch.Tensor:
    """log p(response token | prefix) under the base model, worked directly: the logits at
    position t score token t+1, positions count real tokens only (verl's position ids)."""
    pos = torch.clamp(b["attention_mask"].cumsum(-1) - 1, min=0)
    with torch.no_grad():
        logits = base(input_ids=b["input_ids"], attention_mask=b["attention_mask"], position_ids=pos).logits
    logp = torch.log_softmax(logits[:, PROMPT - 1 : -1].float(), dim=-1)
    return torch.gather(logp, -1, b["responses"].unsqueeze(-1)).squeeze(-1)


@pytest.fixture(scope="module")
def setup():
    base = _tiny_base()
    reference = copy.deepcopy(base)  # never wrapped: the reference policy itself
    actor = _with_trained_adapter(base)
    b = _batch(base.config.vocab_size)
    return actor, reference, b


def _call(actor, b):
    return lora.ref_log_prob_from_actor(
        model=actor, input_ids=b["input_ids"], attention_mask=b["attention_mask"], responses=b["responses"]
    )


def _response_mask(b):
    return b["attention_mask"][:, PROMPT:]


@pytest.mark.exercise(EX)
def test_shape_and_dtype(setup):
    actor, _, b = setup
    out = _call(actor, b)
    assert isinstance(out, torch.Tensor), f"expected a torch.Tensor, got {type(out).__name__}"
    assert tuple(out.shape) == tuple(b["responses"].shape), (
        f"one log-prob per response token: expected shape {tuple(b['responses'].shape)} (bs, response_length), "
        f"got {tuple(out.shape)} — log-probs over the prompt tokens, or over the whole sequence? (§9.2)"
    )
    assert out.dtype == torch.float32, f"expected float32, got {out.dtype}"


@pytest.mark.exercise(EX)
def test_equals_the_base_models_log_probs(setup):
    actor, reference, b = setup
    out = _call(actor, b)
    assert_close(
        out,
        _expected(reference, b),
        what="reference log-probs vs the base model without the adapter",
        mask=_response_mask(b),
        rtol=1e-4,
        atol=1e-5,
    )


@pytest.mark.exercise(EX)
def test_differs_from_the_actor_with_its_adapter(setup):
    """Control: the adapter does change the model, so ref == actor would mean KL is always 0."""
    actor, _, b = setup
    out = _call(actor, b)
    pos = torch.clamp(b["attention_mask"].cumsum(-1) - 1, min=0)
    with torch.no_grad():
        logits = actor(input_ids=b["input_ids"], attention_mask=b["attention_mask"], position_ids=pos).logits
    actor_lp = torch.gather(
        torch.log_softmax(logits[:, PROMPT - 1 : -1].float(), -1), -1, b["responses"].unsqueeze(-1)
    ).squeeze(-1)
    gap = ((out - actor_lp).abs() * _response_mask(b)).max().item()
    assert gap > 1e-3, (
        f"your reference log-probs equal the actor's own (max gap {gap:.2e}): the adapter was left "
        "on, so verl's KL to the reference would always be 0 — switch it off for this forward (§9.2)"
    )


@pytest.mark.exercise(EX)
def test_no_gradient_flows_into_the_reference(setup):
    actor, _, b = setup
    out = _call(actor, b)
    assert not out.requires_grad, (
        "the reference log-probs carry an autograd graph (requires_grad=True): the KL loss would push "
        "gradients through the reference too. The reference is a constant of the loss (§9.2)"
    )


@pytest.mark.exercise(EX)
def test_the_adapter_is_back_on_afterwards():
    # An actor of its own: with the module's shared one, an earlier test's call may already have left
    # the adapter off, and "before" would be adapter-off too (the mistake would pass unseen).
    base = _tiny_base()
    actor = _with_trained_adapter(base)
    b = _batch(base.config.vocab_size)
    pos = torch.clamp(b["attention_mask"].cumsum(-1) - 1, min=0)
    kw = {"input_ids": b["input_ids"], "attention_mask": b["attention_mask"], "position_ids": pos}
    with torch.no_grad():
        before = actor(**kw).logits
    _call(actor, b)
    with torch.no_grad():
        after = actor(**kw).logits
    assert torch.allclose(before, after, atol=1e-6), (
        "after your call the actor computes different logits: its adapter is still off (or was changed). "
        "Switch it off only for the reference forward — the next actor update needs it (§9.2)"
    )


@pytest.mark.exercise(EX)
def test_fresh_adapter_changes_nothing():
    """A freshly initialised LoRA (lora_B == 0) is the base model: ref == actor at step 0."""
    from peft import LoraConfig, TaskType, get_peft_model

    base = _tiny_base()
    reference = copy.deepcopy(base)
    actor = get_peft_model(
        base, LoraConfig(task_type=TaskType.CAUSAL_LM, r=4, lora_alpha=16, target_modules="all-linear", bias="none")
    ).eval()
    b = _batch(base.config.vocab_size, seed=5)
    assert_close(
        _call(actor, b),
        _expected(reference, b),
        what="reference log-probs with a fresh adapter",
        mask=_response_mask(b),
        rtol=1e-4,
        atol=1e-5,
    )
