"""The capstone's toy task, written procedurally in verl's dataset formats (no download).

Each RL row is a question about two digits, ``Which is larger, 7 or 5?`` (the demo's task,
:data:`TASK`; :data:`ADD` is the former ``What is 7 + 5?``), in the schema verl's ``RLHFDataset``
reads (the same as chapter 02's GSM8K rows)::

    {"data_source": "verlings/arith",
     "prompt": [{"role": "user", "content": "Which is larger, 7 or 5? Answer with digits only."}],
     "ability": "math",
     "reward_model": {"style": "rule", "ground_truth": "7"},
     "extra_info": {"split": "train", "index": 0}}

The SFT rows (:func:`sft_rows`, for verl's ``MultiTurnSFTDataset``) are the same questions
with the answer as an assistant turn: ``{"messages": [user, assistant]}``.

**Held-out means never trained on.** The task's pairs ``(a, b)`` are split once, by a seeded
shuffle, into training pairs (SFT and GRPO draw from these) and held-out pairs (verl's
validation and ``grader.py capstone --eval`` use only these): a question in the validation
set never appears in any training row, so its accuracy measures generalisation.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DATA_SOURCE = "verlings/arith"


# The question and the answer of each operation (``Task.op``): one single-digit operand a token.
OPS: dict[str, tuple[str, Callable[[int, int], int]]] = {
    "add": ("What is {a} + {b}? Answer with digits only.", lambda a, b: a + b),
    "max": ("Which is larger, {a} or {b}? Answer with digits only.", max),
    "min": ("Which is smaller, {a} or {b}? Answer with digits only.", min),
    "mod": ("What is ({a} + {b}) mod 10? Answer with digits only.", lambda a, b: (a + b) % 10),
}


@dataclass(frozen=True)
class Task:
    # Single digits (100 pairs): each operand is one token at a fixed place in the prompt, which the
    # tiny model learns to read within a short SFT; with 0-19 (two-digit operands at varying places)
    # it stayed at the answers' marginal distribution for 400 SFT steps (measured, ch06 §6.1).
    name: str = "add-0-9"
    low: int = 0
    high: int = 9  # inclusive: 100 pairs, digits are single tokens in the course tokenizer
    held_out: int = 32  # pairs never trained on
    split_seed: int = 20260101
    op: str = "add"  # a key of OPS
    # "random": a seeded shuffle picks the held-out pairs. "commutative": only pairs (a, b) with
    # a != b whose swapped pair (b, a) stays in training are held out.
    split: str = "random"

    def pairs(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """``(train_pairs, held_out_pairs)``, disjoint, the same on every call."""
        every = [(a, b) for a in range(self.low, self.high + 1) for b in range(self.low, self.high + 1)]
        random.Random(self.split_seed).shuffle(every)
        if self.split == "commutative":
            held: list[tuple[int, int]] = []
            for a, b in every:
                if len(held) < self.held_out and a != b and (b, a) not in held:
                    held.append((a, b))
            return [p for p in every if p not in held], sorted(held)
        return every[self.held_out :], sorted(every[: self.held_out])

    def question(self, a: int, b: int) -> str:
        return OPS[self.op][0].format(a=a, b=b)

    def answer(self, a: int, b: int) -> str:
        return str(OPS[self.op][1](a, b))


ADD = Task()  # the former demo's task: 68 pairs of a 100-entry table, which the tiny model memorised
# The demo's task: the larger of two digits. Its held-out pairs follow the same rule as the training
# pairs (compare two digits, copy one), so a warm start is right on about as many held-out pairs as
# training pairs, and what GRPO sharpens on the training prompts carries over (measured, ch06 §6.1).
MAX = Task(name="max-0-9", op="max")
TASK = MAX
# Every task a warm-start recipe can name (``sft.Recipe.task``), by name.
TASKS: dict[str, Task] = {t.name: t for t in (ADD, MAX)}


def question(a: int, b: int, task: Task = TASK) -> str:
    return task.question(a, b)


def _row(a: int, b: int, split: str, index: int, task: Task = TASK) -> dict:
    return {
        "data_source": DATA_SOURCE,
        "prompt": [{"role": "user", "content": task.question(a, b)}],
        "ability": "math",
        "reward_model": {"style": "rule", "ground_truth": task.answer(a, b)},
        "extra_info": {"split": split, "index": index},
    }


def make_rows(n: int, seed: int, split: str = "train", task: Task = TASK) -> list[dict]:
    """``n`` seeded RL rows (pure function of the arguments). ``split="train"`` draws from the
    training pairs (with repeats); ``split="val"`` lists the held-out pairs (at most all of them)."""
    train, held_out = task.pairs()
    if split == "train":
        rng = random.Random(f"{seed}-{split}")
        chosen = [rng.choice(train) for _ in range(n)]
    else:
        chosen = held_out[:n]
    return [_row(a, b, split, i, task) for i, (a, b) in enumerate(chosen)]


def sft_rows(n: int, seed: int, task: Task = TASK) -> list[dict]:
    """``n`` SFT conversations (question, then the right answer) over the training pairs only."""
    train, _ = task.pairs()
    rng = random.Random(f"{seed}-sft")
    rows = []
    for _ in range(n):
        a, b = rng.choice(train)
        rows.append({"messages": [{"role": "user", "content": task.question(a, b)},
                                  {"role": "assistant", "content": task.answer(a, b)}]})
    return rows


def write_task(
    folder: str | Path, n_train: int = 256, n_val: int = 16, seed: int = 0, task: Task = TASK
) -> tuple[Path, Path]:
    """Write ``train.parquet`` and ``val.parquet`` (held-out pairs of ``task``) into ``folder``; returns both paths."""
    return write_splits(folder, lambda split, n: make_rows(n, seed, split, task=task), n_train, n_val)


def write_splits(
    folder: str | Path, rows: Callable[[str, int], list[dict]], n_train: int, n_val: int
) -> tuple[Path, Path]:
    """Write ``rows("train", n_train)`` and ``rows("val", n_val)`` as ``train.parquet`` and
    ``val.parquet`` into ``folder`` (made if missing); returns both paths. Chapter 07's task uses it too."""
    import pandas as pd

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for split, n in (("train", n_train), ("val", n_val)):
        path = folder / f"{split}.parquet"
        pd.DataFrame(rows(split, n)).to_parquet(path, index=False)
        paths.append(path)
    return paths[0], paths[1]
