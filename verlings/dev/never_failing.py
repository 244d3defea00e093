"""Graded tests that no known-wrong variant makes fail (issue 27): the audit and its report.

``python -m verlings.dev never-failing [NN ...] [--jobs N]`` runs the course's mutant tests of
those chapters (``tests/test_mutants_NN_*.py``; for 06 also ``tests/test_capstone_mutants.py``)
with every graded run logged (:data:`verlings.dev.mutants.LOG_ENV`), collects the chapters'
graded tests, and writes

* ``docs/never_failing_tests.json`` — per chapter: the graded tests audited, the number of
  variants run, and the tests that failed on none of them (the data the course test checks);
* ``docs/never_failing_tests.md`` — the same list for people, each test with its reason from
  ``verlings/dev/never_failing.toml`` (hand-written: why no variant can make it fail, or why
  that is fine).

A test is one test function: its parametrized cases count together (a case that fails is
enough). A failure by time-out is not a catch (on a busy machine a correct test runs past its
budget too): such tests are listed apart. Mutant tests marked ``slow`` (real training runs) are
not run. Chapters not named keep their previous entries. ``--render`` only rewrites the markdown
(after editing the reasons).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable
from pathlib import Path

import pytest

from verlings.dev.mutants import LOG_ENV
from verlings.paths import EXERCISES, SOLUTIONS

ROOT = EXERCISES.parent
TESTS = ROOT / "tests"
REPORT_JSON = ROOT / "docs" / "never_failing_tests.json"
REPORT_MD = ROOT / "docs" / "never_failing_tests.md"
REASONS = Path(__file__).with_name("never_failing.toml")
# the course test that runs one known-wrong variant (same name in every mutant file)
MUTANT_TEST = "test_graded_tests_catch"
COMMAND = "python -m verlings.dev never-failing"


def test_id(nodeid: str) -> str:
    """``exercises/04/test_x.py::test_y[case]`` → ``exercises/04/test_x.py::test_y``."""
    return re.sub(r"\[.*\]$", "", nodeid)


def mutant_files(chapter: str) -> list[Path]:
    files = sorted(TESTS.glob(f"test_mutants_{chapter}_*.py"))
    if chapter == "06":
        files.append(TESTS / "test_capstone_mutants.py")
    return files


class _Collector:
    def __init__(self) -> None:
        self.exercise: dict[str, str] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        from verlings.pytest_plugin import exercise_of

        for item in items:
            self.exercise.setdefault(test_id(item.nodeid), exercise_of(item) or "")


def graded_tests(chapter: str) -> dict[str, str]:
    """Every graded test function of the chapter → its exercise (collected against the solutions)."""
    collector = _Collector()
    code = pytest.main(
        [str(EXERCISES / chapter), "--collect-only", "-qq", "--target", str(SOLUTIONS), "-p", "no:cacheprovider"],
        plugins=[collector],
    )
    if code not in (0, 5):
        raise RuntimeError(f"collecting the graded tests of chapter {chapter} failed (pytest exit code {code})")
    return collector.exercise


def run_mutants(chapters: Iterable[str], jobs: int) -> tuple[list[dict], int]:
    """Run the chapters' mutant tests with logging on: (one record per variant run, pytest's exit code)."""
    files = [str(f) for ch in chapters for f in mutant_files(ch)]
    if not files:
        return [], 0
    with tempfile.TemporaryDirectory(prefix="verlings-never-failing-") as log:
        env = {**os.environ, LOG_ENV: log}
        # no time limit on a mutant test: on a busy machine importing transformers alone can pass 60 s
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            *files,
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            str(jobs),
            "--timeout",
            "0",
            # the slow mutant tests are real training runs (07.training: minutes and GBs each);
            # their graded tests are listed as never run, with a reason
            "-m",
            "not slow",
        ]
        if jobs:
            cmd += ["--dist", "loadgroup"]
        code = subprocess.run(cmd, cwd=ROOT, env=env, check=False).returncode
        records = [json.loads(line) for f in sorted(Path(log).glob("*.jsonl")) for line in f.read_text().splitlines()]
    return [r for r in records if f"::{MUTANT_TEST}" in r["caller"] and not r["broken"]], code


def audit(chapter: str, tests: dict[str, str], records: list[dict]) -> dict:
    """The chapter's entry: tests audited, variants run, tests that failed on none."""
    prefix = f"exercises/{chapter}/"
    mine = [r for r in records if r["exercise"].startswith(f"{chapter}.")]
    # a time-out is not a catch: on a busy machine a correct test runs past its budget too
    failed = {test_id(n) for r in mine for n in r["failed"] if n not in r.get("timed_out", ())}
    timed_out = {test_id(n) for r in mine for n in r.get("timed_out", ())}
    ran = {test_id(n) for r in mine for n in r["failed"] + r["passed"]}
    mine_tests = [t for t in tests if t.startswith(prefix)]
    never = sorted(t for t in mine_tests if t not in failed and t not in timed_out)
    return {
        "tests": sorted(mine_tests),
        "variants": len(mine),
        "never_failing": [{"test": t, "exercise": tests[t], "ran_against_a_variant": t in ran} for t in never],
        # failed on some variant, but only by timing out: rerun the audit on a quieter machine to
        # learn whether it catches anything
        "caught_only_by_a_timeout": sorted(t for t in mine_tests if t in timed_out and t not in failed),
    }


def load_reasons(path: Path = REASONS) -> dict[str, str]:
    if not path.is_file():
        return {}
    return dict(tomllib.loads(path.read_text(encoding="utf-8")).get("reasons", {}))


def render_markdown(report: dict, reasons: dict[str, str]) -> str:
    lines = [
        "# Graded tests that no known-wrong variant makes fail",
        "",
        f"Generated by `{COMMAND} [NN ...]` from the course's mutant tests (`tests/test_mutants_NN_*.py`,",
        "`tests/test_capstone_mutants.py`); do not edit by hand. Reasons live in",
        "`verlings/dev/never_failing.toml`. A test is a test function: its parametrized cases count",
        "together. *Never run* means no variant of its exercise exists yet.",
        "",
        "| chapter | graded tests | variants run | failing on none |",
        "|---|---|---|---|",
    ]
    chapters = report["chapters"]
    for ch in sorted(chapters):
        e = chapters[ch]
        lines.append(f"| {ch} | {len(e['tests'])} | {e['variants']} | {len(e['never_failing'])} |")
    for ch in sorted(chapters):
        never = chapters[ch]["never_failing"]
        lines += ["", f"## Chapter {ch}", ""]
        if not never:
            lines.append("Every graded test fails on at least one known-wrong variant.")
        else:
            lines += ["| test | exercise | reason |", "|---|---|---|"]
        for n in never:
            name = n["test"].removeprefix(f"exercises/{ch}/")
            reason = reasons.get(n["test"], "**no reason yet**: add a variant it catches, or a reason")
            if not n["ran_against_a_variant"]:
                reason = f"*never run* — {reason}"
            lines.append(f"| `{name}` | {n['exercise']} | {reason} |")
        slow = chapters[ch].get("caught_only_by_a_timeout", [])
        if slow:
            lines += [
                "",
                "Failed on a variant only by running past its time budget (the machine may just have been busy):",
                "rerun this chapter's audit on a quieter machine to learn whether they catch anything.",
                "",
                *(f"- `{t.removeprefix(f'exercises/{ch}/')}`" for t in slow),
            ]
    return "\n".join(lines) + "\n"


def load_report(path: Path = REPORT_JSON) -> dict:
    if not path.is_file():
        return {"chapters": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def write(report: dict) -> None:
    REPORT_JSON.parent.mkdir(parents=True, exist_ok=True)
    REPORT_JSON.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    REPORT_MD.write_text(render_markdown(report, load_reasons()), encoding="utf-8")


USAGE = (
    f"usage: {COMMAND} [NN ...] [--jobs N] | --render\n"
    "  (default: every chapter with mutant tests; --jobs 0 = one process)"
)


def main(argv: list[str]) -> int:
    jobs = os.cpu_count() or 1
    chapters: list[str] = []
    args = list(argv)
    while args:
        a = args.pop(0)
        if a in ("-h", "--help"):
            print(USAGE)
            return 0
        if a == "--render":  # reasons edited: the markdown again from the data, no mutant run
            write(load_report())
            print(f"wrote {REPORT_MD.relative_to(ROOT)}")
            return 0
        if a == "--jobs" and args and args[0].isdigit():
            jobs = int(args.pop(0))
        elif re.fullmatch(r"\d\d", a) and (EXERCISES / a).is_dir():
            chapters.append(a)
        else:
            print(f"{a!r} is not a chapter (NN) or --jobs N\n{USAGE}", file=sys.stderr)
            return 2
    if not chapters:
        chapters = sorted({p.name.split("_")[2] for p in TESTS.glob("test_mutants_*_*.py")} | {"06"})
    records, code = run_mutants(chapters, jobs)
    report = load_report()
    for ch in chapters:
        report["chapters"][ch] = audit(ch, graded_tests(ch), records)
        e = report["chapters"][ch]
        print(
            f"chapter {ch}: {len(e['tests'])} graded tests, {e['variants']} variants, "
            f"{len(e['never_failing'])} fail on none"
        )
    write(report)
    print(f"wrote {REPORT_MD.relative_to(ROOT)} and {REPORT_JSON.relative_to(ROOT)}")
    if code not in (0, 5):
        print(f"note: some mutant tests failed (pytest exit code {code}); their runs still count", file=sys.stderr)
    missing = [
        n["test"] for e in report["chapters"].values() for n in e["never_failing"] if n["test"] not in load_reasons()
    ]
    if missing:
        print(f"{len(missing)} test(s) fail on no variant and have no reason in {REASONS.name}", file=sys.stderr)
    return 0
