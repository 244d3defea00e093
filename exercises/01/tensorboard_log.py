"""Reading a run's TensorBoard logs — how you judge a training run after (or during) it.

Lesson: exercises/01/README.md §7 (中文: README.zh-CN.md §7).
verl 0.9.1 logs through ``verl/utils/tracking.py``: with ``trainer.logger=[console,tensorboard]``
its ``_TensorboardAdapter`` calls ``torch.utils.tensorboard.SummaryWriter.add_scalar(key, value, step)``
for every metric of every step, into ``$TENSORBOARD_DIR`` or
``tensorboard_log/<trainer.project_name>/<trainer.experiment_name>/``. Tags look like
``critic/score/mean``, ``actor/pg_loss``, ``response_length/mean``, ``timing_s/gen``.

Read the files with TensorBoard's own reader::

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(path_to_one_event_file, size_guidance={"scalars": 0})
    acc.Reload()
    acc.Tags()["scalars"]          # ['actor/pg_loss', ...]
    acc.Scalars("actor/pg_loss")   # [ScalarEvent(wall_time=..., step=1, value=0.12), ...]

(import it inside the function: it is only needed here.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ["step", "tag", "value"]


def read_scalars(logdir: str | Path) -> pd.DataFrame:
    """Every scalar point under ``logdir`` as a long table: one row per (tag, step).

    Args:
        logdir: a folder searched recursively for event files (any file whose name contains
            ``tfevents``), e.g. ``tensorboard_log/`` holding ``<project>/<experiment>/events.out.tfevents...``;
            or one event file.

    Returns:
        A ``pandas.DataFrame`` with exactly the columns ``["step", "tag", "value"]`` (int64, str,
        float64), sorted by ``tag`` then ``step``, index ``0..len-1``; rows from all files together.
        **All** points (a NaN or inf that verl logged is a point too, kept as it is):
        ``EventAccumulator`` keeps only a random 10,000 per tag unless told
        ``size_guidance={"scalars": 0}``. Non-scalar data (histograms, text) is ignored; files
        without scalars give an empty frame with the three columns.
        When the same (tag, step) occurs more than once — a resumed run writes some steps again,
        in a new event file — keep the point with the largest ``wall_time`` (written last).

    Raises:
        FileNotFoundError: ``logdir`` does not exist, or holds no event file.

    Example:
        >>> read_scalars("tensorboard_log/verlings/first_run").head(3)
           step                tag     value
        0     1      actor/pg_loss  0.012000
        1     2      actor/pg_loss -0.003100
        2     1  critic/score/mean  0.250000
    """
    # TODO: your implementation (stuck? `python grader.py hint 01.read_scalars`).
    raise NotImplementedError("implement read_scalars — see exercises/01/README.md §7.1")


def smooth(values: Iterable[float], weight: float = 0.6) -> np.ndarray:
    """TensorBoard's "Smoothing" slider: a debiased exponential moving average.

    Output k (over the finite values seen so far, v₁ … v_k) is the exponential moving average
    m_k = w · m_{k−1} + (1 − w) · v_k with m_0 = 0, debiased by dividing by 1 − w^k (so early
    points are not pulled towards 0), with w = ``weight``.

    A non-finite value (NaN, ±inf) is output unchanged and does not touch ``last`` or ``count``.

    Args:
        values: the points of one tag, in step order.
        weight: ``0 <= weight < 1`` (0 = no smoothing); otherwise raise ``ValueError``.

    Returns:
        float64 array, same length as ``values``.

    Example:
        >>> smooth([1.0, 2.0, 3.0], weight=0.5)   # 0.5/0.5, 1.25/0.75, 2.125/0.875
        array([1.        , 1.66666667, 2.42857143])
    """
    # TODO: your implementation (stuck? `python grader.py hint 01.smooth`).
    raise NotImplementedError("implement smooth — see exercises/01/README.md §7.2")


def plot_scalars(
    frame: pd.DataFrame, tags: Sequence[str], path: str | Path, weight: float = 0.6, title: str | None = None
) -> Path:
    """Draw ``tags`` from a ``read_scalars`` frame (raw faint, smoothed solid) into a PNG at ``path``.

    Provided — nothing to implement. Needs matplotlib (``pip install matplotlib``).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # an optional extra: the course runs without it
        raise ImportError("plot_scalars needs matplotlib: pip install matplotlib") from exc
    missing = [t for t in tags if t not in set(frame["tag"])]
    if missing:
        raise KeyError(f"tags not in the frame: {missing}; known: {sorted(set(frame['tag']))}")
    fig, axes = plt.subplots(len(tags), 1, figsize=(7, 2.6 * len(tags)), squeeze=False)
    for ax, tag in zip(axes[:, 0], tags):
        rows = frame[frame["tag"] == tag]
        line = ax.plot(rows["step"], rows["value"], alpha=0.3)[0]
        ax.plot(rows["step"], smooth(rows["value"], weight), color=line.get_color(), label=f"{tag} (smoothed {weight})")
        ax.set_xlabel("step")
        ax.legend(loc="best")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
