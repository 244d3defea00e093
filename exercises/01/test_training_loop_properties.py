"""Graded differential tests for exercises/01/training_loop.py: your repeat_batch against verl 0.9.1's
``DataProto.repeat`` (``verl/protocol.py``, its own source compiled without importing verl) on generated
batches: int, bool, float32/float64/bfloat16 tensors of one to three dimensions, numpy columns of
strings (dtype object) and ints, one row or several, repeat_times 1 to 4, interleaved or not.
Hypothesis is derandomized: the same batches on every run; a failure shows the smallest it found.

fit_step has no verl counterpart that runs here: ``RayPPOTrainer.fit`` needs Ray worker groups and a
model (its stage order is checked against verl's source by tests/test_verl_01_training_loop.py).
"""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from verlings import learner_module
from verlings.differential import PROPERTY_SETTINGS, tensor_text, verl_method
from verlings.testing import hint_line

loop = learner_module("01", "training_loop")


class _Tensors(dict):
    """verl's ``self.batch`` is a TensorDict; its ``repeat`` reads only ``.items()`` and ``.batch_size``."""

    def __init__(self, columns: dict, rows: int):
        super().__init__(columns)
        self.batch_size = (rows,)


def _verl_repeat(batch: dict, repeat_times: int, interleave: bool) -> dict:
    """verl's DataProto.repeat on ``batch`` split as DataProto holds it (tensors | numpy), merged back."""
    repeat = verl_method(
        "protocol.py",
        "DataProto",
        "repeat",
        # The TensorDict container becomes a dict; every tensor and numpy operation is verl's own.
        {"TensorDict": lambda source, batch_size: source, "np": np},
    )
    rows = len(next(iter(batch.values())))
    tensors = {k: v.clone() for k, v in batch.items() if isinstance(v, torch.Tensor)}
    arrays = {k: v.copy() for k, v in batch.items() if isinstance(v, np.ndarray)}
    proto = SimpleNamespace(batch=_Tensors(tensors, rows) if tensors else None, non_tensor_batch=arrays, meta_info={})
    out = repeat(proto, repeat_times=repeat_times, interleave=interleave)
    return {**(out.batch or {}), **out.non_tensor_batch}


DTYPES = [torch.int64, torch.int32, torch.bool, torch.float32, torch.float64, torch.bfloat16]


@st.composite
def batches(draw):
    rows = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**16))
    g = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    columns = {}
    for i in range(draw(st.integers(1, 3))):
        dtype = draw(st.sampled_from(DTYPES))
        shape = (rows, *draw(st.lists(st.integers(1, 3), max_size=2)))
        values = torch.randint(-50, 50, shape, generator=g)
        columns[f"t{i}"] = values > 0 if dtype is torch.bool else values.to(dtype) / (1 if values.dtype == dtype else 4)
    for i in range(draw(st.integers(0, 2))):
        if draw(st.booleans()):
            columns[f"s{i}"] = np.array([f"p{r}-{rng.integers(100)}" for r in range(rows)], dtype=object)
        else:
            columns[f"a{i}"] = rng.integers(0, 9, size=(rows, *draw(st.lists(st.integers(1, 3), max_size=1))))
    return columns


def _miss(seen, expected) -> str | None:
    if not isinstance(seen, dict):
        return f"a {type(seen).__name__}, not a dict"
    if sorted(seen) != sorted(expected):
        return f"keys {sorted(seen)}, verl's are {sorted(expected)}"
    for key, want in expected.items():
        got = seen[key]
        if type(got) is not type(want):
            return f"column {key!r} is a {type(got).__name__}; verl's is a {type(want).__name__}"
        if got.dtype != want.dtype or tuple(got.shape) != tuple(want.shape):
            mine, verls = f"{got.dtype}, shape {tuple(got.shape)}", f"{want.dtype}, shape {tuple(want.shape)}"
            return f"column {key!r}: {mine}; verl's {verls}"
        same = torch.equal(got, want) if isinstance(want, torch.Tensor) else np.array_equal(got, want)
        if not same:
            return f"column {key!r} → {tensor_text(got)}; verl → {tensor_text(want)}"
    return None


def _show(batch: dict) -> str:
    return "{" + ", ".join(f"{k!r}: {tensor_text(v)}" for k, v in batch.items()) + "}"


@pytest.mark.exercise("01.repeat")
@settings(PROPERTY_SETTINGS, max_examples=25)
@given(batch=batches(), repeat_times=st.integers(1, 4), interleave=st.booleans())
def test_repeat_batch_agrees_with_verl_dataproto_repeat(batch, repeat_times, interleave):
    expected = _verl_repeat(batch, repeat_times, interleave)
    pristine = {k: v.clone() if isinstance(v, torch.Tensor) else v.copy() for k, v in batch.items()}
    seen = loop.repeat_batch(batch=batch, repeat_times=repeat_times, interleave=interleave)
    miss = _miss(seen, expected)
    call = f"repeat_batch({_show(pristine)}, repeat_times={repeat_times}, interleave={interleave})" if miss else ""
    assert miss is None, (
        f"called {call}:\n  {miss}\n  verl's DataProto.repeat: interleave → each row's copies side by side "
        f"(np.repeat / repeat_interleave), else the whole batch again (np.tile); dtype and other dimensions kept"
        f"\n{hint_line()}"
    )
    changed = _miss(batch, pristine)
    assert changed is None, (
        f"called repeat_batch({_show(pristine)}, repeat_times={repeat_times}, interleave={interleave}): "
        f"the input batch was changed ({changed}); verl returns a new batch\n{hint_line()}"
    )
