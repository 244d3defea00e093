"""The warm grading worker: every run is a clean fork, whatever the learner's module does.

One zygote serves the whole file (starting it imports torch, verl and transformers once). Each bad
module below is graded through it, then the reference solution is graded by the *same* zygote and
must pass: the bad run changed nothing but its own process.
"""

from __future__ import annotations

import io
import shutil
import time
from pathlib import Path

import pytest

from verlings.chapters import find_exercise, load_chapter
from verlings.grading import CRASHED, FAILED, PASSED, grade, grade_chapter
from verlings.paths import SOLUTIONS
from verlings.worker import Worker

# Starting the zygote takes ~10 s on an idle 2-core machine, minutes on a crowded one.
pytestmark = pytest.mark.timeout(600)

EXERCISE = "03.response_mask"  # lives in masks.py; its tests run in milliseconds
BAD_RUN_LIMIT_S = 4  # a forked run of masks.py's tests takes about a second; the hang busy-loops until it

# Each is put in front of the reference masks.py, so it runs when the learner's module is imported.
BAD_MODULES = {
    "hangs_at_import": "while True:\n    pass\n",
    "starts_threads_at_import": (
        "import threading, time\n"
        "for _ in range(4):\n"
        "    threading.Thread(target=time.sleep, args=(600,)).start()  # non-daemon: would block a normal exit\n"
    ),
    # If any of these leaked into the zygote, the reference solution's next run would fail.
    "monkeypatches_torch_and_numpy": (
        "import numpy, torch, torch.testing\n"
        "def _boom(*args, **kwargs):\n"
        "    raise RuntimeError('patched by the learner module')\n"
        "torch.Tensor.__getitem__ = _boom\n"
        "torch.arange = torch.where = torch.allclose = torch.testing.assert_close = _boom\n"
        "numpy.asarray = numpy.array = numpy.isclose = numpy.allclose = _boom\n"
    ),
    "calls_os_exit_at_import": "import os\nos._exit(3)\n",
}


@pytest.fixture(scope="module")
def worker():
    with Worker() as w:
        yield w


def _target(root: Path, prefix: str = "") -> Path:
    chapter = root / "03"
    shutil.copytree(SOLUTIONS / "03", chapter, ignore=shutil.ignore_patterns("__pycache__"))
    masks = chapter / "masks.py"
    source = masks.read_text(encoding="utf-8")
    future = "from __future__ import annotations\n"
    assert future in source  # the bad code goes right after it, before the module's own code
    masks.write_text(source.replace(future, future + prefix, 1), encoding="utf-8")
    return root


def _grade(target: Path, worker: Worker, timeout: float = 20):
    chapter = load_chapter("03")
    return grade_chapter(chapter, target, only={EXERCISE}, worker=worker, timeout=timeout,
                         test_timeout=5).exercises[0]


def test_zygote_is_single_threaded_and_clean(worker):
    assert worker.ready["threads"] == 1, worker.ready
    state = worker.inspect()
    assert state["threads"] == 1, f"the zygote started threads before forking: {state}"
    assert not state["hydra_initialized"] and not state["cuda_initialized"], state
    assert state["learner_modules"] == [], state
    assert not state["hypothesis_initialising"], f"preloading left Hypothesis initialising (it would warn): {state}"


def test_a_chapter_that_composes_hydra_configs_leaves_the_zygote_clean(worker, tmp_path):
    # 01.compose initialises Hydra in its run; that run is a child, so the zygote stays as it was.
    result = grade_chapter(load_chapter("01"), SOLUTIONS, only={"01.compose"}, worker=worker).exercises[0]
    assert result.status == PASSED, result.message + result.details
    state = worker.inspect()
    assert state["threads"] == 1 and not state["hydra_initialized"] and state["learner_modules"] == [], state


@pytest.mark.parametrize("case", sorted(BAD_MODULES))
def test_a_bad_learner_module_affects_only_its_own_run(worker, tmp_path, case):
    pid = worker.proc.pid
    start = time.monotonic()
    # the chapter limit: a module that hangs at import busy-loops until it (its CPU is wasted)
    bad = _grade(_target(tmp_path / "bad", BAD_MODULES[case]), worker, timeout=BAD_RUN_LIMIT_S)
    assert "SyntaxError" not in bad.message + bad.details, "the bad module must be valid Python"
    if case != "starts_threads_at_import":  # threads are no mistake in themselves: that run may pass
        assert bad.status != PASSED, f"{case}: the bad module should not pass"
    # BAD_RUN_LIMIT_S is the chapter limit given above; the rest is slack for a crowded machine
    assert time.monotonic() - start < 60, f"{case}: containment took {time.monotonic() - start:.0f} s"
    if case == "calls_os_exit_at_import":  # at collection (no test started) or in a test
        assert bad.status in (CRASHED, FAILED), bad
    good = _grade(_target(tmp_path / "good"), worker)
    assert good.status == PASSED, f"after {case}, the reference failed: {good.message}\n{good.details}"
    assert worker.alive() and worker.proc.pid == pid, "the same zygote graded both runs"
    assert worker.inspect()["threads"] == 1


def test_grade_keeps_course_order_with_chapters_in_parallel(worker):
    chapters = [load_chapter("02"), load_chapter("03")]
    only = {"02.extract_answer", EXERCISE}
    report = grade(chapters, SOLUTIONS, only=only, jobs=2, worker=worker)
    assert [c.chapter.id for c in report.chapters] == ["02", "03"]
    assert all(e.status == PASSED for e in report.exercises), [(e.exercise.id, e.message) for e in report.exercises]


def test_a_dead_worker_is_replaced_and_watch_says_so(worker, tmp_path):
    # Last in this file: it kills the shared zygote.
    from rich.console import Console

    from verlings.state import Progress
    from verlings.watch import RESTARTED, WatchSession

    session = WatchSession(_target(tmp_path / "t"), "en", Console(file=io.StringIO()), Progress(), worker)
    started = []
    session.start_worker = lambda: started.append(True)  # the restart itself is Worker.start, tested above
    worker.proc.kill()
    worker.proc.wait()
    session.grade([find_exercise(EXERCISE)])
    assert session.status[EXERCISE] == PASSED, "graded in a fresh interpreter meanwhile"
    assert session.note == RESTARTED["en"] and started == [True]
    assert "\n" not in session.note, "one line"


def test_watch_collects_only_the_test_files_that_name_the_exercises():
    from verlings.grading import _test_files_naming

    chapter = load_chapter("03")
    files = _test_files_naming(chapter, {EXERCISE, "03.masked_mean"})
    assert files is not None and [Path(f).name for f in files] == ["test_masks.py", "test_masks_properties.py"]
    assert _test_files_naming(chapter, {EXERCISE, "03.no_such_exercise"}) is None, "unknown id: whole chapter"
