"""Whether watch grades a saved module's exercises as one run or as one forked run each, at once.

A run forked from the warm worker costs about 0.2 s of CPU before its first test, so splitting a
module of quick tensor tests into one run per exercise is slower on two cores (chapter 03's
``masks.py``: 0.56 s as one run, 1.47 s as seven), while a module whose tests mostly wait (the
sandbox's deliberate time-outs, the reward server's delays) answers in the time of its slowest
exercise instead of their sum (``sandbox.py``: 2.5 s instead of 6 s).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from verlings.chapters import Exercise, load_chapter
from verlings.grading import ExerciseResult

SPLIT_ABOVE_S = 1.0  # the exercises' tests took more than this at their last verdicts: split


def mostly_waits(exs: list[Exercise], last: Mapping[str, ExerciseResult | None]) -> bool:
    """Whether these exercises (of one module) should be graded as one run each.

    ``last`` holds their latest results: split when their tests took over SPLIT_ABOVE_S. Before
    each has one (the first save of a session), chapter.toml decides: two or more of them have a
    time budget of their own, above the chapter's, because their reference takes longer.
    """
    if len(exs) < 2:
        return False
    results = [last.get(e.id) for e in exs]
    if any(r is None for r in results):
        chapter_s = load_chapter(exs[0].chapter).test_timeout_s or 0
        return sum(1 for e in exs if e.timeout_s is not None and e.timeout_s > chapter_s) >= 2
    return sum(t.duration for r in results for t in r.tests) > SPLIT_ABOVE_S


def in_parallel(grade_one: Callable[[set[str]], Any], units: list[set[str]]) -> list:
    """``grade_one`` of each unit, all at once (up to two a core: they mostly wait); results in order."""
    if len(units) == 1:
        return [grade_one(units[0])]
    from concurrent.futures import ThreadPoolExecutor

    lanes = min(len(units), 2 * (os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="verlings-watch-grade") as pool:
        return list(pool.map(grade_one, units))
