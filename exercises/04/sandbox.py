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
jail               :func:`bwrap_args` (bubblewrap)              everything outside its folder:
                                                               files, network, processes, root
tempdir            ``tempfile.mkdtemp()``, ``rmtree`` after      leftovers, clashes between runs
process-group      ``start_new_session=True`` + ``os.killpg``    grandchildren outliving a run
rlimits            :func:`prlimit_args` (``prlimit``)            memory, CPU, huge files, forks
output-cap         stdout/stderr to files, read the first part   a stdout flood filling your RAM
clean-env          ``env=CHILD_ENV``                             secrets in environment variables
audit-hook         :data:`GUARD` (``sys.addaudithook``)          the obvious attacks, with clear
                                                               messages (a speed bump, no wall)
=================  ==========================================  =================================

The jail is the boundary: an empty mount tree with only the interpreter (read-only) and a fresh
work folder, new namespaces (no network, own PIDs), and an unprivileged user (uid 65534). The
other layers still matter: they are what you have where bubblewrap is missing (``jail=False``,
the weaker guard, with :func:`unshare_prefix` namespaces when it works), and they bound what a
program may do even inside the jail.

Provided below: :class:`RunResult`, the limits, :data:`CHILD_ENV`, :data:`GUARD`,
:func:`unshare_prefix`, the jail's constants and helpers (:func:`make_parents`,
:func:`hand_over`, :func:`jail_available`, :func:`processes_of`). You write :func:`bwrap_args`,
:func:`prlimit_args`, :func:`run_code`, :func:`isolation_layers`, :func:`extract_code` and
:func:`code_reward`.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
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
        jailed: ``True`` when the run was inside the bubblewrap jail, ``False`` when it ran
            under the weaker guard only (``jail=False``): the record of how safe it was.
    """

    stdout: str
    stderr: str
    exit_code: int
    timed_out: bool
    duration_s: float
    jailed: bool = False


# Provided: the first code the child Python runs, as ``python -I -S -u -X utf8 -c GUARD main.py``
# in the work folder. It installs an audit hook (PEP 578): every open(), socket, fork, exec,
# kill, ctypes load... raises an *audit event* first, and the hook raises PermissionError for
# the dangerous ones: sockets, new processes, signals to other processes, raising rlimits,
# files written outside the work folder, files read outside the work folder and Python's own
# installation. Then it runs main.py as __main__. An audit hook is a speed bump, not a wall
# (C code can do what it likes), which is why it is one layer among several.
GUARD = r"""
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
"""


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


# --- the jail: bubblewrap -------------------------------------------------------------------------

JAIL_UID = JAIL_GID = 65534  # "nobody": owns nothing on the host
JAIL_PATH = "/usr/bin:/bin"
# Read-only system folders the interpreter needs (the C library and the loader); -try: absent is fine.
SYSTEM_LIBS = ("/usr/lib", "/usr/lib64", "/lib", "/lib64")
SETPRIV = "/usr/bin/setpriv"  # util-linux, like prlimit: drops root to JAIL_UID inside the jail
JAIL_FIX = (
    "install bubblewrap (Debian/Ubuntu: `sudo apt-get install -y bubblewrap`; as root without sudo: "
    "`apt-get install -y bubblewrap`), then check with `python grader.py doctor`; or pass jail=False "
    "to accept the weaker audit-hook guard, knowing that native code can get around it"
)


class JailUnavailableError(RuntimeError):
    """run_code was asked for the jail (the default) and bubblewrap cannot start one here."""


def python_prefix() -> str:
    """Provided: the real installation folder of this interpreter (a venv's python links into it)."""
    return os.path.realpath(sys.base_prefix)


def python_executable() -> str:
    """Provided: the real interpreter binary (following the venv's symlinks), inside python_prefix()."""
    return os.path.realpath(sys.executable)


def make_parents(path: str) -> list[str]:
    """Provided: ``--perms 0755 --dir`` for every folder above ``path`` (not ``/``), top first.

    bwrap creates the folders above a bind target itself, copying the host's mode: ``/root``
    (0700 on the host) would come out 0700, and an unprivileged user could not get through it
    to the interpreter below. Creating them first, world-searchable, avoids that.
    """
    args: list[str] = []
    for parent in reversed(Path(path).parents):
        if str(parent) != "/":
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def bwrap_args(work: str, prefix: str, as_root: bool, bwrap: str = "bwrap") -> list[str]:
    """The bubblewrap command line that jails one run, up to the interpreter (ends with ``"--"``).

    Append the interpreter and its arguments: ``[*bwrap_args(...), python_executable(), "-I", ...]``.
    In order:

    1. ``bwrap``, then the **namespaces**:

       * as root (``as_root=True``): ``--unshare-ipc --unshare-pid --unshare-net --unshare-uts
         --unshare-cgroup-try`` and ``--cap-add CAP_SETUID --cap-add CAP_SETGID`` (kept only so
         that setpriv, step 5, can drop them). No user namespace: it would map uid 65534 inside
         to **root** outside.
       * otherwise: ``--unshare-all --uid 65534 --gid 65534`` (:data:`JAIL_UID`, :data:`JAIL_GID`;
         a user namespace maps them to you, an unprivileged user already).

    2. ``--die-with-parent`` (the jail dies with the grader) and ``--new-session`` (no terminal to
       inject keystrokes into).
    3. The **mount tree**, which starts empty; for each path, :func:`make_parents` first
       (world-searchable folders above it):

       * every folder of :data:`SYSTEM_LIBS` with ``--ro-bind-try SRC SRC`` (the C library);
       * as root, :data:`SETPRIV` with ``--ro-bind``;
       * ``prefix`` (the interpreter and its stdlib) with ``--ro-bind``;
       * ``--dev /dev`` (a private ``/dev``: null, zero, urandom, an empty ``/dev/shm``);
       * ``work`` **writable** with ``--bind``, then ``--chdir work``.

       Nothing else: not the course, not ``/tmp``, not ``/home`` or ``/root``, not ``/proc``.
    4. The environment: ``--clearenv``, then ``--setenv`` ``PATH`` :data:`JAIL_PATH`, ``LANG`` and
       ``LC_ALL`` ``C.UTF-8``; then ``--``.
    5. As root only, the privilege drop: ``SETPRIV --reuid=65534 --regid=65534 --clear-groups
       --inh-caps=-all --``.

    Args:
        work: the run's work folder (absolute); it appears at the same path inside.
        prefix: the interpreter's real installation folder (:func:`python_prefix`).
        as_root: ``os.geteuid() == 0``: whether bwrap itself runs as root.
        bwrap: the bwrap executable.

    Returns:
        The argument list, e.g. (not root)
        ``["bwrap", "--unshare-all", "--uid", "65534", "--gid", "65534", "--die-with-parent",
        "--new-session", "--perms", "0755", "--dir", "/usr", "--ro-bind-try", "/usr/lib", "/usr/lib",
        ..., "--bind", work, work, "--chdir", work, "--clearenv", ..., "--"]``. The tests check what
        the options do (run hostile programs through them), not their order.

    In verl 0.9.1 the code rewards (``sandbox_fusion``) send programs to a remote sandbox service
    that does this job; here the jail is on this machine.
    """
    # TODO: your implementation (stuck? `python grader.py hint 04.jail`).
    raise NotImplementedError("implement bwrap_args — see exercises/04/README.md §2.2")


@functools.cache
def jail_available() -> bool:
    """Provided: whether a jailed ``print(1)`` runs here (tried once, cached)."""
    return _jail_problem() is None


def _jail_problem() -> str | None:
    # Uses YOUR bwrap_args: a mistake there shows up here as bwrap's own error message.
    bwrap, prlimit = shutil.which("bwrap"), shutil.which("prlimit")
    if bwrap is None or prlimit is None:
        return f"{'bwrap' if bwrap is None else 'prlimit'} is not installed"
    as_root = os.geteuid() == 0
    if as_root and not os.path.exists(SETPRIV):
        return f"{SETPRIV} is missing (package util-linux)"
    work = Path(tempfile.mkdtemp(prefix="verlings-jailcheck-"))
    try:
        hand_over(work, as_root)
        cmd = [
            *bwrap_args(str(work / "work"), python_prefix(), as_root, bwrap),
            python_executable(),
            "-I",
            "-S",
            "-c",
            "print(1)",
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=20, env=CHILD_ENV)
        except (OSError, subprocess.SubprocessError) as exc:
            return f"bwrap did not start: {exc}"
        if done.stdout.strip() != "1":
            # bwrap is there, so the command line (bwrap_args) or the kernel refused: show bwrap's words.
            return f"bwrap is installed, but a jailed print(1) failed: {done.stderr.strip()[-300:]!r}"
        return None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def jail_problem() -> str | None:
    """Provided: why the jail cannot run here, or ``None`` when it can (the doctor shows it)."""
    return None if jail_available() else _jail_problem()


def hand_over(root: Path, as_root: bool) -> None:
    """Provided: create ``root/work`` and, as root, give it to the jailed user (uid 65534).

    ``root`` becomes searchable but not listable (0711): the jailed user can reach its work
    folder, and nothing else in ``root`` (the stdin/stdout/stderr files).
    """
    work = root / "work"
    work.mkdir(exist_ok=True)
    if as_root:
        os.chmod(root, 0o711)  # searchable, not listable
        os.chown(work, JAIL_UID, JAIL_GID)


# --- resource limits, applied by prlimit ----------------------------------------------------------


def processes_of(uid: int) -> int:
    """Provided: how many processes the user ``uid`` runs now (for RLIMIT_NPROC, see :func:`prlimit_args`)."""
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                pass
    return count


def prlimit_args(timeout_s: float, memory_mb: int, max_processes: int) -> list[str]:
    """The ``prlimit`` command prefix that lowers the run's resource limits before it starts.

    ``prlimit --as=SOFT:HARD ... -- COMMAND`` sets the limits, then execs ``COMMAND``, which
    inherits them (and so does everything it starts). Put it in front of the whole command:
    ``[*prlimit_args(...), *bwrap_args(...), python, ...]``. Each option is ``--NAME=SOFT:HARD``:

    ===========  ===================================  ========================================
    option       value                                what happens at the limit
    ===========  ===================================  ========================================
    ``--as``     ``memory_mb << 20`` bytes            allocation fails → ``MemoryError``
    ``--cpu``    ``ceil(timeout_s) + 1`` s (hard +1)  ``SIGXCPU``, then ``SIGKILL``
    ``--fsize``  :data:`FILE_SIZE_LIMIT`              writes fail (``File too large``)
    ``--nproc``  ``max_processes``                    ``fork`` fails (``EAGAIN``)
    ``--core``   ``0``                                no core dump files
    ===========  ===================================  ========================================

    The list is ``["prlimit", "--as=...", "--cpu=...", "--fsize=...", "--nproc=...", "--core=0:0",
    "--"]``. Why a command and not ``resource.setrlimit`` in ``preexec_fn``: ``preexec_fn`` runs
    Python between fork and exec, which is not safe when other threads run — and verl calls sync
    reward functions from a thread pool.

    ``--cpu`` counts CPU time only: ``time.sleep(60)`` uses none, so the parent's wall-clock
    timeout is still needed. ``RLIMIT_NPROC`` counts *every* process of the user, not just this
    run's — hence ``max_processes`` = :func:`processes_of` (the jailed uid) ``+ MAX_PROCESSES`` —
    and the kernel ignores it for root (inside the jail the program is not root).

    Example:
        >>> prlimit_args(2.0, 256, 40)[:3]
        ['prlimit', '--as=268435456:268435456', '--cpu=3:4']
    """
    # TODO: your implementation (stuck? `python grader.py hint 04.sandbox_limits`).
    raise NotImplementedError("implement prlimit_args — see exercises/04/README.md §2.4")


def run_code(code: str, stdin: str = "", timeout_s: float = 2.0, memory_mb: int = 256, jail: bool = True) -> RunResult:
    """Run untrusted Python ``code`` in the jail (or, if asked, under the weaker guard) and report what happened.

    What it guarantees (each guarantee is one layer; §2.2–§2.4 of the lesson explain them, the
    staged hints say how):

    0. ``jail=True`` where :func:`jail_available` is false raises :class:`JailUnavailableError`
       naming the fix (:data:`JAIL_FIX`). Never a silent fallback: the caller opts in with
       ``jail=False``.
    1. The program runs as ``main.py`` in ``work/`` inside a fresh temporary folder prepared by
       :func:`hand_over` (handed to :data:`JAIL_UID` when running as root in the jail); the whole
       folder is removed afterwards, whatever happened.
    2. Its stdin is ``stdin``; its stdout and stderr go to files outside ``work/`` (never pipes:
       nothing can block on a full pipe, and the file-size limit stops a flood). At most
       :data:`MAX_OUTPUT_CHARS` of each is kept, decoded with ``errors="replace"``.
    3. It runs in its own session, with :data:`CHILD_ENV` as its whole environment, Python in
       isolated mode without site-packages and unbuffered output (what was printed before a
       timeout is kept), :data:`GUARD` installed — no ``preexec_fn``:

       * jailed: under the limits of :func:`prlimit_args` (``timeout_s``, ``memory_mb``, and
         :data:`MAX_PROCESSES` more processes than the jail's user — :data:`JAIL_UID` as root,
         else you — already runs), inside :func:`bwrap_args` for ``work/``, with
         :func:`python_executable`;
       * ``jail=False``: the same limits for your own user, inside :func:`unshare_prefix`'s
         namespaces when they work, with ``sys.executable``.

    4. ``timeout_s`` of wall-clock time at most: then ``timed_out=True``.
    5. Nothing it started survives the call: its whole process group is killed afterwards,
       after a normal exit too (a grandchild may still run). ``exit_code`` is the process's
       return code (negative: the signal that killed it). ``jailed`` is ``jail``.

    Args:
        code: the program's source.
        stdin: text fed to its standard input.
        timeout_s: wall-clock limit in seconds.
        memory_mb: address-space limit in MiB.
        jail: run inside bubblewrap (default). ``False`` is the explicit opt-in to the weaker
            guard (audit hook, rlimits, process group, and namespaces if ``unshare`` works).

    Returns:
        A :class:`RunResult`. Hostile code never raises here: it gets a non-zero ``exit_code``
        or ``timed_out=True``, and nothing it started survives the call.

    Raises:
        JailUnavailableError: ``jail=True`` where bubblewrap cannot run.

    Example:
        >>> r = run_code("print(int(input()) * 2)", stdin="21")
        >>> r.stdout, r.exit_code, r.timed_out, r.jailed
        ('42\\n', 0, False, True)
        >>> run_code("while True: pass", timeout_s=0.5).timed_out
        True
    """
    # TODO: your implementation (stuck? `python grader.py hint 04.run_code`).
    raise NotImplementedError("implement run_code — see exercises/04/README.md §2.3")


def isolation_layers(jail: bool = True) -> list[str]:
    """The isolation layers :func:`run_code` ``(jail=jail)`` applies on this machine, by name.

    Always ``"tempdir"``, ``"process-group"``, ``"rlimits"``, ``"output-cap"``, ``"clean-env"``,
    ``"audit-hook"``; then, with ``jail=True``, ``"jail"``, ``"netns"``, ``"pidns"``, ``"mountns"``,
    ``"unprivileged"`` (and :class:`JailUnavailableError` where :func:`jail_available` is false,
    as run_code would); with ``jail=False``, ``"netns"`` and ``"pidns"`` only when
    :func:`unshare_prefix` found a working ``unshare``. A reward run's logs should say how safe it was.

    Example (jail=False, as root on Linux):
        >>> isolation_layers(jail=False)
        ['tempdir', 'process-group', 'rlimits', 'output-cap', 'clean-env', 'audit-hook', 'netns', 'pidns']
    """
    # TODO: your implementation (stuck? `python grader.py hint 04.run_code`).
    raise NotImplementedError("implement isolation_layers — see exercises/04/README.md §2.3")


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
    # TODO: your implementation (stuck? `python grader.py hint 04.code_reward`).
    raise NotImplementedError("implement extract_code — see exercises/04/README.md §2.5")


def code_reward(
    solution_str: str,
    test_cases: Sequence[Mapping[str, str]] | str,
    timeout_s: float = 2.0,
    memory_mb: int = 256,
    jail: bool = True,
) -> float:
    """The fraction of test cases the response's program passes, in ``[0, 1]``.

    Args:
        solution_str: the response; the program is :func:`extract_code`'s block.
        test_cases: a list of ``{"input": stdin text, "output": expected stdout}`` dicts, or that
            list as a JSON string (how a parquet ``ground_truth`` column stores it). A case that
            is not a dict with both keys raises ``ValueError``.
        timeout_s, memory_mb, jail: passed to :func:`run_code` for every case.

    Returns:
        The fraction of test cases that pass, where a case passes when the run did not time out, exited
        with code 0, and its stdout equals ``output`` after normalising both: strip the whole
        text, then strip trailing whitespace from every line (``"4 \\n"`` == ``"4"``).
        No code block, or no test case → ``0.0`` (nothing was shown to work).

    Example:
        >>> code_reward("```python\\nprint(int(input()) + 1)\\n```",
        ...             [{"input": "1", "output": "2"}, {"input": "5", "output": "7"}])
        0.5
    """
    # TODO: your implementation (stuck? `python grader.py hint 04.code_reward`).
    raise NotImplementedError("implement code_reward — see exercises/04/README.md §2.5")
