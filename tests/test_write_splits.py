"""Chapter 06's and chapter 07's tasks write their parquet files through one writer (write_splits)."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from verlings.agent_rl import task as mul
from verlings.capstone import data as add


@pytest.mark.parametrize(
    ("write_task", "make_rows"),
    [(add.write_task, add.make_rows), (mul.write_task, mul.make_rows)],
    ids=["capstone", "agent_rl"],
)
def test_write_task_writes_make_rows_of_each_split(tmp_path, write_task, make_rows):
    train, val = write_task(tmp_path / "new" / "data", n_train=5, n_val=3, seed=7)
    assert (train.name, val.name) == ("train.parquet", "val.parquet")
    assert pq.read_table(train).to_pylist() == make_rows(5, 7, "train")
    assert pq.read_table(val).to_pylist() == make_rows(3, 7, "val")
