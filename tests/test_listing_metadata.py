"""chapter.toml's metadata is read and shown: objectives and what the chapter leaves out open each
chapter of ``list`` (and watch, when an exercise opens a chapter); every exercise shows its
difficulty, and its minutes only where chapter.toml gives them (issue 13 §1: metadata used or removed)."""

from __future__ import annotations

import dataclasses
import io

import pytest
from rich.console import Console

from verlings.chapters import ChapterError, all_chapters, load_chapter, parse_chapter
from verlings.listing import level, progress_table
from verlings.state import Progress
from verlings.watch import WatchSession


def _render(lang: str) -> str:
    console = Console(width=400, record=True, color_system=None)
    table, _, _ = progress_table({}, {}, lang)
    console.print(table)
    return console.export_text()


def test_list_shows_objectives_out_of_scope_and_difficulty():
    chapter = load_chapter("03")
    assert chapter.objectives["en"] and chapter.objectives["zh"] and chapter.out_of_scope["en"]
    text = _render("en")
    assert chapter.objectives["en"] in text
    assert "not covered: " + chapter.out_of_scope["en"] in text
    ex = chapter.exercises[0]
    row = next(line for line in text.splitlines() if ex.id in line)
    assert "●" * ex.difficulty + "○" * (3 - ex.difficulty) in row, f"{ex.id}'s row lacks its difficulty: {row}"
    zh = _render("zh")
    assert chapter.objectives["zh"] in zh and chapter.out_of_scope["zh"] in zh


def test_minutes_are_shown_where_given_and_never_made_up():
    ex = load_chapter("03").exercises[0]
    assert level(dataclasses.replace(ex, difficulty=2, minutes=None)) == "●●○"
    assert level(dataclasses.replace(ex, difficulty=2, minutes=15)) == "●●○ 15′"
    given = [e for c in all_chapters() for e in c.exercises if e.minutes is not None]
    assert given, "some exercises give their minutes in chapter.toml"
    row = next(line for line in _render("en").splitlines() if given[0].id in line)
    assert f"{given[0].minutes}′" in row


def test_every_chapter_says_what_it_teaches_and_leaves_out():
    missing = [c.id for c in all_chapters() if not (c.objectives and c.out_of_scope)]
    assert not missing, f"chapter.toml [chapter] lacks objectives/out_of_scope: {missing}"


def test_a_difficulty_outside_1_to_3_is_a_chapter_error(tmp_path):
    folder = tmp_path / "09"
    folder.mkdir()
    (folder / "chapter.toml").write_text(
        'format_version = 1\n[chapter]\nid = "09"\ntitle = { en = "T", zh = "T" }\n'
        '[[exercises]]\nname = "x"\nmodule = "m"\ndifficulty = 4\ntitle = { en = "X", zh = "X" }\n',
        encoding="utf-8",
    )
    with pytest.raises(ChapterError, match="difficulty must be 1, 2 or 3"):
        parse_chapter(folder / "chapter.toml")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_watch_opens_a_chapter_with_what_it_teaches(tmp_path, lang):
    chapter = load_chapter("03")
    session = WatchSession(tmp_path, lang, Console(file=io.StringIO(), width=200), Progress())
    console = Console(width=200, record=True, color_system=None)
    session.current = chapter.exercises[0]
    console.print(session.screen())
    first = console.export_text()
    assert chapter.objectives[lang] in first and chapter.out_of_scope[lang] in first
    session.current = chapter.exercises[1]
    console.print(session.screen())
    assert chapter.objectives[lang] not in console.export_text(), "only the chapter's first exercise opens it"
