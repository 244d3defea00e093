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
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from verlings.batch.local_cluster import RAY, local_cluster
from verlings.batch.synthetic import HALF_DONE_03, make_class
from verlings.chapters import load_chapter
from verlings.paths import ROOT

pytestmark = pytest.mark.slow  # a real Ray cluster: `python -m pytest tests -m slow`


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    if not RAY.is_file():
        pytest.skip(f"the ray command is not installed next to {sys.executable}")
    with local_cluster(num_cpus=2) as address:  # stops the cluster, and fails if anything is left over
        yield address


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
