"""Known-wrong variants of exercises/04/sandbox.py: each must fail a graded test — the one named.

Sandbox mistakes are silent (the run "works"), so for each mutant this file also names the
graded test that must catch it: a survivor check has to see the surviving grandchild, not
fail for some unrelated reason.
"""

import tempfile
from pathlib import Path

import pytest

from verlings.dev.mutants import Mutant, build_target, graded_failures

# A run_code with every layer except what the mutant breaks; {guard}, {prefix}, {limits},
# {env}, {kill} and {read} are the mutant's choices.
RUN_CODE = """
GUARD_ALLOWING_PROCESSES = GUARD
for _event in ('"os.fork", ', '"os.exec", ', '"os.posix_spawn", ', '"subprocess.Popen",'):
    GUARD_ALLOWING_PROCESSES = GUARD_ALLOWING_PROCESSES.replace(_event, "")

def run_code(code, stdin="", timeout_s=2.0, memory_mb=256):
    root = Path(tempfile.mkdtemp(prefix="verlings-sandbox-"))
    try:
        work = root / "work"
        work.mkdir()
        (work / "main.py").write_text(code, encoding="utf-8")
        (root / "stdin").write_text(stdin, encoding="utf-8")
        cmd = [*{prefix}, sys.executable, "-I", "-S", "-u", "-X", "utf8", "-c", {guard}, "main.py"]
        timed_out = False
        start = time.monotonic()
        with open(root / "stdin", "rb") as fin, open(root / "stdout", "wb") as fout, \\
                open(root / "stderr", "wb") as ferr:
            proc = subprocess.Popen(cmd, cwd=work, stdin=fin, stdout=fout, stderr=ferr, env={env},
                                    start_new_session=True,
                                    preexec_fn=functools.partial({limits}, timeout_s, memory_mb))
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                {kill_on_timeout}
            finally:
                {kill_always}
                exit_code = proc.wait()
        duration = time.monotonic() - start
        return RunResult({read}(root / "stdout"), {read}(root / "stderr"), exit_code, timed_out, duration)
    finally:
        {cleanup}
"""

GOOD = {
    "prefix": "unshare_prefix()", "guard": "GUARD", "env": "CHILD_ENV", "limits": "set_limits",
    "kill_on_timeout": "pass", "kill_always": "_kill_group(proc.pid)", "read": "_read_capped",
    "cleanup": "shutil.rmtree(root, ignore_errors=True)",
}


def run_code_with(**changes: str) -> str:
    return RUN_CODE.format(**{**GOOD, **changes})


MUTANTS = [
    (
        Mutant(
            "sandbox_kills_only_the_parent",
            "04.sandbox_limits",
            "sandbox",
            # No namespaces (a machine without unshare), a hook that lets programs start
            # processes, and proc.kill() on timeout instead of killing the group.
            run_code_with(prefix="()", guard="GUARD_ALLOWING_PROCESSES", kill_on_timeout="proc.kill()",
                          kill_always="pass"),
        ),
        ["test_grandchild_is_killed_on_timeout", "test_background_process_is_killed_after_a_normal_exit",
         "test_fork_storm_is_contained"],
    ),
    (
        Mutant(
            "sandbox_kills_group_only_on_timeout",
            "04.sandbox_limits",
            "sandbox",
            run_code_with(prefix="()", guard="GUARD_ALLOWING_PROCESSES", kill_on_timeout="_kill_group(proc.pid)",
                          kill_always="pass"),
        ),
        ["test_background_process_is_killed_after_a_normal_exit"],
    ),
    (
        Mutant("sandbox_without_audit_hook", "04.sandbox_limits", "sandbox",
               run_code_with(guard="'import runpy, sys; runpy.run_path(sys.argv[-1], run_name=\"__main__\")'")),
        ["test_writing_outside_the_folder_is_blocked", "test_reading_the_graders_files_is_blocked"],
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
            def set_limits(timeout_s, memory_mb):
                cpu = max(1, math.ceil(timeout_s)) + 1
                resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
                resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
                resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            """,
        ),
        ["test_huge_allocation_fails_fast", "test_limits_are_visible_to_the_program"],
    ),
    (
        Mutant(
            "sandbox_memory_limit_in_bytes",
            "04.sandbox_limits",
            "sandbox",
            """
            _reference_set_limits = set_limits

            def set_limits(timeout_s, memory_mb):
                _reference_set_limits(timeout_s, memory_mb)
                resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1000 * 1000 // 4, memory_mb * 1000 * 1000 // 4))
            """,
        ),
        ["test_memory_limit_leaves_room_for_normal_programs"],
    ),
    (
        Mutant(
            "sandbox_without_file_size_limit",
            "04.sandbox_limits",
            "sandbox",
            """
            def set_limits(timeout_s, memory_mb):
                cpu = max(1, math.ceil(timeout_s)) + 1
                resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
                resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
                resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            """,
        ),
        ["test_huge_file_is_stopped"],
    ),
    (
        Mutant("sandbox_output_not_capped", "04.sandbox_limits", "sandbox",
               run_code_with(read="(lambda p: Path(p).read_text(errors='replace'))")),
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

            def run_code(code, stdin="", timeout_s=2.0, memory_mb=256):
                return _reference_run_code(code, stdin, timeout_s, memory_mb)._replace(timed_out=False)
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

            def run_code(code, stdin="", timeout_s=2.0, memory_mb=256):
                result = _reference_run_code(code, stdin, timeout_s, memory_mb)
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


@pytest.mark.parametrize(("mutant", "catchers"), MUTANTS, ids=[m.name for m, _ in MUTANTS])
def test_graded_tests_catch(mutant, catchers):
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutant.name}-") as tmp:
        failed, _ = graded_failures(build_target(mutant, Path(tmp)), mutant.exercise)
    assert failed, f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
    missed = [name for name in catchers if not any(f"::{name}" in nodeid for nodeid in failed)]
    assert not missed, f"{mutant.name}: {missed} should fail on it, but only {failed} did"
