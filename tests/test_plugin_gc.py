"""The plug-in collects with the cyclic GC off and freezes what collection made (verlings.collection_gc)."""

from __future__ import annotations

import gc

import pytest

from verlings import collection_gc


def _collect_through_the_hook(made: list) -> None:
    hook = collection_gc.pytest_collection(None)
    next(hook)  # collection runs here
    assert not gc.isenabled(), "no full collections over torch's objects while test modules are imported"
    made.append([object()])  # something collection made
    with pytest.raises(StopIteration):
        hook.send(None)


def test_collection_freezes_what_it_made_and_puts_the_gc_back(monkeypatch):
    monkeypatch.setattr(collection_gc, "_froze_before", False)
    was_enabled = gc.isenabled()
    made: list = []
    try:
        _collect_through_the_hook(made)
        assert gc.isenabled() == was_enabled
        assert gc.get_freeze_count() > 0 and collection_gc._froze_before
        # a second run in this process collects the first run's garbage before freezing again
        collected = []
        monkeypatch.setattr(gc, "collect", lambda *a: collected.append(a) or 0)
        _collect_through_the_hook(made)
        assert collected, "the second freeze must not keep the first run's garbage for good"
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def test_a_gc_that_was_off_stays_off(monkeypatch):
    monkeypatch.setattr(collection_gc, "_froze_before", True)
    monkeypatch.setattr(gc, "collect", lambda *a: 0)
    gc.disable()
    try:
        _collect_through_the_hook([])
        assert not gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()
