"""pytest's assertion rewriting of test files, remembered in this process by their source.

pytest rewrites a test module's ``assert`` statements when it imports it, and caches the result
as a ``.pyc`` beside it — unless ``PYTHONDONTWRITEBYTECODE`` is set (Docker images, CI,
Gradescope), when every run parses, rewrites and compiles each test file again: 0.1–0.25 s a
chapter on the 2-core machine, on every ``watch`` save and every one of the course's ~600
known-wrong-variant runs. :func:`install` memoises ``_pytest.assertion.rewrite._rewrite_test`` by
path and source bytes (an edited file is rewritten again); :func:`prewarm` fills the memo before
the grading worker forks, so its children inherit the code objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

_memo: dict[tuple[str, bytes, bool], tuple[bytes, Any]] = {}
_installed = False


def _pass_hook(config: Any) -> bool:
    # the one setting the rewritten code depends on (pytest 8–9: AssertionRewriter.__init__)
    return bool(config.getini("enable_assertion_pass_hook")) if config is not None else False


def install() -> None:
    """Memoise pytest's rewriting in this process (idempotent)."""
    global _installed
    if _installed:
        return
    from _pytest.assertion import rewrite

    original = rewrite._rewrite_test

    def _rewrite_test(fn: Path, config: Any) -> tuple[bytes, Any]:
        key = (str(fn), Path(fn).read_bytes(), _pass_hook(config))
        if key not in _memo:
            _memo[key] = original(fn, config)
        return _memo[key]

    rewrite._rewrite_test = _rewrite_test
    _installed = True


def prewarm(paths: Iterable[Path]) -> int:
    """Rewrite these files now (as a run without the pass hook would); how many were rewritten."""
    from _pytest.assertion import rewrite

    install()
    done = 0
    for path in paths:
        try:
            rewrite._rewrite_test(Path(path), None)
            done += 1
        except (OSError, SyntaxError, ValueError):
            continue  # a broken test file fails in the run itself, with pytest's own message
    return done


def course_test_files() -> list[Path]:
    """Every graded test module and chapter conftest of the course (what grading runs import)."""
    from verlings.paths import EXERCISES

    return sorted(EXERCISES.glob("[0-9][0-9]/test_*.py")) + sorted(EXERCISES.glob("[0-9][0-9]/conftest.py"))
