"""Golden values for exercises/03 accumulation.py: gradients of a mini-batch split over ranks and micro-batches.

The per-token loss is a small least-squares model, ``loss_mat = (x @ w + b - y)²``, aggregated by
verl 0.9.1's own ``agg_loss``. Stored per mode:

* ``full__<mode>__w`` / ``__b``: the gradient of the whole mini-batch, aggregated with the counts
  verl's trainer passes (``batch_num_tokens`` = valid tokens, ``global_batch_size`` = rows);
* ``local__<mode>__<dp>x<mb>__w`` / ``__b``: the classic gradient-accumulation bug, each
  micro-batch normalised by its own counts and divided by the number of micro-batches, the
  ranks averaged as the all-reduce does. It is NaN where a micro-batch has no valid token
  (verl divides by its zero count).
"""

from __future__ import annotations

import json

import numpy as np
import torch

from verlings.goldens import snapshot

AGG_MODES = ("token-mean", "token-sum", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm")
# (dp_size, num_micro_batches): 8 rows → micro-batches of 4, 2 or 1 rows.
SPLITS = ((1, 1), (1, 2), (2, 1), (2, 2), (1, 4), (4, 1), (4, 2))
# Valid tokens per row: unequal on purpose, and row 3 is all padding (with 1-row micro-batches,
# one micro-batch has no valid token at all).
LENGTHS = (6, 5, 1, 0, 6, 2, 1, 6)


def make_batch(seed: int = 311) -> dict[str, torch.Tensor]:
    """x (8, 6, 3), y (8, 6), response_mask (8, 6) int64, w (3,), b (1,); junk under the mask."""
    g = torch.Generator().manual_seed(seed)
    bs, response_length, d = len(LENGTHS), 6, 3
    mask = (torch.arange(response_length)[None, :] < torch.tensor(LENGTHS)[:, None]).long()
    x = torch.randn(bs, response_length, d, generator=g)
    y = torch.randn(bs, response_length, generator=g)
    x = torch.where(mask.bool()[..., None], x, torch.full_like(x, 30.0))
    y = torch.where(mask.bool(), y, torch.full_like(y, -50.0))
    return {"x": x, "y": y, "response_mask": mask, "w": torch.randn(d, generator=g), "b": torch.randn(1, generator=g)}


def loss_mat(micro_batch: dict[str, torch.Tensor], w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (micro_batch["x"] @ w + b - micro_batch["y"]) ** 2


def _grads(loss: torch.Tensor, params: list[torch.Tensor]) -> list[torch.Tensor]:
    return list(torch.autograd.grad(loss, params))


@snapshot("03", "microbatch_gradients")
def microbatch_gradients() -> dict:
    from verl.trainer.ppo.core_algos import agg_loss

    batch = make_batch()
    rows = {k: v for k, v in batch.items() if k in ("x", "y", "response_mask")}
    bs = len(LENGTHS)
    out = {**batch, "splits": np.array(SPLITS), "modes": np.array(json.dumps(AGG_MODES))}
    for mode in AGG_MODES:
        w, b = batch["w"].clone().requires_grad_(True), batch["b"].clone().requires_grad_(True)
        full = agg_loss(
            loss_mat(rows, w, b),
            rows["response_mask"],
            mode,
            batch_num_tokens=int(rows["response_mask"].sum()),
            global_batch_size=bs,
        )
        out[f"full__{mode}__w"], out[f"full__{mode}__b"] = _grads(full, [w, b])
        for dp_size, n_micro in SPLITS:
            per_rank = bs // dp_size
            size = per_rank // n_micro
            total = [torch.zeros_like(batch["w"]), torch.zeros_like(batch["b"])]
            for rank in range(dp_size):
                for k in range(n_micro):
                    start = rank * per_rank + k * size
                    mb = {key: v[start : start + size] for key, v in rows.items()}
                    loss = agg_loss(loss_mat(mb, w, b), mb["response_mask"], mode) / n_micro
                    for acc, grad in zip(total, _grads(loss, [w, b])):
                        acc += grad / dp_size  # the all-reduce averages the ranks
            out[f"local__{mode}__{dp_size}x{n_micro}__w"], out[f"local__{mode}__{dp_size}x{n_micro}__b"] = total
    return out
