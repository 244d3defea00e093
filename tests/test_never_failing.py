"""The list of graded tests that no known-wrong variant makes fail is up to date (cheap checks).

The audit itself (``python -m verlings.dev never-failing NN``) runs every mutant of a chapter and
takes minutes; these checks only read files: the report covers the graded tests the chapters hold
now, every test it lists has a reason, and the markdown is what the data renders to.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from verlings.dev import never_failing as nf
from verlings.paths import EXERCISES

REPORT = nf.load_report()
CHAPTERS = sorted(REPORT["chapters"])


def graded_test_functions(chapter: str) -> set[str]:
    """``exercises/NN/test_x.py::test_y`` for every graded test function, read from the source."""
    found = set()
    for path in sorted((EXERCISES / chapter).glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = path.relative_to(nf.ROOT).as_posix()
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
                found.add(f"{rel}::{node.name}")
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                found |= {
                    f"{rel}::{node.name}::{f.name}"
                    for f in node.body
                    if isinstance(f, ast.FunctionDef) and f.name.startswith("test_")
                }
    return found


def test_the_audit_covers_the_chapters_with_mutants():
    # every chapter with a mutant file (06 also has tests/test_capstone_mutants.py), and no other
    with_mutants = {p.name.split("_")[2] for p in nf.TESTS.glob("test_mutants_*_*.py")} | {"06"}
    assert {"01", "02", "03", "04", "05", "06"} <= with_mutants, f"chapters with mutant tests: {sorted(with_mutants)}"
    missing = sorted(with_mutants - set(CHAPTERS))
    assert not missing, (
        f"docs/never_failing_tests.json audits chapters {CHAPTERS}, not {missing}: "
        f"run `{nf.COMMAND} {' '.join(missing)}`"
    )
    assert set(CHAPTERS) <= with_mutants, (
        f"chapters audited without mutant tests: {sorted(set(CHAPTERS) - with_mutants)}"
    )


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_audit_saw_the_graded_tests_the_chapter_holds_now(chapter):
    audited = set(REPORT["chapters"][chapter]["tests"])
    now = graded_test_functions(chapter)
    new, gone = sorted(now - audited), sorted(audited - now)
    assert not new and not gone, (
        f"chapter {chapter}'s graded tests changed since the audit (new: {new}, gone: {gone}): "
        f"run `{nf.COMMAND} {chapter}` and give any test it lists a reason in verlings/dev/never_failing.toml"
    )


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_ran_variants(chapter):
    assert REPORT["chapters"][chapter]["variants"] > 0, f"the audit of chapter {chapter} ran no known-wrong variant"


def test_every_test_that_fails_on_no_variant_has_a_reason():
    reasons = nf.load_reasons()
    listed = {n["test"] for e in REPORT["chapters"].values() for n in e["never_failing"]}
    missing = sorted(listed - set(reasons))
    assert not missing, (
        "these graded tests fail on no known-wrong variant: add a mutant that they catch (tests/test_mutants_*) "
        f"or a one-line reason in verlings/dev/never_failing.toml, then rerun `{nf.COMMAND}`:\n  "
        + "\n  ".join(missing)
    )
    audited = {t for e in REPORT["chapters"].values() for t in e["tests"]}
    stale = sorted(t for t in reasons if t not in listed and t.split("/")[1] in REPORT["chapters"] and t in audited)
    gone = sorted(t for t in reasons if t.split("/")[1] in REPORT["chapters"] and t not in audited)
    assert not stale, f"reasons for tests that now fail on a variant (remove them): {stale}"
    assert not gone, f"reasons for tests that no longer exist (remove them): {gone}"
    assert all(r.strip() for r in reasons.values()), "an empty reason in verlings/dev/never_failing.toml"


def test_a_timeout_is_not_a_catch():
    # Three graded tests of 09.x; variant a: t1 fails on an assertion, t2 runs past its budget;
    # variant b: t2 and t3 pass. Worked: t1 is caught; t2 failed only by timing out (kept apart,
    # not counted as caught); t3 never fails.
    tests = {f"exercises/09/test_x.py::t{i}": "09.x" for i in (1, 2, 3)}
    t1, t2, t3 = (f"exercises/09/test_x.py::t{i}" for i in (1, 2, 3))
    records = [
        {
            "caller": "c::test_graded_tests_catch[a]",
            "exercise": "09.x",
            "failed": [t1, t2],
            "passed": [t3],
            "timed_out": [t2],
            "broken": False,
        },
        {
            "caller": "c::test_graded_tests_catch[b]",
            "exercise": "09.x",
            "failed": [t1],
            "passed": [t2, t3],
            "timed_out": [],
            "broken": False,
        },
    ]
    entry = nf.audit("09", tests, records)
    assert [n["test"] for n in entry["never_failing"]] == [t3]
    assert entry["caught_only_by_a_timeout"] == [t2]
    assert entry["variants"] == 2


def test_the_markdown_is_what_the_data_renders_to():
    expected = nf.render_markdown(REPORT, nf.load_reasons())
    assert Path(nf.REPORT_MD).read_text(encoding="utf-8") == expected, (
        f"docs/never_failing_tests.md is stale: rerun `{nf.COMMAND}` (or edit the reasons, then rerun it)"
    )
