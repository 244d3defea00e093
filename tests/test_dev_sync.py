"""``python -m verlings.dev sync --check``: the derived files (pristine stubs, verify manifest, goldens)
match what ``sync`` would write; a stale one fails and is named."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

from verlings import goldens
from verlings.dev import sync
from verlings.paths import ROOT


def test_sync_check_passes_on_the_committed_course():
    """The command as CONTRIBUTING shows it (goldens left out here: they run verl, see below)."""
    done = subprocess.run(
        [sys.executable, "-m", "verlings.dev", "sync", "--check", "--no-goldens"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"stale derived files — run `python -m verlings.dev sync`:\n{done.stdout}{done.stderr}"


def test_sync_check_names_a_stale_stub(monkeypatch):
    monkeypatch.setattr(sync.stubs, "archive_differences", lambda: ["03/masks.py differs from stubs.zip"])
    assert sync.stale(goldens=False) == ["stubs.zip: 03/masks.py differs from stubs.zip"]


def test_sync_check_names_an_edited_graded_test(monkeypatch):
    result = sync.manifest.Verification()
    result.edited.append("exercises/03/test_masks.py")
    monkeypatch.setattr(sync.manifest, "verify", lambda: result)
    monkeypatch.setattr(sync.stubs, "archive_differences", list)
    assert sync.stale(goldens=False) == ["manifest.json: exercises/03/test_masks.py edited since it was written"]


# chapters with golden makers, read from the file names (importing them imports verl: seconds)
GOLDEN_CHAPTERS = sorted({m.name[2:4] for m in pkgutil.iter_modules(goldens.__path__) if m.name.startswith("ch")})


@pytest.mark.parametrize("chapter", GOLDEN_CHAPTERS)
def test_goldens_are_current(chapter):
    """Every golden file equals a fresh run of its maker on verl 0.9.1 (sync --check's golden part;
    one test per chapter so that pytest-xdist spreads the verl runs)."""
    problems = [line for maker in goldens.makers(chapter) for line in goldens.differences(maker)]
    assert not problems, "stale goldens — run `python -m verlings.dev sync`:\n" + "\n".join(problems)
