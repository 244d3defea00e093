"""Read a run's TensorBoard events into a JSON summary, and draw the reward curve.

verl's ``trainer.logger=[console,tensorboard]`` writes one scalar per metric per step to
``$TENSORBOARD_DIR``. :func:`summarize` reads them back (as a learner evaluates a run) and
writes ``metrics.json``::

    {"device": "cpu", "wall_s": 95.2, "steps": 2, "calls": {"reward": 16, "estimator": 2},
     "final": {"actor/pg_loss": -0.01, ...}, "series": {"critic/score/mean": [[1, 0.02], [2, 0.05]], ...}}
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

# The metrics a learner reads first (verl's names), in the order the lesson explains them.
KEY_METRICS = (
    "critic/score/mean",  # mean reward of the step's answers: the curve that should rise
    "critic/advantages/mean",
    "critic/advantages/max",
    "actor/pg_loss",
    "actor/grad_norm",
    "actor/pg_clipfrac",
    "actor/ppo_kl",
    "actor/entropy",
    "response_length/mean",
    "response_length/clip_ratio",
    "timing_s/gen",
    "timing_s/update_actor",
    "timing_s/step",
)
REWARD = "critic/score/mean"
ENTROPY = "actor/entropy"
LENGTH = "response_length/mean"


def _is_accuracy(tag: str) -> bool:
    """verl's validation metric for one answer per prompt: ``val-core/<source>/acc/mean@1``
    (``val-aux/.../correct/mean@1`` for a reward without ``acc``)."""
    parts = tag.split("/")
    return parts[0] in ("val-core", "val-aux") and parts[-1] == "mean@1" and parts[-2] in ("acc", "correct")


def accuracy_tag(summary: dict[str, Any]) -> str | None:
    """The held-out accuracy series in a summary (``acc`` preferred over ``correct``)."""
    tags = sorted((t for t in summary.get("series", {}) if _is_accuracy(t)), key=lambda t: "/acc/" not in t)
    return tags[0] if tags else None


def read_scalars(logdir: str | Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar tag in the event files under ``logdir``: ``{tag: [(step, value), ...]}``."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    series: dict[str, dict[int, float]] = {}
    for events in sorted(Path(logdir).rglob("events.out.tfevents.*")):
        acc = EventAccumulator(str(events), size_guidance={"scalars": 0})
        acc.Reload()
        for tag in acc.Tags().get("scalars", []):
            for e in acc.Scalars(tag):
                series.setdefault(tag, {})[int(e.step)] = float(e.value)
    return {tag: sorted(points.items()) for tag, points in series.items()}


def summarize(
    out_dir: str | Path, *, wall_s: float, device: str, calls: dict[str, int], config: Any = None
) -> dict[str, Any]:
    """Write ``out_dir/metrics.json`` from ``out_dir/tensorboard`` and return it."""
    out_dir = Path(out_dir)
    logdir = out_dir / "tensorboard"
    scalars = read_scalars(logdir) if logdir.is_dir() else {}
    steps = max((s for points in scalars.values() for s, _ in points), default=0)
    summary = {
        "device": device,
        "wall_s": round(wall_s, 1),
        "steps": steps,
        "calls": calls,
        "config": asdict(config) if is_dataclass(config) else config,
        "final": {tag: points[-1][1] for tag, points in sorted(scalars.items())},
        "series": {tag: [[s, v] for s, v in scalars[tag]] for tag in scalars
                   if tag in KEY_METRICS or _is_accuracy(tag)},
        "tensorboard": str(logdir),
    }
    text = json.dumps(summary, indent=1, allow_nan=True)
    (out_dir / "metrics.json").write_text(text + "\n", encoding="utf-8")
    return summary


def not_finite(summary: dict[str, Any], prefixes: tuple[str, ...] = ("actor/pg_loss", "actor/grad_norm")) -> list[str]:
    """Tags among ``prefixes`` with a NaN/inf value at any step (empty when all are finite)."""
    bad = []
    for tag, points in summary.get("series", {}).items():
        if tag.startswith(prefixes) and any(not math.isfinite(v) for _, v in points):
            bad.append(tag)
    return bad


def _moving_average(values: list[float], k: int = 5) -> list[float]:
    return [sum(values[max(0, i - k + 1) : i + 1]) / len(values[max(0, i - k + 1) : i + 1]) for i in range(len(values))]


def plot_reward(summary: dict[str, Any], png: str | Path, title: str = "") -> Path | None:
    """Mean reward per step and its 5-step moving average as a PNG.

    Drawn with matplotlib when it is installed, else with Pillow (which comes with the
    course's dependencies); ``None`` when neither is there or there is nothing to draw."""
    points = [(s, v) for s, v in summary.get("series", {}).get(REWARD, []) if math.isfinite(v)]
    if not points:
        return None
    png = Path(png)
    title = title or "verl GRPO on the tiny model: mean reward"
    steps, values = [s for s, _ in points], [v for _, v in points]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return _plot_with_pillow(steps, values, png, title)
    series = summary.get("series", {})
    acc = accuracy_tag(summary)
    panels = [(acc, "held-out accuracy (verl validation, greedy)")] if acc else []
    panels += [(REWARD, "training reward (mean score)"), (ENTROPY, "policy entropy"), (LENGTH, "response length")]
    panels = [(tag, label) for tag, label in panels if series.get(tag)]
    cols = 2 if len(panels) > 1 else 1
    rows = (len(panels) + 1) // 2 if cols == 2 else 1
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.4 * rows), dpi=110, squeeze=False)
    for ax, (tag, label) in zip(axes.flat, panels):
        pts = [(s, v) for s, v in series[tag] if math.isfinite(v)]
        xs, ys = [s for s, _ in pts], [v for _, v in pts]
        ax.plot(xs, ys, marker="o", markersize=3, linewidth=1, alpha=0.7, label="per step")
        if tag == REWARD and len(ys) >= 5:
            ax.plot(xs, _moving_average(ys), linewidth=2.5, label="5-step moving average")
            ax.legend(fontsize=8)
        if tag == acc:
            ax.set_ylim(-0.02, 1.02)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("training step", fontsize=8)
        ax.set_ylabel(tag, fontsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)
    return png


def _plot_with_pillow(steps: list[int], values: list[float], png: Path, title: str) -> Path | None:
    try:
        from PIL import Image, ImageDraw
    except ImportError:
        return None
    width, height, left, right, top, bottom = 840, 480, 70, 20, 40, 50
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    pad = 0.05 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    s0, s1 = min(steps), max(steps) if max(steps) > min(steps) else min(steps) + 1

    def xy(step: float, value: float) -> tuple[float, float]:
        x = left + (step - s0) / (s1 - s0) * (width - left - right)
        y = top + (hi - value) / (hi - lo) * (height - top - bottom)
        return x, y

    for i in range(6):  # horizontal grid with value labels
        v = lo + (hi - lo) * i / 5
        _, y = xy(s0, v)
        draw.line([(left, y), (width - right, y)], fill=(225, 225, 225))
        draw.text((5, y - 6), f"{v:+.2f}", fill="black")
    for i in range(6):  # step labels
        s = s0 + (s1 - s0) * i / 5
        x, _ = xy(s, lo)
        draw.text((x - 8, height - bottom + 8), f"{s:.0f}", fill="black")
    draw.rectangle([left, top, width - right, height - bottom], outline="black")
    draw.line([xy(s, v) for s, v in zip(steps, values)], fill=(120, 160, 220), width=1)
    for s, v in zip(steps, values):
        x, y = xy(s, v)
        draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=(60, 110, 200))
    if len(values) >= 5:
        draw.line([xy(s, v) for s, v in zip(steps, _moving_average(values))], fill=(230, 120, 20), width=3)
    draw.text((left, 12), title, fill="black")
    draw.text((width // 2 - 80, height - 20), f"training step   (y: {REWARD})", fill="black")
    draw.text((width - right - 250, top + 8), "dots: mean reward per step   orange: 5-step average",
              fill=(80, 80, 80))
    img.save(png)
    return png
