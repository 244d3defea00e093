"""The run's own session: start a command in it, tee its output, and stop every process it made.

``python -m verl.trainer.main_ppo`` starts Ray, whose workers take process groups of their own but
stay in the session ``start_new_session`` gave the driver: the session is what a timeout (or the
end of the run) stops. ``serve`` stops its vLLM server the same way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol


class Plan(Protocol):
    """What :func:`execute` needs of a run (:class:`verlings.capstone.launcher.Plan` has it)."""

    command: list[str]
    env: dict[str, str]
    cwd: Path

    def shell(self) -> str: ...


def session_members(sid: int) -> list[int]:
    """Processes in session ``sid`` (the run's own session: the driver, Ray, its workers)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid:  # after "pid (comm)": state, ppid, pgrp, session
            pids.append(int(stat.parent.name))
    return pids


def stop_session(proc: subprocess.Popen, grace_s: float = 15) -> None:
    """Stop every process the run started. Ray workers get process groups of their own but stay
    in the session that ``start_new_session`` gave the driver, so the session is what to stop."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5)):
        members = session_members(proc.pid) if Path("/proc").is_dir() else []
        if not members and proc.poll() is not None:
            break
        for pid in members or [proc.pid]:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and (proc.poll() is None or session_members(proc.pid)):
            time.sleep(0.2)
    proc.wait()


def execute(p: Plan, timeout_s: float, on_line: Callable[[str], None] | None = None) -> tuple[int, bool, float]:
    """Run the plan in its own session, teeing output to ``run.log``; kill the whole group on timeout."""
    p.cwd.mkdir(parents=True, exist_ok=True)
    (p.cwd / "command.sh").write_text(p.shell() + "\n", encoding="utf-8")
    start = time.monotonic()
    with open(p.cwd / "run.log", "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            p.command, cwd=p.cwd, env=p.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, text=True, errors="replace", start_new_session=True,
        )

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                if on_line is not None:
                    on_line(line.rstrip("\n"))

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        timed_out = False
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            # On a timeout everything goes; after a normal exit, whatever Ray left behind does too.
            stop_session(proc, grace_s=15 if timed_out or proc.returncode is None else 5)
        reader.join(timeout=10)
    return proc.returncode, timed_out, time.monotonic() - start
