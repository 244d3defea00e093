"""Chapter 07's task: multiplication the tiny model cannot do in its head, so the calculator matters.

Each RL row asks for a product of a 2–3-digit and a 2-digit number, in the schema verl's
``RLHFDataset`` reads (the same as chapter 06's rows, other ``data_source``)::

    {"data_source": "verlings/mul",
     "prompt": [{"role": "user", "content": "What is 347 * 29?"}],
     "ability": "math",
     "reward_model": {"style": "rule", "ground_truth": "10063"},
     "extra_info": {"split": "train", "index": 0}}

The SFT rows (:func:`sft_rows`, verl's ``MultiTurnSFTDataset`` with its ``tools`` column) are
whole tool-using conversations, the trajectory the warm start should imitate::

    user       What is 347 * 29?
    assistant  <tool_call>{"name": "calculator", "arguments": {"expression": "347 * 29"}}</tool_call>
    tool       10063
    assistant  10063

**Held-out means never trained on**: :meth:`MulTask.held_out` is a seeded sample of pairs that
no training row (SFT or GRPO) ever draws.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

DATA_SOURCE = "verlings/mul"
TOOL_NAME = "calculator"

# The schema the tool config declares (verl passes it to the tool, and the agent loop renders
# it into the system prompt). Short on purpose: every token of it is in every prompt, and the
# tiny model's context is 512 positions. The chapter-05 tool's own schema is longer.
TOOL_SCHEMA = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": "Evaluate an arithmetic expression",
        "parameters": {
            "type": "object",
            "properties": {"expression": {"type": "string"}},
            "required": ["expression"],
        },
    },
}


@dataclass(frozen=True)
class MulTask:
    name: str = "mul-2to3x2-v1"
    a_low: int = 10
    a_high: int = 999  # inclusive: 2–3 digits
    b_low: int = 10
    b_high: int = 99  # inclusive: 2 digits
    n_held_out: int = 64
    split_seed: int = 20260107

    def held_out(self) -> list[tuple[int, int]]:
        """The held-out pairs (sorted, the same on every call)."""
        rng = random.Random(self.split_seed)
        chosen: set[tuple[int, int]] = set()
        while len(chosen) < self.n_held_out:
            chosen.add((rng.randint(self.a_low, self.a_high), rng.randint(self.b_low, self.b_high)))
        return sorted(chosen)

    def draw_train(self, n: int, rng: random.Random) -> list[tuple[int, int]]:
        """``n`` training pairs (with repeats), never a held-out one."""
        banned = set(self.held_out())
        out = []
        while len(out) < n:
            pair = (rng.randint(self.a_low, self.a_high), rng.randint(self.b_low, self.b_high))
            if pair not in banned:
                out.append(pair)
        return out


TASK = MulTask()


def question(a: int, b: int) -> str:
    return f"What is {a} * {b}?"


def expression(a: int, b: int) -> str:
    """What the calculator is asked: the question's own characters (copying is all the model must do)."""
    return f"{a} * {b}"


def _row(a: int, b: int, split: str, index: int) -> dict:
    return {
        "data_source": DATA_SOURCE,
        "prompt": [{"role": "user", "content": question(a, b)}],
        "ability": "math",
        "reward_model": {"style": "rule", "ground_truth": str(a * b)},
        "extra_info": {"split": split, "index": index},
    }


def make_rows(n: int, seed: int, split: str = "train", task: MulTask = TASK) -> list[dict]:
    """``n`` seeded RL rows; ``split="val"`` lists the held-out pairs (at most all of them)."""
    if split == "train":
        chosen = task.draw_train(n, random.Random(f"{seed}-{split}"))
    else:
        chosen = task.held_out()[:n]
    return [_row(a, b, split, i) for i, (a, b) in enumerate(chosen)]


def conversation(a: int, b: int) -> list[dict]:
    """The tool-using conversation for ``a * b`` (OpenAI message format, as the chat template reads it)."""
    product = str(a * b)
    call = {"type": "function", "function": {"name": TOOL_NAME, "arguments": {"expression": expression(a, b)}}}
    return [
        {"role": "user", "content": question(a, b)},
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "content": product},
        {"role": "assistant", "content": product},
    ]


def sft_rows(n: int, seed: int, task: MulTask = TASK) -> list[dict]:
    """``n`` SFT rows ``{"messages": [...], "tools": [schema]}`` over training pairs only."""
    pairs = task.draw_train(n, random.Random(f"{seed}-sft"))
    return [{"messages": conversation(a, b), "tools": [TOOL_SCHEMA]} for a, b in pairs]


DRILL_KINDS = ("notools", "pieces", "bare")


def drill_rows(a: int, b: int, kind: str = "bare", pick: int = 0) -> dict:
    """A short SFT row for ``a * b`` (``{"messages": [...], "tools": []}``): an empty system message
    instead of the tool schema (``tools`` empty, not None: in one parquet with the full rows pandas
    would store None as NA, which verl's MultiTurnSFTDataset cannot render). ``notools``: the whole
    conversation; ``pieces``: ``pick`` 0 -> question and call, 1 -> question, tool's answer and the
    assistant's answer; ``bare``: as ``pieces`` but pick 1 without the question (the tool's answer and
    the assistant's: nothing else to copy from).

    Why drills exist (ch07 §5.1, benchmarks/probe_07_copy_context.py): the 2-layer model learns to
    copy digits in a 35-token context but not 230 tokens after the tool schema; trained on both, it
    copies in the long one too."""
    conv = conversation(a, b)
    system = [{"role": "system", "content": ""}]
    if kind == "notools":
        return {"messages": system + conv, "tools": []}
    if kind == "pieces":
        return {"messages": system + (conv[:2] if pick == 0 else [conv[0], *conv[2:]]), "tools": []}
    if kind == "bare":
        return {"messages": system + (conv[:2] if pick == 0 else conv[2:]), "tools": []}
    raise ValueError(f"unknown drill kind {kind!r} (known: {DRILL_KINDS})")


def sft_rows_with_drills(n: int, seed: int, drill_share: float, kind: str = "bare",
                         task: MulTask = TASK) -> list[dict]:
    """``n`` SFT rows over training pairs only, a share ``drill_share`` of them :func:`drill_rows`
    (each drill is the call or the answer half, with equal chance), the rest :func:`sft_rows`' rows."""
    rng = random.Random(f"{seed}-sft-drills")
    rows = []
    for a, b in task.draw_train(n, rng):
        if rng.random() < drill_share:
            rows.append(drill_rows(a, b, kind, rng.randrange(2)))
        else:
            rows.append({"messages": conversation(a, b), "tools": [TOOL_SCHEMA]})
    return rows


def write_task(folder: str | Path, n_train: int = 256, n_val: int = 16, seed: int = 0) -> tuple[Path, Path]:
    """Write ``train.parquet`` and ``val.parquet`` (held-out pairs) into ``folder``; returns both paths."""
    from verlings.capstone.data import write_splits

    return write_splits(folder, lambda split, n: make_rows(n, seed, split), n_train, n_val)
