"""Time budgets of graded tests and which exercises' code calls which.

Each exercise's tests get a per-test budget from ``chapter.toml``: the exercise's
``timeout_s``, else the chapter's ``test_timeout_s``, else pytest-timeout's
ini value. Budgets are sized to what the reference needs with room for a busy
two-core machine, so an infinite loop costs seconds, not a minute per test.

``reaches`` reads the *learner's* modules (the active target) with ``ast``: an
exercise whose functions call, directly or through module helpers, a function
that already hung is not run again — it would only wait out its own budget.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from verlings.chapters import Exercise, find_exercise, load_chapter
from verlings.paths import EXERCISES


def _exercise(exercise_id: str) -> Exercise | None:
    try:
        return find_exercise(exercise_id)
    except KeyError:
        return None


def budget(exercise_id: str) -> float | None:
    """Seconds one test of this exercise may take (None: pytest-timeout's ini value)."""
    ex = _exercise(exercise_id)
    if ex is None or not (EXERCISES / ex.chapter / "chapter.toml").is_file():
        return None
    return ex.timeout_s if ex.timeout_s is not None else load_chapter(ex.chapter).test_timeout_s


def functions_of(exercise_id: str) -> tuple[str, ...]:
    ex = _exercise(exercise_id)
    return ex.functions if ex else ()


def graded_functions(chapter_id: str) -> set[str]:
    """Names of every graded function/class of a chapter (empty for an unknown chapter)."""
    try:
        return {f for e in load_chapter(chapter_id).exercises for f in e.functions}
    except (OSError, ValueError):
        return set()


def _names_used(node: ast.AST) -> set[str]:
    used = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            used.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            used.add(sub.attr)
    return used


def _call_graph(path: Path) -> dict[str, set[str]]:
    """Top-level function/class name -> names its body uses, for one module file."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return {}
    return _call_graph_of(source)


# Keyed by the source, not the path: the course's mutant runner grades hundreds of copied targets
# in one process, each a new folder whose modules are, all but one, the same text.
@cache
def _call_graph_of(source: str) -> dict[str, set[str]]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    return {
        node.name: _names_used(node)
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }


def reaches(exercise_ids: set[str], target: Path) -> dict[str, set[str]]:
    """Exercise id -> the exercise functions its code reaches (its own included), read from ``target``."""
    out: dict[str, set[str]] = {}
    for chapter_id in sorted({i.split(".")[0] for i in exercise_ids}):
        try:
            chapter = load_chapter(chapter_id)
        except (OSError, ValueError):
            continue
        graph: dict[str, set[str]] = {}
        for module in sorted({e.module for e in chapter.exercises}):
            path = target / chapter_id / f"{module}.py"
            if path.is_file():
                for name, used in _call_graph(path).items():
                    graph.setdefault(name, set()).update(used)
        graded = {f for e in chapter.exercises for f in e.functions}
        for ex in chapter.exercises:
            if ex.id not in exercise_ids:
                continue
            seen, todo = set(ex.functions), list(ex.functions)
            while todo:
                for name in graph.get(todo.pop(), ()):
                    if name in graph and name not in seen:
                        seen.add(name)
                        todo.append(name)
            out[ex.id] = (seen & graded) | set(ex.functions)
    return out
