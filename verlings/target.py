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

A target folder is imported as a package whose name the loader chooses, one sub-package per
chapter, so learner code imports a sibling of its own chapter relatively
(``from .masks import masked_whiten``) and another chapter's module with
:func:`chapter_module`.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import os
import sys
import traceback
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from verlings.paths import EXERCISES, SOLUTIONS, display

ENV_VAR = "VERLINGS_TARGET"

_active: Path | None = None


class LearnerCodeError(AssertionError):
    """The learner's module or function cannot be used as it is (not a harness bug)."""


class StubsNeeded(NotImplementedError):
    """A run needs learner functions of other chapters that are still stubs; the message names
    each one (file, function, exercise, lesson section), so no "raised at" line is added."""


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


def activate(path: Path) -> Callable[[], None]:
    """Make ``path`` the target in force, in this process (``set_active``) and for the processes
    tests start (``VERLINGS_TARGET``); returns what puts both back as they were.

    A module global, not a ContextVar or ``config.stash``: learner code reaches it from threads
    and subprocesses it starts, and from helpers that are given no pytest config.
    """
    global _active
    saved_active, saved_env = _active, os.environ.get(ENV_VAR)
    set_active(path)
    os.environ[ENV_VAR] = str(path)

    def restore() -> None:
        global _active
        _active = saved_active
        if saved_env is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = saved_env

    return restore


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


# A target folder is imported as a package the loader names (chapter folders are called ``01``…,
# which are not identifiers): ``<PACKAGE_PREFIX><digest of the folder>.ch03.advantages`` for
# ``<target>/03/advantages.py``. Learner code then reaches a sibling of its own chapter with a
# relative import (``from .masks import masked_whiten``), and one file is one module object however
# it is reached (the grader, a sibling, :func:`chapter_module`). The digest keeps two folders
# (``exercises/``, ``solutions/``, a mutant's copy) apart in one process.
PACKAGE_PREFIX = "_verlings_target_"


def package_name(root: Path) -> str:
    """The package under which the target folder ``root`` is imported."""
    return _package_name(str(Path(root).resolve()))


@cache
def _package_name(resolved_root: str) -> str:
    # every learner-module attribute a test reads comes through here (~900 a chapter 03 run)
    return PACKAGE_PREFIX + hashlib.sha1(resolved_root.encode()).hexdigest()[:10]


def chapter_package(chapter: str) -> str:
    """The sub-package of chapter folder ``chapter`` (``"03"`` -> ``"ch03"``)."""
    return f"ch{chapter}"


def _package(name: str, folder: Path) -> ModuleType:
    """A package module for ``folder`` (no ``__init__.py`` needed; nothing in it runs)."""
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)
    return module


def load_module(chapter: str, module: str, root: Path | None = None) -> ModuleType:
    """Import ``<target>/<chapter>/<module>.py`` as ``<package of target>.ch<chapter>.<module>``."""
    root = Path(root).resolve() if root is not None else active()
    path = root / chapter / f"{module}.py"
    top = package_name(root)
    name = f"{top}.{chapter_package(chapter)}.{module}"
    loaded = sys.modules.get(name)
    # A module another thread is still importing (verl's reward workers score in threads) is in
    # sys.modules half-made; import_module below waits for it instead of handing it out.
    if loaded is not None and not getattr(getattr(loaded, "__spec__", None), "_initializing", False):
        return loaded
    if not path.is_file():
        raise LearnerCodeError(
            f"{display(path)} not found — the exercise expects a module named `{module}.py` "
            f"in chapter {chapter} of the target folder"
        )
    _package(top, root)
    _package(f"{top}.{chapter_package(chapter)}", root / chapter)
    # The folder may have gained files since the import system last listed it (watch, mutants).
    finder = sys.path_importer_cache.get(str(root / chapter))
    if finder is not None:
        finder.invalidate_caches()
    try:
        return importlib.import_module(name)
    except Exception as exc:  # the learner's import-time error, reported as a failure
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<frozen")]
        filename, lineno = (frames[-1].filename, frames[-1].lineno) if frames else (str(path), 0)
        if isinstance(exc, SyntaxError) and exc.filename:
            filename, lineno = exc.filename, exc.lineno
        raise LearnerCodeError(
            f"importing {display(path)} failed: {type(exc).__name__}: {exc} (at {display(Path(filename))}:{lineno})"
        ) from exc


def _caller_root(caller: dict[str, Any]) -> Path:
    """The target folder the calling module belongs to (see :func:`chapter_module`)."""
    package = caller.get("__package__") or ""
    top = package.split(".")[0]
    if top.startswith(PACKAGE_PREFIX) and top in sys.modules:
        return Path(sys.modules[top].__path__[0])
    file = caller.get("__file__")
    if file and Path(file).resolve().parent.name.isdigit():
        # loaded by path (verl's custom_reward_function.path): the folder above its chapter
        return Path(file).resolve().parent.parent
    return active()


def chapter_module(chapter: str, module: str) -> ModuleType:
    """Another chapter's module, from the same target folder as the module that calls this.

    The one way learner code reaches *another* chapter (a sibling of its own chapter is a
    relative import: ``from .masks import masked_whiten``)::

        from verlings.target import chapter_module

        advantages = chapter_module("03", "advantages")  # <this target>/03/advantages.py

    It works whether the caller was loaded by the grader (as a package) or by verl by path
    (``reward.custom_reward_function.path``), and returns the module object the grader uses.
    """
    return load_module(chapter, module, root=_caller_root(sys._getframe(1).f_globals))


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
