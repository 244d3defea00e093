"""``python grader.py watch``: rustlings-style loop on the current exercise.

The current exercise is the first one (in course order) that has not passed.
Every save under the target folder re-grades it in a fresh process; keys:
``h`` next hint, ``n`` skip to the next exercise, ``l`` list, ``q`` quit.
Keys are read in cbreak mode on a terminal, or as lines (``h⏎``) otherwise.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from pathlib import Path

from rich.console import Console
from rich.progress_bar import ProgressBar
from rich.text import Text

from verlings.chapters import Exercise, all_chapters, load_chapter
from verlings.grading import PASSED, grade_chapter
from verlings.paths import EXERCISES
from verlings.report import render_hints, render_next
from verlings.state import Progress

KEYS_HELP = {"en": "h hint · n next · l list · q quit  (save a file to re-grade)",
             "zh": "h 提示 · n 下一个 · l 列表 · q 退出（保存文件即重新评分）"}


NEXT_HELP = {"en": "press n for the next exercise", "zh": "按 n 进入下一个练习"}


def _exercises() -> list[Exercise]:
    return [e for ch in all_chapters() for e in ch.exercises]


def current_exercise(progress: Progress, after: str | None = None) -> Exercise | None:
    """First exercise not yet passed; with ``after``, the first one after it."""
    exercises = _exercises()
    start = 0
    if after is not None:
        ids = [e.id for e in exercises]
        start = ids.index(after) + 1 if after in ids else 0
    for ex in exercises[start:] + exercises[:start]:
        if progress.status.get(ex.id) != PASSED and ex.id != after:
            return ex
    return None


@contextlib.contextmanager
def _cbreak():
    """Single-key input on a terminal; no-op elsewhere."""
    if not sys.stdin.isatty():
        yield
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _read_keys(keys: queue.Queue) -> None:
    while True:
        ch = sys.stdin.read(1)
        if not ch:
            keys.put("q")
            return
        if ch.strip():
            keys.put(ch.strip().lower())


def _grade_one(ex: Exercise, target: Path, progress: Progress, lang: str, console: Console) -> bool:
    chapter = load_chapter(ex.chapter)
    console.print(Text(f"grading {ex.id} …", style="dim"))
    result = grade_chapter(chapter, target, only={ex.id}).exercises[0]
    progress.record(ex.id, result.status)  # in memory for any target; saved only for the learner's own
    if target == EXERCISES.resolve():
        progress.save()
    exercises = _exercises()
    done = sum(progress.status.get(e.id) == PASSED for e in exercises)
    console.print(ProgressBar(total=len(exercises), completed=done, width=50))
    console.print(f"{done}/{len(exercises)}")
    if result.status == PASSED:
        msg = "通过！参考答案" if lang == "zh" else "passed! Compare with the reference:"
        console.print(Text(f"✓ {ex.id} {msg} solutions/{ex.chapter}/{ex.module}.py", style="bold green"))
        return True
    render_next(result, lang, console, hints_shown=progress.hints.get(ex.id, 0))
    return False


def watch(target: Path, lang: str, console: Console) -> int:
    from watchfiles import watch as watch_files

    progress = Progress.load()
    ex = current_exercise(progress)
    if ex is None:
        console.print("All exercises pass. 🎉")
        return 0
    keys: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_read_keys, args=(keys,), daemon=True).start()
    stop = threading.Event()
    with _cbreak():
        passed = _grade_one(ex, target, progress, lang, console)
        console.print(Text(KEYS_HELP[lang], style="dim"))
        for changes in watch_files(target, stop_event=stop, rust_timeout=300, yield_on_timeout=True,
                                   watch_filter=lambda _change, path: path.endswith(".py")):
            key = None
            with contextlib.suppress(queue.Empty):
                key = keys.get_nowait()
            if key == "q":
                break
            if key == "h":
                render_hints(ex, progress.reveal_hint(ex.id, len(ex.hints)), lang, console)
                progress.save()
            elif key == "l":
                from verlings.cli import build_parser, cmd_list

                cmd_list(build_parser().parse_args(["list", "--lang", lang]), console)
            elif key == "n":
                nxt = current_exercise(progress, after=ex.id)
                if nxt is None:
                    console.print("All exercises pass. 🎉")
                    break
                ex = nxt
                passed = _grade_one(ex, target, progress, lang, console)
            elif changes:
                passed = _grade_one(ex, target, progress, lang, console)
            if passed and (key or changes):
                console.print(Text(NEXT_HELP[lang], style="bold"))
    return 0
