"""The plug-in's collection-time GC policy: collect with the cyclic collector off, then freeze.

A hook of :mod:`verlings.pytest_plugin` (imported there by name, so pytest registers it with the
plug-in).
"""

from __future__ import annotations

import gc

import pytest

_froze_before = False  # this process's GC state, not one run's


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session):
    """Collect with the cyclic garbage collector off, then freeze what collection made.

    Collecting imports torch and the test modules: about a million long-lived objects. Each full
    collection walks all of them (0.07 s with torch loaded), and a chapter 03 run paid five, 0.35 s
    of its 3 s; Hypothesis forces one more on its first test. Frozen, they are never walked again.
    """
    global _froze_before
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return (yield)
    finally:
        if _froze_before:
            # pytest ran before in this process (the mutant runner): collect first, or the earlier
            # runs' garbage would be frozen for good. Only unfrozen objects are walked. (Not
            # gc.get_freeze_count(): it counts the frozen objects one by one, 0.06 s with torch.)
            gc.collect()
        gc.freeze()
        _froze_before = True
        if was_enabled:
            gc.enable()
