"""Helpers for graded tests: golden values and assertions whose messages teach.

A failure message says what was expected, what was seen, where they differ, and
which hint applies::

    compute_gae_advantage_return → advantages: 3 of 24 values differ (max |Δ| 0.41 at [1, 5])
      expected: 0.1250   seen: 0.5350
      the differences are only where response_mask is 0 — are masked tokens skipped?
      hint: python grader.py hint 03.gae
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from verlings.paths import EXERCISES

RTOL = 1e-5
ATOL = 1e-6


def snapshot_path(chapter: str, name: str) -> Path:
    return EXERCISES / chapter / "_snapshots" / f"{name}.npz"


def golden(chapter: str, name: str) -> dict[str, np.ndarray]:
    """Golden arrays stored in ``exercises/<chapter>/_snapshots/<name>.npz``.

    They were produced from verl by ``python -m verlings.goldens <chapter>``.
    """
    path = snapshot_path(chapter, name)
    if not path.is_file():
        raise FileNotFoundError(
            f"golden file {path} is missing — regenerate with `python -m verlings.goldens {chapter}`"
        )
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def tensors(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The same dict with numeric arrays as torch tensors (dtype kept)."""
    import torch

    return {k: torch.from_numpy(np.array(v)) if v.dtype.kind in "fiub" else v for k, v in arrays.items()}


def _numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu()
        if str(x.dtype) == "torch.bfloat16":  # numpy has no bfloat16
            x = x.float()
        x = x.numpy()
    return np.asarray(x)


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def assert_close(
    seen: Any,
    expected: Any,
    *,
    what: str,
    exercise: str | None = None,
    mask: Any = None,
    rtol: float = RTOL,
    atol: float = ATOL,
    why: str | None = None,
) -> None:
    """Assert two arrays/tensors/numbers are equal within float32 tolerances, explaining any miss.

    ``mask`` (same shape, 1 = valid token) lets the message say whether the
    differences sit only on masked positions — the most common bug in this course.
    """
    s, e = _numpy(seen), _numpy(expected)
    lines: list[str] = []
    if s.shape != e.shape:
        lines.append(f"{what}: shape {tuple(s.shape)} but expected {tuple(e.shape)}")
    else:
        s64, e64 = s.astype(np.float64), e.astype(np.float64)
        nan_bad = np.isnan(s64) != np.isnan(e64)
        close = np.isclose(s64, e64, rtol=rtol, atol=atol, equal_nan=True) & ~nan_bad
        if close.all():
            return
        bad = ~close
        idx = tuple(int(i) for i in np.argwhere(bad)[0]) if s.ndim else ()
        diff = np.abs(np.where(bad, s64 - e64, 0.0))
        diff = np.where(np.isnan(diff), np.inf, diff)
        lines.append(
            f"{what}: {int(bad.sum())} of {bad.size} values differ (max |Δ| {_fmt(float(diff.max()))}"
            + (f" at {list(idx)})" if idx else ")")
        )
        lines.append(f"  expected: {_fmt(float(e64[idx]))}   seen: {_fmt(float(s64[idx]))}")
        if np.isnan(s64).any() and not np.isnan(e64).any():
            lines.append("  your result has NaN where none is expected (0/0, inf - inf, 0 * inf or log of 0?)")
        if mask is not None:
            m = _numpy(mask).astype(bool)
            if m.shape == bad.shape:
                if not (bad & m).any():
                    lines.append("  the differences are only where the mask is 0 — are masked positions handled?")
                elif not (bad & ~m).any() and (~m).any():
                    lines.append("  masked positions are right; the valid tokens are not")
    if why:
        lines.append(f"  {why}")
    if exercise:
        lines.append(f"  hint: python grader.py hint {exercise}")
    raise AssertionError("\n".join(lines))


def assert_equal(seen: Any, expected: Any, *, what: str, exercise: str | None = None, why: str | None = None) -> None:
    """Exact equality for non-float results (strings, ints, lists), with the same message style."""
    if seen == expected or (
        isinstance(seen, float) and isinstance(expected, float) and math.isnan(seen) and math.isnan(expected)
    ):
        return
    lines = [f"{what}:", f"  expected: {expected!r}", f"  seen:     {seen!r}"]
    if why:
        lines.append(f"  {why}")
    if exercise:
        lines.append(f"  hint: python grader.py hint {exercise}")
    raise AssertionError("\n".join(lines))
