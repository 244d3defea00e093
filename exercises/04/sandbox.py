"""A sandbox for untrusted code, and a reward that runs a program against test cases.

Lesson: exercises/04/README.md §2 (中文: README.zh-CN.md §2).
In verl 0.9.1 the code rewards (``verl/utils/reward_score/prime_code``, ``sandbox_fusion``) send
the program to a sandbox *service*; here you build the sandbox itself, on this machine.

A policy being trained on code will, sooner or later, emit a program that never stops, eats
all memory, forks until the machine dies, writes gigabytes, floods stdout, opens a socket, or
reads the grader's files (the answers!). The reward must survive all of it, score it 0 and
leave nothing behind. No single trick does that; you stack **layers**:

=================  ==========================================  =================================
layer              how                                         stops
=================  ==========================================  =================================
tempdir            ``tempfile.mkdtemp()``, ``rmtree`` after      leftovers, clashes between runs
process-group      ``start_new_session=True`` + ``os.killpg``    grandchildren outliving a timeout
rlimits            :func:`set_limits` (``resource.setrlimit``)   memory, CPU, huge files, forks
output-cap         stdout/stderr to files, read the first part   a stdout flood filling your RAM
clean-env          ``env=CHILD_ENV``                             secrets in environment variables
audit-hook         :data:`GUARD` (``sys.addaudithook``)          sockets, processes, files outside
netns / pidns      :func:`unshare_prefix` (Linux namespaces)     all networking; setsid escapes
=================  ==========================================  =================================

Provided below: :class:`RunResult`, the limits, :data:`CHILD_ENV`, :data:`GUARD` and
:func:`unshare_prefix`. You write :func:`set_limits`, :func:`run_code`,
:func:`isolation_layers`, :func:`extract_code` and :func:`code_reward`.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

MAX_OUTPUT_CHARS = 65_536  # keep at most this much of stdout and of stderr
FILE_SIZE_LIMIT = 1 << 20  # RLIMIT_FSIZE: no file (stdout included, if it is a file) beyond 1 MiB
MAX_PROCESSES = 32  # RLIMIT_NPROC headroom above the processes this user already runs
CHILD_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


class RunResult(NamedTuple):
    """What one run of a program gave.

    Attributes:
        stdout: what it printed (at most :data:`MAX_OUTPUT_CHARS` characters), decoded as UTF-8
            with ``errors="replace"``.
        stderr: the same for standard error (a traceback ends up here).
        exit_code: the process's return code; negative when a signal killed it (``-9`` after
            ``SIGKILL``), as ``subprocess`` reports it.
        timed_out: ``True`` when the wall-clock limit was reached and the program was killed.
        duration_s: wall-clock seconds from start to the end of the run.
    """

    stdout: str
    stderr: str
    exit_code: int
    timed_out: bool
    duration_s: float


# Provided: the first code the child Python runs, as ``python -I -S -u -X utf8 -c GUARD main.py``
# in the work folder. It installs an audit hook (PEP 578): every open(), socket, fork, exec,
# kill, ctypes load... raises an *audit event* first, and the hook raises PermissionError for
# the dangerous ones: sockets, new processes, signals to other processes, raising rlimits,
# files written outside the work folder, files read outside the work folder and Python's own
# installation. Then it runs main.py as __main__. An audit hook is a speed bump, not a wall
# (C code can do what it likes), which is why it is one layer among several.
GUARD = r'''
import os, sys

def _install_guard():
    join, real = os.path.join, os.path.realpath
    work = real(os.getcwd())
    read_roots = tuple(sorted({real(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                                 sys.base_exec_prefix)}))
    read_files = frozenset({"/dev/null"})
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    blocked = frozenset({
        "socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo", "socket.gethostbyname",
        "socket.gethostbyaddr", "socket.sendto", "socket.sendmsg",
        "os.fork", "os.forkpty", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "subprocess.Popen",
        "pty.spawn", "os.kill", "os.killpg", "signal.pthread_kill",
        "resource.setrlimit", "resource.prlimit", "ctypes.dlopen", "ctypes.dlsym", "ctypes.call_function",
        "gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.addaudithook",
    })
    # event -> positions of path arguments that must stay inside the work folder
    write_paths = {
        "os.remove": (0,), "os.rmdir": (0,), "os.rename": (0, 1), "os.mkdir": (0,), "os.symlink": (1,),
        "os.link": (0, 1), "os.truncate": (0,), "os.chmod": (0,), "os.chown": (0,), "os.utime": (0,),
        "os.chflags": (0,), "os.lchflags": (0,), "os.setxattr": (0,), "os.removexattr": (0,),
        "shutil.rmtree": (0,), "os.mkfifo": (0,), "os.mknod": (0,),
    }
    read_paths = {"os.listdir": (0,), "os.scandir": (0,), "os.getxattr": (0,), "os.listxattr": (0,)}

    def inside(path, roots):
        return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)

    def resolve(path):
        if isinstance(path, int) or path is None:
            return None  # an already open descriptor (stdin/stdout) or the current folder
        return real(join(os.getcwd(), os.fsdecode(path)))

    def deny(event, what=""):
        raise PermissionError(f"sandbox: {event} {what}is not allowed".rstrip())

    def hook(event, args):
        if event in blocked:
            deny(event)
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None))[:3]
            target = resolve(path)
            if target is None:
                return
            writing = bool((flags or 0) & write_flags) or any(c in (mode or "") for c in "wax+")
            if inside(target, (work,)):
                return
            if not writing and (inside(target, read_roots) or target in read_files):
                return
            deny(event, f"of {os.fsdecode(path)!r} (outside the work folder) ")
        positions = write_paths.get(event) or read_paths.get(event)
        if positions:
            roots = (work,) if event in write_paths else (work, *read_roots)
            for i in positions:
                if i < len(args):
                    target = resolve(args[i])
                    if target is not None and not inside(target, roots):
                        deny(event, f"of {os.fsdecode(args[i])!r} (outside the work folder) ")

    sys.addaudithook(hook)

_install_guard()
del _install_guard
import runpy
sys.argv = [sys.argv[-1]]
runpy.run_path(sys.argv[0], run_name="__main__")
'''


@functools.cache
def unshare_prefix() -> tuple[str, ...]:
    """Provided: the ``unshare`` command that puts a program into new Linux namespaces, or ``()``.

    Prefix your command with it: ``[*unshare_prefix(), sys.executable, ...]``.

    * ``--net``: a fresh network namespace; its only interface is a loopback that is *down*,
      so every ``connect`` fails (``Network is unreachable``), even to ``127.0.0.1``.
    * ``--pid --fork``: a fresh PID namespace; the program is its process 1, and when process 1
      dies the kernel kills every other process inside — even one that called ``setsid()``
      to leave your process group.
    * ``--kill-child``: if ``unshare`` itself is killed, its child gets ``SIGKILL`` too.

    Root may create namespaces; a normal user needs a user namespace (``--user --map-root-user``),
    which some systems disable. The first form that works here is returned (tried once, cached).
    """
    exe = shutil.which("unshare")
    if exe is None:
        return ()
    for extra in ((), ("--user", "--map-root-user")):
        cmd = (exe, *extra, "--net", "--pid", "--fork", "--kill-child")
        try:
            ok = subprocess.run([*cmd, "true"], capture_output=True, timeout=5).returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        if ok:
            return cmd
    return ()


def _processes_of_this_user() -> int:
    """Provided: how many processes this user runs now (for RLIMIT_NPROC, see :func:`set_limits`)."""
    uid, count = os.getuid(), 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                pass
    return count


def set_limits(timeout_s: float, memory_mb: int) -> None:
    """Lower this process's resource limits; run in the child between fork and exec.

    Pass it as ``preexec_fn=functools.partial(set_limits, timeout_s, memory_mb)``; limits are
    inherited by everything the child starts. ``resource.setrlimit(which, (soft, hard))``:

    ================  ===================================  ========================================
    limit             value                                what happens at the limit
    ================  ===================================  ========================================
    ``RLIMIT_AS``     ``memory_mb << 20`` bytes            allocation fails → ``MemoryError``
    ``RLIMIT_CPU``    ``ceil(timeout_s) + 1`` s (hard +1)  ``SIGXCPU``, then ``SIGKILL``
    ``RLIMIT_FSIZE``  :data:`FILE_SIZE_LIMIT`              writes fail (``File too large``)
    ``RLIMIT_NPROC``  now + :data:`MAX_PROCESSES`          ``fork`` fails (``EAGAIN``)
    ``RLIMIT_CORE``   ``0``                                no core dump files
    ================  ===================================  ========================================

    ``RLIMIT_CPU`` counts CPU time only: ``time.sleep(60)`` uses none, so the parent's
    wall-clock timeout is still needed. ``RLIMIT_NPROC`` counts *every* process of the user,
    not just the sandbox's — hence :func:`_processes_of_this_user` ``+ MAX_PROCESSES``; and the
    kernel ignores it for root (there the audit hook and the PID namespace stop fork storms).
    """
    # TODO: five resource.setrlimit calls.
    raise NotImplementedError("implement set_limits — see exercises/04/README.md §2.3")


def run_code(code: str, stdin: str = "", timeout_s: float = 2.0, memory_mb: int = 256) -> RunResult:
    """Run untrusted Python ``code`` in a sandbox and report what happened.

    The recipe (each step is one layer; §2.2 and §2.3 of the lesson explain them):

    1. ``root = tempfile.mkdtemp()``; write ``code`` to ``root/work/main.py`` and ``stdin`` to a file.
    2. Open ``stdin``, ``stdout`` and ``stderr`` **files** in ``root`` (not in ``work``: the
       program must not touch them). Files instead of pipes: no pipe buffer fills up and
       blocks, and RLIMIT_FSIZE stops a stdout flood for you.
    3. ``subprocess.Popen([*unshare_prefix(), sys.executable, "-I", "-S", "-u", "-X", "utf8",
       "-c", GUARD, "main.py"], cwd=work, stdin=..., stdout=..., stderr=..., env=CHILD_ENV,
       start_new_session=True, preexec_fn=functools.partial(set_limits, timeout_s, memory_mb))``.
       ``-I``: isolated mode (no environment variables, no user site); ``-S``: no site-packages;
       ``-u``: unbuffered, so output printed before a timeout is kept.
    4. ``proc.wait(timeout=timeout_s)``; on ``subprocess.TimeoutExpired`` set ``timed_out``.
    5. **Always** (``finally``), also after a normal exit — a grandchild may still run:
       ``os.killpg(proc.pid, signal.SIGKILL)`` (ignore ``ProcessLookupError``), then
       ``exit_code = proc.wait()``.
    6. Read at most :data:`MAX_OUTPUT_CHARS` of each output file, decode with
       ``errors="replace"``; ``shutil.rmtree(root)`` in a ``finally``.

    Args:
        code: the program's source.
        stdin: text fed to its standard input.
        timeout_s: wall-clock limit in seconds.
        memory_mb: address-space limit in MiB.

    Returns:
        A :class:`RunResult`. Hostile code never raises here: it gets a non-zero ``exit_code``
        or ``timed_out=True``, and nothing it started survives the call.

    Example:
        >>> r = run_code("print(int(input()) * 2)", stdin="21")
        >>> r.stdout, r.exit_code, r.timed_out
        ('42\\n', 0, False)
        >>> run_code("while True: pass", timeout_s=0.5).timed_out
        True
    """
    # TODO: temp folder → Popen in its own session with limits → wait with timeout → killpg → read → clean up.
    raise NotImplementedError("implement run_code — see exercises/04/README.md §2.2")


def isolation_layers() -> list[str]:
    """The isolation layers :func:`run_code` applies on this machine, by name.

    Use the names of the module docstring's table: ``"tempdir"``, ``"process-group"``,
    ``"rlimits"``, ``"output-cap"``, ``"clean-env"``, ``"audit-hook"``, plus ``"netns"`` and
    ``"pidns"`` when :func:`unshare_prefix` found a working ``unshare``. A reward run's logs
    should say how safe it was.

    Example (as root on Linux):
        >>> isolation_layers()
        ['tempdir', 'process-group', 'rlimits', 'output-cap', 'clean-env', 'audit-hook', 'netns', 'pidns']
    """
    # TODO: the fixed layers, plus the namespaces when unshare_prefix() is not empty.
    raise NotImplementedError("implement isolation_layers — see exercises/04/README.md §2.2")


def extract_code(solution_str: str) -> str | None:
    """The body of the **last** fenced Python block of a response, or ``None``.

    A fence is three backticks, an optional language tag, a newline, the code, three backticks.
    Python blocks have the tag ``""``, ``"python"``, ``"py"`` or ``"python3"`` (any case); blocks
    with other tags (``text``, ``bash``: sample output, shell commands) are skipped. An unclosed
    fence is not a block. The last block wins: models often show a draft, then the fix.

    Example:
        >>> extract_code("Draft:\\n```python\\nprint(1)\\n```\\nFixed:\\n```py\\nprint(2)\\n```\\n"
        ...              "Output:\\n```text\\n2\\n```")
        'print(2)\\n'
    """
    # TODO: re.findall over fences with re.DOTALL, keep the Python tags, take the last body.
    raise NotImplementedError("implement extract_code — see exercises/04/README.md §2.4")


def code_reward(
    solution_str: str, test_cases: Sequence[Mapping[str, str]] | str, timeout_s: float = 2.0, memory_mb: int = 256
) -> float:
    """The fraction of test cases the response's program passes, in ``[0, 1]``.

    Args:
        solution_str: the response; the program is :func:`extract_code`'s block.
        test_cases: a list of ``{"input": stdin text, "output": expected stdout}`` dicts, or that
            list as a JSON string (how a parquet ``ground_truth`` column stores it). A case that
            is not a dict with both keys raises ``ValueError``.
        timeout_s, memory_mb: passed to :func:`run_code` for every case.

    Returns:
        ``passed / len(test_cases)``, where a case passes when the run did not time out, exited
        with code 0, and its stdout equals ``output`` after normalising both: strip the whole
        text, then strip trailing whitespace from every line (``"4 \\n"`` == ``"4"``).
        No code block, or no test case → ``0.0`` (nothing was shown to work).

    Example:
        >>> code_reward("```python\\nprint(int(input()) + 1)\\n```",
        ...             [{"input": "1", "output": "2"}, {"input": "5", "output": "7"}])
        0.5
    """
    # TODO: parse JSON, validate, extract, run every case, count passes.
    raise NotImplementedError("implement code_reward — see exercises/04/README.md §2.4")
