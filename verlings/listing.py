"""The progress table of ``python grader.py list`` and of ``l`` in watch mode.

Its own module so that the command line and watch mode both use it without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table
from rich.text import Text

from verlings.chapters import all_chapters
from verlings.report import MARKS, words

STALE = "stale"  # graded before its file last changed: the saved status may no longer hold


def progress_table(status: Mapping[str, str], hints: Mapping[str, int], lang: str) -> tuple[Table, int, int]:
    """(table, exercises passed, exercises in all); the first one not passed is marked ``←``."""
    w = words(lang)
    table = Table(title="verlings — " + ("进度" if lang == "zh" else "progress"))
    for col in (w["exercise"], w["name"], w["points"], w["status"], w["hint"]):
        table.add_column(col)
    done = total = 0
    current_marked = False
    for ch in all_chapters():
        table.add_section()
        for ex in ch.exercises:
            total += 1
            state = status.get(ex.id)
            done += state == "passed"
            if state in MARKS:
                mark, colour = MARKS[state]
                cell = Text(f"{mark} {w[state]}", style=colour)
            elif state == STALE:
                cell = Text("? " + ("文件已改，待评分" if lang == "zh" else "changed, not graded"), style="yellow")
            else:
                cell = Text("· " + ("未评分" if lang == "zh" else "not graded"), style="dim")
            name = Text(ex.id, style="bold")
            if state != "passed" and not current_marked:
                name.append("  ←", style="bold cyan")
                current_marked = True
            table.add_row(name, ex.title_in(lang), str(ex.points), cell, f"{hints.get(ex.id, 0)}/{len(ex.hints)}")
    return table, done, total


def passed_line(done: int, total: int, lang: str) -> str:
    return f"{done}/{total} " + ("个练习已通过" if lang == "zh" else "exercises passed")
