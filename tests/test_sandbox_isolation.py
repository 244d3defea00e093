"""The reference sandbox (solutions/04/sandbox.py) against hostile programs, layer by layer.

The graded tests (exercises/04/test_sandbox.py) check the whole sandbox. These meta-tests
also switch layers off one at a time (the jail, the audit hook, the namespaces) to show that
each remaining layer still holds on its own — and, where a layer is *needed*, that the attack
really gets through without it. The layer-by-layer tests run the weaker guard (``jail=False``);
issue 19's hostile corpus, with and without the jail, is tests/test_sandbox_jail_corpus.py.
Every hostile program is bounded; whatever a test starts is killed at the end of the test.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from verlings.paths import SOLUTIONS
from verlings.target import load_module

ref = load_module("04", "sandbox", root=SOLUTIONS)

PLAIN_GUARD = "import runpy, sys\nsys.argv = [sys.argv[-1]]\nrunpy.run_path(sys.argv[0], run_name='__main__')\n"
HAS_NAMESPACES = bool(ref.unshare_prefix())
needs_namespaces = pytest.mark.skipif(not HAS_NAMESPACES, reason="unshare cannot create namespaces here")


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


def _wait_gone(marker: str, grace_s: float = 1.0) -> list[int]:
    deadline = time.monotonic() + grace_s
    while (alive := _processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def _kill_all(marker: str) -> None:
    for pid in _processes_with(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


@pytest.fixture
def marker():
    name = f"verlings-meta-{uuid.uuid4().hex}"
    yield name
    _kill_all(name)


@pytest.fixture
def hook_only(monkeypatch):
    """The sandbox without namespaces (as on a machine without unshare)."""
    monkeypatch.setattr(ref, "unshare_prefix", lambda: ())


@pytest.fixture
def no_hook(monkeypatch):
    """The sandbox without the audit hook."""
    monkeypatch.setattr(ref, "GUARD", PLAIN_GUARD)


def _sleeper(marker: str) -> str:
    return f'[sys.executable, "-S", "-c", "import time; time.sleep(60)", "{marker}"]'


# --- the full sandbox ---------------------------------------------------------------------------


def test_layers_reported():
    layers = ref.isolation_layers(jail=False)
    assert {"tempdir", "process-group", "rlimits", "output-cap", "clean-env", "audit-hook"} <= set(layers)
    assert ("netns" in layers) == HAS_NAMESPACES
    assert "jail" not in layers
    if ref.jail_available():
        assert {"jail", "netns", "pidns", "mountns", "unprivileged"} <= set(ref.isolation_layers())


def test_classic_fork_bomb_is_stopped_at_the_first_fork(marker):
    # Unchecked, 8 doublings give 256 processes; the hook refuses the very first fork.
    result = ref.run_code(f"import os\nfor _ in range(8):\n    os.fork()\nprint('{marker}')\n", timeout_s=2.0)
    assert result.exit_code != 0 and "os.fork" in result.stderr
    assert marker not in result.stdout


@pytest.mark.parametrize(
    ("program", "blocked"),
    [
        ("import os\nos.symlink('/etc/hostname', 'link')\nprint(open('link').read())\n", "open"),
        ("import os\nos.chdir('/')\nprint(open('etc/hostname').read())\n", "open"),
        ("print(open('../../../../../../etc/hostname').read())\n", "open"),
        ("import os\nprint(os.listdir('/'))\n", "os.listdir"),
        ("import gc\nprint(len(gc.get_objects()))\n", "gc.get_objects"),
        ("import resource\nresource.setrlimit(resource.RLIMIT_AS, (-1, -1))\n", "resource.setrlimit"),
        ("import ctypes\n", "ctypes.dlopen"),
        ("import os\nos.system('echo hi')\n", "os.system"),
    ],
    ids=["symlink", "chdir", "dotdot", "listdir", "gc", "raise_rlimit", "ctypes", "system"],
)
def test_escape_attempts_are_refused(program, blocked):
    result = ref.run_code(program, timeout_s=3.0)
    assert result.exit_code != 0, result.stdout
    assert "PermissionError" in result.stderr and blocked in result.stderr, result.stderr[-500:]


def test_hard_link_to_a_file_outside_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    result = ref.run_code(f"import os\nos.link({str(secret)!r}, 'x')\nprint(open('x').read())\n", timeout_s=3.0)
    assert "s3cret" not in result.stdout and "os.link" in result.stderr


def test_deleting_outside_is_refused(tmp_path):
    victim = tmp_path / "keep.txt"
    victim.write_text("keep me")
    result = ref.run_code(f"import os\nos.remove({str(victim)!r})\n", timeout_s=3.0)
    assert victim.exists() and result.exit_code != 0


def test_normal_programs_still_work():
    program = (
        "import json, re, math, random, fractions, collections, itertools, heapq, dataclasses, threading\n"
        "import os, tempfile, warnings\n"
        "warnings.warn('fine')\n"
        "os.makedirs('sub/dir', exist_ok=True)\n"
        "with open('sub/dir/f.txt', 'w') as f:\n    f.write('x')\n"
        "os.rename('sub/dir/f.txt', 'sub/g.txt')\n"
        "print(sorted(os.listdir('sub')), json.dumps({'a': math.sqrt(4)}))\n"
        "t = threading.Thread(target=print, args=('thread',))\nt.start(); t.join()\n"
    )
    result = ref.run_code(program, timeout_s=5.0)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "['dir', 'g.txt'] {\"a\": 2.0}\nthread\n"


def test_parallel_runs_do_not_interfere():
    # verl computes rewards in thread pools: run_code must be safe to call from many threads at once.
    results: dict[int, object] = {}

    def one(i: int) -> None:
        results[i] = ref.run_code(f"import os\nprint({i}, os.getcwd())\n", timeout_s=10.0)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    folders = set()
    for i, r in results.items():
        number, folder = r.stdout.split()
        assert r.exit_code == 0 and int(number) == i
        folders.add(folder)
    assert len(folders) == 8


def test_no_temporary_folder_left_behind(tmp_path, monkeypatch):
    # A temporary folder of this test's own: in the shared /tmp, a sandbox run by another xdist
    # worker at the same moment shows up as a folder "left behind" (seen in CI).
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ref.run_code("open('x', 'w').write('x')\nwhile True:\n    pass\n", timeout_s=0.5)
    ran = ref.run_code("raise SystemExit(3)\n", timeout_s=2.0)
    assert ran.exit_code == 3, ran
    assert list(tmp_path.glob("verlings-sandbox-*")) == []


# --- one layer at a time ------------------------------------------------------------------------


@needs_namespaces
def test_network_namespace_alone_blocks_loopback(no_hook):
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.0)
    port = listener.getsockname()[1]
    try:
        result = ref.run_code(
            f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\n", timeout_s=5.0, jail=False
        )
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()
    assert "Network is unreachable" in result.stderr or "Errno" in result.stderr, result.stderr[-300:]


def test_audit_hook_alone_blocks_sockets_and_files(hook_only, tmp_path):
    secret = tmp_path / "s.txt"
    secret.write_text("s3cret")
    result = ref.run_code("import socket\nsocket.socket()\n", timeout_s=3.0, jail=False)
    assert "socket.__new__" in result.stderr
    result = ref.run_code(f"print(open({str(secret)!r}).read())\n", timeout_s=3.0, jail=False)
    assert "s3cret" not in result.stdout and "PermissionError" in result.stderr


def test_without_the_hook_files_outside_are_readable(no_hook, tmp_path):
    # Why the audit hook is needed at all: namespaces and rlimits do not hide files.
    secret = tmp_path / "s.txt"
    secret.write_text("s3cret")
    result = ref.run_code(f"print(open({str(secret)!r}).read())\n", timeout_s=3.0, jail=False)
    assert result.stdout.strip() == "s3cret"


@needs_namespaces
def test_pid_namespace_kills_a_setsid_escapee(no_hook, marker):
    # The grandchild leaves the process group (setsid), so killpg cannot reach it; the PID
    # namespace can: when its process 1 exits, the kernel kills everything inside.
    program = (
        "import os, sys\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        f"    os.execv(sys.executable, {_sleeper(marker)})\n"
        "print('parent exits')\n"
    )
    result = ref.run_code(program, timeout_s=3.0, jail=False)
    assert result.exit_code == 0, result.stderr
    assert not _wait_gone(marker), "a setsid() escapee survived despite the PID namespace"


def test_without_namespaces_or_hook_a_setsid_escapee_survives(no_hook, hook_only, marker):
    # The reason for the PID namespace: killpg alone misses a process that left the group.
    program = f"import os, sys\nif os.fork() == 0:\n    os.setsid()\n    os.execv(sys.executable, {_sleeper(marker)})\n"
    ref.run_code(program, timeout_s=3.0, jail=False)
    time.sleep(0.3)
    assert _processes_with(marker), "expected the escapee to survive without pidns (the layer would be pointless)"


def test_rlimits_alone_stop_memory_and_files(no_hook, hook_only):
    result = ref.run_code("x = b'x' * (1 << 30)\nprint('allocated')\n", timeout_s=5.0, memory_mb=128, jail=False)
    assert "MemoryError" in result.stderr and "allocated" not in result.stdout
    result = ref.run_code("open('big', 'wb').write(b'x' * (8 << 20))\nprint('wrote')\n", timeout_s=5.0, jail=False)
    assert "File too large" in result.stderr and "wrote" not in result.stdout
    result = ref.run_code("import sys\nwhile True:\n    sys.stdout.write('y' * 4096)\n", timeout_s=5.0, jail=False)
    assert len(result.stdout) == ref.MAX_OUTPUT_CHARS and result.exit_code != 0


def test_process_group_alone_kills_children_on_timeout(no_hook, hook_only, marker):
    program = f"import subprocess, sys, time\nsubprocess.Popen({_sleeper(marker)})\ntime.sleep(60)\n"
    result = ref.run_code(program, timeout_s=1.0, jail=False)
    assert result.timed_out
    assert not _wait_gone(marker), "killpg missed a child in the group"


@pytest.mark.skipif(os.geteuid() == 0, reason="the kernel does not apply RLIMIT_NPROC to root")
def test_rlimit_nproc_alone_stops_a_fork_loop(no_hook, hook_only, marker):
    program = (
        "import os, sys, time\n"
        "n = 0\n"
        "try:\n"
        "    for _ in range(500):\n"
        "        if os.fork() == 0:\n"
        f"            os.execv(sys.executable, {_sleeper(marker)})\n"
        "        n += 1\n"
        "except OSError:\n"
        "    pass\n"
        "print(n)\n"
    )
    result = ref.run_code(program, timeout_s=5.0, jail=False)
    assert int(result.stdout) <= ref.MAX_PROCESSES + 5
    assert not _wait_gone(marker)


def test_cpu_limit_alone_kills_a_busy_loop(no_hook, hook_only):
    # With the wall clock out of the way (no timeout here), RLIMIT_CPU still ends a busy loop: the
    # limit is ceil(timeout)+1 CPU seconds, so prlimit_args(0.5, ...) gives 2 s soft, 3 s hard.
    import subprocess

    proc = subprocess.Popen([*ref.prlimit_args(0.5, 256, 10_000), sys.executable, "-S", "-c", "while True: pass"])
    try:
        code = proc.wait(timeout=15)
    finally:
        proc.kill()
    assert code in (-signal.SIGXCPU, -signal.SIGKILL), code


@pytest.mark.skipif(not ref.jail_available(), reason=f"no jail here: {ref.JAIL_FIX}")
def test_rlimit_nproc_holds_in_the_jail(no_hook, marker):
    # Inside the jail the program is uid 65534, not root: the kernel applies RLIMIT_NPROC, so a fork
    # loop stops near MAX_PROCESSES even without the audit hook (and even as root outside).
    program = (
        "import os, sys, time\n"
        "n = 0\n"
        "try:\n"
        "    for _ in range(500):\n"
        "        if os.fork() == 0:\n"
        f"            os.execv(sys.executable, {_sleeper(marker)})\n"
        "        n += 1\n"
        "except OSError:\n"
        "    pass\n"
        "print(n)\n"
    )
    result = ref.run_code(program, timeout_s=5.0)
    assert result.exit_code == 0, result.stderr[-300:]
    assert int(result.stdout) <= ref.MAX_PROCESSES + 5, result.stdout
    assert not _wait_gone(marker)
