"""The capstone's toy task, written procedurally in verl's dataset formats (no download).

Each RL row is a small addition, ``What is 7 + 5?``, in the schema verl's ``RLHFDataset``
reads (the same as chapter 02's GSM8K rows)::

    {"data_source": "verlings/arith",
     "prompt": [{"role": "user", "content": "What is 7 + 5? Answer with digits only."}],
     "ability": "math",
     "reward_model": {"style": "rule", "ground_truth": "12"},
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

    def pairs(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """``(train_pairs, held_out_pairs)``, disjoint, the same on every call."""
        every = [(a, b) for a in range(self.low, self.high + 1) for b in range(self.low, self.high + 1)]
        random.Random(self.split_seed).shuffle(every)
        return every[self.held_out :], sorted(every[: self.held_out])


TASK = Task()


def question(a: int, b: int) -> str:
    return f"What is {a} + {b}? Answer with digits only."


def _row(a: int, b: int, split: str, index: int) -> dict:
    return {
        "data_source": DATA_SOURCE,
        "prompt": [{"role": "user", "content": question(a, b)}],
        "ability": "math",
        "reward_model": {"style": "rule", "ground_truth": str(a + b)},
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
    return [_row(a, b, split, i) for i, (a, b) in enumerate(chosen)]


def sft_rows(n: int, seed: int, task: Task = TASK) -> list[dict]:
    """``n`` SFT conversations (question, then the right answer) over the training pairs only."""
    train, _ = task.pairs()
    rng = random.Random(f"{seed}-sft")
    rows = []
    for _ in range(n):
        a, b = rng.choice(train)
        rows.append({"messages": [{"role": "user", "content": question(a, b)},
                                  {"role": "assistant", "content": str(a + b)}]})
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
