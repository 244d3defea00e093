"""``--ray-address``: each student is one Ray task on an existing cluster.

The cluster is the teacher's (``ray start --head`` on one machine, ``ray start --address=…`` on
the others, every node with the course installed by ``install.sh``); nothing here starts or
schedules anything of its own. The course folder (a few MB: tests, goldens, harness) travels to
the nodes as Ray's ``runtime_env`` ``working_dir``, so every node grades with the same tests as
this machine; only the students' learner modules travel as task arguments, and each result
comes back here into the same cache and report files as a local run.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

from verlings.batch.intake import Submission
from verlings.paths import ROOT

# Never shipped: environments, state, caches, version control (the course itself is ~3 MB).
EXCLUDES = [".git", ".venv", ".verlings", "**/__pycache__", "*.egg-info", ".ruff_cache", ".pytest_cache",
            ".benchmarks", "build"]
CONNECT_TIMEOUT_S = 5.0


class RayUnavailable(ValueError):
    """No cluster answers at the address given (reported before any student is graded)."""


def resolve_address(address: str) -> str:
    """``auto`` → the cluster this machine knows of (``RAY_ADDRESS`` or a local ``ray start``);
    ``HOST:PORT`` → itself once its port answers. Raises :class:`RayUnavailable` otherwise."""
    if address == "auto":
        from ray._private.services import canonicalize_bootstrap_address

        try:
            found = canonicalize_bootstrap_address("auto")
        except (ConnectionError, ValueError) as exc:
            raise RayUnavailable(f"--ray-address auto: no running Ray cluster found on this machine ({exc}); "
                                 "start one with `ray start --head` or give HOST:PORT") from None
        if not found:
            raise RayUnavailable("--ray-address auto: no running Ray cluster found on this machine; "
                                 "start one with `ray start --head` or give HOST:PORT")
        address = found
    host, sep, port = address.rpartition(":")
    if address.startswith("ray://"):
        raise RayUnavailable("--ray-address: give the cluster's GCS address HOST:PORT (as `ray start` "
                             "prints it), not a ray:// client address")
    if not sep or not port.isdigit() or not host:
        raise RayUnavailable(f"--ray-address {address!r}: expected auto or HOST:PORT, e.g. 10.0.0.5:6379")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise RayUnavailable(f"--ray-address {address}: no Ray cluster answers there ({exc.strerror or exc}); "
                             "is `ray start --head` running and the port reachable?") from None
    return address


def _token_available() -> bool:
    if os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH"):
        return True
    return (Path.home() / ".ray" / "auth_token").is_file()


def match_auth_mode() -> None:
    """Ray 2.60: `ray start` turns token authentication on when the machine has a token, but a
    driver given an explicit address only sends it with RAY_AUTH_MODE=token. Do as `ray start`
    does, unless the teacher chose a mode."""
    if "RAY_AUTH_MODE" in os.environ or not _token_available():
        return
    os.environ["RAY_AUTH_MODE"] = "token"
    try:  # Ray reads its configuration once; make it see the mode (what Ray's own helper does)
        from ray._raylet import Config

        Config.initialize("")
    except (ImportError, AttributeError):
        pass


def connect(address: str, extra_excludes: list[Path] | None = None) -> None:
    """``ray.init`` on an existing cluster with the course as working_dir (never starts a cluster)."""
    import ray

    match_auth_mode()

    excludes = list(EXCLUDES)
    for path in extra_excludes or []:  # e.g. a submissions folder kept inside the course folder
        try:
            excludes.append("/" + Path(path).resolve().relative_to(ROOT).as_posix())
        except ValueError:
            pass
    try:
        ray.init(address=address, runtime_env={"working_dir": str(ROOT), "excludes": excludes},
                 logging_level="WARNING", log_to_driver=False, include_dashboard=False)
    except Exception as exc:  # ray raises many kinds; all mean "not usable"
        raise RayUnavailable(
            f"--ray-address {address}: could not join the cluster: {type(exc).__name__}: {exc} (a cluster with "
            "token authentication needs RAY_AUTH_MODE=token and its token in ~/.ray/auth_token or RAY_AUTH_TOKEN)"
        ) from None


def _remote_grade(files: dict[str, bytes], chapters: list[str], kwargs: dict) -> dict:
    from verlings.batch.runner import grade_with_retry

    return grade_with_retry(files, chapters, kwargs)


def _remote_where() -> str:
    from verlings import paths

    return str(paths.ROOT)


def course_root_on_cluster() -> str:
    """Where a task finds the course (the shipped working_dir, not this checkout): a check for tests."""
    import ray

    return ray.get(ray.remote(num_cpus=0)(_remote_where).remote())


def ray_backend(address: str, extra_excludes: list[Path] | None = None, cpus_per_student: float = 1) -> Callable:
    """A backend for :func:`verlings.batch.runner.run_batch`; joins the cluster first (errors early)."""
    import ray

    resolved = resolve_address(address)
    connect(resolved, extra_excludes)

    def run(subs: list[Submission], options, done: Callable[[Submission, dict], None]) -> None:
        # One CPU per student by default: a student's grader is one pytest process at a time;
        # chapter 06 (a whole verl run) wants a node's cores. Retries of a crashed grading happen
        # inside the task (grade_with_retry), not by Ray re-running it.
        task = ray.remote(num_cpus=cpus_per_student, max_retries=0)(_remote_grade)
        kwargs = options.grade_kwargs()
        pending = {task.remote(s.files, options.chapters, kwargs): s for s in subs}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                sub = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as exc:  # the worker itself died: a crash of this student's grading
                    result = {"status": "crashed", "exercises": {}, "attempts": 1,
                              "message": f"the Ray task failed: {type(exc).__name__}: {str(exc)[:300]}"}
                done(sub, result)

    return run


def disconnect() -> None:
    import ray

    if ray.is_initialized():
        ray.shutdown()
