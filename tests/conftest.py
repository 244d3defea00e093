"""Shared fixtures for the course's own tests: each chapter graded at most once per session.

``python -m pytest tests`` runs on every core (pytest-xdist) when it is given folders; a single
file or test runs in one process, as does ``-n 0``. ``VERLINGS_TEST_JOBS=N`` sets the number.
Tests that must not share the machine with each other (the capstone's training runs, Ray) run
in one group, one after the other; tests that grade a chapter share that chapter's grading.
"""

import os
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from verlings.chapters import load_chapter
from verlings.grading import ChapterResult, grade_chapter
from verlings.paths import EXERCISES, SOLUTIONS

# Whole files that run in one xdist group: they train, start Ray, or drive the machine hard.
SERIAL_FILES = {"test_capstone_run.py": "heavy", "test_capstone_launcher.py": "heavy",
                "test_capstone_mutants.py": "heavy", "test_batch_ray.py": "heavy", "test_course.py": None}
# Chapters graded without the warm worker: the capstone's training run keeps its own interpreter.
FRESH_INTERPRETER = {"06"}

_worker = None


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    if getattr(config.option, "numprocesses", "absent") is not None or hasattr(config, "workerinput"):
        return  # xdist missing, -n given, or this is an xdist worker
    args = [a for a in config.invocation_params.args if not str(a).startswith("-")]
    if any("::" in str(a) or Path(str(a)).is_file() for a in args):
        return  # a file or a test: one process starts faster
    jobs = os.environ.get("VERLINGS_TEST_JOBS", "auto")
    config.option.numprocesses = int(jobs) if jobs.isdigit() else "auto"
    if config.option.dist == "no":
        config.option.dist = "loadgroup"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        name = item.path.name
        if name not in SERIAL_FILES:
            continue
        group = SERIAL_FILES[name]
        if group is None:  # test_course: the tests of one chapter share its grading
            chapter = getattr(item, "callspec", None) and item.callspec.params.get("chapter")
            group = f"chapter-{getattr(chapter, 'id', chapter)}" if chapter else None
        if group:
            item.add_marker(pytest.mark.xdist_group(group))


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _worker is not None:
        _worker.close()


def _shared_worker():
    """One warm worker for this process's chapter gradings (torch, verl imported once)."""
    global _worker
    if _worker is None:
        from verlings.worker import Worker

        _worker = Worker().start()
    return _worker


@cache
def _graded(chapter: str, which: str) -> ChapterResult:
    worker = None if chapter in FRESH_INTERPRETER else _shared_worker()
    return grade_chapter(load_chapter(chapter), SOLUTIONS if which == "solutions" else EXERCISES, worker=worker)


@pytest.fixture(scope="session")
def graded_solutions() -> Callable[[str], ChapterResult]:
    """``graded_solutions("03")``: the reference solutions graded (each chapter in its own process)."""
    return lambda chapter: _graded(chapter, "solutions")


@pytest.fixture(scope="session")
def graded_stubs() -> Callable[[str], ChapterResult]:
    """``graded_stubs("03")``: the untouched stubs in exercises/ graded."""
    return lambda chapter: _graded(chapter, "stubs")
