"""The harness itself: target selection, learner-code errors, crash and hang containment, CLI."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from verlings import target as target_mod
from verlings.chapters import find_exercise, load_chapter
from verlings.dev.scripts import load_script
from verlings.grading import CRASHED, FAILED, PASSED, TIMEOUT, grade_chapter
from verlings.paths import EXERCISES, ROOT, SOLUTIONS
from verlings.stubs import pristine, replace_definitions, reset

ONLY = {"03.response_mask", "03.masked_mean"}


def solutions_copy(tmp_path: Path, patch: str = "") -> Path:
    """A target folder: chapter 03's reference solutions, with `patch` appended to masks.py."""
    shutil.copytree(SOLUTIONS / "03", tmp_path / "03", ignore=shutil.ignore_patterns("__pycache__"))
    masks = tmp_path / "03" / "masks.py"
    masks.write_text(masks.read_text() + "\n" + textwrap.dedent(patch))
    return tmp_path


def grader(*args: str, env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "grader.py"), *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})}, timeout=300,
    )


# --- target selection -------------------------------------------------------------------------

def test_target_resolution_order(tmp_path, monkeypatch):
    monkeypatch.delenv(target_mod.ENV_VAR, raising=False)
    assert target_mod.resolve() == EXERCISES
    assert target_mod.resolve(ini=str(tmp_path)) == tmp_path
    monkeypatch.setenv(target_mod.ENV_VAR, str(SOLUTIONS))
    assert target_mod.resolve(ini=str(tmp_path)) == SOLUTIONS, "environment beats ini"
    assert target_mod.resolve(target=str(tmp_path)) == tmp_path, "CLI beats environment"
    assert target_mod.resolve(solutions=True) == SOLUTIONS
    with pytest.raises(ValueError, match="does not exist"):
        target_mod.resolve(target=str(tmp_path / "nope"))
    with pytest.raises(ValueError, match="not both"):
        target_mod.resolve(solutions=True, target=str(tmp_path))


def test_missing_function_is_a_learner_error_naming_the_file(tmp_path):
    (tmp_path / "03").mkdir()
    (tmp_path / "03" / "masks.py").write_text("def something_else():\n    pass\n")
    mod = target_mod.load_module("03", "masks", root=tmp_path)
    assert mod.something_else() is None
    target_mod.set_active(tmp_path)
    try:
        with pytest.raises(target_mod.LearnerCodeError, match="did you rename"):
            target_mod.learner_module("03", "masks").masked_mean  # noqa: B018
    finally:
        target_mod.set_active(EXERCISES)


def test_syntax_error_in_learner_module_is_reported_with_its_line(tmp_path):
    (tmp_path / "03").mkdir()
    (tmp_path / "03" / "masks.py").write_text("def masked_mean(:\n")
    with pytest.raises(target_mod.LearnerCodeError, match=r"importing .*masks\.py failed: SyntaxError"):
        target_mod.load_module("03", "masks", root=tmp_path)


def test_missing_module_is_a_learner_error(tmp_path):
    with pytest.raises(target_mod.LearnerCodeError, match="not found"):
        target_mod.load_module("03", "masks", root=tmp_path)


# --- grading: one exercise's failure never costs another its points ----------------------------

def test_grading_scores_exercises_independently(tmp_path):
    target = solutions_copy(tmp_path, """
        def masked_mean(values, mask, axis=None):
            return values.mean()
    """)
    result = grade_chapter(load_chapter("03"), target, only=ONLY)
    by_id = {r.exercise.id: r for r in result.exercises}
    assert by_id["03.response_mask"].status == PASSED
    assert by_id["03.masked_mean"].status == FAILED
    assert by_id["03.masked_mean"].score == 0
    assert "masked_mean" in by_id["03.masked_mean"].message


def test_segfault_in_learner_code_fails_only_that_exercise(tmp_path):
    target = solutions_copy(tmp_path, """
        def masked_mean(values, mask, axis=None):
            import os, signal
            os.kill(os.getpid(), signal.SIGSEGV)
    """)
    result = grade_chapter(load_chapter("03"), target, only=ONLY)
    by_id = {r.exercise.id: r for r in result.exercises}
    assert by_id["03.masked_mean"].status == CRASHED
    assert "SIGSEGV" in by_id["03.masked_mean"].message
    assert by_id["03.response_mask"].status == PASSED, "the other exercise must still be graded"


def test_os_exit_in_learner_code_is_contained(tmp_path):
    target = solutions_copy(tmp_path, """
        def compute_response_mask(responses, attention_mask):
            import os
            os._exit(3)
    """)
    result = grade_chapter(load_chapter("03"), target, only=ONLY)
    by_id = {r.exercise.id: r for r in result.exercises}
    assert by_id["03.response_mask"].status == CRASHED
    assert by_id["03.masked_mean"].status == PASSED


def test_infinite_loop_hits_the_per_test_timeout(tmp_path):
    target = solutions_copy(tmp_path, """
        def masked_mean(values, mask, axis=None):
            while True:
                pass
    """)
    result = grade_chapter(load_chapter("03"), target, only=ONLY, test_timeout=2)
    by_id = {r.exercise.id: r for r in result.exercises}
    assert by_id["03.masked_mean"].status == TIMEOUT
    assert "Timeout" in by_id["03.masked_mean"].message
    assert by_id["03.response_mask"].status == PASSED


def test_after_one_timeout_the_exercise_and_its_callers_are_not_run_again(tmp_path):
    # masked_var calls masked_mean and masked_whiten calls masked_var (the reference does; so does
    # this target): one loop in masked_mean costs one test's budget, not one per test of three exercises.
    target = solutions_copy(tmp_path, """
        def masked_mean(values, mask, axis=None):
            while True:
                pass
    """)
    only = {"03.masked_mean", "03.masked_var", "03.masked_whiten", "03.response_mask"}
    result = grade_chapter(load_chapter("03"), target, only=only)  # chapter.toml's budgets
    by_id = {r.exercise.id: r for r in result.exercises}
    ran_into_it = [t for r in result.exercises for t in r.tests if t.headline.startswith("Timeout:")]
    assert len(ran_into_it) == 1, [t.name for t in ran_into_it]
    assert "masks.py" in ran_into_it[0].headline, "the message says where the loop was"
    for ex in ("03.masked_mean", "03.masked_var", "03.masked_whiten"):
        assert by_id[ex].status == TIMEOUT, (ex, by_id[ex].status, by_id[ex].message)
        assert len(by_id[ex].tests) > 1 or ex == "03.masked_mean"
    assert "not run" in by_id["03.masked_whiten"].message and "03.masked_mean" in by_id["03.masked_whiten"].message
    assert by_id["03.response_mask"].status == PASSED
    assert result.runs == 1, "a timeout inside pytest needs no second chapter run"


def test_tests_not_run_after_a_timeout_leave_the_next_module_clean(tmp_path):
    # The tests skipped after 03.gae's timeout are the last of test_advantages.py; the next module's
    # tests must still run normally (pytest's fixture stack torn down as after a real test).
    shutil.copytree(SOLUTIONS / "03", tmp_path / "03", ignore=shutil.ignore_patterns("__pycache__"))
    adv = tmp_path / "03" / "advantages.py"
    adv.write_text(adv.read_text() + "\n\ndef compute_gae_advantage_return(*args, **kwargs):\n    while True:\n"
                   "        pass\n")
    # 2 s a test (not chapter.toml's budget, which test_after_one_timeout_... uses): the loop busy-waits it out
    result = grade_chapter(load_chapter("03"), tmp_path, only={"03.gae", "03.tis"}, test_timeout=2)
    by_id = {r.exercise.id: r for r in result.exercises}
    assert by_id["03.gae"].status == TIMEOUT
    assert by_id["03.tis"].status == PASSED, by_id["03.tis"].message


def test_a_hang_inside_a_called_function_stops_its_other_callers(tmp_path):
    # GAE's test hangs inside masked_mean (a graded function its code calls): REINFORCE++, which
    # calls masked_mean too, is not run again — one budget spent, not one per caller.
    shutil.copytree(SOLUTIONS / "03", tmp_path / "03", ignore=shutil.ignore_patterns("__pycache__"))
    adv = tmp_path / "03" / "advantages.py"
    adv.write_text(adv.read_text() + textwrap.dedent("""

        def masked_mean(values, mask, axis=None):
            while True:
                pass


        def compute_gae_advantage_return(*args, **kwargs):
            return masked_mean(None, None)


        def compute_reinforce_plus_plus_outcome_advantage(*args, **kwargs):
            return masked_mean(None, None)
    """))
    result = grade_chapter(load_chapter("03"), tmp_path, only={"03.gae", "03.reinforce_pp"}, test_timeout=2)
    tests = [t for r in result.exercises for t in r.tests]
    assert len([t for t in tests if t.headline.startswith("Timeout:")]) == 1, [t.headline for t in tests]
    rpp = {r.exercise.id: r for r in result.exercises}["03.reinforce_pp"]
    assert rpp.status == TIMEOUT and "masked_mean" in rpp.message, rpp.message


def test_chapter_03_budgets_make_a_hang_cost_seconds():
    # Goal of issue 16: an infinite loop anywhere in chapter 03 costs <= 15 s of grading. After the
    # first timeout nothing else waits (test above), so the cost is one test's budget; measured by
    # benchmarks/hang_cost.py.
    from verlings import budgets

    chapter = load_chapter("03")
    assert chapter.test_timeout_s is not None and chapter.test_timeout_s <= 10
    for ex in chapter.exercises:
        seconds = budgets.budget(ex.id)
        # an exercise whose reference needs more (03.switching composes verl's config) says so
        # with its own timeout_s in chapter.toml; every other one keeps the chapter's seconds
        assert seconds is not None and (seconds <= 10 or ex.timeout_s is not None), (
            f"{ex.id}: a hang would cost {seconds} s")


def test_callers_are_read_from_the_learners_code(tmp_path):
    from verlings import budgets

    reach = budgets.reaches({"03.masked_whiten", "03.masked_mean", "03.response_mask"}, SOLUTIONS)
    assert {"masked_mean", "masked_var", "masked_whiten"} <= reach["03.masked_whiten"]
    assert reach["03.response_mask"] == {"compute_response_mask"}
    # a learner whose masked_whiten does its own maths does not depend on masked_mean
    target = solutions_copy(tmp_path, """
        def masked_whiten(values, mask, shift_mean=True):
            return values
    """)
    assert budgets.reaches({"03.masked_whiten"}, target)["03.masked_whiten"] == {"masked_whiten"}


def test_hang_that_ignores_signals_hits_the_chapter_time_limit(tmp_path):
    target = solutions_copy(tmp_path, """
        def masked_mean(values, mask, axis=None):
            import signal, time
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            while True:
                time.sleep(0.05)
    """)
    result = grade_chapter(load_chapter("03"), target, only=ONLY, timeout=15, test_timeout=600)
    by_id = {r.exercise.id: r for r in result.exercises}
    assert by_id["03.masked_mean"].status == TIMEOUT
    assert by_id["03.response_mask"].status == PASSED


# --- the grader CLI ------------------------------------------------------------------------------

def test_grader_json_on_solutions_exits_zero():
    proc = grader("03.masked_mean", "03.response_mask", "--solutions", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert data["all_passed"] and data["score"] == data["max_score"] == 2
    assert [e["id"] for e in data["chapters"][0]["exercises"]] == ["03.response_mask", "03.masked_mean"]


def test_grader_table_on_stubs_points_at_hints_without_revealing_one(tmp_path):
    proc = grader("03.response_mask", env={"VERLINGS_STATE_DIR": str(tmp_path)})
    assert proc.returncode == 1
    assert "03.response_mask" in proc.stdout and "NotImplementedError" in proc.stdout
    first_hint = find_exercise("03.response_mask").hints[0].en
    assert first_hint[:20] not in proc.stdout, "the Next-up panel points at `hint ID`; it never prints a hint"
    assert "python grader.py hint 03.response_mask" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["status"]["03.response_mask"] == "failed"
    assert state["hints"].get("03.response_mask", 0) == 0, "a hint counts as used only when the learner asks"
    listing = grader("list", env={"VERLINGS_STATE_DIR": str(tmp_path)})
    row = next(line for line in listing.stdout.splitlines() if "03.response_mask" in line)
    assert f"0/{len(find_exercise('03.response_mask').hints)}" in row, row


def test_grader_shows_the_lines_that_say_why(tmp_path):
    # population std in GRPO: the line that names the bug must reach the table, not only the first line

    from verlings.dev.mutants import build_target

    module = load_script(ROOT / "tests" / "test_mutants_03_advantages.py", "m03adv")
    target = build_target(next(m for m in module.MUTANTS if m.name == "grpo_population_std"), tmp_path / "t")
    proc = grader("03.grpo", "--target", str(target), env={"VERLINGS_STATE_DIR": str(tmp_path / "s")})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout.replace("\n", " ")
    assert "expected:" in out and "seen:" in out, out
    assert "unbiased" in out, "the line that names the convention is shown"


def test_grading_one_exercise_says_what_was_graded():
    proc = grader("03.masked_mean", "--solutions")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "03.masked_mean: all passed" in proc.stdout and "All graded exercises pass" not in proc.stdout


def test_a_typo_suggests_the_nearest_exercise():
    proc = grader("03.gea")
    assert proc.returncode == 2 and "did you mean 03.gae?" in proc.stdout, proc.stdout
    assert "03.response_mask" not in proc.stdout, "a typo does not print every id"


def test_grader_in_chinese(tmp_path):
    proc = grader("03.response_mask", "--lang", "zh", env={"VERLINGS_STATE_DIR": str(tmp_path)})
    assert "练习" in proc.stdout and find_exercise("03.response_mask").title["zh"] in proc.stdout


def test_hints_are_revealed_one_at_a_time(tmp_path):
    env = {"VERLINGS_STATE_DIR": str(tmp_path)}
    ex = find_exercise("03.masked_mean")
    first = grader("hint", "03.masked_mean", env=env)
    assert first.returncode == 0 and "1/" in first.stdout and "2/" not in first.stdout
    second = grader("hint", "masked_mean", "--lang", "zh", env=env)
    assert "2/" in second.stdout and ex.hints[1].zh[:10] in second.stdout.replace("\n", "")


def test_unknown_exercise_is_a_clear_error():
    proc = grader("hint", "03.nope")
    assert proc.returncode == 2 and "not an exercise" in proc.stdout and "Traceback" not in proc.stderr


def test_list_shows_progress(tmp_path):
    proc = grader("list", env={"VERLINGS_STATE_DIR": str(tmp_path)})
    assert proc.returncode == 0 and "03.gae" in proc.stdout and "not graded" in proc.stdout


# --- reset keeps the learner's work --------------------------------------------------------------

def test_reset_restores_only_that_exercise_and_keeps_a_backup(tmp_path):
    target = solutions_copy(tmp_path / "target")
    ex = find_exercise("03.masked_mean")
    solved = (target / "03" / "masks.py").read_text()
    result = reset(ex, root=target, state_dir=tmp_path / "state")
    restored = (target / "03" / "masks.py").read_text()
    assert result.backup is not None and result.backup.read_text() == solved
    assert "raise NotImplementedError(\"implement masked_mean" in restored
    assert "implement compute_response_mask" not in restored, "the learner's other function must be kept"


def test_reset_of_an_unparsable_file_restores_the_whole_stub(tmp_path):
    (tmp_path / "03").mkdir()
    (tmp_path / "03" / "masks.py").write_text("def broken(:\n")
    result = reset(find_exercise("03.masked_mean"), root=tmp_path, state_dir=tmp_path / "state")
    assert result.whole_file and (tmp_path / "03" / "masks.py").read_text() == pristine("03", "masks")
    assert result.backup.read_text() == "def broken(:\n"


def test_replace_definitions_appends_a_deleted_function():
    original = "def a():\n    raise NotImplementedError\n\n\ndef b():\n    raise NotImplementedError\n"
    current = "def a():\n    return 1\n"
    out = replace_definitions(current, original, ("b",))
    assert "return 1" in out and "def b():" in out


def test_reset_cli_on_a_target_folder(tmp_path):
    target = solutions_copy(tmp_path / "t")
    proc = grader("reset", "03.response_mask", "--target", str(target),
                  env={"VERLINGS_STATE_DIR": str(tmp_path / "s")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "backup" in proc.stdout.lower() or "kept" in proc.stdout
    assert "implement compute_response_mask" in (target / "03" / "masks.py").read_text()


# --- watch mode ----------------------------------------------------------------------------------

def test_current_exercise_is_the_first_not_passed():
    from verlings.state import Progress
    from verlings.watch import current_exercise

    progress = Progress()
    first = current_exercise(progress)
    assert first is not None
    progress.record(first.id, "passed")
    second = current_exercise(progress)
    assert second is not None and second.id != first.id
    assert current_exercise(progress, after=second.id).id not in (first.id, second.id)


def test_watch_grades_the_current_exercise_and_quits_on_q(tmp_path):
    target = solutions_copy(tmp_path / "t")
    stub_masks = (EXERCISES / "03" / "masks.py").read_text()
    (target / "03" / "masks.py").write_text(stub_masks)  # 03.response_mask: a stub
    # watch 03 starts at the chapter's first unfinished exercise, 03.response_mask (the target has no
    # chapters 01-02, whose saved statuses the watch no longer trusts).
    from verlings.chapters import all_chapters
    from verlings.state import Progress

    progress = Progress()
    for ex in (e for ch in all_chapters() if ch.id < "03" for e in ch.exercises):
        progress.record(ex.id, "passed")
    progress.save(tmp_path / "s")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "grader.py"), "watch", "03", "--target", str(target)], input="h\nq\n",
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLUMNS": "200", "VERLINGS_STATE_DIR": str(tmp_path / "s")},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "03.response_mask" in proc.stdout and "NotImplementedError" in proc.stdout
    assert "hint 1/" in proc.stdout and "hint 2/" not in proc.stdout, "h reveals one hint; grading reveals none"


def test_verls_site_packages_tests_package_does_not_shadow_ours():
    # The verl wheel installs a top-level `tests` package; importlib import mode keeps ours apart.
    code = (
        "import importlib.util, sys, pytest\n"
        "assert importlib.util.find_spec('tests') is not None, 'verl ships a tests package'\n"
        "import tests\n"
        "assert 'site-packages' in (tests.__file__ or ''), tests.__file__\n"
        "sys.exit(pytest.main(['tests/test_harness.py', '-q', '-k', 'resolution_order', '-p', 'no:cacheprovider']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_bench_summary_groups_implementations():
    from verlings.bench import summarise

    data = {"benchmarks": [
        {"name": "test_grpo[vectorized-yours]", "group": "grpo", "stats": {"min": 2.0, "median": 3.0}},
        {"name": "test_grpo[vectorized-reference]", "group": "grpo", "stats": {"min": 1.0, "median": 1.5}},
        {"name": "test_grpo[verl]", "group": "grpo", "stats": {"min": 4.0, "median": 5.0}},
    ]}
    assert summarise(data) == {"grpo": {"yours": (2.0, 3.0), "reference": (1.0, 1.5), "verl": (4.0, 5.0)}}


def test_bench_table_fits_80_columns():
    import io

    from rich.console import Console

    from verlings.bench import render

    groups = {f"grpo 1024x1024 n=8 (verl {v})": {"yours": (0.123456, 0.2), "reference": (0.0123, 0.02),
                                                  "verl": (0.000456, 0.001)} for v in ("vectorized", "loop")}
    groups["gae 256x1024"] = {"reference": (1.5, 2.0)}
    out = io.StringIO()
    render(groups, [], SOLUTIONS, Console(file=out, width=80, force_terminal=False, color_system=None))
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    row = next(line for line in lines if "vectorized" in line or "(verl" in line)
    assert "123 ms" in row and "12.3 ms" in row and "456 µs" in row, "times stay on the group's line"
    assert "10.04×" in row and "26.97×" in row
