"""Known-wrong variants of exercises/04/sandbox.py: each must fail a graded test — the one named.

Sandbox mistakes are silent (the run "works"), so for each mutant this file also names the
graded test that must catch it: a survivor check has to see the surviving grandchild, not
fail for some unrelated reason.
"""

import os
import tempfile
from pathlib import Path

import pytest

from verlings.dev.mutants import LOG_ENV, Mutant, build_target, graded_failures

# Each mutant is an edit of solutions/04/sandbox.py (``replace={reference text: wrong text}``);
# run_code_is_a_plain_subprocess is pasted whole (it is no edit: no layer of run_code is left).
S = "sandbox"
LIMITS, JAIL, RUN, REWARD = "04.sandbox_limits", "04.jail", "04.run_code", "04.code_reward"

# --- run_code
RUN_TOP = '    if jail and not jail_available():\n        raise JailUnavailableError(f"run_code'
ON_TIMEOUT = "                timed_out = True\n"
KILL_ALWAYS = "                _kill_group(proc.pid)\n"
OUTPUTS = '_read_capped(root / "stdout"), _read_capped(root / "stderr")'
# --- bwrap_args
UNPRIVILEGED = '"--unshare-all", "--uid", str(JAIL_UID), "--gid", str(JAIL_GID)]'
ARGS = "args = [bwrap, *unshare,"
SETPRIV_LINE = (
    'args += [SETPRIV, f"--reuid={JAIL_UID}", f"--regid={JAIL_GID}", "--clear-groups", "--inh-caps=-all", "--"]'
)


def _prlimit_without(option: str) -> dict[str, str]:
    """The edit that removes one limit (its whole line) from prlimit_args."""
    line = {
        "--as": '        f"--as={memory}:{memory}",  # allocations fail with MemoryError\n',
        "--fsize": '        f"--fsize={FILE_SIZE_LIMIT}:{FILE_SIZE_LIMIT}",  # writes beyond fail: File too large\n',
        "--nproc": '        f"--nproc={max_processes}:{max_processes}",  # fork fails with EAGAIN'
        " (not applied to root)\n",
    }[option]
    return {line: ""}


MUTANTS = [
    # --- issue 27 §1: the process group, each piece graded on its own -----------------------------
    (
        Mutant("sandbox_kills_only_the_parent", LIMITS, S,
               replace={ON_TIMEOUT: ON_TIMEOUT + "                proc.kill()\n",
                        KILL_ALWAYS: "                pass\n"}),
        ["test_grandchild_is_killed_on_timeout", "test_background_process_is_killed_after_a_normal_exit"],
    ),
    (
        Mutant("sandbox_without_a_new_session", LIMITS, S,
               replace={"start_new_session=True,": "start_new_session=False,"}),
        [
            "test_process_group_is_the_programs_own",
            "test_grandchild_is_killed_on_timeout",
            "test_background_process_is_killed_after_a_normal_exit",
        ],
    ),
    (
        Mutant("sandbox_kills_group_only_on_timeout", LIMITS, S,
               replace={ON_TIMEOUT: ON_TIMEOUT + KILL_ALWAYS, KILL_ALWAYS + "                exit_code":
                        "                pass\n                exit_code"}),
        ["test_background_process_is_killed_after_a_normal_exit"],
    ),
    # --- the jail -------------------------------------------------------------------------------------
    (Mutant("run_code_never_jails", RUN, S, replace={RUN_TOP: "    jail = False\n" + RUN_TOP}),
     ["test_run_code_runs_in_the_jail"]),
    (
        Mutant("run_code_falls_back_silently", RUN, S,
               replace={RUN_TOP: "    jail = jail and jail_available()\n" + RUN_TOP}),
        ["test_run_code_refuses_to_run_unjailed_unless_asked"],
    ),
    (
        Mutant("jail_shares_the_network", JAIL, S,
               replace={'            "--unshare-net",\n': "", '"--unshare-all"': '"--unshare-user"'}),
        ["test_jail_has_no_network"],
    ),
    (
        Mutant("jail_shares_the_pids", JAIL, S,
               replace={'            "--unshare-pid",\n': "", '"--unshare-all"': '"--unshare-user"'}),
        ["test_jail_cannot_signal_processes_outside", "test_jail_dies_with_its_parent"],
    ),
    (
        # no --uid/--gid, and as root no setpriv: the program runs as the user who started it
        Mutant("jail_runs_as_root", JAIL, S, replace={UNPRIVILEGED: '"--unshare-all"]', SETPRIV_LINE: "pass"}),
        ["test_jail_user_is_unprivileged"],
    ),
    (
        # As root, the unprivileged recipe: --uid 65534 in a user namespace is root outside.
        Mutant("jail_root_maps_nobody_to_root", JAIL, S,
               replace={"    if as_root:\n        unshare = [": "    as_root = False\n    if as_root:\n"
                        "        unshare = ["}),
        ["test_jail_runs_python_in_its_own_writable_folder"] if __import__("os").geteuid() == 0 else [],
    ),
    (
        Mutant("jail_keeps_root_groups", JAIL, S, replace={'"--clear-groups", ': ""}),
        ["test_jail_user_is_unprivileged"] if __import__("os").geteuid() == 0 else [],
    ),
    (
        Mutant("jail_binds_the_whole_machine", JAIL, S,
               replace={ARGS: ARGS.replace("bwrap,", 'bwrap, "--ro-bind", "/", "/",')}),
        ["test_jail_hides_the_course_home_and_tmp"],
    ),
    (
        Mutant("jail_binds_tmp", JAIL, S,
               replace={ARGS: ARGS.replace("bwrap,", 'bwrap, "--ro-bind", "/tmp", "/tmp",')}),
        ["test_jail_hides_the_course_home_and_tmp"],
    ),
    (
        Mutant("jail_interpreter_writable", JAIL, S,
               replace={'"--ro-bind", prefix, prefix]': '"--bind", prefix, prefix]'}),
        ["test_jail_outside_work_is_read_only"],
    ),
    (
        Mutant("jail_work_folder_elsewhere", JAIL, S, replace={', "--chdir", work]': "]"}),
        ["test_jail_runs_python_in_its_own_writable_folder"],
    ),
    (
        Mutant("jail_keeps_the_environment", JAIL, S, replace={'        "--clearenv",\n': ""}),
        ["test_jail_environment_is_clean"],
    ),
    (
        Mutant("jail_without_new_session", JAIL, S,
               replace={'"--die-with-parent", "--new-session"]': '"--die-with-parent"]'}),
        ["test_jail_has_its_own_session"],
    ),
    (
        Mutant("jail_without_die_with_parent", JAIL, S, replace={'"--die-with-parent", ': ""}),
        ["test_jail_dies_with_its_parent"],
    ),
    (
        Mutant("sandbox_without_audit_hook", LIMITS, S, replace={
            '"-c", GUARD, "main.py"': '"-c", \'import runpy, sys; runpy.run_path(sys.argv[-1], run_name="__main__")\', '
                                      '"main.py"'}),
        ["test_refused_actions_are_explained"],
    ),
    (
        Mutant("sandbox_inherits_environment", LIMITS, S, replace={"env=CHILD_ENV,": "env=None,"}),
        ["test_environment_secrets_do_not_leak"],
    ),
    (
        Mutant("sandbox_without_memory_limit", LIMITS, S, replace=_prlimit_without("--as")),
        ["test_huge_allocation_fails_fast", "test_limits_are_visible_to_the_program", "test_prlimit_args_values"],
    ),
    (
        Mutant("sandbox_memory_limit_in_bytes", LIMITS, S,
               replace={"memory = int(memory_mb) << 20": "memory = memory_mb * 1000 * 1000 // 4"}),
        ["test_memory_limit_leaves_room_for_normal_programs", "test_prlimit_args_values"],
    ),
    (
        Mutant("sandbox_without_file_size_limit", LIMITS, S, replace=_prlimit_without("--fsize")),
        ["test_huge_file_is_stopped", "test_prlimit_args_values"],
    ),
    (
        Mutant("sandbox_without_process_limit", LIMITS, S, replace=_prlimit_without("--nproc")),
        ["test_limits_are_visible_to_the_program", "test_prlimit_args_values"],
    ),
    (
        Mutant("sandbox_output_not_capped", LIMITS, S, replace={
            OUTPUTS: 'Path(root / "stdout").read_text(errors="replace"), '
                     'Path(root / "stderr").read_text(errors="replace")'}),
        ["test_stdout_flood_is_capped"],
    ),
    (
        Mutant("sandbox_leaves_its_folder", RUN, S, replace={"shutil.rmtree(root, ignore_errors=True)": "pass"}),
        ["test_run_code_uses_a_fresh_folder_and_removes_it"],
    ),
    (
        Mutant("sandbox_timeout_flag_never_set", RUN, S, replace={ON_TIMEOUT: "                pass\n"}),
        ["test_run_code_times_out"],
    ),
    (
        Mutant("code_reward_first_block", REWARD, S,
               replace={"return blocks[-1] if blocks else None": "return blocks[0] if blocks else None"}),
        ["test_code_reward_takes_the_last_python_block"],
    ),
    (
        Mutant("code_reward_any_language", REWARD, S,
               replace={" if tag.strip().lower() in _PYTHON_TAGS]": "]"}),
        ["test_code_reward_takes_the_last_python_block"],
    ),
    (
        Mutant("code_reward_exact_output", REWARD, S, replace={
            '    return "\\n".join(line.rstrip() for line in text.strip().splitlines())': "    return text"}),
        ["test_code_reward_fraction_of_cases"],
    ),
    (
        # a failing or timed-out run whose output matches still counts
        Mutant("code_reward_ignores_exit_code", REWARD, S,
               replace={"ok = not result.timed_out and result.exit_code == 0": "ok = True"}),
        ["test_code_reward_fraction_of_cases"],
    ),
    (
        Mutant("code_reward_counts_not_fraction", REWARD, S,
               replace={"return passed / len(test_cases)": "return float(passed)"}),
        ["test_code_reward_fraction_of_cases"],
    ),
    # Found by `python -m verlings.dev never-failing 04`: graded tests that no variant above made fail.
    (
        Mutant("run_code_swaps_stdout_and_stderr", RUN, S,
               replace={OUTPUTS: '_read_capped(root / "stderr"), _read_capped(root / "stdout")'}),
        ["test_run_code_captures_stdout_stderr_and_exit_code"],
    ),
    (
        Mutant("run_code_ignores_stdin", RUN, S, replace={
            '(root / "stdin").write_text(stdin, encoding="utf-8")':
                '(root / "stdin").write_text("", encoding="utf-8")'}),
        ["test_run_code_feeds_stdin"],
    ),
    (
        Mutant("run_code_decodes_latin1", RUN, S, replace={
            OUTPUTS: '_read_capped(root / "stdout").encode("utf-8").decode("latin-1"), _read_capped(root / "stderr")'}),
        ["test_run_code_keeps_unicode"],
    ),
    (
        Mutant("run_code_exit_code_as_a_flag", RUN, S,
               replace={"exit_code = proc.wait()": "exit_code = int(proc.wait() != 0)"}),
        ["test_run_code_reports_exit_codes_and_tracebacks"],
    ),
    (
        Mutant("isolation_layers_always_claims_the_jail", RUN, S,
               replace={'    layers = ["tempdir",': '    jail = True\n    layers = ["tempdir",'}),
        ["test_isolation_layers_names_the_layers"],
    ),
    # No isolation at all (a plain subprocess): each limit test fails only when every layer that
    # enforces it is gone — the guard and the jail both block the network, files and os.kill.
    (
        Mutant(
            "run_code_is_a_plain_subprocess",
            "04.sandbox_limits",
            "sandbox",
            """
def run_code(code, stdin="", timeout_s=2.0, memory_mb=256, jail=True):
    import shutil
    import tempfile

    start = time.monotonic()
    # In a folder of its own: the file-size test's 64 MiB must not land in the grader's cwd.
    folder = tempfile.mkdtemp(prefix="verlings-mutant-")
    try:
        p = subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True, text=True,
                           timeout=timeout_s, cwd=folder)
        return RunResult(p.stdout, p.stderr, p.returncode, False, time.monotonic() - start, jail)
    except subprocess.TimeoutExpired:
        return RunResult("", "", -9, True, time.monotonic() - start, jail)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
""",
        ),
        [
            "test_network_is_blocked",
            "test_writing_outside_the_folder_is_blocked",
            "test_reading_the_graders_files_is_blocked",
            "test_processes_outside_cannot_be_killed",
        ],
    ),
    (
        Mutant(
            "code_reward_no_cases_is_full_marks",
            "04.code_reward",
            "sandbox",
            replace={
                "if code is None or not test_cases:\n        return 0.0": (
                    "if not test_cases:\n        return 1.0  # all([]) is True\n"
                    "    if code is None:\n        return 0.0"
                ),
            },
        ),
        ["test_code_reward_edge_inputs"],
    ),
    (
        # its own time-out instead of timeout_s: 4 s a case is past what the test allows two cases
        # (2 x 0.25 s + slack), and the hostile busy loop burns 8 s of CPU, not 20
        Mutant(
            "code_reward_own_timeout",
            "04.code_reward",
            "sandbox",
            replace={'stdin=case["input"], timeout_s=timeout_s,': 'stdin=case["input"], timeout_s=4.0,'},
        ),
        ["test_code_reward_hostile_program_scores_zero"],
    ),
    (
        # --clearenv without the locale: Python in the jail falls back to ASCII for its streams
        Mutant(
            "jail_without_utf8_locale",
            "04.jail",
            "sandbox",
            replace={'        "--setenv",\n        "LANG",\n        "C.UTF-8",\n': ""},
        ),
        ["test_bwrap_args_private_dev_and_utf8_environment"],
    ),
    (
        # the jail made opt-in: isolation_layers() then describes a run without it
        Mutant(
            "isolation_layers_jail_off_by_default",
            "04.run_code",
            "sandbox",
            replace={"def isolation_layers(jail: bool = True)": "def isolation_layers(jail: bool = False)"},
        ),
        ["test_isolation_layers_default_is_the_jail_in_full"],
    ),
]


@pytest.mark.parametrize(("mutant", "catchers"), MUTANTS, ids=[m.name for m, _ in MUTANTS])
def test_graded_tests_catch(mutant, catchers):
    # Only the named catchers run: the exercise's other tests wait out seconds of deliberate
    # time-outs that say nothing about this mutant (41 mutants: 193 s of waiting a suite run). The
    # never-failing audit (LOG_ENV set) still runs every graded test of the exercise.
    only = () if os.environ.get(LOG_ENV) else ("-k", " or ".join(catchers))
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutant.name}-") as tmp:
        failed, _ = graded_failures(build_target(mutant, Path(tmp)), mutant.exercise, extra_args=only)
    assert failed, f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
    missed = [name for name in catchers if not any(f"::{name}" in nodeid for nodeid in failed)]
    assert not missed, f"{mutant.name}: {missed} should fail on it, but only {failed} did"
