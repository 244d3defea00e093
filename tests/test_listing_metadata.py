"""chapter.toml's metadata is read and shown: objectives open each chapter of ``list``, and every
exercise shows its difficulty and minutes (issue 13 §1: metadata used or removed)."""

from __future__ import annotations

from rich.console import Console

from verlings.chapters import load_chapter
from verlings.listing import progress_table


def _render(lang: str) -> str:
    console = Console(width=400, record=True, color_system=None)
    table, _, _ = progress_table({}, {}, lang)
    console.print(table)
    return console.export_text()


def test_list_shows_objectives_difficulty_and_minutes():
    chapter = load_chapter("03")
    assert chapter.objectives["en"] and chapter.objectives["zh"] and chapter.out_of_scope["en"]
    text = _render("en")
    assert chapter.objectives["en"] in text
    ex = chapter.exercises[0]
    row = next(line for line in text.splitlines() if ex.id in line)
    level = "●" * ex.difficulty + "○" * (3 - ex.difficulty) + f" {ex.minutes}′"
    assert level in row, f"{ex.id}'s row lacks difficulty/minutes {level!r}: {row}"
    assert chapter.objectives["zh"] in _render("zh")
