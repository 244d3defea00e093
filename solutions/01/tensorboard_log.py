"""Reference solutions: reading and smoothing the TensorBoard scalars of a verl run."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ["step", "tag", "value"]


def read_scalars(logdir: str | Path) -> pd.DataFrame:
    from tensorboard.backend.event_processing.event_accumulator import SCALARS, EventAccumulator

    root = Path(logdir)
    if not root.exists():
        raise FileNotFoundError(f"{root} does not exist — verl writes to $TENSORBOARD_DIR or "
                                "tensorboard_log/<project_name>/<experiment_name>")
    # verl writes one folder per experiment, one event file per (re)start: search the tree.
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() and "tfevents" in p.name)
    if not files:
        raise FileNotFoundError(f"no TensorBoard event files (*tfevents*) under {root}")
    rows = []
    for path in files:
        # size_guidance 0 = keep everything; the default samples 10,000 points per tag.
        acc = EventAccumulator(str(path), size_guidance={SCALARS: 0})
        acc.Reload()
        for tag in acc.Tags()[SCALARS]:
            rows += [(event.wall_time, event.step, tag, event.value) for event in acc.Scalars(tag)]
    frame = pd.DataFrame(rows, columns=["wall_time", *COLUMNS])
    # A resumed run writes some steps again: the point written last wins.
    frame = frame.sort_values("wall_time", kind="stable").drop_duplicates(["tag", "step"], keep="last")
    frame = frame.sort_values(["tag", "step"], kind="stable").reset_index(drop=True)
    return frame[COLUMNS].astype({"step": "int64", "value": "float64"})


def smooth(values: Iterable[float], weight: float = 0.6) -> np.ndarray:
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"weight must be in [0, 1), got {weight}")
    out = []
    last, count = 0.0, 0
    for value in values:
        value = float(value)
        if not math.isfinite(value):  # shown as is, and kept out of the average
            out.append(value)
            continue
        last = last * weight + (1.0 - weight) * value
        count += 1
        # Debias: the average starts at 0, so divide by the total weight given so far.
        out.append(last / (1.0 - weight**count))
    return np.asarray(out, dtype=np.float64)


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
