"""Graded tests for exercises/01/tensorboard_log.py.

The event files are written in fixtures the way verl's logger writes them
(``torch.utils.tensorboard.SummaryWriter.add_scalar(key, value, step)``, verl/utils/tracking.py),
with known values; smoothing values are worked by hand.
"""

import math

import numpy as np
import pandas as pd
import pytest

from verlings import learner_module
from verlings.testing import assert_close, assert_equal, hint_line

tb = learner_module("01", "tensorboard_log")

# step → metrics, as verl's trainer logs them (a subset of its tags).
RUN = {
    step: {
        "critic/score/mean": 0.1 * step,
        "actor/pg_loss": 0.5 / step - 0.2,
        "response_length/mean": 10.0 + 3 * step,
    }
    for step in range(1, 6)
}


def _write(folder, points, *, wall_start=1_000.0, suffix=""):
    """points: {step: {tag: value}} written like verl's _TensorboardAdapter, with fixed wall times."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(folder), filename_suffix=suffix)
    for i, (step, metrics) in enumerate(points.items()):
        for tag, value in metrics.items():
            writer.add_scalar(tag, value, step, walltime=wall_start + i)
    writer.close()


def _expected(points) -> pd.DataFrame:
    # Event files store scalars as float32, hence the rounding.
    rows = sorted((tag, step, float(np.float32(v))) for step, m in points.items() for tag, v in m.items())
    return pd.DataFrame([(s, t, v) for t, s, v in rows], columns=["step", "tag", "value"])


def _check_frame(seen, expected, what, why=None):
    assert isinstance(seen, pd.DataFrame), f"{what}: read_scalars returned {type(seen).__name__}, expected a DataFrame"
    assert_equal(list(seen.columns), ["step", "tag", "value"], what=f"{what}: columns")
    assert_equal(len(seen), len(expected), what=f"{what}: number of rows", why=why)
    assert_equal(list(seen.index), list(range(len(seen))), what=f"{what}: index",
                 why="reset the index after sorting (reset_index(drop=True))")
    assert_equal(list(zip(seen["tag"], seen["step"].astype(int))), list(zip(expected["tag"], expected["step"])),
                 what=f"{what}: (tag, step) rows in order",
                 why=why or "sort by tag, then step")
    assert_close(seen["value"].to_numpy(dtype=np.float64), expected["value"].to_numpy(), what=f"{what}: values",
                 why=why)
    assert pd.api.types.is_integer_dtype(seen["step"]), f"{what}: step is {seen['step'].dtype}, expected int64"
    assert pd.api.types.is_float_dtype(seen["value"]), f"{what}: value is {seen['value'].dtype}, expected float64"


@pytest.fixture
def verl_run(tmp_path):
    run = tmp_path / "tensorboard_log" / "verlings" / "first_run"
    _write(run, RUN)
    return run


# ---------------------------------------------------------------- 01.read_scalars


@pytest.mark.exercise("01.read_scalars")
def test_read_scalars_reads_a_verl_run(verl_run):
    _check_frame(tb.read_scalars(logdir=verl_run), _expected(RUN), "read_scalars(<experiment folder>)")


@pytest.mark.exercise("01.read_scalars")
def test_read_scalars_accepts_one_event_file_and_str(verl_run):
    (event_file,) = [p for p in verl_run.iterdir() if "tfevents" in p.name]
    _check_frame(tb.read_scalars(logdir=str(event_file)), _expected(RUN), "read_scalars(<event file as str>)")


@pytest.mark.exercise("01.read_scalars")
def test_read_scalars_searches_subfolders(tmp_path):
    root = tmp_path / "tensorboard_log"
    other = {step: {"critic/rewards/mean": 1.0 + step} for step in range(1, 4)}
    _write(root / "verlings" / "first_run", RUN)
    _write(root / "verlings" / "second_run", other, wall_start=2_000.0)
    merged = {step: {**metrics, **other.get(step, {})} for step, metrics in RUN.items()}
    _check_frame(tb.read_scalars(logdir=root), _expected(merged), "read_scalars(tensorboard_log/)",
                 why="verl writes tensorboard_log/<project>/<experiment>/events...: search the folder recursively")


@pytest.mark.exercise("01.read_scalars")
def test_read_scalars_resumed_run_keeps_the_last_written(tmp_path):
    run = tmp_path / "run"
    first = {step: {"actor/pg_loss": float(step)} for step in range(1, 5)}  # steps 1-4
    resumed = {step: {"actor/pg_loss": 100.0 + step} for step in range(3, 7)}  # restarted from step 3
    _write(run, first, wall_start=1_000.0, suffix=".a")
    _write(run, resumed, wall_start=5_000.0, suffix=".b")
    # Worked: steps 1, 2 from the first file; 3-6 from the resumed one (larger wall_time).
    expected = _expected({1: {"actor/pg_loss": 1.0}, 2: {"actor/pg_loss": 2.0}, **resumed})
    _check_frame(tb.read_scalars(logdir=run), expected,
                 "read_scalars on a resumed run (two event files: actor/pg_loss = step for steps 1-4 written first, "
                 "then 100 + step for steps 3-6 after a restart from step 3)",
                 why="one row per (tag, step): where a step was written twice, keep the point with the largest "
                     "wall_time — the resumed run's (steps 3 and 4 are 103 and 104, not 3 and 4)")


@pytest.fixture(scope="module")
def long_run(tmp_path_factory):
    from torch.utils.tensorboard import SummaryWriter

    folder = tmp_path_factory.mktemp("long_run")
    writer = SummaryWriter(str(folder))
    for step in range(10_050):
        writer.add_scalar("critic/score/mean", step % 17, step, walltime=1_000.0 + step)
    writer.close()
    return folder


@pytest.mark.exercise("01.read_scalars")
def test_read_scalars_keeps_every_point(long_run):
    seen = tb.read_scalars(logdir=long_run)
    assert_equal(len(seen), 10_050, what="rows read from a run with 10,050 steps",
                 why="EventAccumulator keeps a random 10,000 points per tag unless size_guidance={'scalars': 0}")
    assert_equal(int(seen["step"].iloc[-1]), 10_049, what="last step")


@pytest.mark.exercise("01.read_scalars")
def test_read_scalars_ignores_non_scalars(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path / "run"))
    writer.add_histogram("actor/ratio", np.arange(10.0), 1, walltime=1_000.0)
    writer.add_text("val/generations", "2 + 2 = 4", 1, walltime=1_000.0)
    writer.add_scalar("actor/pg_loss", 0.25, 1, walltime=1_000.0)
    writer.close()
    _check_frame(tb.read_scalars(logdir=tmp_path), _expected({1: {"actor/pg_loss": 0.25}}),
                 "read_scalars with a histogram and a text summary beside one scalar",
                 why="only scalars: acc.Tags()['scalars']")

    writer = SummaryWriter(str(tmp_path / "no_scalars"))
    writer.add_histogram("actor/ratio", np.arange(10.0), 1)
    writer.close()
    seen = tb.read_scalars(logdir=tmp_path / "no_scalars")
    assert_equal((len(seen), list(seen.columns)), (0, ["step", "tag", "value"]),
                 what="read_scalars on event files without scalars",
                 why="an empty frame that still has the three columns")


@pytest.mark.exercise("01.read_scalars")
def test_read_scalars_missing_logs_raise(tmp_path):
    for where, label in ((tmp_path / "nope", "a folder that does not exist"), (tmp_path, "an empty folder")):
        with pytest.raises(FileNotFoundError):
            tb.read_scalars(logdir=where)
            pytest.fail(f"read_scalars on {label} returned instead of raising FileNotFoundError — a wrong path "
                        "should say so, not look like a run without metrics\n" + hint_line())


# ---------------------------------------------------------------- 01.smooth

SMOOTH = [
    # Worked by hand with last₀ = 0:
    # [1, 2, 3], w=0.5: last = 0.5, 1.25, 2.125; ÷ (1 - 0.5^k) = 0.5, 0.75, 0.875 → 1, 5/3, 17/7
    pytest.param([1.0, 2.0, 3.0], 0.5, [1.0, 5 / 3, 17 / 7], id="docstring"),
    # [0, 1], w=0.6: last = 0, 0.4; ÷ 0.4, 0.64 → 0, 0.625
    pytest.param([0.0, 1.0], 0.6, [0.0, 0.625], id="w0.6"),
    # w=0: no smoothing
    pytest.param([3.0, -1.0, 7.5], 0.0, [3.0, -1.0, 7.5], id="w0-identity"),
    # constant series stay constant thanks to the debias: 4(1-w^k)/(1-w^k) = 4
    pytest.param([4.0, 4.0, 4.0, 4.0], 0.9, [4.0, 4.0, 4.0, 4.0], id="constant"),
    # [1, NaN, 3], w=0.5: NaN passes through and is skipped: last = 0.5, (skip), 1.75; ÷ 0.5, 0.75 → 1, NaN, 7/3
    pytest.param([1.0, math.nan, 3.0], 0.5, [1.0, math.nan, 7 / 3], id="nan-skipped"),
    # [2, inf, 2], w=0.5: inf passes through; last = 1, 1.5; ÷ 0.5, 0.75 → 2, inf, 2
    pytest.param([2.0, math.inf, 2.0], 0.5, [2.0, math.inf, 2.0], id="inf-skipped"),
    pytest.param([], 0.6, [], id="empty"),
]


@pytest.mark.exercise("01.smooth")
@pytest.mark.parametrize(("values", "weight", "expected"), SMOOTH)
def test_smooth_debiased_ema(values, weight, expected):
    seen = tb.smooth(values=values, weight=weight)
    assert isinstance(seen, np.ndarray), f"smooth returned {type(seen).__name__}, expected a numpy array"
    assert_close(seen, np.array(expected, dtype=np.float64), what=f"smooth({values}, weight={weight})",
                 why="last = last*w + (1-w)*v from last=0, divided by (1 - w**count); non-finite values pass "
                 "through without updating last or count")
    assert seen.dtype == np.float64, f"smooth returned dtype {seen.dtype}, expected float64"


@pytest.mark.exercise("01.smooth")
def test_smooth_accepts_a_dataframe_column():
    # The default weight is 0.6 (see the w0.6 case): [0, 1] → [0, 0.625].
    seen = tb.smooth(values=pd.Series([0.0, 1.0], name="value"))
    assert_close(seen, np.array([0.0, 0.625]), what="smooth(pd.Series([0, 1])) with the default weight",
                 why="the default weight is 0.6; iterate over the values, not the index")


@pytest.mark.exercise("01.smooth")
@pytest.mark.parametrize("weight", [1.0, -0.1, 1.5])
def test_smooth_rejects_bad_weights(weight):
    with pytest.raises(ValueError):
        tb.smooth(values=[1.0, 2.0], weight=weight)
        pytest.fail(f"smooth(weight={weight}) returned instead of raising ValueError (0 <= weight < 1)")
