"""The course as shipped: solutions pass everything, stubs fail cleanly, metadata is complete."""

import ast
import re

import pytest

from verlings.chapters import LANGS, all_chapters, load_chapter
from verlings.paths import EXERCISES, SOLUTIONS, chapter_ids
from verlings.stubs import archive_differences, stub_files

CHAPTERS = chapter_ids()
# Exercises graded by a real verl training run (minutes each): their reference is graded on its own,
# marked slow (`python -m pytest tests -m slow`); the rest of their chapter stays in the quick suite.
END_TO_END = {"06": "06.training", "07": "07.training"}
# What test_course grades of the reference solutions: each chapter, less its training run, and each run alone.
UNITS = [*CHAPTERS, *(pytest.param(e, marks=pytest.mark.slow, id=e) for e in END_TO_END.values())]


def _graded_unit(unit: str, graded_solutions):
    """The reference graded for one unit: "03" (the chapter), "06" (06 less 06.training), "06.training"."""
    chapter = unit.split(".")[0]
    if "." in unit:
        return graded_solutions(chapter, only={unit})
    if chapter in END_TO_END:
        return graded_solutions(chapter, only={e.id for e in load_chapter(chapter).exercises} - {END_TO_END[chapter]})
    return graded_solutions(chapter)


def test_there_are_chapters():
    assert "03" in CHAPTERS, "chapter 03 (RL algorithms) is the foundation of the course"


def test_end_to_end_exercises_exist():
    for chapter, exercise in END_TO_END.items():
        assert exercise in {e.id for e in load_chapter(chapter).exercises}, f"{exercise} is not in chapter {chapter}"


@pytest.mark.timeout(1800)  # grading a chapter (06.training trains for real) takes longer than one test's default
@pytest.mark.parametrize("unit", UNITS)
def test_reference_solutions_pass_every_graded_test(unit, graded_solutions):
    result = _graded_unit(unit, graded_solutions)
    bad = [f"{r.exercise.id}: {r.status} — {r.message}" for r in result.exercises if r.status != "passed"]
    assert not bad, "reference solutions fail:\n" + "\n".join(bad) + "\n" + result.output[-3000:]


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_stub_fails_cleanly(chapter, graded_stubs):
    result = graded_stubs(chapter)
    for r in result.exercises:
        assert r.status == "failed", f"{r.exercise.id} is {r.status} on the untouched stubs — a stub that passes?"
        assert r.tests, f"{r.exercise.id}: no graded test ran ({r.message})"
        for t in r.tests:
            if t.outcome == "skipped":
                continue
            assert t.outcome == "failed", f"{t.nodeid} passes on the stub: it cannot tell a stub from a solution"
            assert "NotImplementedError" in t.headline and "README" in t.headline, (
                f"{t.nodeid} fails without the stub's pointer to the lesson: {t.headline!r}"
            )
            assert "Traceback" not in t.details, f"{t.nodeid} shows a traceback to the learner:\n{t.details}"


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("unit", UNITS)
def test_every_graded_test_belongs_to_a_known_exercise(unit, graded_solutions):
    result = _graded_unit(unit, graded_solutions)
    known = {e.id for e in result.chapter.exercises}
    tied = {t.exercise for r in result.exercises for t in r.tests}
    assert tied <= known
    for r in result.exercises:
        assert r.tests, f"{r.exercise.id} has no graded test"


@pytest.mark.parametrize("chapter", all_chapters(), ids=lambda c: c.id)
def test_chapter_metadata_is_complete(chapter):
    assert len(chapter.exercises) >= 1
    for ex in chapter.exercises:
        assert 2 <= len(ex.hints) <= 3, f"{ex.id}: needs 2–3 staged hints, has {len(ex.hints)}"
        for hint in ex.hints:
            for lang in LANGS:
                text = getattr(hint, lang)
                assert "TODO" not in text and len(text) >= 10, f"{ex.id}: {lang} hint is a placeholder: {text!r}"
        assert ex.section.startswith("§"), f"{ex.id}: section must point into the lesson, e.g. §2.3"
        assert ex.points > 0


@pytest.mark.parametrize("chapter", all_chapters(), ids=lambda c: c.id)
def test_every_exercise_function_exists_in_stub_and_solution(chapter):
    for ex in chapter.exercises:
        for folder in (EXERCISES, SOLUTIONS):
            path = folder / chapter.id / f"{ex.module}.py"
            assert path.is_file(), f"{ex.id}: {path} is missing"
            names = {n.name for n in ast.parse(path.read_text()).body if hasattr(n, "name")}
            missing = set(ex.functions) - names
            assert not missing, f"{ex.id}: {sorted(missing)} not defined at the top of {path}"


@pytest.mark.parametrize("chapter", all_chapters(), ids=lambda c: c.id)
def test_lessons_are_bilingual_and_have_every_section(chapter):
    for readme in ("README.md", "README.zh-CN.md"):
        path = EXERCISES / chapter.id / readme
        assert path.is_file(), f"{path} is missing (lessons are bilingual)"
        text = path.read_text(encoding="utf-8")
        for ex in chapter.exercises:
            assert re.search(re.escape(ex.section) + r"\b", text), f"{path} has no section {ex.section} ({ex.id})"


@pytest.mark.parametrize("stub", stub_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_stub_points_at_an_existing_lesson_section(stub):
    text = stub.read_text(encoding="utf-8")
    pointers = re.findall(r"see (exercises/\d\d/README\.md) (§[\d.]+\d)", text)
    assert pointers, f"{stub} raises no NotImplementedError pointing at the lesson"
    for readme, section in pointers:
        lesson = (EXERCISES.parent / readme).read_text(encoding="utf-8")
        assert section in lesson, f"{stub} points at {readme} {section}, which does not exist"
    assert (SOLUTIONS / stub.parent.name / stub.name).is_file(), f"{stub} has no reference solution"


def test_pristine_stubs_archive_matches_exercises():
    problems = archive_differences()
    assert not problems, "refresh with `python -m verlings.stubs --sync`:\n" + "\n".join(problems)
