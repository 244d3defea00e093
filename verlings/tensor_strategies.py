"""Hypothesis strategies for chapter 03's differential tests: the batches verl's maths meets.

Small batches (1–4 rows, 1–6 tokens) with the awkward cases the goldens never hold:
ragged masks *without* a full-length row, holes inside a response, rows and whole batches
of padding; float32 / float64 / bfloat16 / float16 values; inf or NaN under the mask. Values
are multiples of 0.5 in [-4, 4]: exact in bfloat16, so two correct orders of the same sums
agree and only a real difference fails.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from hypothesis import Phase, settings
from hypothesis import strategies as st

from verlings.differential import PROPERTY_SETTINGS

# Derandomized and bounded (PROPERTY_SETTINGS) with fewer examples: a tensor example costs ~10 ms of
# maths but ~10 ms of Hypothesis, and chapter 03 runs 15 such tests (its graded run may grow 20 % at
# most). No "explain" phase: it traces every line (seconds on Python 3.11).
TENSOR_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=15, phases=[Phase.explicit, Phase.generate, Phase.shrink])

FLOAT_DTYPES = (torch.float32, torch.float64, torch.bfloat16, torch.float16)
MASK_KINDS = ("right-padded", "holes", "all-padding", "full")


# Helpers called with a composite's ``draw``, not strategies of their own: Hypothesis validates every
# new strategy object, and one per example (per shape) cost more than the maths under test. The
# strategies they draw from are built once (lru_cache).


@functools.cache
def _fixed_lists(element: st.SearchStrategy, n: int) -> st.SearchStrategy:
    return st.lists(element, min_size=n, max_size=n)


@functools.cache
def _integers(lo: int, hi: int) -> st.SearchStrategy:
    return st.integers(lo, hi)


@functools.cache
def _sampled(options: tuple) -> st.SearchStrategy:
    return st.sampled_from(options)


_BITS = st.booleans()
_SEEDS = st.integers(0, 2**16)


def masks(draw, rows: int, width: int, dtypes: tuple[torch.dtype, ...] = (torch.int64, torch.bool, torch.float32)):
    """A ``(rows, width)`` 0/1 mask: right-padded rows of any length (0 included, no row forced
    to full length), arbitrary holes, all padding, or all ones."""
    kind = draw(_sampled(MASK_KINDS))
    if kind == "right-padded":
        lengths = draw(_fixed_lists(_integers(0, width), rows))
        mask = torch.arange(width)[None, :] < torch.tensor(lengths)[:, None]
    elif kind == "holes":
        bits = draw(_fixed_lists(_BITS, rows * width))
        mask = torch.tensor(bits).reshape(rows, width)
    else:
        mask = torch.full((rows, width), kind == "full")
    return mask.to(draw(_sampled(dtypes)))


def values(draw, shape: tuple[int, ...], dtype: torch.dtype, low: float = -4.0, high: float = 4.0):
    """A tensor of ``shape`` and ``dtype`` holding multiples of 0.5 in [low, high].

    Up to 12 values are drawn one by one (Hypothesis shrinks each); a larger tensor (logits) comes
    from one drawn seed: drawing 120 numbers one at a time costs more than the maths under test.
    """
    n = int(np.prod(shape)) if shape else 1
    lo, hi = int(low * 2), int(high * 2)
    if n <= 12:
        halves = torch.tensor(draw(_fixed_lists(_integers(lo, hi), n)), dtype=torch.float64)
    else:
        seed = draw(_SEEDS)
        halves = torch.randint(lo, hi + 1, (n,), generator=torch.Generator().manual_seed(seed)).double()
    return (halves / 2).reshape(shape).to(dtype)


def with_junk(x: torch.Tensor, mask: torch.Tensor, junk: float) -> torch.Tensor:
    """``x`` with ``junk`` (inf, NaN, a large number) on the masked positions."""
    return torch.where(mask.bool(), x, torch.tensor(junk, dtype=x.dtype))


batch_shapes = st.tuples(st.integers(1, 4), st.integers(1, 6))
float_dtypes = st.sampled_from(FLOAT_DTYPES)
