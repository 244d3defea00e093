"""Where the course's folders are, resolved once from this file's location."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
SOLUTIONS = ROOT / "solutions"
# Progress, hints and backups; tests point it elsewhere with VERLINGS_STATE_DIR.
STATE_DIR = Path(os.environ.get("VERLINGS_STATE_DIR") or ROOT / ".verlings")


def chapter_ids() -> list[str]:
    """Chapters in course order: every `exercises/NN` folder that has a chapter.toml."""
    return sorted(p.name for p in EXERCISES.glob("[0-9][0-9]") if (p / "chapter.toml").is_file())


def display(path: Path) -> str:
    """A path relative to the course root when it is inside it (for messages)."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
