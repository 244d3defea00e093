"""A hostile corpus through the reference sandbox (solutions/04/sandbox.py): with the jail, and with it forced off.

Issue 19's list of attacks. Each program tries to get the secret (a world-readable file in a
world-writable folder outside its own, or the grader's environment), to read the course, to
write outside its folder, to kill a process of the grader or to leave a process behind. With
the jail every case must end with reward 0, nothing written outside, nothing of the course read
and no process left. The same corpus then runs under the weaker guard (``jail=False``), with
and without the ``unshare`` namespaces, and each case states what happens there: the cases
marked as escaping are the ones only the jail stops.

Every hostile program is bounded (sleeps at most 60 s); whatever survives is killed by the test.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from verlings.paths import EXERCISES, SOLUTIONS
from verlings.target import load_module

ref = load_module("04", "sandbox", root=SOLUTIONS)
COURSE_FILE = SOLUTIONS / "04" / "sandbox.py"
COURSE_LINE = COURSE_FILE.read_text().splitlines()[0]  # proof that a program read the course
HAS_UNSHARE = bool(ref.unshare_prefix())
PLAIN_GUARD = "import runpy, sys\nsys.argv = [sys.argv[-1]]\nrunpy.run_path(sys.argv[0], run_name='__main__')\n"

pytestmark = pytest.mark.skipif(
    not ref.jail_available(), reason=f"no jail on this machine ({ref.jail_problem()}); {ref.JAIL_FIX}"
)

# A process started with _posixsubprocess.fork_exec raises no audit event: the known bypass of GUARD.
FORK_EXEC = (
    "import _posixsubprocess, os, sys\n"
    "def spawn(argv, setsid=False):\n"
    "    argv = [os.fsencode(a) for a in argv]\n"
    "    r, w = os.pipe()\n"
    "    return _posixsubprocess.fork_exec(argv, [argv[0]], True, (), None, None, -1, -1, -1, -1, -1, -1, r, w,\n"
    "                                      True, setsid, -1, None, None, None, -1, None, False)\n"
)


@dataclass(frozen=True)
class Case:
    name: str
    program: str  # a str.format template: {secret} {outside} {course} {victim} {grader} {port} {marker} {shm}
    escapes_guard: bool = False  # gets through jail=False with the unshare namespaces
    escapes_guard_alone: bool = False  # gets through jail=False without any namespace


CASES = [
    Case("kill_the_grader", "import os, signal\nos.kill({victim}, signal.SIGKILL)\n"),
    Case("os_fork", "import os\nif os.fork() == 0:\n    open({outside!r}, 'w').write('pwned')\n"),
    Case("subprocess", "import subprocess\nprint(subprocess.run(['cat', {secret!r}], capture_output=True).stdout)\n"),
    Case("ctypes", "import ctypes\nctypes.CDLL(None).system(b'cat {secret}')\n"),
    Case("socket", "import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'pwned')\n"),
    Case("open_outside", "print(open({secret!r}).read())\n"),
    Case("read_the_course", "print(open({course!r}).read())\n"),
    Case("etc_shadow", "print(open('/etc/shadow').read()[:0] + 'read /etc/shadow')\n"),
    Case("grader_environ", "print(open('/proc/{grader}/environ', 'rb').read().decode(errors='replace'))\n"),
    Case(
        "fork_exec_shell",
        FORK_EXEC + "pid = spawn(['/bin/sh', '-c', 'cat {secret}; head -1 {course}; echo pwned > {outside}'])\n"
        "os.waitpid(pid, 0)\n",
        escapes_guard=True,
        escapes_guard_alone=True,
    ),
    Case(
        "fork_exec_python",
        FORK_EXEC + "code = \"print(open({secret!r}).read()); open({outside!r}, 'w').write('pwned')\"\n"
        "pid = spawn([sys.executable, '-S', '-c', code])\nos.waitpid(pid, 0)\n",
        escapes_guard=True,
        escapes_guard_alone=True,
    ),
    Case("posix_spawn", "import os\nos.posix_spawn('/bin/cat', ['cat', {secret!r}], {{}})\n"),
    Case("execv", "import os\nos.execv('/bin/cat', ['cat', {secret!r}])\n"),
    Case(
        "ctypes_through_importlib",
        "import importlib, os\n_ctypes = importlib.import_module('_ctypes')\n"
        "ctypes = importlib.import_module('ctypes')\nlibc = ctypes.CDLL(None)\n"
        "fd = libc.open({outside!r}.encode(), os.O_WRONLY | os.O_CREAT, 0o644)\n"
        "libc.write(fd, b'pwned', 5)\nlibc.system(b'cat {secret}')\n",
    ),
    Case("proc_self_mem", "f = open('/proc/self/mem', 'r+b')\nprint('opened /proc/self/mem for writing')\n"),
    Case("dev_shm", "open({shm!r}, 'w').write('pwned')\n"),
    Case(
        "setsid_daemon",
        FORK_EXEC + "spawn([sys.executable, '-S', '-c', 'import time; time.sleep(60)', {marker!r}], setsid=True)\n"
        "print('parent exits')\n",
        escapes_guard_alone=True,
    ),
    Case("symlink_out", "import os\nos.symlink({secret!r}, 'link')\nprint(open('link').read())\n"),
]


@pytest.fixture(scope="module")
def corpus_dir():
    # World-readable secret in a world-writable folder: only the jail, not file permissions, may stop a case.
    folder = Path(tempfile.mkdtemp(prefix="verlings-corpus-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def world(corpus_dir, monkeypatch):
    token = uuid.uuid4().hex
    secret = corpus_dir / f"secret-{token[:8]}.txt"
    secret.write_text(token)
    secret.chmod(0o644)
    monkeypatch.setenv("VERLINGS_SECRET", token)  # in the grader's environment, for /proc/<pid>/environ
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.0)
    victim = subprocess.Popen([sys.executable, "-S", "-c", "import time; time.sleep(60)"])
    names = {
        "secret": str(secret),
        "outside": str(corpus_dir / f"pwned-{token[:8]}"),
        "course": str(COURSE_FILE),
        "victim": victim.pid,
        "grader": os.getpid(),
        "port": listener.getsockname()[1],
        "marker": f"verlings-corpus-{token}",
        "shm": f"/dev/shm/verlings-corpus-{token[:8]}",
    }
    yield token, names, listener, victim
    listener.close()
    victim.kill()
    victim.wait()
    _kill_all(names["marker"])
    Path(names["shm"]).unlink(missing_ok=True)


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


def _kill_all(marker: str) -> None:
    for pid in _processes_with(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _harm(token: str, names: dict, listener: socket.socket, victim: subprocess.Popen, stdout: str) -> list[str]:
    """Everything the run got away with."""
    harm = []
    if token in stdout:
        harm.append("read the secret")
    if COURSE_LINE in stdout:
        harm.append("read the course")
    if "read /etc/shadow" in stdout or "opened /proc/self/mem" in stdout:
        harm.append("opened a protected file")
    if Path(names["outside"]).exists():
        harm.append("wrote outside its folder")
    if Path(names["shm"]).exists():
        harm.append("wrote to /dev/shm")
    time.sleep(0.1)
    if victim.poll() is not None:
        harm.append("killed a process of the grader")
    try:
        listener.accept()[0].close()
        harm.append("connected to the grader's machine")
    except BlockingIOError:
        pass
    deadline = time.monotonic() + 1.0
    while (alive := _processes_with(names["marker"])) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive:
        harm.append("left a process behind")
    return harm


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_jail_stops_every_case(case, world):
    token, names, listener, victim = world
    program = case.program.format(**names)
    reward = ref.code_reward(f"```python\n{program}```", [{"input": "", "output": token}], timeout_s=3.0)
    assert reward == 0.0, f"{case.name}: reward {reward} — the program printed the secret"
    result = ref.run_code(program, timeout_s=3.0)
    assert result.jailed
    harm = _harm(token, names, listener, victim, result.stdout)
    assert not harm, f"{case.name} in the jail: {harm}; stdout {result.stdout[-300:]!r} stderr {result.stderr[-300:]!r}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_jail_alone_stops_every_case(case, world, monkeypatch):
    # Without the audit hook the attacks really run (fork, ctypes, sockets...), inside the jail.
    monkeypatch.setattr(ref, "GUARD", PLAIN_GUARD)
    token, names, listener, victim = world
    result = ref.run_code(case.program.format(**names), timeout_s=3.0)
    harm = _harm(token, names, listener, victim, result.stdout)
    assert not harm, f"{case.name} in the jail without GUARD: {harm}; stderr {result.stderr[-300:]!r}"


@pytest.mark.parametrize("namespaces", [True, False], ids=["guard_with_unshare", "guard_alone"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_with_the_jail_forced_off(case, namespaces, world, monkeypatch):
    """Which cases only the jail stops: each case says whether it escapes the weaker guard."""
    if namespaces and not HAS_UNSHARE:
        pytest.skip("unshare cannot create namespaces here")
    if not namespaces:
        monkeypatch.setattr(ref, "unshare_prefix", lambda: ())
    token, names, listener, victim = world
    result = ref.run_code(case.program.format(**names), timeout_s=3.0, jail=False)
    assert not result.jailed
    harm = _harm(token, names, listener, victim, result.stdout)
    expected = case.escapes_guard if namespaces else case.escapes_guard_alone
    assert bool(harm) == expected, (
        f"{case.name} under the weaker guard ({'with' if namespaces else 'without'} namespaces): "
        f"expected {'an escape' if expected else 'no harm'}, saw {harm or 'no harm'}; "
        f"stdout {result.stdout[-300:]!r} stderr {result.stderr[-300:]!r}"
    )


def _read_the_other_run(jail: bool) -> tuple[str, str]:
    """Run A keeps an answer in its folder; run B, at the same time, looks for it with the fork_exec bypass."""
    answer = uuid.uuid4().hex
    holder = f"open('answer.txt', 'w').write({answer!r})\nimport time\ntime.sleep(8)\n"
    thief = FORK_EXEC + (
        "pattern = '/tmp/verlings-sandbox-*/work/answer.txt'\n"
        # Look for up to 4 s: on a busy machine the holder may start late.
        "code = (f'import glob, time\\nfor _ in range(40):\\n    found = glob.glob({pattern!r})\\n'\n"
        "        '    if found: break\\n    time.sleep(0.1)\\nfor p in found: print(open(p).read())')\n"
        "pid = spawn([sys.executable, '-S', '-c', code])\nos.waitpid(pid, 0)\n"
    )
    first = threading.Thread(target=ref.run_code, args=(holder,), kwargs={"timeout_s": 10.0, "jail": jail})
    first.start()
    try:
        time.sleep(0.5)
        stolen = ref.run_code(thief, timeout_s=6.0, jail=jail)
    finally:
        first.join()
    return answer, stolen.stdout


def test_the_jail_hides_another_runs_folder():
    answer, stdout = _read_the_other_run(jail=True)
    assert answer not in stdout, "a jailed run read another run's work folder"


def test_without_the_jail_another_runs_folder_is_readable():
    # Why the jail: the audit hook guards Python's own open(), not a process started by fork_exec.
    answer, stdout = _read_the_other_run(jail=False)
    assert answer in stdout, f"expected the weaker guard to leak the other run's answer; stdout {stdout!r}"


def _lesson_bypass(readme: Path) -> str:
    """The lesson's fork_exec example (§2.2), as shown."""
    blocks = re.findall(r"```python\n(.*?)```", readme.read_text(encoding="utf-8"), re.DOTALL)
    [block] = [b for b in blocks if "_posixsubprocess.fork_exec" in b]
    return block


@pytest.mark.parametrize("readme", ["README.md", "README.zh-CN.md"])
def test_the_lessons_bypass_runs_as_shown(readme, world):
    # §2.2 shows the audit hook's bypass; it must really get through the weaker guard, and not the jail.
    token, names, *_ = world
    block = _lesson_bypass(EXERCISES / "04" / readme)
    assert "/path/to/the/answers" in block
    program = block.replace("/path/to/the/answers", names["secret"])
    program += "import time\ntime.sleep(0.5)\nprint(open('leak.txt').read())\n"
    unjailed = ref.run_code(program, timeout_s=5.0, jail=False)
    assert token in unjailed.stdout, f"the lesson's bypass did not get through the guard: {unjailed.stderr[-300:]!r}"
    jailed = ref.run_code(program, timeout_s=5.0)
    assert token not in jailed.stdout, "the lesson's bypass leaked the secret through the jail"
