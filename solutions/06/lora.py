"""Reference solution: the reference policy's log-probs from the LoRA actor, adapter off."""

from __future__ import annotations

import torch


def ref_log_prob_from_actor(
    model: torch.nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    responses: torch.Tensor,
) -> torch.Tensor:
    response_length = responses.shape[-1]
    # verl's compute_position_id_with_mask: left padding must not shift the positions
    position_ids = torch.clamp(torch.cumsum(attention_mask.long(), dim=-1) - 1, min=0)
    # The reference is a constant of the loss: no graph (verl runs it under no_grad in eval mode),
    # and the adapter is off only inside the block — the actor's next forward has it back.
    with torch.no_grad(), model.disable_adapter():
        logits = model(
            input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, use_cache=False
        ).logits
    # logits at position t predict token t+1: the response's tokens are predicted by the
    # positions from the last prompt token to the one before the last response token
    logits = logits[:, -response_length - 1 : -1, :].float()
    log_probs = torch.log_softmax(logits, dim=-1)
    return torch.gather(log_probs, -1, responses.unsqueeze(-1)).squeeze(-1)
