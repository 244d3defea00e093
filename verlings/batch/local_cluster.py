"""A throwaway one-node Ray cluster for the batch tests and benchmark (``ray start --head --block``).

It gets its own port and temp folder, so other Ray sessions on the machine are untouched, and on
exit it stops only what it started: the ``ray start`` process group, then any process whose
command line names its temp folder.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

RAY = Path(sys.executable).parent / "ray"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pids_mentioning(text: str) -> list[int]:
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                pids.append(int(cmdline.parent.name))
        except OSError:
            pass
    return [p for p in pids if p != os.getpid()]


class ClusterError(RuntimeError):
    pass


def _start(num_cpus: int, num_gpus: int, start_timeout_s: float) -> tuple[subprocess.Popen, str, str]:
    port = free_port()
    temp = tempfile.mkdtemp(prefix="vbray-", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    # On a busy 2-core machine the raylet may wait longer than its default for its agents to start.
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_agent_register_timeout_ms": "180000",
           "RAY_raylet_start_wait_time_s": "180"}
    env.pop("RAY_ADDRESS", None)
    cmd = [str(RAY), "start", "--head", "--block", "--num-cpus", str(num_cpus), "--num-gpus", str(num_gpus),
           "--node-ip-address", "127.0.0.1", "--port", str(port), "--temp-dir", temp, "--include-dashboard",
           "false", "--disable-usage-stats", "--object-store-memory", str(100 << 20)]
    log_path = Path(temp) / "ray-start.log"
    with open(log_path, "wb") as log:
        head = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    deadline = time.monotonic() + start_timeout_s
    try:
        while "--block" not in log_path.read_text(errors="replace"):  # printed once the node is up
            if head.poll() is not None:
                raise ClusterError("ray start --head exited:\n" + log_path.read_text(errors="replace")[-3000:])
            if time.monotonic() > deadline:
                raise ClusterError(f"the local Ray cluster did not come up within {start_timeout_s:.0f} s")
            time.sleep(1)
    except ClusterError:
        stop(head, temp)
        raise
    return head, temp, f"127.0.0.1:{port}"


@contextlib.contextmanager
def local_cluster(num_cpus: int = 2, num_gpus: int = 0, start_timeout_s: float = 300,
                  attempts: int = 3) -> Iterator[str]:
    """Start a head node on 127.0.0.1; yields its address ``127.0.0.1:PORT``; stops it on exit.

    On a busy machine Ray's raylet sometimes gives up waiting for its own agents (``The current
    node timed out during startup``); the start is then tried again, up to ``attempts`` times."""
    if not RAY.is_file():
        raise ClusterError(f"the ray command is not installed next to {sys.executable}")
    for attempt in range(1, attempts + 1):
        try:
            head, temp, address = _start(num_cpus, num_gpus, start_timeout_s)
            break
        except ClusterError:
            if attempt == attempts:
                raise
    try:
        yield address
    finally:
        stop(head, temp)


def stop(head: subprocess.Popen, temp: str) -> None:
    """SIGTERM (``ray start --block`` then shuts its node down), SIGKILL what is left; raise if any survive."""
    for sig, wait in ((signal.SIGTERM, 40), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, sig)
        for pid in pids_mentioning(temp):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        end = time.monotonic() + wait
        while time.monotonic() < end and (head.poll() is None or pids_mentioning(temp)):
            time.sleep(0.5)
    head.wait()
    leftovers = pids_mentioning(temp)
    if leftovers:
        raise ClusterError(f"the cluster left processes behind: {leftovers}")
