"""The three batch modes on a real local Ray cluster: serial, ``--jobs 2`` and ``--ray-address``.

The test starts its own one-node cluster (``ray start --head --num-cpus 2`` on 127.0.0.1, its own
port and temp folder, so other Ray sessions on the machine are untouched) and stops it at the end,
killing only the processes that belong to that cluster. The class: three synthetic students
(reference solutions, untouched stubs, chapter 03 half done), chapter 03 only.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from verlings.batch.synthetic import HALF_DONE_03, make_class
from verlings.chapters import load_chapter
from verlings.paths import ROOT

RAY = Path(sys.executable).parent / "ray"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pids_mentioning(text: str) -> list[int]:
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                pids.append(int(cmdline.parent.name))
        except OSError:
            pass
    return [p for p in pids if p != os.getpid()]


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    if not RAY.is_file():
        pytest.skip(f"the ray command is not installed next to {sys.executable}")
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="vbray-", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    # On a busy 2-core machine the raylet may wait longer than its default for the agents to start.
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_agent_register_timeout_ms": "180000",
           "RAY_raylet_start_wait_time_s": "180"}
    env.pop("RAY_ADDRESS", None)
    cmd = [str(RAY), "start", "--head", "--block", "--num-cpus", "2", "--node-ip-address", "127.0.0.1",
           "--port", str(port), "--temp-dir", temp, "--include-dashboard", "false", "--disable-usage-stats",
           "--object-store-memory", str(100 << 20)]
    log = open(Path(temp) / "ray-start.log", "wb")
    head = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        started = Path(temp) / "ray-start.log"
        while "--block" not in started.read_text(errors="replace"):  # printed once the node is up
            if head.poll() is not None:
                pytest.fail("ray start --head exited:\n" + started.read_text(errors="replace")[-3000:])
            if time.monotonic() > deadline:
                pytest.fail("the local Ray cluster did not come up within 300 s")
            time.sleep(1)
        yield address
    finally:
        # ray start --block shuts its cluster down on SIGTERM; then whatever still names our temp folder.
        for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
            try:
                os.killpg(head.pid, sig)
            except ProcessLookupError:
                pass
            for pid in _pids_mentioning(temp):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            end = time.monotonic() + wait
            while time.monotonic() < end and (head.poll() is None or _pids_mentioning(temp)):
                time.sleep(0.5)
        head.wait()
        log.close()
        leftovers = _pids_mentioning(temp)
        assert not leftovers, f"the cluster left processes behind: {leftovers}"


def _batch(folder: Path, out: Path, *mode: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "300", "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("RAY_ADDRESS", None)
    proc = subprocess.run([sys.executable, str(ROOT / "grader.py"), "batch", str(folder), "--out", str(out),
                           "--chapters", "03", *mode], cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.mark.timeout(1800)
def test_serial_jobs_and_ray_give_identical_class_csv(tmp_path, ray_cluster):
    folder = make_class(tmp_path / "class")
    outs = {m: tmp_path / m / "class.csv" for m in ("serial", "jobs", "ray")}
    _batch(folder, outs["serial"])
    _batch(folder, outs["jobs"], "--jobs", "2")
    ray_run = _batch(folder, outs["ray"], "--ray-address", ray_cluster)
    texts = {m: p.read_text(encoding="utf-8") for m, p in outs.items()}
    assert texts["serial"] == texts["jobs"] == texts["ray"], texts

    # the scores are the ones these students must get, worked out from chapter.toml
    exercises = load_chapter("03").exercises
    full = sum(e.points for e in exercises)
    half = sum(e.points for e in exercises if f"03/{e.module}.py" in HALF_DONE_03)
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(texts["ray"]))}
    assert {k: float(r["total"]) for k, r in rows.items()} == \
        {"s01-reference": full, "s02-stubs": 0.0, "s03-half03": half}
    assert all(r["status"] == "graded" and r["max"] == str(full) for r in rows.values())

    # the course travelled to the cluster as runtime_env working_dir (not this checkout)
    shipped = next(line for line in ray_run.stdout.splitlines() if "the course runs on the cluster from" in line)
    assert str(ROOT) not in shipped.split(" from ", 1)[1]
    assert "runtime_resources" in shipped


@pytest.mark.timeout(600)
def test_ray_rerun_takes_every_student_from_the_cache(tmp_path, ray_cluster):
    folder = tmp_path / "class"
    make_class(folder, size=2)
    out = tmp_path / "ray" / "class.csv"
    _batch(folder, out, "--ray-address", ray_cluster)
    first = out.read_text(encoding="utf-8")
    again = _batch(folder, out, "--ray-address", ray_cluster)
    assert "0 graded now, 2 from the cache" in again.stdout
    assert out.read_text(encoding="utf-8") == first


def test_auto_address_comes_from_ray_address(monkeypatch, ray_cluster):
    from verlings.batch.ray_backend import resolve_address

    monkeypatch.setenv("RAY_ADDRESS", ray_cluster)
    # Ray canonicalises the loopback address into this node's own IP; the port is the cluster's.
    assert resolve_address("auto").rsplit(":", 1)[1] == ray_cluster.rsplit(":", 1)[1]
