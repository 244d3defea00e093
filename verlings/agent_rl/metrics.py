"""Per-step agent metrics from what the run recorded, and the demo's four-panel plot.

verl logs rewards, lengths and losses to TensorBoard; what an agent run needs on top —
*does the model call the tool, and does the call work* — comes from ``trajectories.jsonl``
(one line per trajectory the learner's loop returned, see :mod:`verlings.agent_rl.plugin`):

* ``tool_call_rate``: share of training trajectories with at least one parsed tool call;
* ``tool_success_rate``: share of tool answers that are a number (not an ``Error: ...``, an
  unknown tool, bad JSON arguments);
* ``val_tool_call_rate``: the same on verl's validation (held-out) trajectories.

Held-out accuracy and response length are verl's own (``val-core/.../acc/mean@1``,
``response_length/mean``).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from verlings.capstone.summary import LENGTH, accuracy_tag

TOOL_ANSWER = re.compile(r"<tool_response>\n(.*?)\n</tool_response>", re.DOTALL)
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
TOOL_CALL_RATE = "agent/tool_call_rate"
TOOL_SUCCESS_RATE = "agent/tool_success_rate"
VAL_TOOL_CALL_RATE = "agent/val_tool_call_rate"


def read_trajectories(out_dir: str | Path) -> list[dict]:
    path = Path(out_dir) / "trajectories.jsonl"
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue  # a line cut by a killed run
    return rows


def _tool_answers(t: dict, decode: Any) -> list[str]:
    return TOOL_ANSWER.findall(decode(t["response_ids"]))


def agent_series(out_dir: str | Path, decode: Any = None) -> dict[str, list[list[float]]]:
    """``{tag: [[step, value], ...]}`` for the three agent rates."""
    if decode is None:
        from verlings.fixtures.tokenizer import local_tokenizer

        tok = local_tokenizer()

        def decode(ids: list[int]) -> str:
            return tok.decode(ids)

    by_step: dict[tuple[str, int], list[dict]] = {}
    for t in read_trajectories(out_dir):
        step = t.get("global_steps")
        if isinstance(step, int | float):
            by_step.setdefault((t.get("split") or "train", int(step)), []).append(t)
    series: dict[str, list[list[float]]] = {TOOL_CALL_RATE: [], TOOL_SUCCESS_RATE: [], VAL_TOOL_CALL_RATE: []}
    for (split, step), group in sorted(by_step.items(), key=lambda kv: kv[0][1]):
        called = sum(any(turn["calls"] for turn in t.get("turns", [])) for t in group) / len(group)
        if split == "val":
            series[VAL_TOOL_CALL_RATE].append([step, called])
            continue
        series[TOOL_CALL_RATE].append([step, called])
        answers = [a for t in group for a in _tool_answers(t, decode)]
        if answers:
            series[TOOL_SUCCESS_RATE].append([step, sum(bool(NUMBER.fullmatch(a.strip())) for a in answers)
                                              / len(answers)])
    return series


def add_to_summary(summary: dict[str, Any], out_dir: str | Path) -> dict[str, Any]:
    """The agent rates added to a run's ``metrics.json`` summary (written back)."""
    series = agent_series(out_dir)
    summary.setdefault("series", {}).update(series)
    summary.setdefault("final", {}).update({tag: pts[-1][1] for tag, pts in series.items() if pts})
    (Path(out_dir) / "metrics.json").write_text(json.dumps(summary, indent=1, allow_nan=True) + "\n",
                                                encoding="utf-8")
    return summary


def plot(summary: dict[str, Any], png: str | Path, title: str = "") -> Path | None:
    """Tool-call rate, tool success rate, held-out accuracy and response length per step (PNG)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    series = summary.get("series", {})
    acc = accuracy_tag(summary)
    panels = [((TOOL_CALL_RATE, VAL_TOOL_CALL_RATE), "tool-call rate (train; held-out dashed)"),
              ((TOOL_SUCCESS_RATE,), "tool success rate (answers that are numbers)"),
              ((acc,) if acc else (), "held-out accuracy (verl validation, greedy)"),
              ((LENGTH,), "response length (tokens, model + tool)")]
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.8), dpi=110)
    for ax, (tags, label) in zip(axes.flat, panels):
        for k, tag in enumerate(tags):
            pts = [(s, v) for s, v in series.get(tag, []) if math.isfinite(v)]
            if pts:
                ax.plot([s for s, _ in pts], [v for _, v in pts], marker="o", markersize=3,
                        linestyle="--" if k else "-", label=tag)
        if tags and tags[0] != LENGTH:
            ax.set_ylim(-0.02, 1.02)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("training step", fontsize=8)
        ax.grid(alpha=0.3)
        if len(tags) > 1:
            ax.legend(fontsize=7)
    fig.suptitle(title or "verl multi-turn GRPO with your agent loop", fontsize=10)
    fig.tight_layout()
    png = Path(png)
    fig.savefig(png)
    plt.close(fig)
    return png
