"""The plug-in's event stream (``--verlings-report FILE``), which :mod:`verlings.grading` reads.

One JSON object a line, in the order pytest runs:

* ``start``: a test began (``nodeid``, ``exercise``) — a start with no result means its process died;
* ``result``: a test is done, all phases together (``outcome`` passed | failed | timeout | skipped,
  ``duration``, ``headline``, ``details``; a failure's ``kind``, one of
  :data:`verlings.pytest_plugin.FAILURE_KINDS`, and ``exception``);
* ``collect_error``: a test file could not be collected;
* ``finished``: the session ended (``exitstatus``).
"""

from __future__ import annotations

import json
from typing import IO

import pytest

TIMEOUT_OUTCOME = "timeout"


def message(report: pytest.TestReport | pytest.CollectReport) -> dict[str, str]:
    """``headline`` (one line for tables) and ``details`` (the end of pytest's report)."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # skips: (file, line, reason)
        return {"headline": str(longrepr[2]), "details": str(longrepr[2])}
    crash = getattr(longrepr, "reprcrash", None)
    text = report.longreprtext or ""
    headline = crash.message if crash is not None else text.strip().splitlines()[0] if text.strip() else ""
    return {"headline": headline, "details": text[-4000:]}


class EventStream:
    """Hooks without a ``config`` argument, registered once per run (the mutant runner and the warm
    worker run pytest many times in one process): they write to this run's file, if any."""

    def __init__(self, path: str | None, item_exercise: dict[str, str]) -> None:
        self.file: IO[str] | None = open(path, "a", encoding="utf-8", buffering=1) if path else None
        self.item_exercise = item_exercise  # nodeid -> exercise id, filled by the plug-in at collection
        self.pending: dict[str, dict] = {}  # nodeid -> its result, phase by phase

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def _write(self, event: dict) -> None:
        if self.file is not None:
            self.file.write(json.dumps(event, ensure_ascii=False) + "\n")

    def pytest_runtest_logstart(self, nodeid: str, location) -> None:
        self._write({"event": "start", "nodeid": nodeid, "exercise": self.item_exercise.get(nodeid)})

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        empty = {"outcome": "passed", "headline": "", "details": "", "duration": 0.0}
        state = self.pending.setdefault(report.nodeid, empty)
        state["duration"] += report.duration
        if report.failed and state["outcome"] not in ("failed", TIMEOUT_OUTCOME):
            props = dict(report.user_properties)
            timed_out = bool(props.get("verlings_timeout"))
            state.update(outcome=TIMEOUT_OUTCOME if timed_out else "failed", **message(report))
            # a failure outside the test's call (a fixture's setup) carries no kind of its own
            state.update(kind=props.get("verlings_kind", "error"), exception=props.get("verlings_exception", ""))
        elif report.skipped and state["outcome"] == "passed":
            state.update(outcome="skipped", **message(report))
        if report.when == "teardown":
            done = self.pending.pop(report.nodeid)
            exercise = self.item_exercise.get(report.nodeid)
            self._write({"event": "result", "nodeid": report.nodeid, "exercise": exercise, **done})

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self._write({"event": "collect_error", "nodeid": report.nodeid, **message(report)})

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self._write({"event": "finished", "exitstatus": int(exitstatus)})
