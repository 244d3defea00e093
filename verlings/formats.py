"""Report formats for classrooms: Gradescope, GitHub Classroom, JUnit XML.

* Gradescope ``results.json``: top-level ``score``, ``execution_time``, ``output``,
  ``visibility``, ``stdout_visibility``, ``tests`` (one per exercise: ``name``, ``score``,
  ``max_score``, ``status``, ``output``, ``tags``, ``visibility``, ``number``) and a
  ``leaderboard``.
* GitHub Classroom: the runner-result JSON that ``autograding-grading-reporter``
  reads from ``<RUNNER>_RESULTS`` (base64): ``version``, ``status``
  (pass/fail/error), ``max_score``, ``tests`` (``name``, ``status``, ``score``,
  ``message``, ``test_code``, ``filename``, ``line_no``, ``duration``). ``score`` is
  the exercise's points, so the reporter's total is the course's total.
* JUnit XML: one ``<testsuite>`` per chapter, one ``<testcase>`` per graded test,
  ``classname`` = exercise id, ``<failure>`` / ``<error>`` / ``<skipped>``.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from verlings.grading import CRASHED, PASSED, SKIPPED, TIMEOUT, ExerciseResult, GradeReport
from verlings.target import describe

FORMATS = ("gradescope", "classroom", "junit")


def _feedback(r: ExerciseResult) -> str:
    if r.status == PASSED:
        return f"all {len(r.tests)} tests passed"
    lines = [f"{r.status}: {r.message}"]
    if r.status in (CRASHED, TIMEOUT):
        lines.append("(a crash or hang in this exercise's code; the other exercises were graded separately)")
    if r.exercise.hints:
        lines.append(f"hint: {r.exercise.hints[0].en}")
    lines.append(f"lesson: {r.exercise.lesson()}")
    if r.details and r.details != r.message:
        lines += ["", r.details[-1500:]]
    return "\n".join(lines)


def gradescope(report: GradeReport, visibility: str = "visible") -> dict[str, Any]:
    tests = []
    for i, r in enumerate(report.exercises, 1):
        tests.append({
            "name": f"{r.exercise.id} — {r.exercise.title['en']}",
            "number": f"{r.exercise.chapter}.{i}",
            "score": round(r.score, 4),
            "max_score": float(r.max_score),
            "status": "passed" if r.status == PASSED else "failed",
            "output": _feedback(r),
            "tags": [f"chapter-{r.exercise.chapter}", r.exercise.module],
            "visibility": visibility,
        })
    passed = sum(r.status == PASSED for r in report.exercises)
    return {
        "score": round(report.score, 4),
        "execution_time": round(report.duration),
        "output": f"verlings: {report.score:g}/{report.max_score} points, {passed}/{len(report.exercises)} "
                  f"exercises passed ({describe(report.target)})",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
        "leaderboard": [
            {"name": "Score", "value": round(report.score, 4)},
            {"name": "Exercises passed", "value": passed},
            {"name": "Grading time (s)", "value": round(report.duration, 1), "order": "asc"},
        ],
    }


def classroom(report: GradeReport) -> dict[str, Any]:
    tests = []
    for r in report.exercises:
        if r.status == SKIPPED:
            continue
        status = "pass" if r.status == PASSED else "error" if r.status in (CRASHED, TIMEOUT) else "fail"
        tests.append({
            "name": f"{r.exercise.id} {r.exercise.title['en']}",
            "status": status,
            "score": round(r.score, 4),
            "message": "" if status == "pass" else _feedback(r),
            "test_code": f"pytest exercises/{r.exercise.chapter} --exercise {r.exercise.id}",
            "filename": f"exercises/{r.exercise.chapter}/{r.exercise.module}.py",
            "line_no": 0,
            "duration": round(r.duration * 1000),
        })
    overall = "pass" if all(t["status"] == "pass" for t in tests) and tests else (
        "error" if any(t["status"] == "error" for t in tests) else "fail"
    )
    return {"version": 1, "status": overall, "max_score": report.max_score, "tests": tests}


def junit(report: GradeReport) -> str:
    suites = ET.Element("testsuites", name="verlings", tests="0", failures="0", errors="0", skipped="0",
                        time=f"{report.duration:.3f}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for ch in report.chapters:
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        suite = ET.SubElement(suites, "testsuite", name=f"chapter {ch.chapter.id}: {ch.chapter.title['en']}",
                              time=f"{ch.duration:.3f}")
        for r in ch.exercises:
            tests = r.tests or [None]
            for t in tests:
                counts["tests"] += 1
                name = t.name if t else "no test ran"
                case = ET.SubElement(suite, "testcase", classname=r.exercise.id, name=name,
                                     time=f"{(t.duration if t else 0):.4f}")
                outcome = t.outcome if t else r.status
                if outcome == PASSED:
                    continue
                if outcome == SKIPPED:
                    counts["skipped"] += 1
                    ET.SubElement(case, "skipped", message=(t.headline if t else r.message))
                elif outcome in (CRASHED, TIMEOUT):
                    counts["errors"] += 1
                    err = ET.SubElement(case, "error", message=(t.headline if t else r.message), type=outcome)
                    err.text = t.details if t else r.details
                else:
                    counts["failures"] += 1
                    fail = ET.SubElement(case, "failure", message=(t.headline if t else r.message), type="failure")
                    fail.text = (t.details if t else r.details) or ""
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def render(report: GradeReport, fmt: str) -> str:
    if fmt == "gradescope":
        return json.dumps(gradescope(report), indent=2, ensure_ascii=False)
    if fmt == "classroom":
        return json.dumps(classroom(report), indent=2, ensure_ascii=False)
    if fmt == "junit":
        return junit(report)
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
