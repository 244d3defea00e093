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

import importlib.util
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, settings

from verlings.testing import CURRENT_EXERCISE

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


def verl_source_module(relative: str) -> ModuleType:
    """verl's file ``verl/<relative>`` executed on its own, without importing the ``verl`` package.

    Only for files that import nothing from verl (``utils/reward_score/gsm8k.py``): the code
    that runs is verl 0.9.1's, byte for byte, and the chapter does not pay verl's import time.
    """
    name = "verlings_verl_src_" + relative.replace("/", "_").removesuffix(".py")
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec("verl")  # a top-level find_spec runs nothing
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("verl is not installed in this environment (the course needs verl 0.9.1)")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    file_spec = importlib.util.spec_from_file_location(name, path)
    assert file_spec is not None and file_spec.loader is not None, path
    module = importlib.util.module_from_spec(file_spec)
    file_spec.loader.exec_module(module)
    sys.modules[name] = module
    return module


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
    exercise = CURRENT_EXERCISE.get()
    return f"\n  hint: python grader.py hint {exercise}" if exercise else ""


def check_type(name: str, seen: Any, types: tuple[type, ...], call: str) -> None:
    """Fail with the input and the type when the learner's result is not one of ``types``."""
    __tracebackhide__ = True
    if isinstance(seen, bool) and bool not in types:
        ok = False  # True is an int to isinstance, but never a score or an answer
    else:
        ok = isinstance(seen, types)
    if not ok:
        wanted = " or ".join("None" if t is type(None) else t.__name__ for t in types)
        raise AssertionError(
            f"called {call} → {_short(seen)}, a {type(seen).__name__}; verl returns {wanted}{_hint()}"
        )


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
