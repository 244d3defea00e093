"""Graded tests for exercises/03/accumulation.py: the defaults its signature states (one rank, global
counts) and a split that does not divide evenly however many micro-batches are asked for."""

import pytest
import torch

from verlings import learner_module
from verlings.testing import assert_equal, golden, tensors

accumulation = learner_module("03", "accumulation")
EXERCISE = "03.microbatch_gradients"


def _batch_and_params():
    g = tensors(golden("03", "microbatch_gradients"))  # 8 rows, 27 valid tokens
    batch = {k: g[k] for k in ("x", "y", "response_mask")}
    return batch, [g["w"].clone().requires_grad_(True), g["b"].clone().requires_grad_(True)]


@pytest.mark.exercise(EXERCISE)
def test_microbatch_gradients_defaults_are_one_rank_and_global_counts():
    batch, params = _batch_and_params()
    seen = []

    def loss_fn(micro_batch, **counts):
        seen.append(counts)
        return (micro_batch["x"] @ params[0]).sum() * 0.0

    accumulation.microbatch_gradients(loss_fn=loss_fn, batch=batch, params=params, num_micro_batches=2)
    assert_equal(
        seen,
        [{"dp_size": 1, "batch_num_tokens": 27, "global_batch_size": 8}] * 2,
        what="the counts loss_fn gets with dp_size and global_counts left out",
        why="the defaults are dp_size=1 and global_counts=True: each micro-batch gets the whole batch's counts",
    )


@pytest.mark.exercise(EXERCISE)
@pytest.mark.parametrize(("dp_size", "n_micro"), [(1, 16), (2, 8)])
def test_microbatch_gradients_rejects_more_micro_batches_than_rows(dp_size, n_micro):
    # 8 rows into dp_size × n_micro = 16 micro-batches: half a row each is no split (8 % 16 != 0).
    batch, params = _batch_and_params()
    with pytest.raises(ValueError):
        accumulation.microbatch_gradients(
            loss_fn=lambda micro_batch, **counts: torch.zeros(()),
            batch=batch,
            params=params,
            num_micro_batches=n_micro,
            dp_size=dp_size,
        )
