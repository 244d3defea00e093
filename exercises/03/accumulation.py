"""Gradient accumulation over micro-batches and data-parallel ranks, without the classic bug.

Lesson: exercises/03/README.md §3.5 (中文: README.zh-CN.md §3.5).
A mini-batch (``actor.ppo_mini_batch_size × rollout.n`` sequences) is cut into micro-batches
(``ppo_micro_batch_size_per_gpu``) on each of ``dp_size`` GPUs. Each micro-batch's loss is
back-propagated and the gradients add up; then the all-reduce of DDP/FSDP *averages* the ranks.
verl 0.9.1's engines (``verl/workers/engine/fsdp/transformer_impl.py::forward_backward_batch``)
all-reduce the valid-token count first and hand every micro-batch the global counts
(``dp_size``, ``batch_num_tokens``, ``global_batch_size``), which ``agg_loss`` divides by.
This module simulates that loop on one process.

Shapes used in this module:
    bs               sequences in the mini-batch, all ranks together
    response_length  right-padded response tokens
"""

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
    """The gradient one optimiser step sees when ``batch`` is split over ranks and micro-batches.

    Args:
        loss_fn: ``loss_fn(micro_batch, dp_size=..., batch_num_tokens=..., global_batch_size=...)``
            returns a micro-batch's 0-d loss; the keywords are :func:`losses.agg_loss`'s (the
            tests' ``loss_fn`` forwards them to your ``agg_loss``).
        batch: dict of tensors whose first dimension is ``bs``; ``batch["response_mask"]`` is the
            ``(bs, response_length)`` 0/1 loss mask.
        params: the tensors (``requires_grad=True``) to differentiate with respect to.
        num_micro_batches: micro-batches per rank.
        dp_size: data-parallel ranks.
        global_counts: ``True`` — verl 0.9.1's way: every micro-batch gets
            ``dp_size=dp_size``, ``batch_num_tokens`` = valid tokens of the *whole* ``batch`` (an
            ``int``) and ``global_batch_size`` = ``bs`` (all rows, as verl's trainer passes
            ``ppo_mini_batch_size × rollout.n``). ``False`` — the classic bug, kept so you can
            measure it: every micro-batch is normalised by its own counts (``dp_size=1``,
            ``batch_num_tokens=None``, ``global_batch_size=None``) and its loss is divided by
            ``num_micro_batches`` (the textbook "loss / gradient_accumulation_steps").

    Returns:
        One gradient per parameter, same shapes: the sum over a rank's micro-batches, then the
        mean over ranks (what the all-reduce leaves on every rank). With ``global_counts`` it
        equals the gradient of ``loss_fn(batch, dp_size=1, batch_num_tokens=..., global_batch_size=bs)``
        for every mode, however ``batch`` is split.

    Conventions:
        Rank ``r`` gets rows ``[r·bs/dp_size, (r+1)·bs/dp_size)``; each rank's rows are cut into
        ``num_micro_batches`` equal, contiguous micro-batches, in order. ``ValueError`` when ``bs``
        is not divisible by ``dp_size × num_micro_batches`` (or either is < 1). A micro-batch
        without a valid token contributes exactly 0 with global counts; with local counts its
        loss is what ``agg_loss`` gives (NaN: 0 / 0), its gradient still 0.

    Example:
        token-mean, 1 rank, 2 micro-batches with 3 and 1 valid tokens, per-token losses
        [1, 1, 1] and [5]: global counts give (3 + 5) / 4 = 2 (the full batch); local counts give
        (3/3 + 5/1) / 2 = 3 — the lone token of the short micro-batch weighs 3× too much.

    verl: ``verl/workers/engine/fsdp/transformer_impl.py::forward_backward_batch`` and
    ``verl/workers/utils/losses.py::ppo_loss`` (which copies the counts into ``config.global_batch_info``).
    """
    # TODO: split rows by rank, then by micro-batch; choose the counts; sum per rank, average ranks.
    raise NotImplementedError("implement microbatch_gradients — see exercises/03/README.md §3.5")
