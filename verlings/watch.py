"""``python grader.py watch [CHAPTER|EXERCISE]``: a rustlings-style loop that follows the learner.

* It starts at the first unfinished exercise (of the chapter or from the exercise named).
* Every save re-grades each exercise whose module changed, not only the one shown, so the
  statuses (``l``) are always those of the files on disk. A status saved before its file last
  changed is not trusted: ``n`` grades such an exercise before it skips it.
* One screen, redrawn in place (rich Live), keeps the last diagnosis visible while hints or the
  list are shown. Without a terminal each screen is printed in turn (tests, logs).
* Grading runs in children forked from a warm worker (:mod:`verlings.worker`), so a save is
  answered in about a second; if the worker dies it is restarted, and the screen says so.
* A saved module whose tests mostly wait is graded as one run per exercise, all at once
  (:mod:`verlings.parallel_runs`).

Keys: ``h`` next hint (the only thing that counts a hint as used), ``n`` next unfinished exercise,
``l`` list, ``q`` quit. Keys are read in cbreak mode on a terminal, or as lines (``h⏎``) otherwise.
"""

from __future__ import annotations

import contextlib
import io
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.text import Text

from verlings.chapters import Exercise, all_chapters, find_exercise, load_chapter
from verlings.grading import PASSED, ExerciseResult, grade_chapter
from verlings.i18n import say
from verlings.keys import cbreak, read_keys
from verlings.listing import STALE, chapter_intro, level, passed_line, progress_table
from verlings.parallel_runs import in_parallel, mostly_waits
from verlings.paths import EXERCISES
from verlings.report import MARKS, render_hints, render_next, words
from verlings.state import Progress

KEYS_HELP = {
    "en": "h hint · n next · l list · q quit  (save a file to re-grade)",
    "zh": "h 提示 · n 下一个 · l 列表 · q 退出（保存文件即重新评分）",
}
NEXT_HELP = {"en": "press n for the next exercise", "zh": "按 n 进入下一个练习"}
PASSED_MSG = {"en": "passed! Compare with the reference:", "zh": "通过！参考答案"}
ALL_DONE = {"en": "All exercises pass. 🎉", "zh": "所有练习都已通过。🎉"}
GRADING = {"en": "grading ", "zh": "评分中 "}
ALSO_REGRADED = {"en": "also re-graded: ", "zh": "同时重新评分："}
WORKER_LINE = {
    "ready": {"en": "warm grading worker ready", "zh": "评分进程已就绪"},
    "starting": {"en": "starting the grading worker (imports torch and verl once); fresh interpreters meanwhile",
                 "zh": "正在启动评分进程（只导入一次 torch 和 verl）；在此之前每次评分启动新解释器"},
    "none": {"en": "no warm grading worker: each run starts a fresh interpreter",
             "zh": "没有常驻评分进程：每次评分启动新解释器"},
}
RESTARTED = {"en": "the grading worker had stopped; started a new one", "zh": "评分进程已退出，已重新启动"}


def _exercises() -> list[Exercise]:
    return [e for ch in all_chapters() for e in ch.exercises]


def current_exercise(progress: Progress, after: str | None = None) -> Exercise | None:
    """First exercise not yet passed (by saved status); with ``after``, the first one after it."""
    exercises = _exercises()
    start = 0
    if after is not None:
        ids = [e.id for e in exercises]
        start = ids.index(after) + 1 if after in ids else 0
    for ex in exercises[start:] + exercises[:start]:
        if progress.status.get(ex.id) != PASSED and ex.id != after:
            return ex
    return None


def module_path(target: Path, ex: Exercise) -> Path:
    return target / ex.chapter / f"{ex.module}.py"


def changed_exercises(target: Path, paths: Iterable[str]) -> list[Exercise]:
    """The exercises (course order) whose module is one of ``paths`` under ``target``."""
    changed = set()
    for p in paths:
        path = Path(p)
        with contextlib.suppress(ValueError):
            rel = path.resolve().relative_to(target.resolve())
            if len(rel.parts) == 2 and rel.suffix == ".py":
                changed.add((rel.parts[0], rel.stem))
    return [e for e in _exercises() if (e.chapter, e.module) in changed]


def fresh_status(progress: Progress, target: Path, ex: Exercise) -> str | None:
    """The saved status if the module has not changed since it was graded; else STALE (or None)."""
    status = progress.status.get(ex.id)
    if status is None:
        return None
    try:
        mtime = module_path(target, ex).stat().st_mtime
    except OSError:
        return STALE
    return status if progress.graded_at.get(ex.id, 0.0) >= mtime else STALE


class WatchSession:
    """State and screen of one watch run; ``grade``, ``next``, ``hint`` and ``show_list`` act on it."""

    def __init__(self, target: Path, lang: str, console: Console, progress: Progress, worker=None) -> None:
        self.target = target
        self.lang = lang
        self.console = console
        self.progress = progress
        self.worker = worker
        self.status: dict[str, str] = {}  # graded in this session: the files on disk
        self.results: dict[str, ExerciseResult] = {}
        self.current: Exercise | None = None
        self.panel: RenderableType | None = None  # hints or the list, until the next key or save
        self.others: list[str] = []  # other exercises re-graded by the last save
        self.note = ""
        self.busy = ""
        self.refresh: Callable[[], None] = lambda: None
        self.verdicts = 0  # screens with a new verdict (the benchmark and tests count them)
        self._starting = None
        self._closed = False
        self.finished = False  # every exercise from the starting point on passes

    # --- statuses -------------------------------------------------------------------------------
    def status_of(self, ex: Exercise) -> str | None:
        if ex.id in self.status:
            return self.status[ex.id]
        return fresh_status(self.progress, self.target, ex)

    def statuses(self) -> dict[str, str]:
        return {e.id: s for e in _exercises() if (s := self.status_of(e)) is not None}

    # --- the warm worker --------------------------------------------------------------------------
    def start_worker(self) -> None:
        """Start the worker in the background; until it is ready, runs use fresh interpreters."""
        self._worker_thread = threading.Thread(target=self._start_worker, daemon=True, name="verlings-worker-start")
        self._worker_thread.start()

    def _start_worker(self) -> None:
        from verlings.worker import Worker, WorkerDied

        self._starting = worker = Worker()
        try:
            worker.start()
        except (WorkerDied, OSError):
            return  # fresh interpreters: slower, same results
        if self._closed:
            worker.close()
        else:
            self.worker = worker

    def _ready_worker(self):
        """The worker if it is ready; a dead one is replaced (in the background) and said so."""
        worker = self.worker
        if worker is None:
            return None
        if not worker.alive():
            self.worker = None
            worker.close()
            self.note = say(RESTARTED, self.lang)
            self.start_worker()
            return None
        return worker

    def worker_state(self) -> str:
        if self.worker is not None and self.worker.alive():
            return "ready"
        thread = getattr(self, "_worker_thread", None)
        return "starting" if thread is not None and thread.is_alive() else "none"

    def close(self) -> None:
        self._closed = True
        if self.worker is not None:
            self.worker.close()
        starting = self._starting
        if starting is not None and starting.proc is not None and starting is not self.worker:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(starting.proc.pid, signal.SIGKILL)  # still importing: no need to wait for it

    # --- grading --------------------------------------------------------------------------------

    def grade(self, exercises: list[Exercise]) -> None:
        """Grade these exercises (a run per chapter or, see parallel_runs, per exercise); record the results."""
        by_chapter: dict[str, list[Exercise]] = {}
        for ex in exercises:
            by_chapter.setdefault(ex.chapter, []).append(ex)
        for chapter_id, exs in by_chapter.items():
            self.busy = say(GRADING, self.lang) + ", ".join(e.id for e in exs) + " …"
            self.refresh()
            worker, chapter = self._ready_worker(), load_chapter(chapter_id)
            units = [{e.id} for e in exs] if worker and mostly_waits(exs, self.results) else [{e.id for e in exs}]
            results = in_parallel(lambda ids, c=chapter, w=worker: grade_chapter(
                c, self.target, only=ids, worker=w, narrow=True).exercises, units)
            if worker is not None:
                self._ready_worker()  # died during the run? (the run was redone in a fresh interpreter)
            for r in (r for part in results for r in part):
                self.status[r.exercise.id] = r.status
                self.results[r.exercise.id] = r
                self.progress.record(r.exercise.id, r.status)  # saved only for the learner's own folder
        self.busy = ""
        if self.target == EXERCISES.resolve():
            self.progress.save()
        self.verdicts += 1

    def advance(self, start: int) -> Exercise | None:
        """From index ``start`` on (course order), the first exercise that does not pass on disk."""
        for ex in _exercises()[start:]:
            status = self.status_of(ex)
            if status == PASSED:
                continue
            if status in (None, STALE):  # never graded, or changed since: grade before deciding
                self.grade([ex])
                if self.status[ex.id] == PASSED:
                    continue
            return ex
        return None

    def on_save(self, paths: Iterable[str]) -> None:
        changed = changed_exercises(self.target, paths)
        if not changed:
            return
        self.panel = None
        self.grade(changed)
        w = words(self.lang)
        self.others = []
        for ex in changed:
            if self.current is not None and ex.id == self.current.id:
                continue
            mark, _ = MARKS.get(self.status[ex.id], ("?", ""))
            self.others.append(f"{mark} {ex.id} {w.get(self.status[ex.id], self.status[ex.id])}")

    def next(self) -> bool:
        """``n``: the next exercise that does not pass on disk; False when there is none."""
        ids = [e.id for e in _exercises()]
        start = ids.index(self.current.id) + 1 if self.current is not None else 0
        self.panel, self.others = None, []
        nxt = self.advance(start)
        if nxt is None:
            return False
        self.current = nxt
        if nxt.id not in self.results:
            self.grade([nxt])  # its diagnosis; the status alone may come from the saved progress
        return True

    def hint(self) -> None:
        ex = self.current
        if ex is None:
            return
        shown = self.progress.reveal_hint(ex.id, len(ex.hints))
        if self.target == EXERCISES.resolve():
            self.progress.save()
        self.panel = self._capture(lambda c: render_hints(ex, shown, self.lang, c))

    def show_list(self) -> None:
        table, done, total = progress_table(self.statuses(), self.progress.hints, self.lang)
        self.panel = Group(table, Text(passed_line(done, total, self.lang)))

    # --- screen ---------------------------------------------------------------------------------
    def _capture(self, draw: Callable[[Console], None]) -> Text:
        # A console of its own: printing on the live one would go through Live's render hook.
        buf = io.StringIO()
        c = self.console
        draw(Console(file=buf, width=c.width, force_terminal=c.is_terminal, color_system=c.color_system,
                     legacy_windows=False, highlight=False))
        return Text.from_ansi(buf.getvalue().rstrip("\n"))

    def screen(self) -> RenderableType:
        parts: list[RenderableType] = []
        exercises = _exercises()
        done = sum(self.status_of(e) == PASSED for e in exercises)
        parts.append(Text(f"verlings watch — {done}/{len(exercises)}", style="bold"))
        parts.append(ProgressBar(total=len(exercises), completed=done, width=50))
        ex = self.current
        if ex is None and self.finished:
            parts.append(Text(say(ALL_DONE, self.lang), style="bold green"))
        elif ex is None:
            pass  # still looking for the first unfinished exercise (the busy line says what is graded)
        else:
            result = self.results.get(ex.id)
            status = self.status_of(ex)
            if result is None:
                chapter = load_chapter(ex.chapter)
                if chapter.exercises and chapter.exercises[0].id == ex.id:  # it opens a chapter: say what it teaches
                    parts.append(chapter_intro(chapter, self.lang))
                parts.append(Text(f"{ex.id} — {ex.title_in(self.lang)}  ", style="bold").append(level(ex), style="dim"))
            elif status == PASSED:
                parts.append(Text(f"✓ {ex.id} {say(PASSED_MSG, self.lang)} solutions/{ex.chapter}/{ex.module}.py",
                                  style="bold green"))
                parts.append(Text(say(NEXT_HELP, self.lang), style="bold"))
            else:
                hints = self.progress.hints.get(ex.id, 0)
                parts.append(self._capture(lambda c: render_next(result, self.lang, c, hints_shown=hints)))
        if self.others:
            also = say(ALSO_REGRADED, self.lang)
            parts.append(Text(also + " · ".join(self.others), style="dim"))
        if self.panel is not None:
            parts.append(self.panel)
        if self.note:
            parts.append(Text(self.note, style="yellow"))
        if self.busy:
            parts.append(Text(self.busy, style="dim"))
        parts.append(Text(say(WORKER_LINE[self.worker_state()], self.lang), style="dim"))
        parts.append(Text(say(KEYS_HELP, self.lang), style="dim"))
        return Group(*parts)


def _check_where(where: str) -> str:
    """A chapter id (``3`` -> ``03``) or an exercise id; a clear error, with the choices, otherwise."""
    if where.isdigit():
        ids = [c.id for c in all_chapters()]
        if where.zfill(2) not in ids:
            raise KeyError(f"chapter {where!r} does not exist; chapters: {', '.join(ids)}")
        return where.zfill(2)
    return find_exercise(where).id  # suggests the nearest id on a typo


def starting_point(session: WatchSession, where: str | None) -> Exercise | None:
    """``watch``: first unfinished in the course; ``watch 03``: in chapter 03 on; ``watch 03.gae``: it."""
    exercises = _exercises()
    if where is None:
        return session.advance(0)
    if where.isdigit():
        chapter = _check_where(where)
        start = next(i for i, e in enumerate(exercises) if e.chapter == chapter)
        return session.advance(start)
    return find_exercise(where)  # the one asked for, passed or not; suggests the nearest id on a typo


def watch(target: Path, lang: str, console: Console, where: str | None = None, use_worker: bool = True) -> int:
    from watchfiles import watch as watch_files

    progress = Progress.load()
    if where is not None:  # a clear error before the worker loads
        _check_where(where)
    session = WatchSession(target, lang, console, progress)
    if use_worker:
        session.start_worker()
    live_screen = console.is_terminal and not console.is_dumb_terminal
    keys: queue.Queue[str] = queue.Queue()
    try:
        with cbreak(), (Live(console=console, auto_refresh=False, redirect_stderr=False) if live_screen
                         else contextlib.nullcontext()) as live:

            def refresh() -> None:
                if live is not None:
                    live.update(session.screen(), refresh=True)

            session.refresh = refresh
            session.current = starting_point(session, where)
            session.finished = session.current is None
            if session.current is not None and session.current.id not in session.results:
                session.grade([session.current])
            _show(session, live)
            if session.current is None:
                return 0
            threading.Thread(target=read_keys, args=(keys,), daemon=True).start()
            shown_state = session.worker_state()
            for changes in watch_files(target, rust_timeout=100, yield_on_timeout=True,
                                       watch_filter=lambda _change, path: path.endswith(".py")):
                if changes:
                    session.on_save(path for _, path in changes)
                    _show(session, live, "save")
                key = None
                with contextlib.suppress(queue.Empty):
                    key = keys.get_nowait()
                if key is None:
                    if session.worker_state() != shown_state:  # e.g. the worker became ready
                        shown_state = session.worker_state()
                        _show(session, live, "worker")
                    continue
                if key == "q":
                    break
                if key == "h":
                    session.hint()
                elif key == "l":
                    session.show_list()
                elif key == "n" and not session.next():
                    session.current, session.finished = None, True
                _show(session, live, f"key {key}")
                if session.current is None:
                    break
    finally:
        session.close()
    return 0


def _show(session: WatchSession, live: Live | None, why: str = "start") -> None:
    if live is not None:
        live.update(session.screen(), refresh=True)
    else:  # no terminal: each screen in turn, after a rule that says what drew it
        session.console.rule(f"{time.strftime('%H:%M:%S')} · {why}", style="dim")
        session.console.print(session.screen())
        session.console.file.flush()
