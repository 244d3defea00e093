"""Graded tests for exercises/04/sandbox.py: a sandbox is judged by what hostile programs can NOT do.

Every hostile program here is bounded (it gives up after a minute, forks at most 20 times), so
an unfinished sandbox fails these tests without harming the machine; anything a test starts
outside the sandbox is killed at the end of the test.

The process-group tests run the weaker guard (``jail=False``) without namespaces, and start their
grandchildren with ``_posixsubprocess.fork_exec``, which raises no audit event: inside the jail
the PID namespace would kill them anyway, and the audit hook would refuse ``subprocess``. So a
grandchild really exists, and only the process group can stop it.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from verlings import learner_module
from verlings.paths import ROOT
from verlings.target import load_module
from verlings.testing import assert_equal

sandbox = learner_module("04", "sandbox")

SLACK_S = 2.5  # start-up and clean-up allowance on a busy machine
GRANDCHILD_TIMEOUTS_S = (0.3, 2.0, 6.0)  # tried in turn until the program is seen to start


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


def _native_spawn_code(marker: str, setsid: bool = False) -> str:
    """Program lines that start a sleeper with ``_posixsubprocess.fork_exec``: no audit event, so GUARD allows it."""
    return (
        "import _posixsubprocess, os, sys\n"
        f"_args = [os.fsencode(a) for a in {_sleeper_code(marker)}]\n"
        "_r, _w = os.pipe()\n"
        "_posixsubprocess.fork_exec(_args, [_args[0]], True, (), None, None, -1, -1, -1, -1, -1, -1, _r, _w,\n"
        f"                           True, {setsid}, -1, None, None, None, -1, None, False)\n"
    )


@pytest.fixture
def weaker_guard_only(monkeypatch):
    """run_code(jail=False) with no namespaces either (as on a machine without unshare)."""
    monkeypatch.setattr(load_module("04", "sandbox"), "unshare_prefix", lambda: ())


def _needs_bwrap() -> None:
    if shutil.which("bwrap") is None:
        pytest.fail(f"bubblewrap is not installed, so the jail cannot be tested: {sandbox.JAIL_FIX}", pytrace=False)


# --- §2.2 the jail: bwrap_args ----------------------------------------------------------------------
#
# The learner's bwrap_args is run here by the test itself, with a plain interpreter inside (no
# GUARD): what the jail must stop is what native code could do, not what the audit hook refuses.


def _jail(program: str, tmp_path: Path, env: dict[str, str] | None = None, timeout_s: float = 20.0):
    """Run ``program`` (Python source) in a jail built by the learner's bwrap_args; (CompletedProcess, work)."""
    _needs_bwrap()
    root = tmp_path / "jail"
    root.mkdir()
    as_root = os.geteuid() == 0
    sandbox.hand_over(root, as_root)
    work = root / "work"
    args = sandbox.bwrap_args(work=str(work), prefix=sandbox.python_prefix(), as_root=as_root)
    assert isinstance(args, list) and "--" in args, (
        f"bwrap_args must return the command line as a list ending with '--' (setpriv's, as root); got {args!r}"
    )
    cmd = [*args, sandbox.python_executable(), "-I", "-S", "-c", program]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env or sandbox.CHILD_ENV)
    return done, work


def _facts(program: str, tmp_path: Path, **kw) -> dict:
    """Run a program that prints one JSON object as its last line; return that object."""
    done, _ = _jail(program, tmp_path, **kw)
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0 and lines, (
        f"python did not run in the jail (exit {done.returncode}); bwrap said: {done.stderr.strip()[-500:]!r} — "
        "is the interpreter's prefix bound (--ro-bind prefix prefix, after make_parents), and the system libraries?"
    )
    return json.loads(lines[-1])


@pytest.mark.exercise("04.jail")
def test_jail_runs_python_in_its_own_writable_folder(tmp_path):
    facts = _facts(
        "import os, json\nopen('note.txt', 'w').write('hi')\n"
        "print(json.dumps({'cwd': os.getcwd(), 'files': sorted(os.listdir('.'))}))\n",
        tmp_path,
    )
    work = tmp_path / "jail" / "work"
    assert_equal(
        facts["cwd"],
        str(work),
        what="os.getcwd() in the jail",
        why="bind the work folder at its own path (--bind work work) and start there (--chdir work)",
    )
    assert (work / "note.txt").read_text() == "hi", "a file written in the jail's folder must appear in work"
    owner = (work / "note.txt").stat().st_uid
    assert owner != 0, (
        "the jailed program's file belongs to root on this machine: the program ran as root outside the jail — "
        "as root, do not map uid 65534 with --uid (the user namespace maps it to root outside); drop to 65534 with "
        "setpriv after '--'"
    )


@pytest.mark.exercise("04.jail")
def test_jail_user_is_unprivileged(tmp_path):
    facts = _facts(
        "import os, json\nprint(json.dumps([os.getuid(), os.geteuid(), os.getgid(), os.getgroups()]))\n", tmp_path
    )
    uid, euid, gid, groups = facts
    assert_equal(
        [uid, euid, gid],
        [65534, 65534, 65534],
        what="(uid, euid, gid) inside the jail",
        why="as root: setpriv --reuid=65534 --regid=65534 after '--'; otherwise --uid 65534 --gid 65534",
    )
    assert 0 not in groups, f"the jailed process keeps root's group among its groups {groups} — --clear-groups"


@pytest.mark.exercise("04.jail")
def test_jail_hides_the_course_home_and_tmp(tmp_path):
    # The secret is world-readable on purpose: the jail must hide it, not just the unprivileged user.
    secret_dir = Path(tempfile.mkdtemp(prefix="verlings-secret-"))
    try:
        secret_dir.chmod(0o755)
        secret = secret_dir / "answers.txt"
        secret.write_text("the answers")
        secret.chmod(0o644)
        probes = {
            "course": str(ROOT),
            "solutions": str(ROOT / "solutions"),
            "a readable file in /tmp": str(secret),
            "home": str(Path.home()),
            "/etc/hostname": "/etc/hostname",
            "/work": "/work",
        }
        facts = _facts(
            "import os, json\n"
            f"probes = {probes!r}\n"
            "print(json.dumps({k: os.path.exists(v) for k, v in probes.items()}))\n",
            tmp_path,
        )
    finally:
        shutil.rmtree(secret_dir, ignore_errors=True)
    seen = sorted(k for k, v in facts.items() if v and probes[k] not in sandbox.python_prefix())
    assert_equal(
        seen,
        [],
        what="host paths the jailed program can see",
        why="the mount tree starts empty: bind only the system libraries, the interpreter's prefix, /dev "
        "and the work folder — never / or /tmp or the home folder",
    )


@pytest.mark.exercise("04.jail")
def test_jail_outside_work_is_read_only(tmp_path):
    prefix = sandbox.python_prefix()
    facts = _facts(
        "import os, json\n"
        f"print(json.dumps({{'prefix': bool(os.statvfs({prefix!r}).f_flag & os.ST_RDONLY),\n"
        "                   'work': bool(os.statvfs('.').f_flag & os.ST_RDONLY)}))\n",
        tmp_path,
    )
    assert_equal(
        facts,
        {"prefix": True, "work": False},
        what="read-only mounts in the jail {folder: read-only?}",
        why="--ro-bind for the interpreter's prefix, --bind (writable) for work only",
    )


@pytest.mark.exercise("04.jail")
def test_jail_has_no_network(tmp_path):
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.0)
    port = listener.getsockname()[1]
    try:
        facts = _facts(
            "import socket, json\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'x')\n"
            "    print(json.dumps('connected'))\n"
            "except OSError as exc:\n"
            "    print(json.dumps(type(exc).__name__))\n",
            tmp_path,
        )
    finally:
        listener.close()
    assert facts != "connected", "the jailed program reached a port on this machine — unshare the network namespace"


@pytest.mark.exercise("04.jail")
def test_jail_cannot_signal_processes_outside(tmp_path):
    victim = subprocess.Popen([sys.executable, "-S", "-c", "import time; time.sleep(60)"])
    try:
        facts = _facts(
            "import os, signal, json\n"
            "try:\n"
            f"    os.kill({victim.pid}, signal.SIGKILL)\n"
            "    print(json.dumps('sent'))\n"
            "except OSError as exc:\n"
            "    print(json.dumps(type(exc).__name__))\n",
            tmp_path,
        )
        time.sleep(0.1)
        assert victim.poll() is None, (
            f"the jailed program killed pid {victim.pid} outside the jail — unshare the PID namespace ({facts})"
        )
        # PermissionError would mean: the process is there, you may not signal it. In its own PID
        # namespace the program cannot even see it.
        assert_equal(
            facts,
            "ProcessLookupError",
            what=f"os.kill({victim.pid}) from the jail raised",
            why="a PID namespace (--unshare-pid) hides every process outside the jail",
        )
    finally:
        victim.kill()
        victim.wait()


@pytest.mark.exercise("04.jail")
def test_jail_environment_is_clean(tmp_path):
    token = uuid.uuid4().hex
    env = {**sandbox.CHILD_ENV, "VERLINGS_API_KEY": token, "HOME": str(Path.home())}
    facts = _facts("import os, json\nprint(json.dumps(dict(os.environ)))\n", tmp_path, env=env)
    assert token not in json.dumps(facts), "the grader's environment leaked into the jail — --clearenv first"
    # bwrap itself sets PWD when it changes folder (--chdir).
    assert_equal(
        sorted(set(facts) - {"PWD"}),
        ["LANG", "LC_ALL", "PATH"],
        what="environment variables in the jail",
        why="--clearenv, then --setenv PATH, LANG and LC_ALL only",
    )


@pytest.mark.exercise("04.jail")
def test_jail_has_its_own_session(tmp_path):
    # A program in the grader's terminal session could push keystrokes into that terminal (TIOCSTI).
    # os.getsid(0) is 0 when the session's leader is outside the program's PID namespace.
    facts = _facts("import os, json\nprint(json.dumps(os.getsid(0) != 0))\n", tmp_path)
    assert_equal(
        facts,
        True,
        what="is the jailed program's session led from inside the jail",
        why="--new-session (bwrap calls setsid() inside the jail)",
    )


@pytest.mark.exercise("04.jail")
def test_jail_dies_with_its_parent(tmp_path):
    # If the grader dies (or kills bwrap), nothing of the jail may stay behind.
    _needs_bwrap()
    marker = f"verlings-orphan-{uuid.uuid4().hex}"
    root = tmp_path / "jail"
    root.mkdir()
    as_root = os.geteuid() == 0
    sandbox.hand_over(root, as_root)
    work = str(root / "work")
    args = sandbox.bwrap_args(work=work, prefix=sandbox.python_prefix(), as_root=as_root)
    proc = subprocess.Popen(
        [*args, sandbox.python_executable(), "-S", "-c", "import time; time.sleep(60)", marker],
        env=sandbox.CHILD_ENV,
        start_new_session=True,
    )
    try:
        # bwrap's own command line carries the marker too: wait for the jailed interpreter itself.
        python = sandbox.python_executable().encode()

        def sleeper_started() -> bool:
            for pid in _processes_with(marker):
                try:
                    if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] == python:
                        return True
                except OSError:
                    pass
            return False

        deadline = time.monotonic() + 15
        while not sleeper_started() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert sleeper_started(), "the jailed sleeper never started"
        os.kill(proc.pid, signal.SIGKILL)  # bwrap itself, not its process group
        proc.wait()
        alive = _survivors(marker, grace_s=2.0)
        assert not alive, f"the jailed program (pid {alive}) outlived bwrap — --die-with-parent"
    finally:
        _kill_all(_processes_with(marker))
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- §2.3 run_code: the basics ------------------------------------------------------------------


@pytest.mark.exercise("04.run_code")
def test_run_code_captures_stdout_stderr_and_exit_code():
    result, wall = _run("import sys\nprint('hello')\nprint('oops', file=sys.stderr)\n", timeout_s=5.0)
    assert_equal(result.stdout, "hello\n", what="stdout of print('hello')")
    assert_equal(result.stderr, "oops\n", what="stderr of print('oops', file=sys.stderr)")
    assert_equal(result.exit_code, 0, what="exit_code of a program that ends normally")
    assert_equal(result.timed_out, False, what="timed_out of a quick program")
    assert 0 < result.duration_s <= wall + 0.1, f"duration_s {result.duration_s} should be the run's wall time"


@pytest.mark.exercise("04.run_code")
def test_run_code_feeds_stdin():
    result, _ = _run("a = int(input())\nb = int(input())\nprint(a * b)\n", stdin="6\n7\n", timeout_s=5.0)
    assert_equal(
        result.stdout,
        "42\n",
        what="stdout with stdin '6\\n7\\n'",
        why="write stdin to a file and pass it as the child's stdin",
    )


@pytest.mark.exercise("04.run_code")
def test_run_code_reports_exit_codes_and_tracebacks():
    result, _ = _run("import sys\nsys.exit(3)\n", timeout_s=5.0)
    assert_equal(result.exit_code, 3, what="exit_code of sys.exit(3)")
    result, _ = _run("x = 1 / 0\n", timeout_s=5.0)
    assert_equal(result.exit_code, 1, what="exit_code of an uncaught exception")
    assert "ZeroDivisionError" in result.stderr, f"the traceback belongs in stderr, got {result.stderr!r}"


@pytest.mark.exercise("04.run_code")
def test_run_code_keeps_unicode():
    result, _ = _run("print('héllo ✓ 你好')\n", timeout_s=5.0)
    assert_equal(
        result.stdout,
        "héllo ✓ 你好\n",
        what="stdout of a non-ASCII print",
        why="run the child in UTF-8 mode (-X utf8) and decode its output as UTF-8",
    )


@pytest.mark.exercise("04.run_code")
@pytest.mark.parametrize(
    "program", ["while True:\n    pass\n", "import time\ntime.sleep(60)\n"], ids=["busy_loop", "sleep"]
)
def test_run_code_times_out(program):
    result, wall = _run(program, timeout_s=0.3)
    assert_equal(
        result.timed_out,
        True,
        what="timed_out of a program that never ends",
        why="proc.wait(timeout=timeout_s) raises subprocess.TimeoutExpired: set timed_out=True and kill"
        + (" — sleeping uses no CPU, so only a wall-clock timeout catches it" if "sleep" in program else ""),
    )
    assert result.exit_code != 0, f"a killed program has a non-zero (negative) exit code, got {result.exit_code}"
    assert wall < 0.3 + SLACK_S, f"run_code took {wall:.1f}s for timeout_s=0.3 — is the wall-clock timeout applied?"


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
    layers = sandbox.isolation_layers(jail=False)
    assert isinstance(layers, list) and all(isinstance(x, str) for x in layers), f"a list of names, got {layers!r}"
    for required in ("tempdir", "process-group", "rlimits", "output-cap", "clean-env", "audit-hook"):
        assert required in layers, f"{required!r} missing from isolation_layers(jail=False) = {layers}"
    assert "jail" not in layers, f"isolation_layers(jail=False) = {layers} claims the jail"
    jailed = sandbox.isolation_layers(jail=True)
    assert {"jail", "netns", "pidns"} <= set(jailed), f"isolation_layers(jail=True) = {jailed} misses the jail's layers"


@pytest.mark.exercise("04.run_code")
def test_run_code_runs_in_the_jail():
    _needs_bwrap()
    program = f"import os\nprint(os.getuid(), os.path.exists({str(ROOT)!r}))\n"
    result, _ = _run(program, timeout_s=10.0)
    assert_equal(
        result.stdout.split(),
        ["65534", "False"],
        what="(uid, can see the course?) of a run_code program",
        why="run the command through prlimit_args + bwrap_args (jail=True is the default); "
        f"stderr: {result.stderr[-300:]!r}",
    )
    assert_equal(result.jailed, True, what="RunResult.jailed of a jailed run")


@pytest.mark.exercise("04.run_code")
def test_run_code_refuses_to_run_unjailed_unless_asked(monkeypatch):
    monkeypatch.setattr(load_module("04", "sandbox"), "jail_available", lambda: False)
    with pytest.raises(sandbox.JailUnavailableError) as caught:
        sandbox.run_code(code="print('ran')\n", timeout_s=5.0)
    assert "bubblewrap" in str(caught.value), f"the error must name the fix (JAIL_FIX), got {str(caught.value)!r}"
    result, _ = _run("print('ran')\n", timeout_s=5.0, jail=False)
    assert_equal(
        (result.stdout, result.jailed),
        ("ran\n", False),
        what="(stdout, jailed) with jail=False",
        why="jail=False is the caller's explicit opt-in: run under the guard and record jailed=False",
    )


# --- §2.4 hostile programs ----------------------------------------------------------------------


@pytest.mark.exercise("04.sandbox_limits")
def test_prlimit_args_values():
    args = sandbox.prlimit_args(timeout_s=2.0, memory_mb=256, max_processes=40)
    assert args[0] == "prlimit" and args[-1] == "--", f"['prlimit', '--name=soft:hard', ..., '--'], got {args!r}"
    seen = dict(a.removeprefix("--").split("=", 1) for a in args[1:-1])
    # Hand-worked: as = 256 << 20 = 268435456 bytes; cpu = ceil(2.0) + 1 = 3 s soft, 4 s hard;
    # fsize = FILE_SIZE_LIMIT = 1 << 20 = 1048576; nproc = max_processes = 40; core = 0.
    expected = {"as": "268435456:268435456", "cpu": "3:4", "fsize": "1048576:1048576", "nproc": "40:40", "core": "0:0"}
    what = "prlimit_args(timeout_s=2.0, memory_mb=256, max_processes=40) as {name: soft:hard}"
    assert_equal(
        seen,
        expected,
        what=what,
        why="one --name=soft:hard per limit; memory in bytes (MiB << 20)",
    )


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
    assert limits["RLIMIT_NPROC"] <= 10_000, f"RLIMIT_NPROC is {limits['RLIMIT_NPROC']}: processes of the uid + 32"


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
    assert_equal(
        result.stdout.strip(),
        f"ok {128 << 20}",
        what="128 MiB under memory_mb=256",
        why=f"RLIMIT_AS is memory_mb << 20 bytes (MiB, not bytes or KiB); stderr: {result.stderr[-200:]!r}",
    )


@pytest.mark.exercise("04.sandbox_limits")
def test_huge_file_is_stopped():
    program = (
        "with open('big.bin', 'wb') as f:\n    for _ in range(64):\n        f.write(b'x' * (1 << 20))\nprint('wrote')\n"
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
    # Booleans first, so a failure does not print the whole leaked file (the grader's source) in its diff.
    read_secret, read_grader = token in leaked, "def assert_close" in leaked
    assert not read_secret, f"the program read {secret} (outside its folder) — install GUARD"
    assert not read_grader, f"the program read the grader's own source, {grader_file} — install GUARD"


@pytest.mark.exercise("04.sandbox_limits")
@pytest.mark.parametrize("jail", [True, False], ids=["jail", "weaker_guard"])
def test_environment_secrets_do_not_leak(monkeypatch, jail):
    token = uuid.uuid4().hex
    monkeypatch.setenv("VERLINGS_API_KEY", token)
    result, _ = _run("import os\nprint(sorted(os.environ.items()))\n", timeout_s=5.0, jail=jail)
    assert result.exit_code == 0, f"the program failed: {result.stderr[-300:]!r}"
    assert token not in result.stdout, (
        f"the grader's environment leaked into the sandbox (jail={jail}) — pass env=CHILD_ENV to Popen"
    )


@pytest.mark.exercise("04.sandbox_limits")
@pytest.mark.parametrize(
    ("program", "event"),
    [("import os\nos.fork()\n", "os.fork"), ("import socket\nsocket.socket()\n", "socket.__new__")],
    ids=["fork", "socket"],
)
def test_refused_actions_are_explained(program, event):
    # The jail would contain both; the audit hook (GUARD) is what tells the author *why* the program failed.
    result, _ = _run(program, timeout_s=5.0)
    assert result.exit_code != 0, f"{event} was allowed: run the program through GUARD (python -c GUARD main.py)"
    assert "PermissionError" in result.stderr and event in result.stderr, (
        f"expected GUARD's 'sandbox: {event} is not allowed' in stderr, got {result.stderr[-300:]!r} — "
        "keep the audit hook inside the jail: python ... -c GUARD main.py"
    )


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
def test_grandchild_is_killed_on_timeout(weaker_guard_only):
    marker = f"verlings-grandchild-{uuid.uuid4().hex}"
    program = _native_spawn_code(marker) + "import time\nprint('spawned', flush=True)\ntime.sleep(60)\n"
    try:
        # The program must be seen to start its grandchild before the timeout. 0.3 s is plenty
        # on an idle machine (it starts in ~0.05 s); a crowded one gets longer tries, not a 3 s wait for everyone.
        for timeout_s in GRANDCHILD_TIMEOUTS_S:
            result, _ = _run(program, timeout_s=timeout_s, jail=False)
            if "spawned" in result.stdout:
                break
            _kill_all(_processes_with(marker))
        assert "spawned" in result.stdout, (
            f"the test's grandchild did not start within {timeout_s} s: {result.stderr[-300:]!r}"
        )
        alive = _survivors(marker)
        assert not alive, (
            f"a grandchild (pid {alive}) outlived the timeout — kill the whole process group "
            "(start_new_session=True + os.killpg(proc.pid, SIGKILL)), not just the child (proc.kill())"
        )
    finally:
        _kill_all(_processes_with(marker))


@pytest.mark.exercise("04.sandbox_limits")
def test_background_process_is_killed_after_a_normal_exit(weaker_guard_only):
    marker = f"verlings-daemon-{uuid.uuid4().hex}"
    program = _native_spawn_code(marker) + "print('bye')\n"
    try:
        result, wall = _run(program, timeout_s=3.0, jail=False)
        assert result.exit_code == 0 and "bye" in result.stdout, f"the program failed: {result.stderr[-300:]!r}"
        alive = _survivors(marker)
        assert not alive, (
            f"a background process (pid {alive}) survived a program that exited normally (exit 0) — "
            "killpg the group in a finally, after every run, not only on timeout"
        )
        assert wall < 3.0 + SLACK_S, f"took {wall:.1f}s"
    finally:
        _kill_all(_processes_with(marker))


@pytest.mark.exercise("04.sandbox_limits")
def test_process_group_is_the_programs_own(weaker_guard_only):
    # Without start_new_session=True the program shares the grader's process group: killpg(proc.pid)
    # finds no group of that id, and the grandchild lives on after every run.
    marker = f"verlings-group-{uuid.uuid4().hex}"
    program = _native_spawn_code(marker) + "print(os.getpgid(0) == os.getpid(), os.getsid(0) == os.getpid())\n"
    try:
        result, _ = _run(program, timeout_s=3.0, jail=False)
        assert_equal(
            result.stdout.split(),
            ["True", "True"],
            what="(own process group?, own session?) of the program",
            why="start_new_session=True makes the child the leader of a new session and process group, "
            f"so os.killpg(proc.pid, ...) reaches it and its children; stderr: {result.stderr[-200:]!r}",
        )
        alive = _survivors(marker)
        assert not alive, f"a grandchild (pid {alive}) survived: the group killed was not the program's own"
    finally:
        _kill_all(_processes_with(marker))


@pytest.mark.exercise("04.sandbox_limits")
def test_fork_storm_is_contained():
    marker = f"verlings-forks-{uuid.uuid4().hex}"
    spawn = _native_spawn_code(marker).splitlines()
    program = "for _ in range(20):\n" + "".join(f"    {line}\n" for line in spawn)
    program += "import time\ntime.sleep(60)\n"
    try:
        _, wall = _run(program, timeout_s=0.3)
        alive = _survivors(marker)
        assert not alive, f"{len(alive)} forked processes survived the sandbox — kill the process group"
        assert wall < 0.3 + SLACK_S, f"took {wall:.1f}s"
    finally:
        _kill_all(_processes_with(marker))


# --- §2.5 code_reward ---------------------------------------------------------------------------

ADD_ONE = [{"input": "1\n", "output": "2\n"}, {"input": "41\n", "output": "42"}, {"input": "-5", "output": "-4"}]


def _response(code: str, tag: str = "python") -> str:
    return f"Here is my solution.\n```{tag}\n{code}```\nIt reads a number and adds one."


@pytest.mark.exercise("04.code_reward")
@pytest.mark.parametrize(
    ("solution", "expected", "rule"),
    [
        # Hand-worked: prints n + 1 → 3 of 3 cases.
        (_response("print(int(input()) + 1)\n"), 1.0, "every case prints n + 1"),
        # Prints n + 1 only for positive n → cases 1 and 2 pass, case 3 (-5 → -5, expected -4) fails → 2/3.
        (
            _response("n = int(input())\nprint(n + 1 if n > 0 else n)\n"),
            2 / 3,
            "input -5 prints -5, not -4: 2 of 3 cases pass",
        ),
        # Right answers with trailing spaces → every case passes after normalisation.
        (
            _response("print(str(int(input()) + 1) + '   ')\n"),
            1.0,
            "trailing spaces are normalised away before comparing",
        ),
        # Right answer, then a crash → exit code 1 → no case passes.
        (
            _response("print(int(input()) + 1)\nraise SystemExit(1)\n"),
            0.0,
            "the program prints the right answer, then exits with code 1: a case passes only on exit code 0, "
            "whatever it printed (check result.exit_code, not just stdout)",
        ),
        # No fenced block at all → 0.
        ("print(int(input()) + 1)", 0.0, "no ```python block to run: 0.0"),
    ],
    ids=["all", "two_of_three", "trailing_spaces", "crash_after_output", "no_block"],
)
def test_code_reward_fraction_of_cases(solution, expected, rule):
    seen = sandbox.code_reward(solution_str=solution, test_cases=ADD_ONE, timeout_s=5.0)
    assert_equal(
        round(seen, 6),
        round(expected, 6),
        what=f"code_reward(solution_str={solution!r}) on the add-one cases {ADD_ONE}",
        why=f"{rule}; the reward is passed / len(test_cases), a case passes on exit code 0, no timeout and equal "
        "normalised stdout",
    )


@pytest.mark.exercise("04.code_reward")
def test_code_reward_takes_the_last_python_block():
    solution = (
        "First try:\n```python\nprint(int(input()) - 1)\n```\n"
        "Oops, fixed:\n```py\nprint(int(input()) + 1)\n```\n"
        "Sample run:\n```text\n2\n```\n"
    )
    assert_equal(
        sandbox.extract_code(solution_str=solution),
        "print(int(input()) + 1)\n",
        what="extract_code with a draft, a fix and a text block",
        why="the LAST Python block (tags '', python, py, python3); a ```text block is output, not code",
    )
    assert_equal(
        sandbox.code_reward(solution_str=solution, test_cases=ADD_ONE, timeout_s=5.0),
        1.0,
        what="code_reward runs the fixed block",
    )


@pytest.mark.exercise("04.code_reward")
def test_extract_code_edge_cases():
    assert_equal(
        sandbox.extract_code(solution_str="```\nprint(1)\n```"),
        "print(1)\n",
        what="extract_code of a bare ``` block",
        why="an empty tag is Python",
    )
    assert_equal(
        sandbox.extract_code(solution_str="```python\nprint(1)\n"),
        None,
        what="extract_code of an unclosed fence",
        why="an unclosed fence is not a block (the response was cut off)",
    )
    assert_equal(
        sandbox.extract_code(solution_str="```bash\nls\n```"),
        None,
        what="extract_code of a bash block",
        why="only Python tags count",
    )


@pytest.mark.exercise("04.code_reward")
def test_code_reward_accepts_json_test_cases():
    import json

    seen = sandbox.code_reward(
        solution_str=_response("print(int(input()) + 1)\n"), test_cases=json.dumps(ADD_ONE), timeout_s=5.0
    )
    assert_equal(
        seen,
        1.0,
        what="code_reward with test cases as a JSON string",
        why="a parquet ground_truth column stores the list as JSON: json.loads a str first",
    )


@pytest.mark.exercise("04.code_reward")
def test_code_reward_hostile_program_scores_zero():
    start = time.monotonic()
    seen = sandbox.code_reward(
        solution_str=_response("while True:\n    pass\n"), test_cases=ADD_ONE[:2], timeout_s=0.25
    )
    wall = time.monotonic() - start
    assert_equal(
        seen,
        0.0,
        what="code_reward of an infinite loop",
        why="a timed-out run passes nothing",
    )
    assert wall < 2 * 0.25 + 2 * SLACK_S, f"took {wall:.1f}s — is timeout_s passed on to run_code?"


@pytest.mark.exercise("04.code_reward")
def test_code_reward_edge_inputs():
    assert_equal(
        sandbox.code_reward(solution_str=_response("print(1)\n"), test_cases=[]),
        0.0,
        what="code_reward with no test case",
        why="no test case proves nothing: 0.0 (and never a ZeroDivisionError)",
    )
    with pytest.raises(ValueError):
        sandbox.code_reward(solution_str=_response("print(1)\n"), test_cases=[{"stdin": "1", "expected": "2"}])
