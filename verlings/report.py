"""Rendering a :class:`~verlings.grading.GradeReport`: the learner's table and JSON."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from verlings.chapters import Exercise
from verlings.grading import CRASHED, FAILED, PASSED, SKIPPED, TIMEOUT, ExerciseResult, GradeReport
from verlings.i18n import say
from verlings.target import describe

MARKS = {PASSED: ("✓", "green"), FAILED: ("✗", "red"), CRASHED: ("💥", "red"), TIMEOUT: ("⏱", "red"),
         SKIPPED: ("–", "yellow")}

# key -> {lang: text}, read with verlings.i18n.say (through words(lang))
WORDS: dict[str, dict[str, str]] = {
    "title": {"en": "verlings — {target}", "zh": "verlings — {target}"},
    "exercise": {"en": "Exercise", "zh": "练习"},
    "name": {"en": "Title", "zh": "标题"},
    "points": {"en": "Points", "zh": "分数"},
    "status": {"en": "Status", "zh": "状态"},
    "total": {"en": "Total", "zh": "总分"},
    "next": {"en": "Next up", "zh": "下一个"},
    "error": {"en": "what failed", "zh": "失败原因"},
    "hint": {"en": "hint", "zh": "提示"},
    "run": {"en": "try", "zh": "试试"},
    "all_passed": {"en": "All graded exercises pass. 🎉", "zh": "所有练习都已通过。🎉"},
    "graded_passed": {"en": "{what}: all passed. 🎉", "zh": "{what}：全部通过。🎉"},
    "hints_left": {
        "en": "{n} staged hints: python grader.py hint {id}",
        "zh": "共 {n} 条分级提示：python grader.py hint {id}",
    },
    "hints_seen": {
        "en": "hints seen {shown}/{n}; the next: python grader.py hint {id}",
        "zh": "已看提示 {shown}/{n}；下一条：python grader.py hint {id}",
    },
    "hints_all_seen": {
        "en": "all {n} hints seen: python grader.py hint {id} shows them again",
        "zh": "{n} 条提示都已看过：python grader.py hint {id} 可再次显示",
    },
    PASSED: {"en": "passed", "zh": "通过"},
    FAILED: {"en": "failed", "zh": "未通过"},
    CRASHED: {"en": "crashed", "zh": "崩溃"},
    TIMEOUT: {"en": "timed out", "zh": "超时"},
    SKIPPED: {"en": "skipped", "zh": "跳过"},
}


def words(lang: str) -> dict[str, str]:
    """Every word of the report in ``lang`` (English where it has none)."""
    return {key: say(texts, lang) for key, texts in WORDS.items()}


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
            console.print(Text(graded_passed(report, lang), style="bold green"))
        return
    render_next(first, lang, console, hints_shown=(hints_shown or {}).get(first.exercise.id, 0))


def graded_passed(report: GradeReport, lang: str) -> str:
    """The all-green line, naming what was graded: the course, chapters, or exercises."""
    w = words(lang)
    from verlings.chapters import all_chapters

    graded = [e for e in report.exercises if e.status != SKIPPED]
    if len(report.exercises) == sum(len(c.exercises) for c in all_chapters()):
        return w["all_passed"]
    whole = [c for c in report.chapters if len(c.exercises) == len(c.chapter.exercises)]
    if len(whole) == len(report.chapters):
        unit = say({"en": "chapter", "zh": "章"}, lang)
        what = ", ".join(f"{unit} {c.chapter.id}" for c in whole)
        what += f" ({len(graded)} " + say({"en": "exercises)", "zh": "个练习)"}, lang)
    else:
        what = ", ".join(e.exercise.id for e in graded)
    return w["graded_passed"].format(what=what)


MAX_WHY_LINES = 10


def why_lines(message: str, lang: str = "en") -> list[str]:
    """The lines of a failure message worth a table's screen: what differs, expected/seen, and why.

    The first line alone often only says *that* something differs; the lines after it say where
    and why (``unbiased std (torch.std divides by n - 1)``). The trailing ``hint:`` pointer is
    dropped: the panel prints its own.
    """
    from verlings.messages import translate

    text = message.strip()
    for prefix in ("AssertionError:", "AssertionError"):
        if text.startswith(prefix):
            text = text[len(prefix):].strip()
            break
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.strip().startswith("hint: python grader.py hint")]
    if len(lines) > MAX_WHY_LINES:  # the row's inputs go first: the why and the cause must stay
        lines = [ln for ln in lines if not ln.startswith(("    ", "  inputs of row"))]
    if len(lines) > MAX_WHY_LINES:
        lines = [*lines[: MAX_WHY_LINES - 2], "…", lines[-1]]
    return [translate(ln, lang) for ln in lines]


def render_next(result: ExerciseResult, lang: str, console: Console, hints_shown: int = 0) -> None:
    """The first failing exercise: what failed and why, where the hints are, and the command to run.

    Hints are never printed here: a hint counts as used only when the learner asks for it
    (``python grader.py hint ID``).
    """
    w = words(lang)
    ex = result.exercise
    console.print(Text(f"\n{w['next']}: {ex.id} — {ex.title_in(lang)}", style="bold"))
    lines = why_lines(result.message, lang) if result.message else []
    if lines:
        console.print(Text(f"  {w['error']}: ", style="red") + Text(lines[0]))
        for line in lines[1:]:
            console.print(Text("    " + line.removeprefix("  ")))  # keep the message's own indentation
    n = len(ex.hints)
    if n:
        key = "hints_left" if hints_shown == 0 else "hints_seen" if hints_shown < n else "hints_all_seen"
        console.print(Text(f"  {w['hint']}: ", style="cyan") + Text(
            w[key].format(n=n, shown=hints_shown, id=ex.id)))
    console.print(Text(f"  {w['run']}: ", style="dim") + Text(
        f"pytest exercises/{ex.chapter} --exercise {ex.id}   ·   {ex.lesson(lang)}"
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
