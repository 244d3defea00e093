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


def write_task(folder: str | Path, n_train: int = 256, n_val: int = 16, seed: int = 0) -> tuple[Path, Path]:
    """Write ``train.parquet`` and ``val.parquet`` (held-out pairs) into ``folder``; returns both paths."""
    from verlings.capstone.data import write_splits

    return write_splits(folder, lambda split, n: make_rows(n, seed, split), n_train, n_val)
