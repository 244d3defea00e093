"""Graded differential tests for exercises/01/tensorboard_log.py: what verl 0.9.1's TensorBoard logger
writes is what your read_scalars reads back.

verl has no reader of its own; its writer is ``verl/utils/tracking.py::_TensorboardAdapter`` (its own
source, compiled without importing verl): ``log(data, step)`` is one ``add_scalar(key, value, step)``
per metric, into ``$TENSORBOARD_DIR``. Hypothesis generates runs of verl's tag names, steps logged in
any order, a step logged again (the later value wins), a run resumed by a second logger (a second event
file), ints, large and negative values, NaN and inf; the frame expected is built from the calls alone
(every value stored as float32, one row per (tag, step), sorted by tag then step). Derandomized: the
same runs every time; a failure shows the smallest run it found.

smooth has no verl counterpart: verl logs raw values, and TensorBoard's smoothing slider is its web
UI's JavaScript (the exercise's debiased EMA is checked against hand-worked values in test_tensorboard_log.py).
"""

import math
import os
import tempfile
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from verlings import learner_module
from verlings.differential import PROPERTY_SETTINGS, verl_functions
from verlings.testing import hint_line

tb = learner_module("01", "tensorboard_log")

# Tags verl's trainer logs (metric_utils.py, ray_trainer.py), '@' and '-' included.
TAGS = [
    "critic/score/mean",
    "actor/pg_loss",
    "response_length/mean",
    "timing_s/gen",
    "val-core/openai/gsm8k/reward/mean@1",
    "training/global_step",
]
VALUES = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False, width=32),
    st.integers(-1000, 10**6),
    st.sampled_from([0.0, -0.0, 1e30, -1e-30, math.nan, math.inf, -math.inf]),
)
# One logger's calls: [(step, {tag: value})]; a run is one or two loggers (the second = a resumed run).
_calls = st.lists(
    st.tuples(st.integers(0, 40), st.dictionaries(st.sampled_from(TAGS), VALUES, min_size=1, max_size=3)),
    min_size=1,
    max_size=6,
)
runs = st.lists(_calls, min_size=1, max_size=2)


def _adapter_class():
    return verl_functions("utils/tracking.py", ("_TensorboardAdapter",), {})._TensorboardAdapter


def _log_like_verl(folder: str, run: list) -> None:
    adapter_class = _adapter_class()
    for calls in run:
        # verl: TENSORBOARD_DIR wins over tensorboard_log/<project>/<experiment>.
        with mock.patch.dict(os.environ, {"TENSORBOARD_DIR": folder}):
            adapter = adapter_class("verlings", "properties")
        for step, data in calls:
            adapter.log(data=data, step=step)
        adapter.finish()


def _expected(run: list) -> pd.DataFrame:
    last: dict[tuple[str, int], float] = {}
    for calls in run:  # in the order they were written: a later write of (tag, step) wins
        for step, data in calls:
            for tag, value in data.items():
                last[(tag, step)] = float(np.float32(value))  # event files hold float32
    rows = sorted(last.items())
    return pd.DataFrame([(step, tag, value) for (tag, step), value in rows], columns=["step", "tag", "value"])


def _miss(seen, expected: pd.DataFrame) -> str | None:
    if not isinstance(seen, pd.DataFrame):
        return f"a {type(seen).__name__}, not a pandas DataFrame"
    if list(seen.columns) != ["step", "tag", "value"]:
        return f"columns {list(seen.columns)}, expected ['step', 'tag', 'value']"
    keys = list(zip(seen["tag"], seen["step"].astype(int), strict=True))
    want = list(zip(expected["tag"], expected["step"], strict=True))
    if keys != want:
        return f"(tag, step) rows {keys}; logged: {want}"
    got, exp = seen["value"].to_numpy(dtype=np.float64), expected["value"].to_numpy(dtype=np.float64)
    if not np.allclose(got, exp, rtol=1e-6, atol=0.0, equal_nan=True):
        return f"values {got.tolist()}; logged (as float32): {exp.tolist()}"
    return None


@settings(PROPERTY_SETTINGS, max_examples=25)
@given(run=runs)
# Tried first (Phase.explicit), so the classic mistakes fail at once on a run small enough to read,
# not after seconds of generating and shrinking event files: a resumed run logs (pg_loss, 2) again
# (the later 3.0 wins, one row), and tag-then-step order differs from step order (score at step 0).
@example(run=[[(2, {"actor/pg_loss": 1.0}), (1, {"actor/pg_loss": 2.0}), (0, {"critic/score/mean": 5.0})],
              [(2, {"actor/pg_loss": 3.0})]])
def _reads_back_what_verl_wrote(run):
    expected = _expected(run)
    with tempfile.TemporaryDirectory(prefix="verlings-tb-") as folder:
        _log_like_verl(folder, run)
        seen = tb.read_scalars(logdir=folder)
    miss = _miss(seen, expected)
    assert miss is None, (
        f"verl's _TensorboardAdapter logged {run} (one list per logger, [(step, data)] in order); "
        f"read_scalars →\n  {miss}\n  one row per (tag, step), the value written last, sorted by tag then step; "
        f"NaN and inf kept\n{hint_line()}"
    )


@pytest.mark.exercise("01.read_scalars")
def test_read_scalars_reads_back_what_verls_logger_wrote():
    # An empty folder first: an unfinished stub stops here at once (NotImplementedError), before the
    # first generated run pays TensorBoard's import inside the time budget. What a finished one does
    # with an empty folder (FileNotFoundError) is graded by test_read_scalars_missing_logs_raise.
    with tempfile.TemporaryDirectory(prefix="verlings-tb-") as folder:
        try:
            tb.read_scalars(logdir=folder)
        except NotImplementedError:
            raise
        except Exception:  # graded elsewhere
            pass
    _reads_back_what_verl_wrote()
