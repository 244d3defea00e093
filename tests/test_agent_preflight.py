"""Chapter 07's run names the chapter 05 and 03 stubs it would train with before it starts
(the warm start and verl's start-up take minutes, and verl's own message about a stub there is
"no materializable trajectories")."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from verlings import stubs, target
from verlings.agent_rl import cli
from verlings.agent_rl.preflight import RUN_USES, stubbed, stubs_the_run_needs
from verlings.paths import SOLUTIONS
from verlings.pytest_plugin import _short_failure


@pytest.fixture
def course(tmp_path) -> Path:
    """The reference solutions of the chapters the run uses, in a target folder of their own."""
    root = tmp_path / "target"
    for chapter in ("03", "05", "07"):
        shutil.copytree(SOLUTIONS / chapter, root / chapter, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _restub(root: Path, chapter: str, module: str, *names: str) -> None:
    path = root / chapter / f"{module}.py"
    path.write_text(stubs.replace_definitions(path.read_text(encoding="utf-8"), stubs.pristine(chapter, module), names),
                    encoding="utf-8")


def test_the_reference_solutions_need_nothing(course):
    assert stubs_the_run_needs(course) is None


def test_the_pristine_stubs_are_all_named():
    problem = stubs_the_run_needs(Path("exercises").resolve())
    assert problem is not None
    for names in RUN_USES.values():
        for name in names:
            assert name in problem, name
    assert problem.rstrip().endswith("pass them first: python grader.py 03 05")


def test_one_stubbed_loop_names_its_exercise_and_lesson(course):
    _restub(course, "05", "agent_loop", "run_agent")
    problem = stubs_the_run_needs(course)
    assert problem is not None
    (line,) = [ln for ln in problem.splitlines() if ln.startswith("  ") and ".py:" in ln]
    assert "agent_loop.py: run_agent (05.run_agent)" in line and "README.md §3.3" in line
    first = problem.splitlines()[0]
    assert first.startswith("this run trains with your chapter 05 code, and 1 function(s) there are still stubs")
    assert first.endswith("05/agent_loop.py: run_agent (05.run_agent):"), first


def test_a_stubbed_estimator_in_chapter_03_is_named(course):
    _restub(course, "03", "advantages", "compute_grpo_outcome_advantage")
    problem = stubs_the_run_needs(course)
    assert "compute_grpo_outcome_advantage (03.grpo)" in problem and "python grader.py 03" in problem


def test_what_counts_as_a_stub(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(textwrap.dedent('''
        def bare():
            raise NotImplementedError

        def documented():
            """Docs."""
            raise NotImplementedError("implement documented")

        def started(x):
            if x:
                raise NotImplementedError("later")
            return x

        class Tool:
            def done(self):
                return 1

            async def todo(self):
                raise NotImplementedError("implement Tool.todo")

        def other():
            raise ValueError("not a stub")
    '''), encoding="utf-8")
    seen = stubbed(path, ("bare", "documented", "started", "Tool", "other"))
    assert seen == [("bare", ""), ("documented", "implement documented"), ("Tool.todo", "implement Tool.todo")]
    assert stubbed(tmp_path / "missing.py", ("bare",)) == []
    (tmp_path / "broken.py").write_text("def bare(:\n", encoding="utf-8")
    assert stubbed(tmp_path / "broken.py", ("bare",)) == []


def test_grader_agent_stops_before_the_warm_start(course, monkeypatch, capsys):
    _restub(course, "05", "tools", "calculate")

    def no_warm_start(**kwargs):
        raise AssertionError("the warm start must not begin")

    monkeypatch.setattr("verlings.agent_rl.warm_start.warm_start", no_warm_start)
    saved = target.active()
    try:
        assert cli.main(["--target", str(course)]) == 1
    finally:
        target.set_active(saved)
    out = capsys.readouterr().out
    assert "tools.py: calculate (05.calculator)" in out and "pass them first: python grader.py 05" in out


def test_the_graded_failure_is_the_list_itself():
    try:
        raise target.StubsNeeded(MESSAGE)
    except NotImplementedError:
        info = pytest.ExceptionInfo.from_current()
    assert _short_failure(info) == f"NotImplementedError: {MESSAGE}", "no 'raised at' line: the message names each stub"


MESSAGE = "this run trains with your chapter 05 code, and 1 function(s) there are still stubs, first ..."
