"""Reference solutions: a sandbox for untrusted code, and a reward from test cases."""

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

MAX_OUTPUT_CHARS = 65_536
FILE_SIZE_LIMIT = 1 << 20
MAX_PROCESSES = 32
CHILD_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


class RunResult(NamedTuple):
    stdout: str
    stderr: str
    exit_code: int
    timed_out: bool
    duration_s: float
    jailed: bool = False


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
    # Linux namespaces: a fresh network namespace has only a loopback that is down (no network);
    # a fresh PID namespace dies entirely when its first process is killed. Root can create them;
    # a normal user needs a user namespace (--map-root-user). Use the first form that works here.
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
    # Namespaces: no network (a down loopback), own PIDs, IPC, hostname; a user namespace only when
    # not root (root needs none to mount, and uses setpriv to become nobody instead: the user
    # namespace would map "nobody" inside to root outside).
    if as_root:
        unshare = [
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--cap-add",
            "CAP_SETUID",
            "--cap-add",
            "CAP_SETGID",
        ]
    else:
        unshare = ["--unshare-all", "--uid", str(JAIL_UID), "--gid", str(JAIL_GID)]
    args = [bwrap, *unshare, "--die-with-parent", "--new-session"]
    # The mount tree starts empty: only what is bound below exists.
    for lib in SYSTEM_LIBS:
        args += [*make_parents(lib), "--ro-bind-try", lib, lib]
    if as_root:
        args += [*make_parents(SETPRIV), "--ro-bind", SETPRIV, SETPRIV]
    args += [*make_parents(prefix), "--ro-bind", prefix, prefix]
    args += ["--dev", "/dev"]  # null, zero, urandom... and a private, empty /dev/shm
    args += [*make_parents(work), "--bind", work, work, "--chdir", work]
    args += [
        "--clearenv",
        "--setenv",
        "PATH",
        JAIL_PATH,
        "--setenv",
        "LANG",
        "C.UTF-8",
        "--setenv",
        "LC_ALL",
        "C.UTF-8",
        "--",
    ]
    if as_root:
        # Drop root for good: real, effective and saved ids, no supplementary groups, no capabilities.
        args += [SETPRIV, f"--reuid={JAIL_UID}", f"--regid={JAIL_GID}", "--clear-groups", "--inh-caps=-all", "--"]
    return args


@functools.cache
def jail_available() -> bool:
    """Provided: whether a jailed ``print(1)`` runs here (tried once, cached)."""
    return _jail_problem() is None


def _jail_problem() -> str | None:
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
    """Why the jail cannot run here, or None when it can (for the doctor)."""
    return None if jail_available() else _jail_problem()


def hand_over(root: Path, as_root: bool) -> None:
    # The jailed user must be able to reach and write its work folder, and nothing else in root.
    work = root / "work"
    work.mkdir(exist_ok=True)
    if as_root:
        os.chmod(root, 0o711)  # searchable, not listable
        os.chown(work, JAIL_UID, JAIL_GID)


# --- resource limits, applied by prlimit (no preexec_fn: that is not safe in threads) ----------------


def processes_of(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                pass
    return count


def prlimit_args(timeout_s: float, memory_mb: int, max_processes: int) -> list[str]:
    cpu = max(1, math.ceil(timeout_s)) + 1  # CPU seconds; the wall clock is the parent's job
    memory = int(memory_mb) << 20
    return [
        "prlimit",
        f"--as={memory}:{memory}",  # allocations fail with MemoryError
        f"--cpu={cpu}:{cpu + 1}",  # SIGXCPU at soft, SIGKILL at hard
        f"--fsize={FILE_SIZE_LIMIT}:{FILE_SIZE_LIMIT}",  # writes beyond fail: File too large
        f"--nproc={max_processes}:{max_processes}",  # fork fails with EAGAIN (not applied to root)
        "--core=0:0",  # no core dumps left behind
        "--",
    ]


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _read_capped(path: Path) -> str:
    with open(path, "rb") as f:
        return f.read(MAX_OUTPUT_CHARS).decode("utf-8", errors="replace")


def run_code(code: str, stdin: str = "", timeout_s: float = 2.0, memory_mb: int = 256, jail: bool = True) -> RunResult:
    if jail and not jail_available():
        raise JailUnavailableError(f"run_code: no jail here ({_jail_problem()}). Fix: {JAIL_FIX}.")
    root = Path(tempfile.mkdtemp(prefix="verlings-sandbox-"))
    try:
        work = root / "work"
        as_root = os.geteuid() == 0
        hand_over(root, as_root and jail)
        (work / "main.py").write_text(code, encoding="utf-8")
        (root / "stdin").write_text(stdin, encoding="utf-8")
        python = ["-I", "-S", "-u", "-X", "utf8", "-c", GUARD, "main.py"]
        if jail:
            uid = JAIL_UID if as_root else os.getuid()
            cmd = [
                *prlimit_args(timeout_s, memory_mb, processes_of(uid) + MAX_PROCESSES),
                *bwrap_args(str(work), python_prefix(), as_root),
                python_executable(),
                *python,
            ]
        else:
            cmd = [
                *prlimit_args(timeout_s, memory_mb, processes_of(os.getuid()) + MAX_PROCESSES),
                *unshare_prefix(),
                sys.executable,
                *python,
            ]
        timed_out = False
        start = time.monotonic()
        # Output goes to files, not pipes: no pipe can fill up and block, and RLIMIT_FSIZE
        # stops a stdout flood at FILE_SIZE_LIMIT bytes.
        # One line, not a parenthesised group: mutmut's parser (parso) cannot read that form.
        with open(root / "stdin", "rb") as fin, open(root / "stdout", "wb") as out, open(root / "stderr", "wb") as err:
            proc = subprocess.Popen(
                cmd,
                cwd=work,
                stdin=fin,
                stdout=out,
                stderr=err,
                env=CHILD_ENV,
                close_fds=True,
                start_new_session=True,  # its own process group (and session): killpg reaches every child
            )
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                # Always, also after a normal exit: a grandchild may still be running.
                _kill_group(proc.pid)
                exit_code = proc.wait()
        duration = time.monotonic() - start
        return RunResult(
            _read_capped(root / "stdout"), _read_capped(root / "stderr"), exit_code, timed_out, duration, jail
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def isolation_layers(jail: bool = True) -> list[str]:
    layers = ["tempdir", "process-group", "rlimits", "output-cap", "clean-env", "audit-hook"]
    if jail:
        if not jail_available():
            raise JailUnavailableError(f"isolation_layers: no jail here ({_jail_problem()}). Fix: {JAIL_FIX}.")
        layers += ["jail", "netns", "pidns", "mountns", "unprivileged"]
    elif unshare_prefix():
        layers += ["netns", "pidns"]
    return layers


_FENCE = re.compile(r"```([^\n`]*)\n(.*?)```", re.DOTALL)
_PYTHON_TAGS = {"", "python", "py", "python3"}


def extract_code(solution_str: str) -> str | None:
    blocks = [body for tag, body in _FENCE.findall(solution_str) if tag.strip().lower() in _PYTHON_TAGS]
    return blocks[-1] if blocks else None  # the last block: models often show a draft first


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def code_reward(
    solution_str: str,
    test_cases: Sequence[Mapping[str, str]] | str,
    timeout_s: float = 2.0,
    memory_mb: int = 256,
    jail: bool = True,
) -> float:
    if isinstance(test_cases, str):  # a parquet ground_truth column stores the list as JSON
        test_cases = json.loads(test_cases)
    for case in test_cases:
        if not isinstance(case, Mapping) or not {"input", "output"} <= set(case):
            raise ValueError(f"a test case must be a dict with 'input' and 'output', got {case!r}")
    code = extract_code(solution_str)
    if code is None or not test_cases:
        return 0.0
    passed = 0
    for case in test_cases:
        result = run_code(code, stdin=case["input"], timeout_s=timeout_s, memory_mb=memory_mb, jail=jail)
        ok = not result.timed_out and result.exit_code == 0
        passed += ok and _normalise(result.stdout) == _normalise(case["output"])
    return passed / len(test_cases)
