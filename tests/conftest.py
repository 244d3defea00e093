"""Shared fixtures for the course's own tests: one grading of every chapter per session."""

import pytest

from verlings.chapters import all_chapters
from verlings.grading import grade_chapter
from verlings.paths import EXERCISES, SOLUTIONS


@pytest.fixture(scope="session")
def graded_solutions():
    """chapter id -> ChapterResult of the reference solutions (each chapter in its own process)."""
    return {ch.id: grade_chapter(ch, SOLUTIONS) for ch in all_chapters()}


@pytest.fixture(scope="session")
def graded_stubs():
    """chapter id -> ChapterResult of the untouched stubs in exercises/."""
    return {ch.id: grade_chapter(ch, EXERCISES) for ch in all_chapters()}
