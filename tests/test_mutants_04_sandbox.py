"""Known-wrong variants of exercises/04/sandbox.py: each must fail a graded test — the one named.

Sandbox mistakes are silent (the run "works"), so for each mutant this file also names the
graded test that must catch it: a survivor check has to see the surviving grandchild, not
fail for some unrelated reason.
"""

import tempfile
from pathlib import Path

import pytest

from verlings.dev.mutants import Mutant, build_target, graded_failures

# A run_code with every layer except what the mutant breaks; the {placeholders} are the mutant's choices.
RUN_CODE = """
def run_code(code, stdin="", timeout_s=2.0, memory_mb=256, jail=True):
    if jail and not jail_available():
        raise JailUnavailableError(JAIL_FIX)
    root = Path(tempfile.mkdtemp(prefix="verlings-sandbox-"))
    try:
        work = root / "work"
        as_root = os.geteuid() == 0
        hand_over(root, as_root and jail)
        (work / "main.py").write_text(code, encoding="utf-8")
        (root / "stdin").write_text(stdin, encoding="utf-8")
        python = ["-I", "-S", "-u", "-X", "utf8", "-c", {guard}, "main.py"]
        if jail:
            uid = JAIL_UID if as_root else os.getuid()
            cmd = [*{limits}(timeout_s, memory_mb, processes_of(uid) + MAX_PROCESSES),
                   *bwrap_args(str(work), python_prefix(), as_root), python_executable(), *python]
        else:
            cmd = [*{limits}(timeout_s, memory_mb, processes_of(os.getuid()) + MAX_PROCESSES),
                   *{prefix}, sys.executable, *python]
        timed_out = False
        start = time.monotonic()
        with open(root / "stdin", "rb") as fin, open(root / "stdout", "wb") as fout, \\
                open(root / "stderr", "wb") as ferr:
            proc = subprocess.Popen(cmd, cwd=work, stdin=fin, stdout=fout, stderr=ferr, env={env},
                                    start_new_session={new_session})
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                {kill_on_timeout}
            finally:
                {kill_always}
                exit_code = proc.wait()
        duration = time.monotonic() - start
        return RunResult({read}(root / "stdout"), {read}(root / "stderr"), exit_code, timed_out, duration, jail)
    finally:
        {cleanup}
"""

GOOD = {
    "prefix": "unshare_prefix()",
    "guard": "GUARD",
    "env": "CHILD_ENV",
    "limits": "prlimit_args",
    "new_session": "True",
    "kill_on_timeout": "pass",
    "kill_always": "_kill_group(proc.pid)",
    "read": "_read_capped",
    "cleanup": "shutil.rmtree(root, ignore_errors=True)",
}


def run_code_with(**changes: str) -> str:
    return RUN_CODE.format(**{**GOOD, **changes})


def bwrap_args_with(drop: tuple[str, ...] = (), replace: dict[str, str] | None = None, extra: str = "") -> str:
    """The reference bwrap_args without the options in ``drop`` (an option and its values), some renamed."""
    return f"""
    _reference_bwrap_args = bwrap_args
    _DROP = {{{", ".join(f"{o!r}: {n}" for o, n in (d.split(":") for d in drop))}}}
    _REPLACE = {replace or {}!r}

    def bwrap_args(work, prefix, as_root, bwrap="bwrap"):
        args, out, i = _reference_bwrap_args(work, prefix, as_root, bwrap), [], 0
        while i < len(args):
            if args[i] in _DROP:
                i += 1 + _DROP[args[i]]
                continue
            out.append(_REPLACE.get(args[i], args[i]))
            i += 1
        {extra}
        return out
    """


MUTANTS = [
    # --- issue 27 §1: the process group, each piece graded on its own -----------------------------
    (
        Mutant(
            "sandbox_kills_only_the_parent",
            "04.sandbox_limits",
            "sandbox",
            run_code_with(kill_on_timeout="proc.kill()", kill_always="pass"),
        ),
        ["test_grandchild_is_killed_on_timeout", "test_background_process_is_killed_after_a_normal_exit"],
    ),
    (
        Mutant("sandbox_without_a_new_session", "04.sandbox_limits", "sandbox", run_code_with(new_session="False")),
        [
            "test_process_group_is_the_programs_own",
            "test_grandchild_is_killed_on_timeout",
            "test_background_process_is_killed_after_a_normal_exit",
        ],
    ),
    (
        Mutant(
            "sandbox_kills_group_only_on_timeout",
            "04.sandbox_limits",
            "sandbox",
            run_code_with(kill_on_timeout="_kill_group(proc.pid)", kill_always="pass"),
        ),
        ["test_background_process_is_killed_after_a_normal_exit"],
    ),
    # --- the jail -------------------------------------------------------------------------------------
    (
        Mutant(
            "run_code_never_jails",
            "04.run_code",
            "sandbox",
            """
               _reference_run_code = run_code

               def run_code(code, stdin="", timeout_s=2.0, memory_mb=256, jail=True):
                   return _reference_run_code(code, stdin, timeout_s, memory_mb, jail=False)
               """,
        ),
        ["test_run_code_runs_in_the_jail"],
    ),
    (
        Mutant(
            "run_code_falls_back_silently",
            "04.run_code",
            "sandbox",
            """
               _reference_run_code = run_code

               def run_code(code, stdin="", timeout_s=2.0, memory_mb=256, jail=True):
                   return _reference_run_code(code, stdin, timeout_s, memory_mb, jail=jail and jail_available())
               """,
        ),
        ["test_run_code_refuses_to_run_unjailed_unless_asked"],
    ),
    (
        Mutant(
            "jail_shares_the_network",
            "04.jail",
            "sandbox",
            bwrap_args_with(drop=("--unshare-net:0",), replace={"--unshare-all": "--unshare-user"}),
        ),
        ["test_jail_has_no_network"],
    ),
    (
        Mutant(
            "jail_shares_the_pids",
            "04.jail",
            "sandbox",
            bwrap_args_with(drop=("--unshare-pid:0",), replace={"--unshare-all": "--unshare-user"}),
        ),
        ["test_jail_cannot_signal_processes_outside", "test_jail_dies_with_its_parent"],
    ),
    (
        Mutant(
            "jail_runs_as_root",
            "04.jail",
            "sandbox",
            bwrap_args_with(drop=("--uid:1", "--gid:1"), extra="out = out[:out.index('--') + 1]"),
        ),
        ["test_jail_user_is_unprivileged"],
    ),
    (
        # As root, the unprivileged recipe: --uid 65534 in a user namespace is root outside.
        Mutant(
            "jail_root_maps_nobody_to_root",
            "04.jail",
            "sandbox",
            """
               _reference_bwrap_args = bwrap_args

               def bwrap_args(work, prefix, as_root, bwrap="bwrap"):
                   return _reference_bwrap_args(work, prefix, False, bwrap)
               """,
        ),
        ["test_jail_runs_python_in_its_own_writable_folder"] if __import__("os").geteuid() == 0 else [],
    ),
    (
        Mutant("jail_keeps_root_groups", "04.jail", "sandbox", bwrap_args_with(drop=("--clear-groups:0",))),
        ["test_jail_user_is_unprivileged"] if __import__("os").geteuid() == 0 else [],
    ),
    (
        Mutant(
            "jail_binds_the_whole_machine",
            "04.jail",
            "sandbox",
            bwrap_args_with(extra="out[1:1] = ['--ro-bind', '/', '/']"),
        ),
        ["test_jail_hides_the_course_home_and_tmp"],
    ),
    (
        Mutant(
            "jail_binds_tmp", "04.jail", "sandbox", bwrap_args_with(extra="out[1:1] = ['--ro-bind', '/tmp', '/tmp']")
        ),
        ["test_jail_hides_the_course_home_and_tmp"],
    ),
    (
        Mutant(
            "jail_interpreter_writable",
            "04.jail",
            "sandbox",
            bwrap_args_with(extra="i = out.index(prefix)\n        out[i - 1] = '--bind'"),
        ),
        ["test_jail_outside_work_is_read_only"],
    ),
    (
        Mutant("jail_work_folder_elsewhere", "04.jail", "sandbox", bwrap_args_with(drop=("--chdir:1",))),
        ["test_jail_runs_python_in_its_own_writable_folder"],
    ),
    (
        Mutant("jail_keeps_the_environment", "04.jail", "sandbox", bwrap_args_with(drop=("--clearenv:0",))),
        ["test_jail_environment_is_clean"],
    ),
    (
        Mutant("jail_without_new_session", "04.jail", "sandbox", bwrap_args_with(drop=("--new-session:0",))),
        ["test_jail_has_its_own_session"],
    ),
    (
        Mutant("jail_without_die_with_parent", "04.jail", "sandbox", bwrap_args_with(drop=("--die-with-parent:0",))),
        ["test_jail_dies_with_its_parent"],
    ),
    (
        Mutant(
            "sandbox_without_audit_hook",
            "04.sandbox_limits",
            "sandbox",
            run_code_with(guard="'import runpy, sys; runpy.run_path(sys.argv[-1], run_name=\"__main__\")'"),
        ),
        ["test_refused_actions_are_explained"],
    ),
    (
        Mutant("sandbox_inherits_environment", "04.sandbox_limits", "sandbox", run_code_with(env="None")),
        ["test_environment_secrets_do_not_leak"],
    ),
    (
        Mutant(
            "sandbox_without_memory_limit",
            "04.sandbox_limits",
            "sandbox",
            """
               _reference_prlimit_args = prlimit_args

               def prlimit_args(timeout_s, memory_mb, max_processes):
                   return [a for a in _reference_prlimit_args(timeout_s, memory_mb, max_processes)
                           if not a.startswith("--as=")]
               """,
        ),
        ["test_huge_allocation_fails_fast", "test_limits_are_visible_to_the_program", "test_prlimit_args_values"],
    ),
    (
        Mutant(
            "sandbox_memory_limit_in_bytes",
            "04.sandbox_limits",
            "sandbox",
            """
               _reference_prlimit_args = prlimit_args

               def prlimit_args(timeout_s, memory_mb, max_processes):
                   m = memory_mb * 1000 * 1000 // 4
                   return [f"--as={m}:{m}" if a.startswith("--as=") else a
                           for a in _reference_prlimit_args(timeout_s, memory_mb, max_processes)]
               """,
        ),
        ["test_memory_limit_leaves_room_for_normal_programs", "test_prlimit_args_values"],
    ),
    (
        Mutant(
            "sandbox_without_file_size_limit",
            "04.sandbox_limits",
            "sandbox",
            """
               _reference_prlimit_args = prlimit_args

               def prlimit_args(timeout_s, memory_mb, max_processes):
                   return [a for a in _reference_prlimit_args(timeout_s, memory_mb, max_processes)
                           if not a.startswith("--fsize=")]
               """,
        ),
        ["test_huge_file_is_stopped", "test_prlimit_args_values"],
    ),
    (
        Mutant(
            "sandbox_without_process_limit",
            "04.sandbox_limits",
            "sandbox",
            """
               _reference_prlimit_args = prlimit_args

               def prlimit_args(timeout_s, memory_mb, max_processes):
                   return [a for a in _reference_prlimit_args(timeout_s, memory_mb, max_processes)
                           if not a.startswith("--nproc=")]
               """,
        ),
        ["test_limits_are_visible_to_the_program", "test_prlimit_args_values"],
    ),
    (
        Mutant(
            "sandbox_output_not_capped",
            "04.sandbox_limits",
            "sandbox",
            run_code_with(read="(lambda p: Path(p).read_text(errors='replace'))"),
        ),
        ["test_stdout_flood_is_capped"],
    ),
    (
        Mutant("sandbox_leaves_its_folder", "04.run_code", "sandbox", run_code_with(cleanup="pass")),
        ["test_run_code_uses_a_fresh_folder_and_removes_it"],
    ),
    (
        Mutant(
            "sandbox_timeout_flag_never_set",
            "04.run_code",
            "sandbox",
            """
            _reference_run_code = run_code

            def run_code(code, stdin="", timeout_s=2.0, memory_mb=256, jail=True):
                return _reference_run_code(code, stdin, timeout_s, memory_mb, jail)._replace(timed_out=False)
            """,
        ),
        ["test_run_code_times_out"],
    ),
    (
        Mutant(
            "code_reward_first_block",
            "04.code_reward",
            "sandbox",
            """
            def extract_code(solution_str):
                blocks = [b for t, b in _FENCE.findall(solution_str) if t.strip().lower() in _PYTHON_TAGS]
                return blocks[0] if blocks else None
            """,
        ),
        ["test_code_reward_takes_the_last_python_block"],
    ),
    (
        Mutant(
            "code_reward_any_language",
            "04.code_reward",
            "sandbox",
            """
            def extract_code(solution_str):
                blocks = [b for _t, b in _FENCE.findall(solution_str)]
                return blocks[-1] if blocks else None
            """,
        ),
        ["test_code_reward_takes_the_last_python_block"],
    ),
    (
        Mutant(
            "code_reward_exact_output",
            "04.code_reward",
            "sandbox",
            """
            def _normalise(text):
                return text
            """,
        ),
        ["test_code_reward_fraction_of_cases"],
    ),
    (
        Mutant(
            "code_reward_ignores_exit_code",
            "04.code_reward",
            "sandbox",
            """
            _reference_run_code = run_code

            def run_code(code, stdin="", timeout_s=2.0, memory_mb=256, jail=True):
                result = _reference_run_code(code, stdin, timeout_s, memory_mb, jail)
                return result._replace(exit_code=0, timed_out=False)
            """,
        ),
        ["test_code_reward_fraction_of_cases"],
    ),
    (
        Mutant(
            "code_reward_counts_not_fraction",
            "04.code_reward",
            "sandbox",
            """
            _reference_code_reward = code_reward

            def code_reward(solution_str, test_cases, timeout_s=2.0, memory_mb=256):
                cases = json.loads(test_cases) if isinstance(test_cases, str) else test_cases
                return _reference_code_reward(solution_str, cases, timeout_s, memory_mb) * len(cases)
            """,
        ),
        ["test_code_reward_fraction_of_cases"],
    ),
]


# Found by `python -m verlings.dev never-failing 04`: graded tests that no variant above made fail.
_WRAP = """
_reference_run_code = run_code

def run_code(code, stdin="", timeout_s=2.0, memory_mb=256, jail=True):
    r = _reference_run_code(code, {stdin}, timeout_s, memory_mb, jail)
    return r._replace({change})
"""


def _wrapped(stdin: str = "stdin", change: str = "") -> str:
    return _WRAP.format(stdin=stdin, change=change)


MUTANTS += [
    (
        Mutant(
            "run_code_swaps_stdout_and_stderr",
            "04.run_code",
            "sandbox",
            _wrapped(change="stdout=r.stderr, stderr=r.stdout"),
        ),
        ["test_run_code_captures_stdout_stderr_and_exit_code"],
    ),
    (Mutant("run_code_ignores_stdin", "04.run_code", "sandbox", _wrapped(stdin='""')), ["test_run_code_feeds_stdin"]),
    (
        Mutant(
            "run_code_decodes_latin1",
            "04.run_code",
            "sandbox",
            _wrapped(change="stdout=r.stdout.encode('utf-8').decode('latin-1')"),
        ),
        ["test_run_code_keeps_unicode"],
    ),
    (
        Mutant(
            "run_code_exit_code_as_a_flag", "04.run_code", "sandbox", _wrapped(change="exit_code=int(r.exit_code != 0)")
        ),
        ["test_run_code_reports_exit_codes_and_tracebacks"],
    ),
    (
        Mutant(
            "isolation_layers_always_claims_the_jail",
            "04.run_code",
            "sandbox",
            """
_reference_layers = isolation_layers

def isolation_layers(jail=True):
    return _reference_layers(jail=True)
""",
        ),
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
        Mutant(
            "code_reward_own_timeout",
            "04.code_reward",
            "sandbox",
            replace={'stdin=case["input"], timeout_s=timeout_s,': 'stdin=case["input"], timeout_s=10.0,'},
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
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutant.name}-") as tmp:
        failed, _ = graded_failures(build_target(mutant, Path(tmp)), mutant.exercise)
    assert failed, f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
    missed = [name for name in catchers if not any(f"::{name}" in nodeid for nodeid in failed)]
    assert not missed, f"{mutant.name}: {missed} should fail on it, but only {failed} did"
