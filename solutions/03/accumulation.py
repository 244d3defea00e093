"""Reference solution: gradients of a mini-batch split over data-parallel ranks and micro-batches."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch


def microbatch_gradients(
    loss_fn: Callable[..., torch.Tensor],
    batch: dict[str, torch.Tensor],
    params: Sequence[torch.Tensor],
    num_micro_batches: int,
    dp_size: int = 1,
    global_counts: bool = True,
) -> list[torch.Tensor]:
    bs = batch["response_mask"].shape[0]
    if num_micro_batches < 1 or dp_size < 1 or bs % (dp_size * num_micro_batches) != 0:
        raise ValueError(
            f"{bs} rows cannot be split into dp_size={dp_size} ranks × num_micro_batches={num_micro_batches} "
            "equal micro-batches"
        )
    per_rank = bs // dp_size
    size = per_rank // num_micro_batches
    if global_counts:
        # What verl's engine all-reduces before the first micro-batch: counts of the whole mini-batch.
        counts = {
            "dp_size": dp_size,
            "batch_num_tokens": int(batch["response_mask"].sum()),
            "global_batch_size": bs,
        }
        scale = 1.0  # each micro-batch loss is already a share of the mini-batch loss
    else:
        # The classic bug: every micro-batch is normalised by its own counts, then averaged.
        counts = {"dp_size": 1, "batch_num_tokens": None, "global_batch_size": None}
        scale = 1.0 / num_micro_batches

    total = [torch.zeros_like(p) for p in params]
    for rank in range(dp_size):
        for k in range(num_micro_batches):
            start = rank * per_rank + k * size
            micro_batch = {key: value[start : start + size] for key, value in batch.items()}
            loss = loss_fn(micro_batch, **counts) * scale
            # backward() sums over micro-batches; the all-reduce then averages over ranks.
            for acc, grad in zip(total, torch.autograd.grad(loss, list(params), allow_unused=True)):
                if grad is not None:
                    acc += grad / dp_size
    return total
