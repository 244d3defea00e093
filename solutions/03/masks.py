"""Reference solutions: masks, masked statistics and log-probabilities (verl 0.9.1 semantics)."""

from __future__ import annotations

import torch


def compute_response_mask(responses: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    # Responses are the right-most columns of the sequence, so their mask is too.
    response_length = responses.size(1)
    return attention_mask[:, -response_length:]


def masked_mean(values: torch.Tensor, mask: torch.Tensor, axis: int | None = None) -> torch.Tensor:
    # torch.where, not values * mask: 0 * inf is NaN, and padding may hold inf.
    total = torch.where(mask.bool(), values, 0.0).sum(dim=axis)
    return total / (mask.sum(dim=axis) + 1e-8)
