"""Shared fixtures for the course's own tests: each chapter graded at most once per session."""

from collections.abc import Callable
from functools import cache

import pytest

from verlings.chapters import load_chapter
from verlings.grading import ChapterResult, grade_chapter
from verlings.paths import EXERCISES, SOLUTIONS


@cache
def _graded(chapter: str, which: str) -> ChapterResult:
    return grade_chapter(load_chapter(chapter), SOLUTIONS if which == "solutions" else EXERCISES)


@pytest.fixture(scope="session")
def graded_solutions() -> Callable[[str], ChapterResult]:
    """``graded_solutions("03")``: the reference solutions graded (each chapter in its own process)."""
    return lambda chapter: _graded(chapter, "solutions")


@pytest.fixture(scope="session")
def graded_stubs() -> Callable[[str], ChapterResult]:
    """``graded_stubs("03")``: the untouched stubs in exercises/ graded."""
    return lambda chapter: _graded(chapter, "stubs")
