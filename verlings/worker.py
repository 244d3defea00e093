"""A warm grading worker: the parent's handle on the zygote (:mod:`verlings.zygote`).

The zygote imports the heavy libraries once and forks a fresh child for every pytest run; see its
module for what keeps each run as isolated as a fresh interpreter and for the protocol.

:class:`Worker`: ``run(argv, output, timeout)`` returns ``(exit code or None on timeout, output
text)``, the same shape as :func:`verlings.grading._run`. It may be called from several threads at
once (chapters graded in parallel). If the zygote dies, pending runs raise :class:`WorkerDied`;
:meth:`Worker.ensure` starts a new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path

from verlings.zygote import ORIGINAL_ENV, THREAD_ENV, kill_group


class WorkerDied(RuntimeError):
    """The zygote exited (or was killed) while runs were pending."""


# --- the zygote ------------------------------------------------------------------------------------


class Worker:
    """A handle on one zygote process; thread-safe ``run``."""

    def __init__(self, python: str = sys.executable, env: Mapping[str, str] | None = None) -> None:
        self.python = python
        self.env = dict(env) if env is not None else None
        self.proc: subprocess.Popen | None = None
        self.ready: dict = {}
        self.restarts = 0
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[Future, dict]] = {}
        self._next_id = 0

    # lifecycle
    def start(self, timeout: float = 180.0) -> Worker:
        from verlings.paths import ROOT

        base = {**os.environ, **(self.env or {})}
        original = json.dumps({key: base.get(key) for key in THREAD_ENV})
        env = {**base, **THREAD_ENV, ORIGINAL_ENV: original, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [self.python, "-m", "verlings.zygote"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        first = self._readline(timeout)
        if not first:
            code = self.proc.poll()
            self.close()
            raise WorkerDied(f"the grading worker did not start (exit code {code})")
        self.ready = json.loads(first)
        threading.Thread(target=self._reader, args=(self.proc,), daemon=True, name="verlings-worker").start()
        return self

    def _readline(self, timeout: float) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        ready = select.select([self.proc.stdout], [], [], timeout)[0]
        return self.proc.stdout.readline().decode() if ready else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ensure(self) -> bool:
        """Start a new zygote if this one died; True when it had to."""
        if self.alive():
            return False
        self.close()
        self.restarts += 1
        self.start()
        return True

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            proc.stdin.close()  # EOF: the zygote kills what still runs and leaves
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        self._fail_pending(proc)

    def __enter__(self) -> Worker:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # runs
    def _reader(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            try:
                msg = json.loads(raw)
            except json.JSONDecodeError:
                continue
            with self._lock:
                entry = self._pending.get(msg.get("id"))
            if entry is None:
                continue
            future, info = entry
            if msg["event"] == "started":
                info["pid"] = msg["pid"]
            elif msg["event"] == "inspect":
                with self._lock:
                    self._pending.pop(msg["id"], None)
                future.set_result(msg)
            elif msg["event"] in ("exit", "error"):
                with self._lock:
                    self._pending.pop(msg["id"], None)
                if msg["event"] == "error":
                    future.set_exception(WorkerDied(msg.get("message", "worker error")))
                else:
                    future.set_result(msg["code"])
        proc.wait()
        self._fail_pending(proc)

    def _fail_pending(self, proc: subprocess.Popen) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        for future, info in pending.values():
            if "pid" in info:  # the zygote cannot clean up after its children any more
                kill_group(info["pid"])
            if not future.done():
                future.set_exception(WorkerDied(f"the grading worker exited (code {proc.returncode})"))

    def _send(self, request: dict) -> Future:
        future: Future = Future()
        with self._lock:
            self._next_id += 1
            request["id"] = self._next_id
            self._pending[request["id"]] = (future, {})
            if self.proc is None or self.proc.stdin is None:
                self._pending.pop(request["id"], None)
                raise WorkerDied("the grading worker is not running")
            try:
                self.proc.stdin.write((json.dumps(request) + "\n").encode())
                self.proc.stdin.flush()
            except OSError as exc:
                self._pending.pop(request["id"], None)
                raise WorkerDied("the grading worker is not running") from exc
        return future

    def inspect(self, timeout: float = 10.0) -> dict:
        """The zygote's own state: threads, Hydra, CUDA, learner modules (tests check all stay clean)."""
        return self._send({"op": "inspect"}).result(timeout)

    def submit(
        self,
        argv: list[str],
        output: Path,
        timeout: float | None,
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Future:
        """Start ``pytest argv`` in a fresh child; the future's result is its exit code (None: timed out)."""
        if not self.alive():
            raise WorkerDied("the grading worker is not running")
        request = {
            "argv": list(argv),
            "out": str(output),
            "cwd": str(cwd) if cwd else None,
            "env": dict(env or {}),
            "timeout": timeout,
        }
        return self._send(request)

    def run(
        self,
        argv: list[str],
        output: Path,
        timeout: float | None,
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> tuple[int | None, str]:
        """Run ``pytest argv`` in a fresh child: (exit code, or None on timeout; its output)."""
        code = self.submit(argv, output, timeout, cwd=cwd, env=env).result()
        text = output.read_text(encoding="utf-8", errors="replace") if output.is_file() else ""
        return code, text




if __name__ == "__main__":  # the zygote's former entry point
    from verlings.zygote import serve

    serve()
