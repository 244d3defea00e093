"""The capstone's toy task, written procedurally in verl's dataset format (no download).

Each row is a tiny arithmetic question, ``What is 17 + 25?``, in the schema verl's
``RLHFDataset`` reads (the same as chapter 02's GSM8K rows)::

    {"data_source": "verlings/arith",
     "prompt": [{"role": "user", "content": "What is 17 + 25? Answer with digits only."}],
     "ability": "math",
     "reward_model": {"style": "rule", "ground_truth": "42"},
     "extra_info": {"split": "train", "index": 0}}

A random model cannot add, but it can learn *how* an answer looks: digits, then stop. The
toy reward (``exercises/06/capstone.py``) pays for that shape, so a few dozen GRPO steps
visibly raise the mean reward.
"""

from __future__ import annotations

import random
from pathlib import Path

DATA_SOURCE = "verlings/arith"
OPS = ("+", "-", "*")


def make_rows(n: int, seed: int, split: str = "train") -> list[dict]:
    """``n`` seeded rows (pure function of ``n``, ``seed`` and ``split``)."""
    rng = random.Random(f"{seed}-{split}")
    rows = []
    for index in range(n):
        a, b, op = rng.randint(2, 49), rng.randint(2, 49), rng.choice(OPS)
        answer = a + b if op == "+" else a - b if op == "-" else a * b
        rows.append({
            "data_source": DATA_SOURCE,
            "prompt": [{"role": "user", "content": f"What is {a} {op} {b}? Answer with digits only."}],
            "ability": "math",
            "reward_model": {"style": "rule", "ground_truth": str(answer)},
            "extra_info": {"split": split, "index": index},
        })
    return rows


def write_task(folder: str | Path, n_train: int = 256, n_val: int = 16, seed: int = 0) -> tuple[Path, Path]:
    """Write ``train.parquet`` and ``val.parquet`` into ``folder``; returns both paths."""
    import pandas as pd

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for split, n in (("train", n_train), ("val", n_val)):
        path = folder / f"{split}.parquet"
        pd.DataFrame(make_rows(n, seed, split)).to_parquet(path, index=False)
        paths.append(path)
    return paths[0], paths[1]
