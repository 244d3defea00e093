"""Golden values for exercises/01 training_loop.py, from verl 0.9.1 (``DataProto.repeat``)."""

from __future__ import annotations

import numpy as np
import torch

from verlings.goldens import snapshot


@snapshot("01", "repeat")
def repeat() -> dict:
    """Three rows of mixed columns repeated 3 times, interleaved and not, by verl's DataProto.

    Keys: ``in_<col>`` inputs, ``inter_<col>`` interleave=True, ``block_<col>`` interleave=False.
    ``tags`` (str) and ``grid`` (int, 2-D) are numpy columns; the rest are tensors.
    Strings are stored as numpy unicode (npz cannot hold object arrays); the tests turn them
    back into object arrays, the dtype verl uses for non-tensor columns.
    """
    from verl import DataProto

    g = torch.Generator().manual_seed(101)
    tensors = {
        "input_ids": torch.randint(3, 100, (3, 5), generator=g),
        "attention_mask": (torch.rand(3, 5, generator=g) > 0.3).long(),
        "scores": torch.randn(3, 2, 4, generator=g),  # 3-D: repeat must keep the trailing dims
    }
    rng = np.random.default_rng(101)
    non_tensors = {
        "tags": np.array(["alpha", "beta", "gamma"], dtype=object),
        "grid": rng.integers(0, 50, size=(3, 2)),
    }
    data = DataProto.from_dict(tensors=tensors, non_tensors=non_tensors)
    out: dict = {}
    for prefix, interleave in (("inter", True), ("block", False)):
        rep = data.repeat(repeat_times=3, interleave=interleave)
        out.update({f"{prefix}_{k}": v for k, v in rep.batch.items()})
        out.update({f"{prefix}_{k}": v for k, v in rep.non_tensor_batch.items()})
    out.update({f"in_{k}": v for k, v in {**tensors, **non_tensors}.items()})
    return {k: (np.asarray(v, dtype=str) if k.endswith("tags") else v) for k, v in out.items()}
