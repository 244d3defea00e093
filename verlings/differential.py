"""Differential tests: the learner's function against verl's on generated inputs (Hypothesis).

A graded property test draws inputs with Hypothesis (derandomized: the same examples on every
run, no database, no deadline), calls the learner's function and verl's, and on the first
difference fails with the smallest input Hypothesis could shrink it to, in the course's form::

    called extract_solution('####\\n72', 'strict') → '72'; verl → None

A wrong return type names the input and the type instead of failing inside the comparison.
verl's side is either verl's own source file loaded by path (for pure-Python files such as
``verl/utils/reward_score/gsm8k.py``: importing the ``verl`` package would cost seconds) or a
verl function the chapter imports anyway.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from hypothesis import HealthCheck, settings

from verlings.testing import hint_line

# verl's side, run from verl's own source (verlings/verl_source.py); graded tests import it from here.
from verlings.verl_source import verl_core_algos as verl_core_algos
from verlings.verl_source import verl_functions as verl_functions
from verlings.verl_source import verl_hermes_parser as verl_hermes_parser
from verlings.verl_source import verl_method as verl_method
from verlings.verl_source import verl_source_module as verl_source_module
from verlings.verl_source import verl_torch_functional as verl_torch_functional

# Bounded and deterministic: the same examples on every machine, and a chapter's time budget holds.
PROPERTY_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=120,
    print_blob=False,
    report_multiple_bugs=False,  # one failure, shrunk, raised as itself (the harness reads its type)
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    if len(text) <= limit:
        return text
    # Long strings (the 300-character clip): keep both ends, say how long it was.
    return f"{text[: limit // 2]}…{text[-limit // 2 :]} ({len(value) if hasattr(value, '__len__') else '?'} long)"


def call_text(name: str, args: tuple = (), kwargs: Mapping[str, Any] | None = None) -> str:
    """``extract_solution('####\\n72', 'strict')``: how the failing call is shown."""
    parts = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in (kwargs or {}).items()]
    return f"{name}({', '.join(parts)})"


def _hint() -> str:
    """The running test's hint pointer on a line of its own ("" outside a graded test)."""
    line = hint_line()
    return f"\n{line}" if line else ""


def check_type(name: str, seen: Any, types: tuple[type, ...], call: str) -> None:
    """Fail with the input and the type when the learner's result is not one of ``types``."""
    __tracebackhide__ = True
    if isinstance(seen, bool) and bool not in types:
        ok = False  # True is an int to isinstance, but never a score or an answer
    else:
        ok = isinstance(seen, types)
    if not ok:
        wanted = " or ".join("None" if t is type(None) else t.__name__ for t in types)
        raise AssertionError(f"called {call} → {_short(seen)}, a {type(seen).__name__}; verl returns {wanted}{_hint()}")


def assert_agrees(
    name: str,
    learner: Callable[..., Any],
    verl: Callable[..., Any],
    args: tuple = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    types: tuple[type, ...] | None = None,
    same: Callable[[Any, Any], bool] | None = None,
    why: str = "",
) -> None:
    """The learner's ``name(*args, **kwargs)`` equals verl's, else a one-line counterexample."""
    __tracebackhide__ = True
    kwargs = dict(kwargs or {})
    call = call_text(name, args, kwargs)
    expected = verl(*args, **kwargs)
    seen = learner(*args, **kwargs)
    if types is not None:
        check_type(name, seen, types, call)
    equal = same(seen, expected) if same is not None else seen == expected
    if not equal:
        because = f"\n  {why}" if why else ""
        raise AssertionError(f"called {call} → {_short(seen)}; verl → {_short(expected)}{because}{_hint()}")


# ------------------------------------------------------------------ tensors: values, dtype, inputs left alone

# Per dtype: how far two correct orders of the same float operations may drift apart.
TOLERANCES = {
    "torch.float64": (1e-6, 1e-7),  # γ or λ held as a float32 inside a float64 computation is not the point
    "torch.float32": (1e-5, 1e-6),
    "torch.float16": (4e-3, 2e-3),
    "torch.bfloat16": (3e-2, 2e-2),
}


def tensor_text(x: Any) -> str:
    """A small tensor as one line: ``bf16[[1.0, 0.5], [2.0, nan]]`` (dtype first, values as lists)."""
    import torch

    if isinstance(x, torch.Tensor):
        short = str(x.dtype).removeprefix("torch.").replace("bfloat", "bf").replace("float", "f").replace("int", "i")
        values = x.detach().double().tolist() if x.is_floating_point() else x.tolist()
        return f"{short}({values})" if x.dim() == 0 else f"{short}{values}"
    if isinstance(x, np.ndarray):
        return f"array({x.tolist()})"
    if isinstance(x, tuple | list) and any(isinstance(v, torch.Tensor) for v in x):
        inner = ", ".join(tensor_text(v) for v in x)
        return f"({inner})" if isinstance(x, tuple) else f"[{inner}]"
    return repr(x)


def _clone(x: Any) -> Any:
    import torch

    if isinstance(x, torch.Tensor):
        return x.detach().clone()
    if isinstance(x, np.ndarray):
        return x.copy()
    return x


def _same_input(a: Any, b: Any) -> bool:
    import torch

    if isinstance(a, torch.Tensor):
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.is_floating_point():
            return bool(((a == b) | (a.isnan() & b.isnan())).all())
        return bool(torch.equal(a, b))
    if isinstance(a, np.ndarray):
        return bool(np.array_equal(a, b))
    return True


def _tolerance(*tensors: Any) -> tuple[float, float]:
    """The loosest tolerance among the float dtypes involved: a bfloat16 input leaves bfloat16 noise
    in a float32 result (verl's float32 mask promotes a sum that a bool mask keeps in bfloat16)."""
    import torch

    found = [TOLERANCES[str(t.dtype)] for t in tensors if isinstance(t, torch.Tensor) and str(t.dtype) in TOLERANCES]
    return max(found, default=TOLERANCES["torch.float32"])


def _tensor_miss(
    seen: Any, expected: Any, where: Any, tolerance: tuple[float, float], dtype: bool = True
) -> str | None:
    """Why ``seen`` is not ``expected`` (dtype, shape, values within ``tolerance``), or None."""
    import torch

    if isinstance(expected, tuple | list):
        if not isinstance(seen, tuple | list) or len(seen) != len(expected):
            return f"verl returns a tuple of {len(expected)}; this is a {type(seen).__name__}"
        for i, (s, e) in enumerate(zip(seen, expected, strict=True)):
            miss = _tensor_miss(s, e, where, tolerance, dtype)
            if miss:
                return f"item {i}: {miss}"
        return None
    if isinstance(expected, torch.Tensor):
        if not isinstance(seen, torch.Tensor):
            return f"a {type(seen).__name__}, not a torch.Tensor"
        if seen.shape != expected.shape:
            return f"shape {tuple(seen.shape)}, verl's is {tuple(expected.shape)}"
        if dtype and seen.dtype != expected.dtype:
            return f"dtype {seen.dtype}, verl's is {expected.dtype}"
        if not expected.is_floating_point():
            return None if torch.equal(seen, expected) else "values differ"
        rtol, atol = max(tolerance, _tolerance(expected))
        s, e = seen.detach().double(), expected.detach().double()
        close = torch.isclose(s, e, rtol=rtol, atol=atol, equal_nan=True)
        if where is not None and where.shape == close.shape:
            close = close | ~where.bool()  # positions the contract leaves open
        return None if bool(close.all()) else "values differ"
    if isinstance(expected, float | int):
        if not isinstance(seen, float | int) or isinstance(seen, bool):
            return f"a {type(seen).__name__}, verl returns a {type(expected).__name__}"
        return (
            None
            if math.isclose(seen, expected, rel_tol=1e-6) or (seen != seen and expected != expected)
            else ("values differ")
        )
    return None if seen == expected else "values differ"


def assert_tensors_agree(
    name: str,
    learner: Callable[..., Any],
    verl: Callable[..., Any],
    args: tuple = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    where: Any = None,
    atol: float = 0.0,
    dtype: bool = True,
    why: str = "",
) -> None:
    """The learner's tensor function against verl's on one input: raises, values, dtype, inputs kept.

    - verl raises → the learner must raise the same type (e.g. ``ValueError`` for a variance of
      fewer than two valid values).
    - results: same structure, shape and dtype (``dtype=False`` where the contract states none:
      verl's dtypes there are accidents of promotion, e.g. bfloat16 meeting a float mask); values
      within the dtype's tolerance (:data:`TOLERANCES`, the loosest of the inputs' and the
      result's; ``atol`` widens it where verl itself cancels large numbers), NaN where verl has
      NaN; ``where`` (a mask) leaves other positions open.
    - every tensor or array argument is unchanged afterwards (no in-place edits of the caller's data).
    """
    __tracebackhide__ = True
    kwargs = dict(kwargs or {})
    call = f"{name}({', '.join([tensor_text(a) for a in args] + [f'{k}={tensor_text(v)}' for k, v in kwargs.items()])})"
    pristine_args, pristine_kwargs = [_clone(a) for a in args], {k: _clone(v) for k, v in kwargs.items()}
    try:
        expected = verl(*[_clone(a) for a in args], **{k: _clone(v) for k, v in kwargs.items()})
    except Exception as verl_error:  # verl's refusal is part of the contract
        try:
            seen = learner(*args, **kwargs)
        except type(verl_error):
            return
        raise AssertionError(
            f"called {call} → {tensor_text(seen)}; verl raises {type(verl_error).__name__}: {verl_error}"
            f"{_why(why)}{_hint()}"
        ) from None
    seen = learner(*args, **kwargs)
    rtol, base_atol = _tolerance(*args, *kwargs.values())
    miss = _tensor_miss(seen, expected, where, (rtol, max(base_atol, atol)), dtype)
    if miss:
        raise AssertionError(
            f"called {call}\n  → {tensor_text(seen)}\n  verl → {tensor_text(expected)}\n  ({miss}){_why(why)}{_hint()}"
        )
    for i, (now, before) in enumerate(zip(args, pristine_args, strict=True)):
        if not _same_input(now, before):
            raise AssertionError(
                f"called {call}: argument {i + 1} was changed in place (now {tensor_text(now)}); "
                f"verl leaves its inputs as they were — compute on a copy{_hint()}"
            )
    for key, before in pristine_kwargs.items():
        if not _same_input(kwargs[key], before):
            raise AssertionError(
                f"called {call}: {key} was changed in place (now {tensor_text(kwargs[key])}); "
                f"verl leaves its inputs as they were — compute on a copy{_hint()}"
            )


def _why(why: str) -> str:
    return f"\n  {why}" if why else ""
