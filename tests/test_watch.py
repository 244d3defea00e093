"""Watch mode's decisions, without a terminal: where it starts, what a save re-grades, what ``n`` skips.

Grading itself is replaced by a recorder here (it is tested in test_worker.py and, end to end in a
terminal, in test_watch_tmux.py), so these tests run in milliseconds.
"""

from __future__ import annotations

import io
import os
import shutil
import time

import pytest
from rich.console import Console

from verlings.chapters import find_exercise, load_chapter
from verlings.grading import FAILED, PASSED
from verlings.listing import STALE
from verlings.paths import SOLUTIONS
from verlings.state import Progress
from verlings.watch import WatchSession, changed_exercises, fresh_status, starting_point


class Recorder(WatchSession):
    """A session whose grading returns the statuses given in ``outcomes`` (default: passed)."""

    def __init__(self, target, progress, outcomes=None):
        super().__init__(target, "en", Console(file=io.StringIO(), width=120), progress)
        self.outcomes = outcomes or {}
        self.graded: list[list[str]] = []

    def grade(self, exercises):
        self.graded.append([e.id for e in exercises])
        for ex in exercises:
            self.status[ex.id] = self.outcomes.get(ex.id, PASSED)
            self.results[ex.id] = None


@pytest.fixture
def target(tmp_path):
    shutil.copytree(SOLUTIONS / "03", tmp_path / "03", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _ids(chapter: str, module: str) -> list[str]:
    return [e.id for e in load_chapter(chapter).exercises if e.module == module]


def test_a_save_maps_to_every_exercise_of_that_module(target):
    changed = changed_exercises(target, [str(target / "03" / "masks.py"), str(target / "03" / "notes.txt")])
    assert [e.id for e in changed] == _ids("03", "masks")
    assert changed_exercises(target, [str(target.parent / "elsewhere.py")]) == []


def test_a_saved_status_is_stale_once_the_file_changes(target):
    ex = find_exercise("03.gae")
    progress = Progress()
    progress.record(ex.id, PASSED)
    assert fresh_status(progress, target, ex) == PASSED
    later = time.time() + 5
    os.utime(target / "03" / f"{ex.module}.py", (later, later))
    assert fresh_status(progress, target, ex) == STALE, "edited after grading: the saved pass is not trusted"


def test_watch_03_starts_at_the_first_unfinished_exercise_of_chapter_03(target):
    progress = Progress()
    first, second = load_chapter("03").exercises[:2]
    progress.record(first.id, PASSED)
    progress.record(second.id, FAILED)
    session = Recorder(target, progress)
    assert starting_point(session, "03").id == second.id
    assert session.graded == [], "fresh saved statuses are used as they are"
    assert starting_point(session, "03.gae").id == "03.gae", "an exercise named is where it starts"


def test_n_grades_what_changed_on_disk_and_never_marks_hints(target):
    progress = Progress()
    exercises = load_chapter("03").exercises
    for ex in exercises[:4]:
        progress.record(ex.id, PASSED)
    later = time.time() + 5  # exercises[1]'s file was edited since: its saved pass is stale
    os.utime(target / "03" / f"{exercises[1].module}.py", (later, later))
    stale_ids = [e.id for e in exercises[:4] if e.module == exercises[1].module]
    session = Recorder(target, progress, outcomes={exercises[1].id: FAILED})
    session.current = exercises[0]
    assert session.next()
    assert session.current.id == exercises[1].id, "the edited exercise fails on disk, so n stops there"
    assert [exercises[1].id] in session.graded or [stale_ids[0]] in session.graded
    assert progress.hints == {}, "browsing with n must not count hints as used"


def test_a_save_regrades_all_of_the_module_and_keeps_the_diagnosis_of_the_current_one(target):
    session = Recorder(target, Progress(), outcomes={"03.masked_mean": FAILED})
    session.current = find_exercise("03.response_mask")
    session.on_save([str(target / "03" / "masks.py")])
    assert session.graded == [_ids("03", "masks")]
    assert any("03.masked_mean" in line and "failed" in line for line in session.others), session.others


def test_watch_names_a_missing_chapter_and_suggests_the_nearest_exercise():
    from verlings.watch import _check_where

    with pytest.raises(KeyError, match="chapters: 01, 02"):
        _check_where("99")
    with pytest.raises(KeyError, match=r"did you mean 03\.gae"):
        _check_where("03.gea")
    assert _check_where("3") == "03"


class _AliveWorker:
    def alive(self) -> bool:
        return True

    def close(self) -> None:
        pass


def test_a_module_whose_tests_mostly_wait_is_graded_one_run_per_exercise_at_once(target, monkeypatch):
    import threading

    from verlings import watch as watch_mod
    from verlings.grading import ExerciseResult, TestResult

    ids = _ids("03", "masks")
    runs: list[set[str]] = []
    test_s = {"value": 0.01}  # what each exercise's one test took, as the next verdicts will say
    two_at_once = threading.Barrier(2, timeout=10)
    waiting = []

    def fake_grade_chapter(chapter, target, *, only, worker, narrow):
        runs.append(set(only))
        if len(only) == 1 and len(waiting) < 2:
            waiting.append(only)
            two_at_once.wait()  # BrokenBarrierError unless the first two runs are under way together
        results = [
            ExerciseResult(e, PASSED, [TestResult(f"t::{e.id}", e.id, PASSED, test_s["value"])])
            for e in chapter.exercises if e.id in only
        ]
        return type("R", (), {"exercises": results})()

    monkeypatch.setattr(watch_mod, "grade_chapter", fake_grade_chapter)
    session = WatchSession(target, "en", Console(file=io.StringIO(), width=120), Progress())
    session.worker = _AliveWorker()
    exercises = [find_exercise(i) for i in ids]

    session.grade(exercises)  # nothing known yet: one run
    assert runs == [set(ids)]
    session.grade(exercises)  # 0.01 s of test time each: still one run (forks would cost more)
    assert runs[1:] == [set(ids)]

    test_s["value"] = 1.0  # the sandbox's kind of module: its tests wait
    session.grade(exercises)  # recorded above at 0.01 s: one run, which records 1.0 s each
    runs.clear()
    session.grade(exercises)
    assert sorted(map(sorted, runs)) == sorted([[i] for i in ids]), runs
    assert all(session.status[i] == PASSED for i in ids)

    session.worker = None  # fresh interpreters: never split
    runs.clear()
    session.grade(exercises)
    assert runs == [set(ids)]


def test_before_any_verdict_chapter_toml_decides_the_split(target, monkeypatch):
    from verlings import watch as watch_mod
    from verlings.grading import ExerciseResult

    runs: list[set[str]] = []

    def fake_grade_chapter(chapter, target, *, only, worker, narrow):
        runs.append(set(only))
        results = [ExerciseResult(e, PASSED) for e in chapter.exercises if e.id in only]
        return type("R", (), {"exercises": results})()

    monkeypatch.setattr(watch_mod, "grade_chapter", fake_grade_chapter)
    session = WatchSession(target, "en", Console(file=io.StringIO(), width=120), Progress())
    session.worker = _AliveWorker()
    sandbox = [find_exercise(i) for i in _ids("04", "sandbox")]
    chapter_s = load_chapter("04").test_timeout_s
    assert sum(1 for e in sandbox if (e.timeout_s or 0) > chapter_s) >= 2, "chapter.toml: the sandbox takes longer"
    session.grade(sandbox)  # its first save: one run per exercise
    assert sorted(map(sorted, runs)) == sorted([[e.id] for e in sandbox])
    runs.clear()
    session.grade([find_exercise(i) for i in _ids("03", "masks")])  # chapter 03's budgets: one run
    assert runs == [set(_ids("03", "masks"))]
