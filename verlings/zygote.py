"""The warm grading worker's *zygote*: imports the heavy libraries once, forks a child per pytest run.

``python -m verlings.zygote`` imports torch, verl, transformers, pytest and the course plug-in,
then reads one JSON request a line on stdin and forks a child per request. The child starts its
own session (process group), points stdout/stderr at a file, runs ``pytest.main(argv)`` and
``os._exit``\\ s with pytest's exit code. Starting a chapter's run costs a ``fork`` (milliseconds)
instead of an interpreter that imports torch and verl (seconds). The parent's handle on it is
:class:`verlings.worker.Worker`.

What keeps every run as isolated as a fresh interpreter:

* the zygote never imports learner code, runs no pytest session and calls no torch op, so it holds
  no learner state, no Hydra global state and no OpenMP/MKL thread pool; it checks that it is
  single-threaded before it forks (fork copies only the calling thread, a pool's locks could be
  left held in the child);
* a child is a copy-on-write copy: a learner module that monkeypatches torch or numpy, starts
  threads or hangs at import changes only its own process;
* each child is a session leader, so a timeout kills its whole process group (the learner's
  subprocesses included), exactly like the ``subprocess.Popen(start_new_session=True)`` path.

Protocol (one JSON object a line): request ``{"id", "argv", "out", "cwd", "env", "timeout"}``;
replies ``{"event": "ready", "pid", "threads", "seconds"}`` once, then ``{"id", "event":
"started", "pid"}`` and ``{"id", "event": "exit", "code"}`` (``code`` null on timeout).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import select
import signal
import sys
import threading
import time

# What the graded tests of chapters 01–05 import (measured from sys.modules after each chapter's
# run). Import failures are ignored: the child imports what it needs anyway, only slower.
PRELOAD = (
    "numpy",
    "torch",
    "pytest",
    "_pytest.python",
    "_pytest.runner",
    "pytest_timeout",
    "pytest_asyncio",
    "pytest_benchmark.plugin",
    "verlings.pytest_plugin",
    "verlings.testing",
    "verlings.messages",
    "pandas",
    "pyarrow",
    "pyarrow.parquet",
    "omegaconf",
    "hydra",
    "transformers",
    "tokenizers",
    "verl",
    "verl.protocol",
    "verl.trainer.ppo.core_algos",
    "verl.trainer.ppo.reward",
    "verl.utils.config",
    "verl.utils.dataset.rl_dataset",
    "verl.utils.reward_score",
    "verl.workers.reward_manager",
    "verl.experimental.agent_loop",
    "verl.tools.tool_registry",
    "datasets",
    "math_verify",
    "fastapi",
    "uvicorn",
    "httpx",
    "aiohttp",
    "torch.utils.tensorboard",
    "verlings.fixtures.tokenizer",
    "verlings.fixtures.gsm8k",
    "verlings.fixtures.scripted_server",
    "verlings.fixtures.scenarios",
    "verlings.fixtures.probe_tools",
    "verlings.fixtures.agent_loops",
    "verlings.fixtures.reward_server",
    # Imported by the graded runs themselves (a sys.modules diff of each chapter's run, 2026-12-03):
    # the property tests' Hypothesis (~0.45 s of CPU a run), the plug-ins pytest loads by entry point,
    # what chapter 04's reward server and math_verify load on first use, the course's test helpers.
    # Not Hypothesis' pytest plug-in: importing it opens Hypothesis' "initialising" window, which only
    # the plug-in's own session start closes, and graded runs disable it (-p no:hypothesispytest).
    "hypothesis",
    "xdist.plugin",
    "xdist.looponfail",
    "pytest_benchmark.storage.file",
    "anyio._backends._asyncio",
    "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.websockets.auto",
    "uvicorn.loops.asyncio",
    "uvicorn.lifespan.off",
    "pydantic.v1",
    "sympy.physics.units",
    "multiprocess.managers",
    "multiprocess.synchronize",
    "tensorboard.backend.event_processing.event_accumulator",
    "transformers.models.qwen2.modeling_qwen2",
    "verl.utils.reward_score.math_reward",
    "verl.utils.reward_score.gsm8k",
    "verl.tools.base_tool",
    "verlings.budgets",
    "verlings.differential",
    "verlings.tensor_strategies",
    "verlings.verl_batch_rules",
    "verlings.capstone.model",
    "verlings.fixtures.actor_config",
    "verlings.goldens.ch05_agent",
)

# Set before anything loads, so that the zygote stays single-threaded: one OpenMP/MKL thread (no
# pool sized for the machine; a graded test's tensors are tiny, and chapters run side by side),
# and no jemalloc background thread, which pyarrow's allocator starts at import otherwise.
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "ARROW_DEFAULT_MEMORY_POOL": "system",
    "JE_ARROW_MALLOC_CONF": "background_thread:false",
}


# The parent's values of THREAD_ENV's variables (JSON), handed to every child.
ORIGINAL_ENV = "VERLINGS_WORKER_ORIGINAL_ENV"


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def _preload() -> None:
    for name in PRELOAD:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    with contextlib.suppress(Exception):  # verl's config files parsed once (chapters 01, 03 compose per save)
        from verlings import hydra_cache

        hydra_cache.prewarm()
    with contextlib.suppress(Exception):  # test files rewritten once, not in every forked run
        from verlings import rewrite_cache

        rewrite_cache.prewarm(rewrite_cache.course_test_files())
    with contextlib.suppress(Exception):  # imports must not leave Hydra initialised
        from hydra.core.global_hydra import GlobalHydra

        GlobalHydra.instance().clear()


def _inspect() -> dict:
    """What a test checks about the zygote: nothing a run could leak into the next one."""
    hydra = False
    with contextlib.suppress(Exception):
        from hydra.core.global_hydra import GlobalHydra

        hydra = GlobalHydra.instance().is_initialized()
    torch = sys.modules.get("torch")
    cuda = bool(torch is not None and torch.cuda.is_initialized())
    learner = sorted(m for m in sys.modules if m.startswith("_verlings_target_"))
    # Hypothesis warns about "slow code in plugin" while this is above zero (graded runs never reach
    # the session start of its pytest plug-in, which would count it down).
    hypothesis_globals = sys.modules.get("_hypothesis_globals")
    initialising = getattr(hypothesis_globals, "in_initialization", 0) > 0
    return {
        "threads": _threads(),
        "hydra_initialized": hydra,
        "cuda_initialized": cuda,
        "learner_modules": learner,
        "hypothesis_initialising": initialising,
    }


def _course_changed(since: float) -> bool:
    """Has a course module the zygote imported (verlings.*) been edited since? Then it is stale."""
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if name.startswith("verlings") and path:
            with contextlib.suppress(OSError):
                if os.stat(path).st_mtime > since:
                    return True
    return False


def _restore_thread_env() -> None:
    """Give the run the parent's thread settings back (the zygote's are for the zygote only).

    Subprocesses a test starts (a capstone training run) then see the learner's environment, and
    torch in the child gets its usual intra-op threads; starting them here is safe because the
    zygote never started any.
    """
    original = json.loads(os.environ.pop(ORIGINAL_ENV, "{}"))
    for key in THREAD_ENV:
        if original.get(key) is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = original[key]
    torch = sys.modules.get("torch")
    if torch is not None:
        with contextlib.suppress(Exception):
            wanted = original.get("OMP_NUM_THREADS")
            torch.set_num_threads(int(wanted) if wanted and wanted.isdigit() else max(1, os.cpu_count() or 1))


def _child(request: dict, proto_fd: int) -> None:
    """In the forked child: own session, output to a file, run pytest, exit without cleanup."""
    code = 70
    try:
        os.setsid()
        os.close(proto_fd)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        out = os.open(request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(null)
        os.close(out)
        os.chdir(request.get("cwd") or os.getcwd())
        _restore_thread_env()
        os.environ.update(request.get("env") or {})
        gc.enable()
        import pytest

        # the plug-ins were imported before pytest could rewrite their asserts; that is expected here
        argv = ["-W", "ignore::pytest.PytestAssertRewriteWarning", *request["argv"]]
        sys.argv = ["pytest", *argv]
        code = int(pytest.main(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # report anything, then leave
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _status_code(status: int) -> int:
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def kill_group(pid: int, *, reaped: bool = False) -> None:
    """SIGKILL the run's session; before the child is reaped, also the child (not yet past setsid?).

    After ``waitpid`` its pid may be reused, so only the process group is signalled then (a group
    id stays reserved while any member lives).
    """
    for kill in (os.killpg,) if reaped else (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def serve() -> None:
    """The zygote's loop: requests on stdin, replies on the original stdout."""
    start = time.monotonic()
    proto_fd = os.dup(1)
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the protocol
    proto = os.fdopen(proto_fd, "w", buffering=1, encoding="utf-8")
    os.environ.update({k: os.environ.get(k, v) for k, v in THREAD_ENV.items()})
    _preload()
    loaded_at = time.time()
    gc.collect()
    gc.freeze()  # children share these pages copy-on-write and never scan them
    gc.disable()

    def reply(obj: dict) -> None:
        proto.write(json.dumps(obj) + "\n")

    reply({"event": "ready", "pid": os.getpid(), "threads": _threads(), "seconds": round(time.monotonic() - start, 3)})
    running: dict[int, tuple[int, float | None, int | None]] = {}  # pid -> (id, deadline, pidfd)
    buf = b""
    stdin_open = True
    while stdin_open or running:
        now = time.monotonic()
        deadlines = [d for _, d, _ in running.values() if d is not None]
        wait = max(0.0, min(deadlines) - now) if deadlines else None
        fds = [0] if stdin_open else []
        fds += [fd for _, _, fd in running.values() if fd is not None]
        polling = any(fd is None for _, _, fd in running.values())
        if polling:
            wait = 0.05 if wait is None else min(wait, 0.05)
        readable = select.select(fds, [], [], wait)[0] if fds else (time.sleep(wait or 0.05) or [])
        if 0 in readable:
            chunk = os.read(0, 65536)
            if not chunk:
                stdin_open = False  # the parent is gone: finish (or kill) what runs, then leave
                for pid in running:
                    kill_group(pid)
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if not line.strip():
                    continue
                request = json.loads(line)
                if request.get("op") == "inspect":
                    reply({"id": request["id"], "event": "inspect", **_inspect()})
                    continue
                if request.get("op") == "kill":
                    for pid, (rid, _, _) in running.items():
                        if rid == request["id"]:
                            kill_group(pid)
                    continue
                if _course_changed(loaded_at):  # the harness was edited: a new zygote must import it
                    reply({"id": request["id"], "event": "error", "message": "the course's harness changed"})
                    stdin_open = False
                    break
                if _threads() != 1:  # never fork a process with other threads in it
                    reply({"id": request["id"], "event": "error", "message": f"zygote has {_threads()} threads"})
                    continue
                sys.stdout.flush()  # nothing the zygote buffered may end up in a child's output
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    _child(request, proto_fd)
                timeout = request.get("timeout")
                pidfd = None
                with contextlib.suppress(AttributeError, OSError):
                    pidfd = os.pidfd_open(pid)
                running[pid] = (request["id"], time.monotonic() + timeout if timeout else None, pidfd)
                reply({"id": request["id"], "event": "started", "pid": pid})
        now = time.monotonic()
        for pid, (rid, deadline, pidfd) in list(running.items()):
            timed_out = deadline is not None and now >= deadline
            if timed_out:
                kill_group(pid)
                os.waitpid(pid, 0)
                done, status = pid, None
            else:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done == 0:
                    continue
            # a learner's own children may outlive it in the group; they are killed with it
            kill_group(pid, reaped=True)
            if pidfd is not None:
                os.close(pidfd)
            del running[pid]
            reply({"id": rid, "event": "exit", "code": None if status is None else _status_code(status)})


# --- the parent side ---------------------------------------------------------------------------------




if __name__ == "__main__":
    serve()
