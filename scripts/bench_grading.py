"""How fast the course answers: watch's save -> verdict, one exercise cold, chapters 01-05, the suite.

    python scripts/bench_grading.py                  # watch, one exercise, 01-05 (a few minutes)
    python scripts/bench_grading.py --suite          # also `python -m pytest tests` (long)
    python scripts/bench_grading.py --repeat 5 --json out.json

* **watch**: ``grader.py watch 03.response_mask`` runs on a copy of the reference solutions
  (chapters 01-05). For every module of those chapters the script rewrites the file, as an editor
  saves it, and times until watch prints the next screen (the verdict of every exercise in that
  module). Chapter 03's ``masks.py`` alternates a wrong and a right implementation, so each save
  changes the verdict. Timing starts after the warm worker is ready.
* **one exercise cold**: ``python grader.py --solutions 03.gae`` (a new interpreter each time).
* **01-05**: ``python grader.py --solutions 01 02 03 04 05``.
* **suite**: ``python -m pytest tests -q`` (the README's test command).

Each figure is reported as median, min and max over ``--repeat`` runs, with the load average
before and after: on a shared machine, say so next to the figure.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from verlings.chapters import all_chapters  # noqa: E402
from verlings.paths import SOLUTIONS  # noqa: E402

WATCH_GOAL = {"03": 1.0, "other": 3.0}
WRONG_MASK = '''

def compute_response_mask(responses, attention_mask):
    return attention_mask[:, : responses.size(1)]  # bench: a wrong version
'''


def spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "n": len(values)}


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, int]:
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    return time.monotonic() - start, proc.returncode


class WatchProcess:
    """``grader.py watch`` without a terminal: it prints one screen per verdict, each after a rule."""

    def __init__(self, target: Path, state: Path) -> None:
        env = {**os.environ, "COLUMNS": "200", "VERLINGS_STATE_DIR": str(state), "VERLINGS_LANG": "en"}
        self.proc = subprocess.Popen(
            [sys.executable, "grader.py", "watch", "03.response_mask", "--target", str(target)], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((time.monotonic(), line))

    def wait_for(self, text: str, timeout: float) -> float:
        """Monotonic time at which a line containing ``text`` was printed."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"watch printed no {text!r} within {timeout:.0f} s")
            try:
                at, line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if text in line:
                return at

    def drain(self) -> None:
        while not self.lines.empty():
            self.lines.get_nowait()

    def close(self) -> None:
        with_input = self.proc.stdin
        if with_input is not None:
            try:
                with_input.write("q\n")
                with_input.flush()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def bench_watch(repeat: int, only: list[str] | None = None) -> dict:
    chapters = [c for c in all_chapters() if c.id in {"01", "02", "03", "04", "05"}]
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
        target = Path(tmp) / "work"
        for c in chapters:
            shutil.copytree(SOLUTIONS / c.id, target / c.id, ignore=shutil.ignore_patterns("__pycache__"))
        watch = WatchProcess(target, Path(tmp) / "state")
        try:
            watch.wait_for("warm grading worker ready", 600)
            results: dict[str, dict] = {}
            modules = sorted({(e.chapter, e.module) for c in chapters for e in c.exercises
                              if not only or e.chapter in only})
            for chapter, module in modules:
                path = target / chapter / f"{module}.py"
                original = path.read_text(encoding="utf-8")
                times = []
                for i in range(repeat):
                    if (chapter, module) == ("03", "masks"):
                        text = original + (WRONG_MASK if i % 2 == 0 else "")
                    else:
                        text = original + f"\n# bench save {i}\n"
                    watch.drain()
                    tmp_file = path.with_suffix(".swp")
                    tmp_file.write_text(text, encoding="utf-8")
                    start = time.monotonic()
                    tmp_file.replace(path)  # as an editor saves
                    times.append(watch.wait_for("· save", 300) - start)  # the rule before a save's screen
                path.write_text(original, encoding="utf-8")
                watch.drain()
                watch.wait_for("· save", 300)
                goal = WATCH_GOAL["03" if chapter == "03" else "other"]
                results[f"{chapter}/{module}.py"] = {**spread(times), "goal": goal}
                print(f"  watch {chapter}/{module}.py: median {statistics.median(times):.2f} s "
                      f"(min {min(times):.2f}, max {max(times):.2f}; goal {goal} s)", flush=True)
        finally:
            watch.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--suite", action="store_true", help="also time `python -m pytest tests` (long)")
    parser.add_argument("--skip", action="append", default=[], choices=("watch", "one", "chapters"))
    parser.add_argument("--json", metavar="FILE", help="write the figures here")
    parser.add_argument("--watch-chapters", nargs="*", metavar="NN", help="time saves in these chapters only")
    args = parser.parse_args(argv)
    report: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cores": os.cpu_count(),
                    "load_before": [round(x, 2) for x in os.getloadavg()], "repeat": args.repeat}
    if "watch" not in args.skip:
        print("watch: save -> verdict", flush=True)
        report["watch"] = bench_watch(args.repeat, args.watch_chapters)
    if "one" not in args.skip:
        runs = [timed([sys.executable, "grader.py", "--solutions", "03.gae"])[0] for _ in range(args.repeat)]
        report["one_exercise_cold"] = spread(runs)
        print(f"one exercise cold (03.gae): {report['one_exercise_cold']}", flush=True)
    if "chapters" not in args.skip:
        runs = []
        for _ in range(args.repeat):
            seconds, code = timed([sys.executable, "grader.py", "--solutions", "01", "02", "03", "04", "05"])
            if code != 0:
                print(f"warning: grader.py --solutions 01..05 exited {code}", flush=True)
            runs.append(seconds)
        report["chapters_01_05"] = {**spread(runs), "goal": 45.0}
        print(f"grader.py --solutions 01 02 03 04 05: {report['chapters_01_05']}", flush=True)
    if args.suite:
        seconds, code = timed([sys.executable, "-m", "pytest", "tests", "-q"])
        report["suite"] = {"seconds": round(seconds, 1), "exit": code, "goal": 300.0}
        print(f"python -m pytest tests: {seconds:.0f} s (exit {code})", flush=True)
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(f"load average before {report['load_before']}, after {report['load_after']} on {os.cpu_count()} cores")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
