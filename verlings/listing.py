"""The progress table of ``python grader.py list`` and of ``l`` in watch mode.

Its own module so that the command line and watch mode both use it without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table
from rich.text import Text

from verlings.chapters import Chapter, Exercise, all_chapters
from verlings.i18n import say
from verlings.report import MARKS, words

STALE = "stale"  # graded before its file last changed: the saved status may no longer hold

TEXT = {
    "progress": {"en": "progress", "zh": "进度"},
    "level": {"en": "level", "zh": "难度"},
    "stale": {"en": "changed, not graded", "zh": "文件已改，待评分"},
    "not_graded": {"en": "not graded", "zh": "未评分"},
    "passed": {"en": "exercises passed", "zh": "个练习已通过"},
    "not_here": {"en": "not covered: ", "zh": "不涉及："},
}


def progress_table(status: Mapping[str, str], hints: Mapping[str, int], lang: str) -> tuple[Table, int, int]:
    """(table, exercises passed, exercises in all); the first one not passed is marked ``←``.

    A chapter opens with its objectives and what it leaves out; an exercise shows its difficulty
    (● of 3) and, where chapter.toml gives them, the minutes it is meant to take.
    """
    w = words(lang)
    table = Table(title="verlings — " + say(TEXT["progress"], lang))
    for col in (w["exercise"], w["name"], say(TEXT["level"], lang), w["points"], w["status"], w["hint"]):
        table.add_column(col)
    done = total = 0
    current_marked = False
    for ch in all_chapters():
        table.add_section()
        table.add_row(Text(ch.id, style="bold magenta"), _about(ch, lang), "", "", "", "")
        for ex in ch.exercises:
            total += 1
            state = status.get(ex.id)
            done += state == "passed"
            if state in MARKS:
                mark, colour = MARKS[state]
                cell = Text(f"{mark} {w[state]}", style=colour)
            elif state == STALE:
                cell = Text("? " + say(TEXT["stale"], lang), style="yellow")
            else:
                cell = Text("· " + say(TEXT["not_graded"], lang), style="dim")
            name = Text(ex.id, style="bold")
            if state != "passed" and not current_marked:
                name.append("  ←", style="bold cyan")
                current_marked = True
            hint = f"{hints.get(ex.id, 0)}/{len(ex.hints)}"
            table.add_row(name, ex.title_in(lang), level(ex), str(ex.points), cell, hint)
    return table, done, total


def level(ex: Exercise) -> str:
    """Difficulty as ● of 3, then the minutes where chapter.toml gives them (none is made up)."""
    dots = "●" * ex.difficulty + "○" * max(0, 3 - ex.difficulty)
    return dots if ex.minutes is None else f"{dots} {ex.minutes}′"


def _about(ch: Chapter, lang: str) -> Text:
    """The chapter's title, what it teaches and what it leaves out (chapter.toml's ``objectives``
    and ``out_of_scope``)."""
    about = Text(ch.title_in(lang), style="bold magenta")
    if ch.objectives:
        about.append("\n" + say(ch.objectives, lang), style="dim")
    if ch.out_of_scope:
        about.append("\n" + say(TEXT["not_here"], lang) + say(ch.out_of_scope, lang), style="dim italic")
    return about


def chapter_intro(ch: Chapter, lang: str) -> Text:
    """What watch shows when an exercise opens a chapter: ``03 RL algorithms`` and ``_about``'s lines."""
    intro = Text(f"{ch.id} ", style="bold magenta")
    intro.append_text(_about(ch, lang))
    return intro




def passed_line(done: int, total: int, lang: str) -> str:
    return f"{done}/{total} " + say(TEXT["passed"], lang)
