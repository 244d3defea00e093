"""Graded tests for exercises/04/sandbox.py: a sandbox is judged by what hostile programs can NOT do.

Every hostile program here is bounded (it gives up after a minute, forks at most 20 times), so
an unfinished sandbox fails these tests without harming the machine; anything a test starts
outside the sandbox is killed at the end of the test.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from verlings import learner_module
from verlings.paths import ROOT
from verlings.testing import assert_equal

sandbox = learner_module("04", "sandbox")

SLACK_S = 2.5  # start-up and clean-up allowance on a busy machine


def _run(code: str, **kw):
    """run_code with the wall time of the call (the sandbox's own duration_s may not be honest)."""
    start = time.monotonic()
    result = sandbox.run_code(code=code, **kw)
    return result, time.monotonic() - start


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return [p for p in found if p != os.getpid()]


def _survivors(marker: str, grace_s: float = 1.0) -> list[int]:
    """Processes carrying ``marker`` still alive after a grace period (SIGKILL is not instantaneous)."""
    deadline = time.monotonic() + grace_s
    while True:
        alive = _processes_with(marker)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def _kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _sleeper_code(marker: str) -> str:
    # A long-running process whose command line carries the marker, so the test can find it.
    return f'[sys.executable, "-S", "-c", "import time; time.sleep(60)", "{marker}"]'


# --- §2.2 run_code: the basics ------------------------------------------------------------------


@pytest.mark.exercise("04.run_code")
def test_run_code_captures_stdout_stderr_and_exit_code():
    result, wall = _run("import sys\nprint('hello')\nprint('oops', file=sys.stderr)\n", timeout_s=5.0)
    assert_equal(result.stdout, "hello\n", what="stdout of print('hello')", exercise="04.run_code")
    assert_equal(result.stderr, "oops\n", what="stderr of print('oops', file=sys.stderr)", exercise="04.run_code")
    assert_equal(result.exit_code, 0, what="exit_code of a program that ends normally", exercise="04.run_code")
    assert_equal(result.timed_out, False, what="timed_out of a quick program", exercise="04.run_code")
    assert 0 < result.duration_s <= wall + 0.1, f"duration_s {result.duration_s} should be the run's wall time"


@pytest.mark.exercise("04.run_code")
def test_run_code_feeds_stdin():
    result, _ = _run("a = int(input())\nb = int(input())\nprint(a * b)\n", stdin="6\n7\n", timeout_s=5.0)
    assert_equal(result.stdout, "42\n", what="stdout with stdin '6\\n7\\n'", exercise="04.run_code",
                 why="write stdin to a file and pass it as the child's stdin")


@pytest.mark.exercise("04.run_code")
def test_run_code_reports_exit_codes_and_tracebacks():
    result, _ = _run("import sys\nsys.exit(3)\n", timeout_s=5.0)
    assert_equal(result.exit_code, 3, what="exit_code of sys.exit(3)", exercise="04.run_code")
    result, _ = _run("x = 1 / 0\n", timeout_s=5.0)
    assert_equal(result.exit_code, 1, what="exit_code of an uncaught exception", exercise="04.run_code")
    assert "ZeroDivisionError" in result.stderr, f"the traceback belongs in stderr, got {result.stderr!r}"


@pytest.mark.exercise("04.run_code")
def test_run_code_keeps_unicode():
    result, _ = _run("print('héllo ✓ 你好')\n", timeout_s=5.0)
    assert_equal(result.stdout, "héllo ✓ 你好\n", what="stdout of a non-ASCII print", exercise="04.run_code",
                 why="run the child in UTF-8 mode (-X utf8) and decode its output as UTF-8")


@pytest.mark.exercise("04.run_code")
@pytest.mark.parametrize("program", ["while True:\n    pass\n", "import time\ntime.sleep(60)\n"],
                         ids=["busy_loop", "sleep"])
def test_run_code_times_out(program):
    result, wall = _run(program, timeout_s=1.0)
    assert_equal(result.timed_out, True, what="timed_out of a program that never ends", exercise="04.run_code",
                 why="proc.wait(timeout=timeout_s) raises subprocess.TimeoutExpired: set timed_out=True and kill"
                     + (" — sleeping uses no CPU, so only a wall-clock timeout catches it" if "sleep" in program
                        else ""))
    assert result.exit_code != 0, f"a killed program has a non-zero (negative) exit code, got {result.exit_code}"
    assert wall < 1.0 + SLACK_S, f"run_code took {wall:.1f}s for timeout_s=1.0 — is the wall-clock timeout applied?"


@pytest.mark.exercise("04.run_code")
def test_run_code_uses_a_fresh_folder_and_removes_it():
    program = "import os\nprint(os.getcwd(), flush=True)\nopen('scratch.txt', 'w').write('x' * 100)\n"
    first, _ = _run(program, timeout_s=5.0)
    second, _ = _run(program, timeout_s=5.0)
    assert first.exit_code == 0 and second.exit_code == 0, f"writing in its own folder must work: {first.stderr}"
    cwd1, cwd2 = Path(first.stdout.strip()), Path(second.stdout.strip())
    assert cwd1 != cwd2, "every run needs its own fresh folder (tempfile.mkdtemp)"
    for cwd in (cwd1, cwd2):
        assert not cwd.exists(), f"{cwd} is still there after the run — remove the folder (shutil.rmtree) in a finally"
        assert ROOT not in cwd.parents and cwd != Path.cwd(), f"the program ran in {cwd}, inside the course"


@pytest.mark.exercise("04.run_code")
def test_isolation_layers_names_the_layers():
    layers = sandbox.isolation_layers()
    assert isinstance(layers, list) and all(isinstance(x, str) for x in layers), f"a list of names, got {layers!r}"
    for required in ("tempdir", "process-group", "rlimits", "output-cap"):
        assert required in layers, f"{required!r} missing from isolation_layers() = {layers}"
    assert {"netns", "audit-hook"} & set(layers), "no network layer: use GUARD (audit-hook) and/or unshare (netns)"


# --- §2.3 hostile programs ----------------------------------------------------------------------


@pytest.mark.exercise("04.sandbox_limits")
def test_limits_are_visible_to_the_program():
    program = (
        "import resource as r\n"
        "for name in ('RLIMIT_AS', 'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_NPROC', 'RLIMIT_CORE'):\n"
        "    print(name, r.getrlimit(getattr(r, name))[0])\n"
    )
    result, _ = _run(program, timeout_s=3.0, memory_mb=200)
    seen = dict(line.split() for line in result.stdout.splitlines())
    assert len(seen) == 5, f"the program could not read its limits: {result.stdout!r} {result.stderr[-300:]!r}"
    limits = {k: int(v) for k, v in seen.items()}
    unlimited = [k for k, v in limits.items() if v < 0]
    assert not unlimited, f"{unlimited} are unlimited in the child — call resource.setrlimit in set_limits"
    assert limits["RLIMIT_AS"] <= 200 << 20, f"RLIMIT_AS is {limits['RLIMIT_AS']}, more than memory_mb=200 MiB"
    assert limits["RLIMIT_CPU"] <= 3 + 5, f"RLIMIT_CPU is {limits['RLIMIT_CPU']}s for timeout_s=3"
    assert limits["RLIMIT_FSIZE"] <= 16 << 20, f"RLIMIT_FSIZE is {limits['RLIMIT_FSIZE']} bytes; keep files small"
    assert limits["RLIMIT_CORE"] == 0, "RLIMIT_CORE should be 0: a crash must not leave a core file behind"


@pytest.mark.exercise("04.sandbox_limits")
def test_huge_allocation_fails_fast():
    # 1 GiB of real bytes under a 128 MiB limit: RLIMIT_AS makes the allocation raise MemoryError.
    result, wall = _run("data = b'x' * (1 << 30)\nprint('allocated', len(data))\n", timeout_s=5.0, memory_mb=128)
    assert "allocated" not in result.stdout, "the program allocated 1 GiB under memory_mb=128 — set RLIMIT_AS"
    assert result.exit_code != 0, "a failed allocation must not look like success"
    assert wall < 5.0, f"took {wall:.1f}s: the allocation should fail at once, not run into the timeout"


@pytest.mark.exercise("04.sandbox_limits")
def test_memory_limit_leaves_room_for_normal_programs():
    # 128 MiB of data plus the interpreter (~30 MiB) fits in 256 MiB of address space.
    result, _ = _run("data = b'x' * (128 << 20)\nprint('ok', len(data))\n", timeout_s=5.0, memory_mb=256)
    assert_equal(result.stdout.strip(), f"ok {128 << 20}", what="128 MiB under memory_mb=256",
                 exercise="04.sandbox_limits",
                 why=f"RLIMIT_AS is memory_mb << 20 bytes (MiB, not bytes or KiB); stderr: {result.stderr[-200:]!r}")


@pytest.mark.exercise("04.sandbox_limits")
def test_huge_file_is_stopped():
    program = (
        "with open('big.bin', 'wb') as f:\n"
        "    for _ in range(64):\n"
        "        f.write(b'x' * (1 << 20))\n"
        "print('wrote')\n"
    )
    result, wall = _run(program, timeout_s=5.0)
    assert "wrote" not in result.stdout, "the program wrote a 64 MiB file — set RLIMIT_FSIZE"
    assert result.exit_code != 0 and wall < 5.0, f"exit {result.exit_code} after {wall:.1f}s"


@pytest.mark.exercise("04.sandbox_limits")
def test_stdout_flood_is_capped():
    result, wall = _run("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n", timeout_s=1.0)
    assert len(result.stdout) <= 65_536 + 1024, (
        f"kept {len(result.stdout)} characters of stdout — read at most MAX_OUTPUT_CHARS (65536)"
    )
    assert result.exit_code != 0 or result.timed_out, "a flood that was cut off must not look like success"
    assert wall < 1.0 + SLACK_S, f"took {wall:.1f}s"


@pytest.mark.exercise("04.sandbox_limits")
def test_writing_outside_the_folder_is_blocked(tmp_path):
    target = tmp_path / "pwned.txt"
    result, _ = _run(f"open({str(target)!r}, 'w').write('pwned')\n", timeout_s=5.0)
    assert not target.exists(), f"the program wrote {target} outside its folder — install GUARD (the audit hook)"
    assert result.exit_code != 0, "a blocked write should end the program with an error"


@pytest.mark.exercise("04.sandbox_limits")
def test_reading_the_graders_files_is_blocked(tmp_path):
    token = uuid.uuid4().hex
    secret = tmp_path / "answers.txt"
    secret.write_text(f"the answers: {token}\n")
    grader_file = ROOT / "verlings" / "testing.py"
    program = (
        f"for path in ({str(secret)!r}, {str(grader_file)!r}):\n"
        "    try:\n"
        "        print(open(path).read())\n"
        "    except Exception as exc:\n"
        "        print('blocked:', type(exc).__name__)\n"
    )
    result, _ = _run(program, timeout_s=5.0)
    leaked = result.stdout + result.stderr
    assert token not in leaked, "the program read a secret file outside its folder — install GUARD"
    assert "def assert_close" not in leaked, "the program read the grader's own source code — install GUARD"


@pytest.mark.exercise("04.sandbox_limits")
def test_environment_secrets_do_not_leak(monkeypatch):
    token = uuid.uuid4().hex
    monkeypatch.setenv("VERLINGS_API_KEY", token)
    result, _ = _run("import os\nprint(sorted(os.environ.items()))\n", timeout_s=5.0)
    assert token not in result.stdout, "the grader's environment leaked into the sandbox — pass env=CHILD_ENV"


@pytest.mark.exercise("04.sandbox_limits")
def test_network_is_blocked():
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.0)
    port = listener.getsockname()[1]
    program = (
        "import socket\n"
        f"s = socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "s.sendall(b'pwned')\n"
        "print('connected')\n"
    )
    try:
        result, _ = _run(program, timeout_s=5.0)
        try:
            conn, _addr = listener.accept()
            conn.close()
            connected = True
        except BlockingIOError:
            connected = False
    finally:
        listener.close()
    assert not connected, "the sandboxed program opened a TCP connection to this machine — block sockets (GUARD/netns)"
    assert "connected" not in result.stdout


@pytest.mark.exercise("04.sandbox_limits")
def test_processes_outside_cannot_be_killed():
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _run(f"import os, signal\nos.kill({victim.pid}, signal.SIGKILL)\n", timeout_s=5.0)
        time.sleep(0.1)
        assert victim.poll() is None, "the sandboxed program killed a process outside the sandbox — block os.kill"
    finally:
        victim.kill()
        victim.wait()


@pytest.mark.exercise("04.sandbox_limits")
def test_grandchild_is_killed_on_timeout():
    marker = f"verlings-grandchild-{uuid.uuid4().hex}"
    program = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen({_sleeper_code(marker)})\n"
        "time.sleep(60)\n"
    )
    try:
        _run(program, timeout_s=1.0)
        alive = _survivors(marker)
        assert not alive, (
            f"a grandchild (pid {alive}) outlived the timeout — kill the whole process group "
            "(start_new_session=True + os.killpg), not just the child"
        )
    finally:
        _kill_all(_processes_with(marker))


@pytest.mark.exercise("04.sandbox_limits")
def test_background_process_is_killed_after_a_normal_exit():
    marker = f"verlings-daemon-{uuid.uuid4().hex}"
    program = (
        "import subprocess, sys\n"
        f"subprocess.Popen({_sleeper_code(marker)})\n"
        "print('bye')\n"
    )
    try:
        _, wall = _run(program, timeout_s=3.0)
        alive = _survivors(marker)
        assert not alive, (
            f"a background process (pid {alive}) survived a program that exited normally — "
            "killpg the group in a finally, after every run, not only on timeout"
        )
        assert wall < 3.0 + SLACK_S, f"took {wall:.1f}s"
    finally:
        _kill_all(_processes_with(marker))


@pytest.mark.exercise("04.sandbox_limits")
def test_fork_storm_is_contained():
    marker = f"verlings-forks-{uuid.uuid4().hex}"
    program = (
        "import os, sys, time\n"
        "for _ in range(20):\n"
        "    if os.fork() == 0:\n"
        f"        os.execv(sys.executable, {_sleeper_code(marker)})\n"
        "time.sleep(60)\n"
    )
    try:
        _, wall = _run(program, timeout_s=1.0)
        alive = _survivors(marker)
        assert not alive, f"{len(alive)} forked processes survived the sandbox — kill the process group"
        assert wall < 1.0 + SLACK_S, f"took {wall:.1f}s"
    finally:
        _kill_all(_processes_with(marker))


# --- §2.4 code_reward ---------------------------------------------------------------------------

ADD_ONE = [{"input": "1\n", "output": "2\n"}, {"input": "41\n", "output": "42"}, {"input": "-5", "output": "-4"}]


def _response(code: str, tag: str = "python") -> str:
    return f"Here is my solution.\n```{tag}\n{code}```\nIt reads a number and adds one."


@pytest.mark.exercise("04.code_reward")
@pytest.mark.parametrize(
    ("solution", "expected"),
    [
        # Hand-worked: prints n + 1 → 3 of 3 cases.
        (_response("print(int(input()) + 1)\n"), 1.0),
        # Prints n + 1 only for positive n → cases 1 and 2 pass, case 3 (-5 → -5, expected -4) fails → 2/3.
        (_response("n = int(input())\nprint(n + 1 if n > 0 else n)\n"), 2 / 3),
        # Right answers with trailing spaces → every case passes after normalisation.
        (_response("print(str(int(input()) + 1) + '   ')\n"), 1.0),
        # Right answer, then a crash → exit code 1 → no case passes.
        (_response("print(int(input()) + 1)\nraise SystemExit(1)\n"), 0.0),
        # No fenced block at all → 0.
        ("print(int(input()) + 1)", 0.0),
    ],
    ids=["all", "two_of_three", "trailing_spaces", "crash_after_output", "no_block"],
)
def test_code_reward_fraction_of_cases(solution, expected):
    seen = sandbox.code_reward(solution_str=solution, test_cases=ADD_ONE, timeout_s=5.0)
    assert_equal(round(seen, 6), round(expected, 6), what="code_reward on the add-one cases", exercise="04.code_reward",
                 why="passed / len(test_cases); a case passes on exit 0, no timeout, equal normalised stdout")


@pytest.mark.exercise("04.code_reward")
def test_code_reward_takes_the_last_python_block():
    solution = (
        "First try:\n```python\nprint(int(input()) - 1)\n```\n"
        "Oops, fixed:\n```py\nprint(int(input()) + 1)\n```\n"
        "Sample run:\n```text\n2\n```\n"
    )
    assert_equal(sandbox.extract_code(solution_str=solution), "print(int(input()) + 1)\n",
                 what="extract_code with a draft, a fix and a text block", exercise="04.code_reward",
                 why="the LAST Python block (tags '', python, py, python3); a ```text block is output, not code")
    assert_equal(sandbox.code_reward(solution_str=solution, test_cases=ADD_ONE, timeout_s=5.0), 1.0,
                 what="code_reward runs the fixed block", exercise="04.code_reward")


@pytest.mark.exercise("04.code_reward")
def test_extract_code_edge_cases():
    assert_equal(sandbox.extract_code(solution_str="```\nprint(1)\n```"), "print(1)\n",
                 what="extract_code of a bare ``` block", exercise="04.code_reward", why="an empty tag is Python")
    assert_equal(sandbox.extract_code(solution_str="```python\nprint(1)\n"), None,
                 what="extract_code of an unclosed fence", exercise="04.code_reward",
                 why="an unclosed fence is not a block (the response was cut off)")
    assert_equal(sandbox.extract_code(solution_str="```bash\nls\n```"), None, what="extract_code of a bash block",
                 exercise="04.code_reward", why="only Python tags count")


@pytest.mark.exercise("04.code_reward")
def test_code_reward_accepts_json_test_cases():
    import json

    seen = sandbox.code_reward(solution_str=_response("print(int(input()) + 1)\n"), test_cases=json.dumps(ADD_ONE),
                               timeout_s=5.0)
    assert_equal(seen, 1.0, what="code_reward with test cases as a JSON string", exercise="04.code_reward",
                 why="a parquet ground_truth column stores the list as JSON: json.loads a str first")


@pytest.mark.exercise("04.code_reward")
def test_code_reward_hostile_program_scores_zero():
    start = time.monotonic()
    seen = sandbox.code_reward(solution_str=_response("while True:\n    pass\n"), test_cases=ADD_ONE[:2], timeout_s=0.5)
    wall = time.monotonic() - start
    assert_equal(seen, 0.0, what="code_reward of an infinite loop", exercise="04.code_reward",
                 why="a timed-out run passes nothing")
    assert wall < 2 * 0.5 + 2 * SLACK_S, f"took {wall:.1f}s — is timeout_s passed on to run_code?"


@pytest.mark.exercise("04.code_reward")
def test_code_reward_edge_inputs():
    assert_equal(sandbox.code_reward(solution_str=_response("print(1)\n"), test_cases=[]), 0.0,
                 what="code_reward with no test case", exercise="04.code_reward",
                 why="no test case proves nothing: 0.0 (and never a ZeroDivisionError)")
    with pytest.raises(ValueError):
        sandbox.code_reward(solution_str=_response("print(1)\n"), test_cases=[{"stdin": "1", "expected": "2"}])
