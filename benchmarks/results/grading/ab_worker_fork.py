"""A/B of one watch-style grading: a child forked from a preloaded process, as verlings.worker does it.

    # B: this checkout; A: an older copy of the verlings package (with exercises/, solutions/,
    # pyproject.toml and .verlings symlinked next to it, so paths resolve to the same course files)
    python benchmarks/results/grading/ab_worker_fork.py 04 04.score_texts,04.rm_reward
    AB_ROOT=/tmp/old python benchmarks/results/grading/ab_worker_fork.py 04 04.score_texts,04.rm_reward

The parent imports verlings.zygote's PRELOAD (verlings.worker's in older checkouts; from AB_ROOT's
package when set), then forks one child that runs the same pytest command line watch runs for those
exercises (only the test files naming them) against the reference solutions, and prints the child's
wall time and CPU time (user + sys, from wait4). Run A and B alternately on the same machine: on a
shared machine the CPU time is the steadier figure.
"""

import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
if os.environ.get("AB_ROOT"):
    sys.path.insert(0, os.environ["AB_ROOT"])

try:
    from verlings import zygote as W
except ImportError:  # a checkout from before the zygote left verlings/worker.py
    from verlings import worker as W

os.environ.update({k: os.environ.get(k, v) for k, v in W.THREAD_ENV.items()})
os.environ[W.ORIGINAL_ENV] = json.dumps({k: None for k in W.THREAD_ENV})
W._preload()
gc.collect()
gc.freeze()
gc.disable()

from verlings import grading  # noqa: E402
from verlings.chapters import load_chapter  # noqa: E402
from verlings.paths import SOLUTIONS  # noqa: E402

chapter_id, ids = sys.argv[1], set(sys.argv[2].split(","))
chapter = load_chapter(chapter_id)
cmd = grading._pytest_command(chapter, SOLUTIONS, Path(tempfile.mkdtemp()) / "events.jsonl", set(), ids, None, None)
files = grading._test_files_naming(chapter, ids)
if files:
    cmd[3:4] = files
start = time.monotonic()
pid = os.fork()
if pid == 0:
    W._restore_thread_env()
    gc.enable()
    import pytest

    code = pytest.main(["-W", "ignore::pytest.PytestAssertRewriteWarning", *cmd[3:], "-p", "no:randomly"])
    sys.stdout.flush()
    os._exit(int(code))
_, status, usage = os.wait4(pid, 0)
print(f"=== {time.monotonic() - start:.2f}s wall, cpu {usage.ru_utime + usage.ru_stime:.2f}s, "
      f"exit {os.waitstatus_to_exitcode(status)}, load {os.getloadavg()[0]:.1f}", flush=True)
