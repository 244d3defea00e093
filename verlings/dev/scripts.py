"""Load a maintainer script (``benchmarks/*.py``, ``scripts/*.py``, a test module) by its path.

The course's tests check what its benchmark and recording scripts compute — their parsers, their
tables, their helpers — without running them as programs; those scripts are files, not modules of
an installed package, so they are loaded from their path under the file's own name.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType


def load_script(path: str | Path, name: str | None = None) -> ModuleType:
    """The module that ``path`` defines, executed anew on every call (``name``: its ``__name__``;
    default the file's stem)."""
    path = Path(path)
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
