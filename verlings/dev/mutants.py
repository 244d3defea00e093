"""Known-wrong implementations ("mutants") and the check that graded tests catch them.

A mutant is the reference solution of one module with one classic mistake in it, written as a
small edit of the reference: each key of ``replace`` must occur exactly once in
``solutions/<chapter>/<module>.py`` and is replaced by its value::

    Mutant("grpo_population_std", "03.grpo", "advantages",
           replace={"torch.std(scores[mask])": "torch.std(scores[mask], unbiased=False)"})

Where an edit cannot express the bug, ``code`` is appended to the edited copy instead (it may
call the module's helpers and only redefines the function it breaks). An edit whose text the
reference no longer holds fails loudly, so a mutant never goes stale in silence.

``caught(mutant)`` runs that exercise's graded tests against the mutant in this process and
returns the failing test ids; every mutant must have some. A mutant that cannot run (a stub, an
import error, a name the reference lacks) is *broken*, told apart by the plug-in's typed failure
kind, never by the message's wording.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
import tempfile
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from verlings import rewrite_cache
from verlings.grading import PYTEST_FLAGS
from verlings.paths import EXERCISES, SOLUTIONS


@dataclass(frozen=True)
class Mutant:
    name: str
    exercise: str
    module: str
    code: str = ""
    # text of the reference -> its replacement; each text must occur exactly once
    replace: Mapping[str, str] = field(default_factory=dict, hash=False)
    # The mistake it embodies, as a key of verlings.messages.CAUSES; by default its name (the
    # names already say the mistake: "grpo_population_std"). A graded test that fails on this
    # mutant and names a cause must name this one.
    mistake: str = ""

    @property
    def chapter(self) -> str:
        return self.exercise.split(".")[0]

    @property
    def cause(self) -> str:
        return self.mistake or self.name

    def __str__(self) -> str:
        return self.name


def build_target(mutant: Mutant, root: Path) -> Path:
    """A target folder: the chapter's reference solutions with the mutant applied."""
    chapter_dir = root / mutant.chapter
    shutil.copytree(SOLUTIONS / mutant.chapter, chapter_dir, ignore=shutil.ignore_patterns("__pycache__"))
    module_file = chapter_dir / f"{mutant.module}.py"
    module_file.write_text(mutated_source(mutant, module_file.read_text(encoding="utf-8")), encoding="utf-8")
    return root


def mutated_source(mutant: Mutant, source: str) -> str:
    """The reference ``source`` with the mutant's edits made and its ``code`` appended."""
    if not mutant.replace and not mutant.code.strip():
        raise ValueError(f"mutant {mutant.name}: neither replace= nor code= — it would be the reference")
    for old, new in mutant.replace.items():
        count = source.count(old)
        if count != 1:
            raise ValueError(
                f"mutant {mutant.name}: {old!r} occurs {count} times in solutions/{mutant.chapter}/"
                f"{mutant.module}.py (an edit needs exactly one): update the mutant to the reference"
            )
        source = source.replace(old, new)
    if mutant.code.strip():
        source += f"\n\n# --- mutant: {mutant.name} ---\n" + textwrap.dedent(mutant.code)
    compile(source, f"<mutant {mutant.name}>", "exec")  # a mutant must be valid Python
    return source


# failure kinds (verlings.pytest_plugin.FAILURE_KINDS) that say the mutant itself is unusable
BROKEN_KINDS = ("stub", "learner_code")


class _Outcomes:
    def __init__(self) -> None:
        self.failed: list[str] = []
        self.passed: list[str] = []
        self.broken: list[str] = []
        # failed only by running past its time budget (or not run after one that did): on a busy
        # machine that says nothing about the variant, so the never-failing audit keeps them apart
        self.timed_out: list[str] = []
        self.messages: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            text = report.longreprtext
            props = dict(report.user_properties)  # the plug-in's typed failure kind, never the wording
            # A mutant that cannot be imported or called, or that names something the reference
            # lacks (NameError), proves nothing about the tests.
            if props.get("verlings_kind") in BROKEN_KINDS or props.get("verlings_exception") == "NameError":
                self.broken.append(f"{report.nodeid}: {text.strip().splitlines()[0] if text.strip() else ''}")
            else:
                self.failed.append(report.nodeid)
                self.messages[report.nodeid] = text
                if props.get("verlings_kind") == "timeout" or props.get("verlings_timeout"):
                    self.timed_out.append(report.nodeid)
        elif report.passed and report.when == "call":
            self.passed.append(report.nodeid)


@contextlib.contextmanager
def without_shrinking():
    """Hypothesis keeps the first failing example it finds instead of shrinking it, for this block.

    The graded property tests fix their settings at import (``PROPERTY_SETTINGS``), and a run in
    this process reuses the imported test modules, so no profile can reach them: the runner's
    shrink step is switched off instead. Where a Hypothesis release renames it, nothing changes
    (the runs are only slower).
    """
    try:
        from hypothesis.internal.conjecture.engine import ConjectureRunner
    except ImportError:
        yield
        return
    original = ConjectureRunner.__dict__.get("shrink_interesting_test_cases")
    if original is None:
        yield
        return
    ConjectureRunner.shrink_interesting_test_cases = lambda self: None
    try:
        yield
    finally:
        ConjectureRunner.shrink_interesting_test_cases = original


def run_in_process(args: list[str], plugins: list) -> None:
    """``pytest.main(args)`` for a known-wrong variant, in this process (both mutant runners).

    The course's flags replace the ini's addopts. torch/transformers/verl are already loaded:
    freezing them out of the collector keeps pytest's end-of-run gc sweeps from costing seconds
    per mutant. A mutant only has to fail, and two costs of a failing test are for the learner's
    eyes alone (03 losses' 39 mutants: 7.4 s shrinking and 8.7 s formatting tracebacks, of 32 s):
    pytest's long traceback (it parses each frame's file for statement ranges), so tracebacks are
    native (the message, which wrong_causes reads, is kept), and Hypothesis shrinking.
    """
    gc.freeze()
    try:
        with without_shrinking():
            pytest.main(
                [*args, "-q", "--no-header", "-o", "addopts=", *PYTEST_FLAGS, "--tb=native", "-p", "no:benchmark"],
                plugins=plugins,
            )
    finally:
        gc.unfreeze()


# Heavy imports that graded tests reach lazily (transformers loads its tokenizer classes on first
# attribute access). Run in-process, such a first import happens inside a graded test's time budget;
# on a busy machine pytest-timeout's alarm can fire in the middle of it, and the half-imported
# transformers stays broken for every later run of the process (the course tokenizer's get_vocab
# raises NotImplementedError, read as "the mutant is a stub"). They are imported before any timer.
LAZY_IMPORTS = ("transformers.tokenization_utils_tokenizers", "transformers.models.auto.tokenization_auto")


def preload() -> None:
    """Import :data:`LAZY_IMPORTS` now (once per process; a missing package is left to the tests)."""
    import importlib

    for name in LAZY_IMPORTS:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def graded_failures(
    target: Path,
    exercise: str,
    extra_args: tuple[str, ...] = (),
    module: str | None = None,
    messages: dict[str, str] | None = None,
) -> tuple[list[str], list[str]]:
    """Run one exercise's graded tests against ``target`` in-process: (failed, passed) test ids.

    With ``module``, only ``exercises/NN/test_<module>.py`` is collected (where graded tests of a
    module live by convention), which keeps a mutant run fast.
    """
    chapter = exercise.split(".")[0]
    test_file = EXERCISES / chapter / f"test_{module}.py"
    # test_<module>_properties.py holds the module's differential (Hypothesis) tests
    where = [test_file, *sorted(test_file.parent.glob(f"test_{module}_*.py"))] if module and test_file.is_file() \
        else [EXERCISES / chapter]
    outcomes = _Outcomes()
    # the course test that runs this mutant (pytest sets it; the run below overwrites it)
    caller = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    preload()
    rewrite_cache.install()  # each mutant's run imports the same test files again
    run_in_process([*map(str, where), "--target", str(target), "--exercise", exercise, *extra_args], [outcomes])
    _log_outcomes(caller, exercise, outcomes)
    if outcomes.broken:
        raise RuntimeError("the mutant itself is broken:\n" + "\n".join(outcomes.broken))
    if messages is not None:
        messages.update(outcomes.messages)
    return outcomes.failed, outcomes.passed


# A folder: every graded_failures run appends what failed and passed to <folder>/<pid>.jsonl
# (one file per process, so xdist workers never interleave). `python -m verlings.dev
# never-failing` sets it to learn which graded tests no known-wrong variant makes fail.
LOG_ENV = "VERLINGS_MUTANT_LOG"


def _log_outcomes(caller: str, exercise: str, outcomes: _Outcomes) -> None:
    folder = os.environ.get(LOG_ENV)
    if not folder:
        return
    record = {
        "caller": caller,
        "exercise": exercise,
        "failed": outcomes.failed,
        "passed": outcomes.passed,
        "timed_out": outcomes.timed_out,
        "broken": bool(outcomes.broken),
    }
    with open(Path(folder) / f"{os.getpid()}.jsonl", "a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")


def wrong_causes(mutant: Mutant, messages: dict[str, str]) -> list[str]:
    """Failing tests whose message names a cause other than the mistake the mutant embodies."""
    from verlings.messages import named_causes

    return [
        f"{nodeid.split('::')[-1]} names {', '.join(sorted(named))}"
        for nodeid, text in messages.items()
        if (named := named_causes(text)) and mutant.cause not in named
    ]


def caught(mutant: Mutant) -> list[str]:
    """The graded tests of the mutant's exercise that fail on it (must not be empty).

    Also holds the tests to their word: a failing test whose message names a cause
    (``cause=`` of :func:`verlings.testing.assert_close`) must name this mutant's mistake;
    otherwise ``AssertionError`` — that test blames a cause its inputs do not isolate.
    """
    messages: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutant.name}-") as tmp:
        failed, _ = graded_failures(
            build_target(mutant, Path(tmp)), mutant.exercise, module=mutant.module, messages=messages
        )
    wrong = wrong_causes(mutant, messages)
    assert not wrong, (
        f"on the known-wrong variant {mutant.name!r} (mistake: {mutant.cause}) a test names another cause:\n  "
        + "\n  ".join(wrong)
    )
    return failed
