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
from contextvars import ContextVar
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from verlings.messages import cause_line
from verlings.paths import EXERCISES

RTOL = 1e-5
ATOL = 1e-6

# The exercise of the graded test now running, set by the plug-in from its ``exercise`` marker
# (chapter.toml's id): the hint line of a failure names it without an ``exercise=`` argument.
CURRENT_EXERCISE: ContextVar[str | None] = ContextVar("verlings_current_exercise", default=None)


def _hint_line(exercise: str | None) -> list[str]:
    """The hint pointer of a failure: the given exercise, else the running test's."""
    exercise = exercise or CURRENT_EXERCISE.get()
    return [f"  hint: python grader.py hint {exercise}"] if exercise else []


def _fail(lines: list[str], why: str | None, cause: str | None, exercise: str | None) -> NoReturn:
    """Raise the failure whose first lines are ``lines``, ended as every message of the course is:
    the neutral why, the named cause (only where isolated), the hint pointer."""
    __tracebackhide__ = True
    if why:
        lines.append(f"  {why}")
    if cause:
        lines.append(f"  {cause_line(cause)}")
    lines += _hint_line(exercise)
    raise AssertionError("\n".join(lines))


def hint_line() -> str:
    """``"  hint: python grader.py hint <id>"`` for the running test's exercise (its marker), for a
    message a test writes itself, so the id is typed once, in the marker; "" outside a graded test."""
    return "".join(_hint_line(None))


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
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _GOLDEN_MEMO:
        with np.load(path, allow_pickle=False) as data:
            _GOLDEN_MEMO[key] = {k: data[k] for k in data.files}
    # copies: a test or a learner's function may write into what it is handed
    return {k: v.copy() for k, v in _GOLDEN_MEMO[key].items()}


# a chapter 03 run reads its goldens 152 times, from 20 files (unzipping each costs ~1 ms)
_GOLDEN_MEMO: dict[tuple[str, int, int], dict[str, np.ndarray]] = {}


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
    cause: str | None = None,
    inputs: dict[str, Any] | None = None,
) -> None:
    """Assert two arrays/tensors/numbers are equal within float32 tolerances, explaining any miss.

    The message shows the pair at the largest difference. ``mask`` (same shape, 1 = valid
    token) lets it say whether the differences sit only on masked positions — the most common
    bug in this course. ``inputs`` (name -> array whose first axis is the batch row) adds that
    row's inputs, cut to fit one line each. ``why`` says what is being compared (neutral);
    ``cause`` (a key of :data:`verlings.messages.CAUSES`) names a mistake — only where the
    test's inputs isolate it. ``exercise`` is optional: the hint line names the running test's
    exercise (its marker); pass it only to point elsewhere.
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
        diff = np.abs(np.where(bad, s64 - e64, 0.0))
        diff = np.where(bad & np.isnan(diff), np.inf, diff)  # a NaN on one side is the worst miss
        # the pair shown is the pair at the max, so the numbers agree with each other
        idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), diff.shape)) if s.ndim else ()
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
        if inputs and len(idx) >= 1:
            lines += _row_inputs(inputs, idx)
    _fail(lines, why, cause, exercise)


def matches(seen: Any, expected: Any, *, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """``assert_close`` as a question: lets a test name a cause only when a control case passes.

    E.g. "the reshuffled batch differs but the original order matches" isolates grouping by
    position; when both differ, the test says what differs, not why.
    """
    s, e = _numpy(seen), _numpy(expected)
    if s.shape != e.shape:
        return False
    return bool(np.isclose(s.astype(np.float64), e.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True).all())


ROW_WIDTH = 60  # characters of one input row: the message stays inside 80 columns


def _cut(values: np.ndarray, col: int | None, width: int = ROW_WIDTH) -> str:
    """A row of numbers as text; a long row is cut to a window around ``col``, marked ``[x]``."""
    cells = [_fmt(float(v)) if v.dtype.kind in "fiub" else str(v) for v in values]
    if col is not None and 0 <= col < len(cells):
        cells[col] = f"[{cells[col]}]"
    text = " ".join(cells)
    if len(text) <= width:
        return text
    lo = hi = col if col is not None and 0 <= col < len(cells) else 0
    size = len(cells[lo])
    while True:  # grow the window one cell at a time, right first, until the next would not fit
        grew = False
        for nxt in (hi + 1, lo - 1):
            if 0 <= nxt < len(cells) and size + len(cells[nxt]) + 1 <= width - 4:
                size += len(cells[nxt]) + 1
                lo, hi = min(lo, nxt), max(hi, nxt)
                grew = True
        if not grew:
            break
    return ("… " if lo > 0 else "") + " ".join(cells[lo : hi + 1]) + (" …" if hi < len(cells) - 1 else "")


def _row_inputs(inputs: dict[str, Any], idx: tuple[int, ...]) -> list[str]:
    row, col = idx[0], (idx[1] if len(idx) > 1 else None)
    lines = [f"  inputs of row {row}:"]
    for name, value in inputs.items():
        a = np.asarray(value) if not hasattr(value, "detach") else _numpy(value)
        if a.ndim == 0 or a.shape[0] <= row:
            continue
        r = a[row]
        text = _cut(np.atleast_1d(r), col if r.ndim == 1 else None)
        lines.append(f"    {name}: {text}")
    return lines


def assert_equal(
    seen: Any,
    expected: Any,
    *,
    what: str,
    exercise: str | None = None,
    why: str | None = None,
    cause: str | None = None,
) -> None:
    """Exact equality for non-float results (strings, ints, lists), with the same message style."""
    if seen == expected or (
        isinstance(seen, float) and isinstance(expected, float) and math.isnan(seen) and math.isnan(expected)
    ):
        return
    lines = [f"{what}:", f"  expected: {expected!r}", f"  seen:     {seen!r}"]
    _fail(lines, why, cause, exercise)
