"""Chapter 06 · LoRA: the reference policy is the actor with its adapter switched off.

When ``actor_rollout_ref.model.lora_rank > 0`` (or ``lora_adapter_path`` is set), verl 0.9.1
starts no reference worker (``ref_in_actor`` in ``verl/trainer/ppo/v1/trainer_base.py``):
the frozen base weights under the adapter *are* the reference policy. Lesson: §9.
"""

from __future__ import annotations

import torch


def ref_log_prob_from_actor(
    model: torch.nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    responses: torch.Tensor,
) -> torch.Tensor:
    """The reference policy's log-probs of each response token, computed by the LoRA actor.

    Args:
        model: the actor — a peft ``PeftModel`` (LoRA adapter on a causal LM whose forward
            returns ``.logits`` of shape ``(bs, seq_len, vocab)``). Its adapter may be trained:
            the reference is the model *without* it.
        input_ids: ``(bs, prompt_length + response_length)`` long — prompt (left-padded) then
            response (right-padded), as in verl's batch.
        attention_mask: same shape, 1 on real tokens, 0 on padding.
        responses: ``(bs, response_length)`` long — the last ``response_length`` columns of
            ``input_ids``.

    Returns:
        ``(bs, response_length)`` float32: ``log p_ref(responses[i, t] | everything before it)``
        under the base model, at temperature 1. Padding positions hold whatever the model gives
        (verl masks them later with ``response_mask``). The tensor is a constant: it carries no
        autograd graph (``requires_grad`` is False even when the model's inputs require grad, as
        verl's ``enable_input_require_grads()`` makes them).

    Conventions (verl's): position ids count only real tokens (``compute_position_id_with_mask``
    in ``verl/utils/model.py``: a left-padded prompt starts at position 0). After the call the
    adapter is active again, exactly as before.

    Example: with a freshly initialised adapter (``lora_B`` is zero) the result equals the actor's
    own log-probs; after one RL step on the adapter it no longer does — their gap is the KL.

    In verl: ``_compute_ref_log_prob`` in ``verl/trainer/ppo/v1/trainer_base.py`` sets
    ``no_lora_adapter``; ``TrainingWorker.infer_batch`` (``verl/workers/engine_workers.py``) then
    runs the forward inside ``engine.disable_adapter()``, peft's ``disable_adapter()`` for FSDP.
    """
    # TODO: your implementation (stuck? `python grader.py hint 06.lora`).
    raise NotImplementedError("implement ref_log_prob_from_actor — see exercises/06/README.md §9.2")
