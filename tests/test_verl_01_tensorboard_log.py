"""The reference read_scalars reads what verl 0.9.1's own logger writes; plot_scalars draws it.

``verl.utils.tracking.Tracking(..., default_backend=["tensorboard"])`` is the logger the trainer
builds from ``trainer.logger``; it writes to ``tensorboard_log/<project>/<experiment>`` under the
working directory unless ``TENSORBOARD_DIR`` is set.
"""

import numpy as np
import pytest

from verlings.paths import SOLUTIONS
from verlings.target import load_module

ref = load_module("01", "tensorboard_log", root=SOLUTIONS)

from verl.utils.tracking import Tracking  # noqa: E402 - verl is required for meta-tests


def _log(steps, project="verlings", experiment="first_run"):
    tracking = Tracking(project_name=project, experiment_name=experiment, default_backend=["tensorboard"])
    for step, metrics in steps.items():
        tracking.log(data=metrics, step=step)
    tracking.finish()


def test_read_scalars_reads_verls_tracking(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TENSORBOARD_DIR", raising=False)
    steps = {s: {"critic/score/mean": np.float64(0.1 * s), "response_length/mean": 12 + s, "actor/pg_loss": -0.5 / s}
             for s in range(1, 8)}
    _log(steps)
    frame = ref.read_scalars(tmp_path / "tensorboard_log")
    assert list(frame.columns) == ["step", "tag", "value"]
    assert len(frame) == 7 * 3
    for (step, tag), value in frame.set_index(["step", "tag"])["value"].items():
        assert value == pytest.approx(float(np.float32(steps[step][tag])))


def test_read_scalars_resumed_verl_run_keeps_the_second_attempt(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TENSORBOARD_DIR", raising=False)
    _log({s: {"critic/score/mean": float(s)} for s in range(1, 5)})
    _log({s: {"critic/score/mean": 100.0 + s} for s in range(3, 7)})  # resumed from a step-2 checkpoint
    frame = ref.read_scalars(tmp_path / "tensorboard_log")
    assert frame["value"].tolist() == [1.0, 2.0, 103.0, 104.0, 105.0, 106.0]


def test_plot_scalars_writes_a_png(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib", reason="plot_scalars is optional; pip install matplotlib")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TENSORBOARD_DIR", raising=False)
    _log({s: {"critic/score/mean": np.sin(s / 3.0), "actor/pg_loss": 1.0 / s} for s in range(1, 30)})
    frame = ref.read_scalars(tmp_path / "tensorboard_log")
    path = ref.plot_scalars(frame, ["critic/score/mean", "actor/pg_loss"], tmp_path / "plots" / "run.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(KeyError):
        ref.plot_scalars(frame, ["no/such/tag"], tmp_path / "x.png")


_OTHER_READER = '''
"""A different, equally correct read_scalars: TensorBoard's raw event-file loader, no EventAccumulator."""
from pathlib import Path

import pandas as pd
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.util import tensor_util


def read_scalars(logdir):
    root = Path(logdir)
    if not root.exists():
        raise FileNotFoundError(root)
    files = [root] if root.is_file() else [p for p in root.glob("**/*tfevents*") if p.is_file()]
    if not files:
        raise FileNotFoundError(f"no event files under {root}")
    best = {}
    for path in files:
        for event in EventFileLoader(str(path)).Load():
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    number = value.simple_value
                elif value.metadata.plugin_data.plugin_name == "scalars":
                    number = float(tensor_util.make_ndarray(value.tensor))
                else:
                    continue
                key = (value.tag, event.step)
                if key not in best or event.wall_time >= best[key][0]:
                    best[key] = (event.wall_time, number)
    rows = sorted((tag, step, v) for (tag, step), (_, v) in best.items())
    frame = pd.DataFrame([(s, t, v) for t, s, v in rows], columns=["step", "tag", "value"])
    return frame.astype({"step": "int64", "value": "float64"})
'''


def test_another_correct_reader_passes_the_graded_tests(tmp_path):
    from verlings.dev.mutants import graded_failures

    (tmp_path / "01").mkdir()
    (tmp_path / "01" / "tensorboard_log.py").write_text(_OTHER_READER, encoding="utf-8")
    failed, passed = graded_failures(tmp_path, "01.read_scalars")
    assert passed and not failed, f"a correct alternative fails graded tests of 01.read_scalars: {failed}"
