"""Target selection: which folder the graded tests take learner code from.

Graded tests never import learner code by path. They ask for a module with
:func:`learner_module`, which returns a lazy proxy; the file is imported on the
first attribute access, from the active target:

* ``exercises/`` (default), ``solutions/`` with ``--solutions``, or any folder
  laid out like ``exercises/`` with ``--target DIR``;
* resolved CLI > environment (``VERLINGS_TARGET``) > ini (``verlings_target``).

Anything wrong on the learner's side (missing file, syntax error, renamed
function) raises :class:`LearnerCodeError`, an ``AssertionError`` whose message
says what to fix, so it is reported as that test's failure and never as a
collection error.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from verlings.paths import EXERCISES, SOLUTIONS, display

ENV_VAR = "VERLINGS_TARGET"

_active: Path | None = None
_cache: dict[tuple[Path, str, str], ModuleType] = {}


class LearnerCodeError(AssertionError):
    """The learner's module or function cannot be used as it is (not a harness bug)."""


def resolve(solutions: bool = False, target: str | os.PathLike | None = None, ini: str | None = None) -> Path:
    """The target folder for these settings: CLI flags > environment > ini > exercises/."""
    if solutions and target:
        raise ValueError("use either --solutions or --target DIR, not both")
    if solutions:
        return SOLUTIONS
    chosen = target or os.environ.get(ENV_VAR) or ini
    if not chosen:
        return EXERCISES
    path = Path(chosen).expanduser().resolve()
    if not path.is_dir():
        raise ValueError(f"target folder {chosen!r} does not exist (expected a folder laid out like exercises/)")
    return path


def set_active(path: Path) -> None:
    global _active
    _active = Path(path).resolve()


def active() -> Path:
    """The target in force; outside pytest, the environment decides."""
    return _active if _active is not None else resolve()


def describe(path: Path) -> str:
    path = Path(path).resolve()
    if path == SOLUTIONS:
        return "solutions/ (reference solutions)"
    if path == EXERCISES:
        return "exercises/ (your code)"
    return f"{path} (--target)"


def load_module(chapter: str, module: str, root: Path | None = None) -> ModuleType:
    """Import ``<target>/<chapter>/<module>.py`` under a name unique to that file."""
    root = Path(root).resolve() if root is not None else active()
    key = (root, chapter, module)
    if key in _cache:
        return _cache[key]
    path = root / chapter / f"{module}.py"
    if not path.is_file():
        raise LearnerCodeError(
            f"{display(path)} not found — the exercise expects a module named `{module}.py` "
            f"in chapter {chapter} of the target folder"
        )
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    name = f"_verlings_target_{digest}_{chapter}_{module}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    except Exception as exc:  # the learner's import-time error, reported as a failure
        sys.modules.pop(name, None)
        where = traceback.extract_tb(exc.__traceback__)[-1]
        raise LearnerCodeError(
            f"importing {display(path)} failed: {type(exc).__name__}: {exc} "
            f"(at {display(Path(where.filename))}:{where.lineno})"
        ) from exc
    _cache[key] = mod
    return mod


class LearnerModule:
    """A lazy handle on one learner module; attribute access imports it and finds the name."""

    def __init__(self, chapter: str, module: str) -> None:
        self._chapter = chapter
        self._module = module

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        mod = load_module(self._chapter, self._module)
        try:
            return getattr(mod, name)
        except AttributeError:
            raise LearnerCodeError(
                f"`{name}` not found in {display(Path(mod.__file__))} — did you rename or delete it?"
            ) from None

    def __repr__(self) -> str:
        return f"<learner module {self._chapter}/{self._module}.py from {describe(active())}>"


def learner_module(chapter: str, module: str) -> LearnerModule:
    """The learner's ``<chapter>/<module>.py`` from the active target, imported lazily."""
    return LearnerModule(chapter, module)
