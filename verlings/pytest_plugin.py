"""The verlings pytest plug-in: target selection, exercise markers, clean failures, time budgets;
results go out as the event stream of :mod:`verlings.events`.

Loaded for every run through ``-p verlings.pytest_plugin`` (pyproject addopts)
and by the root ``conftest.py``; the grader also passes it explicitly so that a
teacher's extra tests outside the course folder get it too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from verlings import target as target_mod
from verlings.collection_gc import pytest_collection as pytest_collection  # a hook of this plug-in
from verlings.events import EventStream
from verlings.paths import ROOT, display


@dataclass
class _State:
    """The plug-in's state for one pytest run, kept in ``config.stash`` (never in module globals: the
    mutant runner and the warm worker run pytest many times in one process)."""

    target: Path  # the folder graded (target.active() too, for code that has no config: see target.activate)
    restore_target: Callable[[], None] | None = None  # puts back the target and environment of before
    events: EventStream | None = None  # --verlings-report: JSON lines, one event each
    item_exercise: dict[str, str] = field(default_factory=dict)  # nodeid -> exercise id
    hung: dict[str, str] = field(default_factory=dict)  # function -> the exercise whose test timed out in it
    reaches: dict[str, set[str]] = field(default_factory=dict)  # exercise id -> functions its code calls


STATE = pytest.StashKey[_State]()


def _state(config: pytest.Config) -> _State:
    return config.stash[STATE]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("verlings", "verlings course")
    group.addoption("--solutions", action="store_true", help="grade the reference solutions in solutions/")
    group.addoption(
        "--target", metavar="DIR", default=None,
        help=f"grade the implementation in DIR (laid out like exercises/); env {target_mod.ENV_VAR}",
    )
    group.addoption(
        "--exercise", dest="verlings_only", action="append", default=[], metavar="ID",
        help="run only the tests of this exercise (e.g. 03.gae); repeatable",
    )
    group.addoption(
        "--skip-exercise", dest="verlings_skip", action="append", default=[], metavar="ID",
        help="leave out the tests of this exercise; repeatable",
    )
    group.addoption(
        "--chapter", dest="verlings_chapter", default=None, metavar="NN",
        help="keep only tests tied to exercises of this chapter (used for a teacher's extra tests)",
    )
    group.addoption("--verlings-report", metavar="FILE", default=None, help="write per-test results as JSON lines")
    parser.addini("verlings_target", "default target folder (CLI and environment win)", default="")


def check_course_root(rootdir: Path, harness_root: Path = ROOT) -> None:
    """The course root is the checkout pytest runs in (its rootdir), never where verlings was installed from.

    pyproject's ``pythonpath = ["."]`` puts the rootdir first on ``sys.path`` before this plug-in
    is imported, so a checkout grades itself even when ``pip install -e`` was run in another clone.
    When that did not happen (an older pytest, ``-o pythonpath=``), the two disagree: stop.
    """
    rootdir = Path(rootdir).resolve()
    if not (rootdir / "verlings" / "pytest_plugin.py").is_file():
        return  # not a course checkout (a teacher's folder of extra tests): the imported harness decides
    if rootdir != Path(harness_root).resolve():
        raise pytest.UsageError(
            f"pytest runs in the course checkout {rootdir} but imported the verlings harness from {harness_root} "
            f"(installed from another clone), so it would grade the wrong exercises: run `python -m pytest` in "
            f"{rootdir}, or `pip install -e .` there."
        )


def pytest_configure(config: pytest.Config) -> None:
    check_course_root(config.rootpath)
    config.addinivalue_line("markers", "exercise(id): ties a graded test to an exercise of chapter.toml (03.gae)")
    config.addinivalue_line("markers", "gpu: needs a CUDA GPU; skipped with a reason where there is none")
    config.addinivalue_line("markers", "slow: a longer integration test (verl imports, training runs)")
    try:
        chosen = target_mod.resolve(
            solutions=config.getoption("solutions"),
            target=config.getoption("target"),
            ini=config.getini("verlings_target") or None,
        )
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    state = config.stash[STATE] = _State(target=chosen)
    # Subprocesses started by tests (sandboxes, training runs) see the same target (environment);
    # put back at unconfigure, so a run inside another process (the mutant runner) leaves it as it was.
    state.restore_target = target_mod.activate(chosen)
    state.events = EventStream(config.getoption("verlings_report"), state.item_exercise)
    config.pluginmanager.register(state.events, "verlings-events")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None:
        return
    if state.events is not None:
        state.events.close()
    if state.restore_target is not None:
        state.restore_target()
        state.restore_target = None


def pytest_report_header(config: pytest.Config) -> str:
    chosen = _state(config).target
    return f"verlings target: {chosen} — {target_mod.describe(chosen)}"


def exercise_of(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("exercise")
    return str(marker.args[0]) if marker and marker.args else None


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    only = set(config.getoption("verlings_only"))
    skip = set(config.getoption("verlings_skip"))
    chapter = config.getoption("verlings_chapter")
    if only or skip or chapter:
        kept, dropped = [], []
        for item in items:
            ex = exercise_of(item)
            drop = (only and ex not in only) or ex in skip or (chapter and not (ex or "").startswith(f"{chapter}."))
            (dropped if drop else kept).append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept
    if any(item.get_closest_marker("gpu") for item in items) and not _cuda_available():
        reason = "needs a CUDA GPU (torch.cuda.is_available() is False); the CPU path covers the same exercise"
        for item in items:
            if item.get_closest_marker("gpu"):
                item.add_marker(pytest.mark.skip(reason=reason))
    for item in items:
        ex = exercise_of(item)
        if ex:
            _state(config).item_exercise[item.nodeid] = ex
    _check_markers(items)
    _apply_budgets(config, items)


def _check_markers(items: list[pytest.Item]) -> None:
    """An exercise marker must name an exercise of its chapter's chapter.toml (a maintainer's typo
    would otherwise grade a test under no exercise, or a wrong one): a usage error at collection."""
    from verlings.chapters import ChapterError, load_chapter

    unknown: list[str] = []
    for item in items:
        ex = exercise_of(item)
        if ex is None:
            continue
        chapter = ex.split(".")[0]
        try:
            known = {e.id for e in load_chapter(chapter).exercises}
        except (ChapterError, OSError):
            known = set()
        if ex not in known:
            unknown.append(f"{item.nodeid}: exercise({ex!r})")
    if unknown:
        raise pytest.UsageError("exercise markers name no exercise of chapter.toml:\n  " + "\n  ".join(unknown[:20]))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    with _current(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    with _current(item), _timeout_past_hypothesis(item):
        return (yield)


_REARM_S = 0.25


class HypothesisTimeout(BaseException):
    """A Hypothesis test ran past its time budget.

    pytest-timeout's alarm raises ``pytest.fail``'s exception, which Hypothesis takes for a failing
    example: it replays the example, sees it pass, shrinks on past the budget and reports a
    ``FlakyFailure``. Hypothesis lets a BaseException that is not a failure through at once.
    """


@contextlib.contextmanager
def _timeout_past_hypothesis(item: pytest.Item):
    """While a Hypothesis test runs, pytest-timeout's alarm raises :class:`HypothesisTimeout`."""
    import signal

    armed = getattr(signal, "SIGALRM", None) is not None and callable(signal.getsignal(signal.SIGALRM))
    if not armed or not getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
        yield
        return

    fired = False

    def handler(signum, frame):
        nonlocal fired
        fired = True
        # The alarm can land where an exception is only "unraisable" (Hypothesis's gc callback,
        # a __del__): re-arm it so that a swallowed timeout still stops the test soon after.
        signal.setitimer(signal.ITIMER_REAL, _REARM_S)
        raise HypothesisTimeout("Timeout from pytest-timeout (in a Hypothesis test)")

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        yield
        if fired:  # every alarm was swallowed and the test ran to its end past its budget
            raise HypothesisTimeout("Timeout from pytest-timeout (in a Hypothesis test)")
    finally:
        if fired:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if signal.getsignal(signal.SIGALRM) is handler:
            signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _current(item: pytest.Item):
    """The running test's exercise, for the hint line of verlings.testing's assertions."""
    from verlings.testing import CURRENT_EXERCISE

    token = CURRENT_EXERCISE.set(_state(item.config).item_exercise.get(item.nodeid))
    try:
        yield
    finally:
        CURRENT_EXERCISE.reset(token)


# --- time budgets: a hang costs one test's budget, not every test's -------------------------------
# An exercise's tests each get its chapter.toml budget (``timeout_s``). After the first timeout,
# the exercise's remaining tests, and those of every exercise whose code calls the function that
# hung, are reported as timed out without running.

def _apply_budgets(config: pytest.Config, items: list[pytest.Item]) -> None:
    from verlings import budgets

    ids = {ex for ex in (exercise_of(i) for i in items) if ex}
    _state(config).reaches.update(budgets.reaches(ids, _state(config).target))
    if config.getoption("timeout", None) is not None:
        return  # --timeout on the command line (grader --test-timeout) wins over the budgets
    seconds_of = {ex: budgets.budget(ex) for ex in ids}  # a lookup per exercise, not per test
    for item in items:
        ex = exercise_of(item)
        seconds = seconds_of.get(ex) if ex else None
        if seconds is not None and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(seconds))


def _is_timeout(excinfo: pytest.ExceptionInfo) -> bool:
    if excinfo.errisinstance(HypothesisTimeout):
        return True
    return excinfo.errisinstance(pytest.fail.Exception) and "from pytest-timeout" in str(excinfo.value)


def _timeout_message(item: pytest.Item, excinfo: pytest.ExceptionInfo) -> str:
    marker = item.get_closest_marker("timeout")
    seconds = f"{marker.args[0]:g} s budget (chapter.toml)" if marker and marker.args else "time limit"
    # the innermost frame outside installed packages: the learner's loop, not pytest-timeout's handler
    entry = next((e for e in reversed(excinfo.traceback) if "site-packages" not in str(e.path)), None)
    where = f" It was running {display(Path(str(entry.path)))}:{entry.lineno + 1}." if entry else ""
    return f"Timeout: the test ran past its {seconds} — an infinite loop?{where}"


def _doomed_by(state: _State, ex: str | None) -> tuple[str, str] | None:
    """(function, exercise whose test hung in it) that this exercise's code would run into, if any."""
    hung = state.hung
    if not ex or not hung:
        return None
    return next(((f, hung[f]) for f in sorted(state.reaches.get(ex, ())) if f in hung), None)


def _hung_functions(ex: str, excinfo: pytest.ExceptionInfo) -> list[str]:
    """The graded functions a timed-out test was stuck in: its exercise's own, and the innermost
    graded function on the stack (GAE's test may hang in the masked_mean that its code calls)."""
    from verlings import budgets

    graded = budgets.graded_functions(ex.split(".")[0])
    inner = next((e.name for e in reversed(excinfo.traceback) if e.name in graded), None)
    return [*([inner] if inner else []), *budgets.functions_of(ex)]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    state = _state(item.config)
    ex = state.item_exercise.get(item.nodeid)
    doomed = _doomed_by(state, ex)
    if doomed is None:
        return None
    from _pytest.reports import TestReport

    function, culprit = doomed
    own = "this exercise" if culprit == ex else culprit
    why = (f"not run: a test of {own} already timed out in {function}, which this test's code calls "
           f"(an infinite loop?) — fix that first")
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    keywords = {k: 1 for k in item.keywords}
    for when, outcome, longrepr in (("setup", "passed", None), ("call", "failed", why),
                                    ("teardown", "passed", None)):
        failed = [("verlings_timeout", True), ("verlings_kind", "timeout")] if outcome == "failed" else []
        report = TestReport(item.nodeid, item.location, keywords, outcome, longrepr, when, user_properties=failed)
        item.ihook.pytest_runtest_logreport(report=report)
    # What the skipped teardown phase would have done: leave the module/class fixtures that the
    # next item does not share, or its setup finds "previous item was not torn down properly".
    item.session._setupstate.teardown_exact(nextitem)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _short_failure(excinfo: pytest.ExceptionInfo) -> str | None:
    """A one-screen message for stubs and unusable learner code, instead of a traceback."""
    if excinfo.errisinstance(target_mod.LearnerCodeError):
        return f"{type(excinfo.value).__name__}: {excinfo.value}"
    if excinfo.errisinstance(target_mod.StubsNeeded):
        return f"NotImplementedError: {excinfo.value}"
    if excinfo.errisinstance(NotImplementedError):
        entry = excinfo.traceback[-1]
        where = f"{display(Path(str(entry.path)))}:{entry.lineno + 1}"
        return f"NotImplementedError: {excinfo.value}\n  (raised at {where} — this is still a stub)"
    return None


# A failure's kind, a typed field of its result event (``kind``), so that no reader greps messages:
#   stub          the learner's function still raises NotImplementedError
#   learner_code  the module cannot be used as it is (missing file or name, import-time error)
#   timeout       past the exercise's time budget (or not run: it calls a function that hung)
#   assertion     a graded check failed: the code runs and gives a wrong answer
#   error         any other exception raised while the test ran (its type: ``exception``)
FAILURE_KINDS = ("stub", "learner_code", "timeout", "assertion", "error")


def failure_kind(excinfo: pytest.ExceptionInfo) -> str:
    if excinfo.errisinstance(target_mod.LearnerCodeError):
        return "learner_code"
    if excinfo.errisinstance(NotImplementedError):
        return "stub"
    if _is_timeout(excinfo):
        return "timeout"
    return "assertion" if excinfo.errisinstance(AssertionError) else "error"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if call.excinfo is not None and report.failed:
        report.user_properties.append(("verlings_kind", failure_kind(call.excinfo)))
        report.user_properties.append(("verlings_exception", call.excinfo.type.__name__))
        short = _short_failure(call.excinfo)
        if short is not None:
            report.longrepr = short
        state = _state(item.config)
        ex = state.item_exercise.get(item.nodeid)
        if _is_timeout(call.excinfo) and ex:
            report.user_properties.append(("verlings_timeout", True))
            report.longrepr = _timeout_message(item, call.excinfo)
            for fn in _hung_functions(ex, call.excinfo):
                state.hung.setdefault(fn, ex)
    return report
