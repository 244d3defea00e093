"""The reference solution of 06.lora against verl's own ref_in_actor pieces, on the tiny model.

verl 0.9.1 computes the reference log-probs of a LoRA run as: ``_compute_ref_log_prob`` sets
``no_lora_adapter`` → ``TrainingWorker.infer_batch`` enters ``engine.disable_adapter()``
(``FSDPEngine.disable_adapter``: the module's peft ``disable_adapter()``) → the forward with
verl's position ids (``compute_position_id_with_mask``) → ``logprobs_from_logits`` on the
response positions. Here those verl functions run on the capstone's tiny Qwen2 with a trained
(random, non-zero) adapter, the engine being a stand-in that holds the peft module (FSDP
sharding does not change the maths on one process). The full path runs in a real LoRA run:
``benchmarks/bench_06_lora.py`` (``actor/kl_loss`` is non-zero from step 1).
"""

from __future__ import annotations

import types

import pytest
import torch

from verlings.paths import SOLUTIONS
from verlings.target import load_module


def _actor(seed: int):
    from peft import LoraConfig, TaskType, get_peft_model

    from verlings.capstone.model import build_model

    base, _ = build_model(seed=seed)
    model = get_peft_model(
        base, LoraConfig(task_type=TaskType.CAUSAL_LM, r=8, lora_alpha=16, target_modules="all-linear", bias="none")
    )
    model.enable_input_require_grads()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    return model.eval()


def _verl_ref_log_prob(model, input_ids, attention_mask, responses):
    from verl.utils.model import compute_position_id_with_mask
    from verl.utils.torch_functional import logprobs_from_logits
    from verl.workers.engine.fsdp.transformer_impl import FSDPEngine

    engine = types.SimpleNamespace(module=model)  # what FSDPEngine.disable_adapter reads
    response_length = responses.shape[-1]
    with torch.no_grad(), FSDPEngine.disable_adapter(engine):
        logits = model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=compute_position_id_with_mask(attention_mask),
            use_cache=False,
        ).logits
    logits = logits[:, -response_length - 1 : -1, :]
    return logprobs_from_logits(logits.reshape(-1, logits.shape[-1]), responses.reshape(-1)).view_as(responses)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_solution_agrees_with_verls_ref_in_actor_path(seed):
    lora = load_module("06", "lora", root=SOLUTIONS)
    model = _actor(seed)
    g = torch.Generator().manual_seed(100 + seed)
    bs, prompt, response = 4, 7, 6
    ids = torch.randint(3, model.config.vocab_size, (bs, prompt + response), generator=g)
    mask = torch.ones_like(ids)
    pad = torch.randint(0, prompt - 1, (bs,), generator=g)  # left padding of the prompts
    for i in range(bs):
        mask[i, : pad[i]] = 0
    mask[0, -2:] = 0  # a response that stopped early
    ids[mask == 0] = 0
    responses = ids[:, prompt:]
    ours = lora.ref_log_prob_from_actor(model=model, input_ids=ids, attention_mask=mask, responses=responses)
    theirs = _verl_ref_log_prob(model, ids, mask, responses)
    valid = mask[:, prompt:].bool()
    torch.testing.assert_close(ours[valid], theirs[valid].float(), rtol=1e-5, atol=1e-5)
