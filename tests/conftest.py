"""Shared fixtures for the course's own tests: each chapter graded at most once per session.

``python -m pytest tests`` runs in parallel (pytest-xdist: two workers per core, as memory allows;
the slow tests one per core) when it is given folders; a single file or test runs in one process,
as does ``-n 0``. ``VERLINGS_TEST_JOBS=N`` sets the number.
Tests that must not share the machine with each other (the capstone's training runs, Ray) run
in one group, one after the other; the tests that grade chapters run in one group (one warm worker grades them all).

Tests marked ``slow`` (a real verl training run, Ray, a vLLM server) are left out unless ``-m`` is
given: ``python -m pytest tests`` is the quick suite, ``python -m pytest tests -m slow`` the rest,
``-m ""`` everything. CI (``.ci/run``) runs both commands.
"""

import os
import shlex
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from verlings.chapters import load_chapter
from verlings.grading import ChapterResult, grade_chapter
from verlings.paths import EXERCISES, SOLUTIONS

# Whole files that run in one xdist group: they train or start Ray (both slow). The capstone's
# launcher and mutant tests train nothing: they spread over the workers like any other file.
SERIAL_FILES = {
    "test_capstone_run.py": "heavy",
    "test_batch_ray.py": "heavy",
    "test_course.py": None,
}
# Exercises graded without the warm worker: the capstone's training run keeps its own interpreter.
FRESH_INTERPRETER = {"06.training"}

SLOW_COMMAND = "python -m pytest tests -m slow"
TESTS_DIR = Path(__file__).resolve().parent

_worker = None
_slow_left_out = 0  # how many slow tests this process deselected (the most any xdist worker reported)


def _markers_chosen(config: pytest.Config) -> bool:
    """Whether the user picked tests by marker (``-m slow``, ``-m ""``): then the suite takes that as given."""
    if config.option.markexpr:
        return True
    words = [str(a) for a in config.invocation_params.args]
    words += shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))
    words += config.getini("addopts")
    return any(
        w == "-m" or w.startswith("--markexpr") or (w.startswith("-m") and not w.startswith("--")) for w in words
    )


# What one xdist worker holds: its own interpreter with torch, verl and transformers (~1.4 GB) and
# the grading worker it starts (~0.6 GB), with room for a graded run forked from it.
WORKER_MEMORY_GB = 2.5


def _available_memory_gb() -> float | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def default_jobs(slow: bool) -> int:
    """xdist workers when VERLINGS_TEST_JOBS is unset: one per core for the slow tests (training
    runs are CPU-bound), two per core for the quick suite, as memory allows. Most quick tests wait
    (deliberate time-outs, subprocesses, servers): measured on the 2-core machine, 4 workers took
    398 s where 2 took 575 s, for the same 620 s of CPU."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if slow:
        return cores
    memory = _available_memory_gb()
    by_memory = int(memory // WORKER_MEMORY_GB) if memory is not None else cores
    return max(1, min(2 * cores, max(cores, by_memory)))


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    if getattr(config.option, "numprocesses", "absent") is not None or hasattr(config, "workerinput"):
        return  # xdist missing, -n given, or this is an xdist worker
    args = [a for a in config.invocation_params.args if not str(a).startswith("-")]
    if any("::" in str(a) or Path(str(a)).is_file() for a in args):
        return  # a file or a test: one process starts faster
    jobs = os.environ.get("VERLINGS_TEST_JOBS", "")
    config.option.numprocesses = int(jobs) if jobs.isdigit() else default_jobs(slow=_markers_chosen(config))
    if config.option.dist == "no":
        config.option.dist = "loadgroup"


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown where xdist is absent or -p no:xdist
def pytest_configure_node(node) -> None:  # xdist, controller: what each worker is told
    # A worker parses only the command line, never the options set above: without this it would
    # not know the run is --dist loadgroup, leave the tests' xdist_group marks unread, and the
    # controller would deal every test out singly (a module fixture made on every worker, the
    # "heavy" training runs side by side).
    node.workerinput["verlings_loadgroup"] = node.config.getvalue("dist") == "loadgroup"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    global _slow_left_out
    if not _markers_chosen(config):
        # only the course's own slow tests: graded tests of exercises/ keep their own `slow` meaning
        slow = [i for i in items if i.get_closest_marker("slow") and TESTS_DIR in i.path.parents]
        if slow:
            _slow_left_out = len(slow)
            config.hook.pytest_deselected(items=slow)
            items[:] = [i for i in items if i not in slow]
        if hasattr(config, "workeroutput"):
            config.workeroutput["verlings_slow_left_out"] = _slow_left_out
    for item in items:
        name = item.path.name
        if name not in SERIAL_FILES:
            if _uses_a_module_fixture(item):
                # one xdist worker runs the file, so its module fixture (a grading worker, a
                # composed config, a server) is made once, not once on every worker that gets a test
                item.add_marker(pytest.mark.xdist_group(f"module-{name}"))
            continue
        group = SERIAL_FILES[name]
        if group is None:
            # test_course: one group, so that one warm worker grades every chapter (a zygote on each
            # of 4 xdist workers was 20 s of CPU); a real training run (unit "06.training", slow) is
            # a group of its own, so the two of them still run side by side in the slow suite
            params = item.callspec.params if hasattr(item, "callspec") else {}
            unit = str(params.get("unit", ""))
            group = f"course-{unit}" if "." in unit else "course"
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
    if getattr(config, "workerinput", {}).get("verlings_loadgroup"):
        _suffix_groups(items)


def _suffix_groups(items: list[pytest.Item]) -> None:
    """What xdist's worker does for --dist loadgroup: ``<nodeid>@<group>``, which tells the
    controller's scheduler to keep a group on one worker. xdist 3.8 writes ``item._nodeid``,
    which pytest 9.2 no longer reads (its node ids are ``item._id``), so here it is done for both."""
    for item in items:
        marks = item.iter_markers("xdist_group")
        names = {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in marks}
        if not names or "@" in item.nodeid:
            continue
        nodeid = f"{item.nodeid}@{'_'.join(sorted(names))}"
        if hasattr(item, "_id"):
            from _pytest.nodeid import coerce_node_id

            item._id = coerce_node_id(nodeid)
        else:
            item._nodeid = nodeid


def _uses_a_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.values() if info is not None else ()
    return any(getattr(d, "scope", None) == "module" for chain in defs for d in chain)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:  # xdist: every worker collects the whole suite
    global _slow_left_out
    _slow_left_out = max(_slow_left_out, getattr(node, "workeroutput", {}).get("verlings_slow_left_out", 0))


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if _slow_left_out and not hasattr(config, "workerinput"):
        terminalreporter.write_line(
            f"{_slow_left_out} slow tests deselected (real verl training runs, Ray, vLLM servers); "
            f"run them with: {SLOW_COMMAND}"
        )


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _worker is not None:
        _worker.close()


def _shared_worker():
    """One warm worker for this process's chapter gradings (torch, verl imported once)."""
    global _worker
    if _worker is None:
        from verlings.worker import Worker

        _worker = Worker().start()
    return _worker


@cache
def _graded(chapter: str, which: str, only: frozenset[str] | None = None) -> ChapterResult:
    worker = None if only and only & FRESH_INTERPRETER else _shared_worker()
    target = SOLUTIONS if which == "solutions" else EXERCISES
    return grade_chapter(load_chapter(chapter), target, only=set(only) if only else None, worker=worker)


@pytest.fixture(scope="session")
def graded_solutions() -> Callable[..., ChapterResult]:
    """``graded_solutions("03")``: the reference solutions graded (each chapter in its own process);
    ``graded_solutions("06", only={"06.lora", ...})``: those exercises of the chapter only."""
    return lambda chapter, only=None: _graded(chapter, "solutions", frozenset(only) if only else None)


@pytest.fixture(scope="session")
def graded_stubs() -> Callable[[str], ChapterResult]:
    """``graded_stubs("03")``: the untouched stubs in exercises/ graded."""
    return lambda chapter: _graded(chapter, "stubs")
