"""Rendering a :class:`~verlings.grading.GradeReport`: the learner's table and JSON."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from verlings.chapters import Exercise
from verlings.grading import CRASHED, FAILED, PASSED, SKIPPED, TIMEOUT, ExerciseResult, GradeReport
from verlings.target import describe

MARKS = {PASSED: ("✓", "green"), FAILED: ("✗", "red"), CRASHED: ("💥", "red"), TIMEOUT: ("⏱", "red"),
         SKIPPED: ("–", "yellow")}

WORDS = {
    "en": {
        "title": "verlings — {target}", "exercise": "Exercise", "name": "Title", "points": "Points",
        "status": "Status", "total": "Total", "next": "Next up", "error": "what failed",
        "hint": "hint", "run": "try", "all_passed": "All graded exercises pass. 🎉",
        PASSED: "passed", FAILED: "failed", CRASHED: "crashed", TIMEOUT: "timed out", SKIPPED: "skipped",
    },
    "zh": {
        "title": "verlings — {target}", "exercise": "练习", "name": "标题", "points": "分数",
        "status": "状态", "total": "总分", "next": "下一个", "error": "失败原因",
        "hint": "提示", "run": "试试", "all_passed": "所有练习都已通过。🎉",
        PASSED: "通过", FAILED: "未通过", CRASHED: "崩溃", TIMEOUT: "超时", SKIPPED: "跳过",
    },
}


def words(lang: str) -> dict[str, str]:
    return WORDS["zh" if lang == "zh" else "en"]


def _points(score: float) -> str:
    return f"{score:g}"


def render_table(report: GradeReport, lang: str = "en", console: Console | None = None,
                 hints_shown: dict[str, int] | None = None) -> None:
    console = console or Console()
    w = words(lang)
    table = Table(title=w["title"].format(target=describe(report.target)), show_lines=False)
    table.add_column(w["exercise"], style="bold")
    table.add_column(w["name"])
    table.add_column(w["points"], justify="right")
    table.add_column(w["status"])
    for ch in report.chapters:
        table.add_section()
        for r in ch.exercises:
            mark, colour = MARKS[r.status]
            table.add_row(
                r.exercise.id, r.exercise.title_in(lang), f"{_points(r.score)}/{r.max_score}",
                Text(f"{mark} {w[r.status]}", style=colour),
            )
    table.add_section()
    table.add_row(w["total"], "", f"{_points(report.score)}/{report.max_score}", "")
    console.print(table)
    first = report.first_failure()
    if first is None:
        if report.all_passed:
            console.print(Text(w["all_passed"], style="bold green"))
        return
    render_next(first, lang, console, hints_shown=(hints_shown or {}).get(first.exercise.id, 0))


def render_next(result: ExerciseResult, lang: str, console: Console, hints_shown: int = 0) -> None:
    """The first failing exercise: what failed, the first hint, and the command to run."""
    w = words(lang)
    ex = result.exercise
    console.print(Text(f"\n{w['next']}: {ex.id} — {ex.title_in(lang)}", style="bold"))
    if result.message:
        console.print(Text(f"  {w['error']}: ", style="red") + Text(result.message.splitlines()[0]))
    render_hints(ex, max(1, hints_shown), lang, console)
    console.print(Text(f"  {w['run']}: ", style="dim") + Text(
        f"pytest exercises/{ex.chapter} --exercise {ex.id}   ·   python grader.py hint {ex.id}   ·   "
        f"{ex.lesson(lang)}"
    ))


def render_hints(ex: Exercise, shown: int, lang: str, console: Console) -> None:
    """The first ``shown`` staged hints of an exercise."""
    label = words(lang)["hint"]
    for i, hint in enumerate(ex.hints[:shown], 1):
        console.print(Text(f"  {label} {i}/{len(ex.hints)}: ", style="cyan") + Text(hint.text(lang)))


def to_json(report: GradeReport) -> dict[str, Any]:
    return {
        "target": str(report.target),
        "score": report.score,
        "max_score": report.max_score,
        "all_passed": report.all_passed,
        "duration_s": round(report.duration, 3),
        "chapters": [
            {
                "id": ch.chapter.id,
                "title": ch.chapter.title,
                "duration_s": round(ch.duration, 3),
                "exercises": [
                    {
                        "id": r.exercise.id,
                        "title": r.exercise.title,
                        "status": r.status,
                        "score": r.score,
                        "max_score": r.max_score,
                        "message": r.message,
                        "tests": [
                            {"name": t.name, "outcome": t.outcome, "duration_s": round(t.duration, 4),
                             "message": t.headline}
                            for t in r.tests
                        ],
                    }
                    for r in ch.exercises
                ],
            }
            for ch in report.chapters
        ],
    }


def render_json(report: GradeReport) -> str:
    return json.dumps(to_json(report), indent=2, ensure_ascii=False)
