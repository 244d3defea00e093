"""Golden values for graded tests, produced from verl itself.

Each module ``verlings/goldens/chNN_<topic>.py`` registers makers with
:func:`snapshot`; a maker builds seeded inputs, runs verl 0.9.1 on them and
returns every array (inputs and outputs) to store. Regenerate a chapter with::

    python -m verlings.goldens 03          # writes exercises/03/_snapshots/*.npz
    python -m verlings.goldens 03 --check  # compare with the committed files

Graded tests read the files with :func:`verlings.testing.golden` and never
import verl, so ``pytest exercises/03`` stays fast.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from verlings.testing import snapshot_path


@dataclass(frozen=True)
class Maker:
    chapter: str
    name: str
    make: Callable[[], dict[str, np.ndarray]]


_makers: dict[tuple[str, str], Maker] = {}


def snapshot(chapter: str, name: str) -> Callable:
    """Register ``make() -> dict[str, array]`` as the source of ``exercises/<chapter>/_snapshots/<name>.npz``."""

    def register(fn: Callable[[], dict]) -> Callable[[], dict]:
        _makers[(chapter, name)] = Maker(chapter, name, fn)
        return fn

    return register


def as_numpy(arrays: dict) -> dict[str, np.ndarray]:
    out = {}
    for key, value in arrays.items():
        if hasattr(value, "detach"):
            value = value.detach().cpu().numpy()
        out[key] = np.asarray(value)
    return out


def makers(chapter: str) -> list[Maker]:
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith(f"ch{chapter}"):
            importlib.import_module(f"{__name__}.{info.name}")
    return [m for (c, _), m in sorted(_makers.items()) if c == chapter]


def write(maker: Maker) -> None:
    path = snapshot_path(maker.chapter, maker.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **as_numpy(maker.make()))


def differences(maker: Maker) -> list[str]:
    """What differs between a fresh run of the maker and the committed file (empty when equal)."""
    path = snapshot_path(maker.chapter, maker.name)
    if not path.is_file():
        return [f"{path} is missing"]
    fresh = as_numpy(maker.make())
    with np.load(path, allow_pickle=False) as stored:
        problems = [f"{maker.name}: key {k!r} added or removed" for k in set(fresh) ^ set(stored.files)]
        for key in set(fresh) & set(stored.files):
            a, b = fresh[key], stored[key]
            if a.shape != b.shape or a.dtype != b.dtype:
                problems.append(f"{maker.name}[{key}]: {a.dtype}{a.shape} vs stored {b.dtype}{b.shape}")
            else:
                same = (
                    np.allclose(a, b, rtol=1e-6, atol=1e-7, equal_nan=True)
                    if a.dtype.kind == "f"
                    else np.array_equal(a, b)
                )
                if not same:
                    problems.append(f"{maker.name}[{key}]: values differ from the stored file")
    return problems
