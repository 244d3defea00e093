"""Graded tests for exercises/03/accumulation.py (goldens from verl 0.9.1's agg_loss:
verlings/goldens/ch03_accumulation.py).

The per-token loss is ``(x @ w + b - y)²``, aggregated by *your* ``losses.agg_loss`` (make
03.agg_loss pass first); what is graded here is how the micro-batches and ranks are put together.
"""

import json

import pytest
import torch

from verlings import learner_module
from verlings.testing import assert_close, golden, hint_line, tensors

accumulation = learner_module("03", "accumulation")
losses = learner_module("03", "losses")

EXERCISE = "03.microbatch_gradients"


G = golden("03", "microbatch_gradients")
_TENSORS = tensors(G)


def _golden() -> dict:
    return _TENSORS  # read once: the tests never modify these tensors
MODES = tuple(json.loads(str(G["modes"])))
SPLITS = [tuple(int(v) for v in s) for s in G["splits"]]


def _setup(g: dict, mode: str):
    batch = {k: g[k] for k in ("x", "y", "response_mask")}
    w, b = g["w"].clone().requires_grad_(True), g["b"].clone().requires_grad_(True)

    def loss_fn(micro_batch, **counts):
        loss_mat = (micro_batch["x"] @ w + b - micro_batch["y"]) ** 2
        return losses.agg_loss(
            loss_mat=loss_mat, loss_mask=micro_batch["response_mask"], loss_agg_mode=mode, **counts
        )

    return batch, [w, b], loss_fn


def _gradients(g: dict, mode: str, dp_size: int, n_micro: int, global_counts: bool) -> list:
    batch, params, loss_fn = _setup(g, mode)
    grads = accumulation.microbatch_gradients(
        loss_fn=loss_fn, batch=batch, params=params, num_micro_batches=n_micro, dp_size=dp_size,
        global_counts=global_counts,
    )
    assert isinstance(grads, list | tuple) and len(grads) == 2, (
        "microbatch_gradients must return one gradient per parameter (here 2: w and b)"
    )
    return list(grads)


def _relative_error(seen: torch.Tensor, expected: torch.Tensor) -> float:
    return float((seen - expected).norm() / expected.norm())


@pytest.mark.exercise(EXERCISE)
@pytest.mark.parametrize("mode", MODES)
def test_microbatch_gradients_global_counts_match_the_full_batch(mode):
    g = _golden()
    for dp_size, n_micro in SPLITS:
        _check_global(g, mode, dp_size, n_micro)


def _check_global(g: dict, mode: str, dp_size: int, n_micro: int) -> None:
    grads = _gradients(g, mode, dp_size, n_micro, global_counts=True)
    local_w = g[f"local__{mode}__{dp_size}x{n_micro}__w"]
    off = _relative_error(local_w, g[f"full__{mode}__w"])
    for name, seen in zip(("w", "b"), grads):
        assert_close(
            seen, g[f"full__{mode}__{name}"],
            what=f"gradient of {name} ({mode}, dp_size={dp_size}, {n_micro} micro-batches per rank)",
            why="with global counts (dp_size, the mini-batch's valid tokens, its number of rows) the gradients "
            "summed over micro-batches and averaged over ranks equal the full mini-batch's gradient"
            + (f"; local counts would be off by {off:.0%} here" if off == off and off > 1e-4 else ""),
        )


@pytest.mark.exercise(EXERCISE)
@pytest.mark.parametrize("mode", MODES)
def test_microbatch_gradients_local_counts_reproduce_the_bug(mode):
    g = _golden()
    for dp_size, n_micro in SPLITS:
        grads = _gradients(g, mode, dp_size, n_micro, global_counts=False)
        for name, seen in zip(("w", "b"), grads):
            assert_close(
                seen, g[f"local__{mode}__{dp_size}x{n_micro}__{name}"],
                what=f"gradient of {name} with local counts ({mode}, dp_size={dp_size}, {n_micro} micro-batches)",
                why="global_counts=False: each micro-batch's loss uses its own counts (dp_size=1, no global counts) "
                "and is divided by num_micro_batches; backward sums per rank, the ranks are averaged",
            )


@pytest.mark.exercise(EXERCISE)
def test_microbatch_gradients_local_counts_are_biased():
    """How far off the mean of micro-batch means is, on this batch (token-mean, 2 ranks × 2 micro-batches)."""
    g = _golden()
    seen = _gradients(g, "token-mean", 2, 2, global_counts=False)[0]
    full = g["full__token-mean__w"]
    off = _relative_error(seen, full)
    # Valid tokens per micro-batch are 11, 1, 8 and 7: the lone token of the second micro-batch
    # weighs as much as the 11 of the first. verl's own agg_loss gives the same bias (golden).
    expected_off = _relative_error(g["local__token-mean__2x2__w"], full)
    assert abs(off - expected_off) < 1e-4, (
        f"with local counts the gradient should be {expected_off:.1%} away from the full batch's, "
        f"yours is {off:.1%} away\n" + hint_line()
    )
    # Shown with `pytest -rP`: the size of the bug on this batch.
    print(f"local counts: gradient {off:.1%} away from the full mini-batch's (token-mean, 2 ranks x 2 micro-batches)")


@pytest.mark.exercise(EXERCISE)
def test_microbatch_gradients_all_padding_micro_batch_contributes_zero():
    # 4 ranks × 2 micro-batches of one row: row 3 has no valid token. With global counts its loss is
    # 0 / batch_num_tokens = 0 exactly, so the result still equals the full batch.
    g = _golden()
    batch, _, loss_fn = _setup(g, "token-mean")
    assert int(batch["response_mask"][3].sum()) == 0
    counts = {"dp_size": 4, "batch_num_tokens": int(batch["response_mask"].sum()), "global_batch_size": 8}
    empty = {k: v[3:4] for k, v in batch.items()}
    assert float(loss_fn(empty, **counts).detach()) == 0.0, (
        "agg_loss of an all-padding micro-batch with global counts must be exactly 0"
    )
    grads = _gradients(g, "token-mean", 4, 2, global_counts=True)
    assert torch.isfinite(grads[0]).all(), "an all-padding micro-batch must not turn the gradient into NaN"
    assert_close(grads[0], g["full__token-mean__w"], what="gradient of w")


@pytest.mark.exercise(EXERCISE)
@pytest.mark.parametrize(("dp_size", "n_micro"), [(3, 1), (1, 3), (2, 3), (0, 1), (1, 0)])
def test_microbatch_gradients_rejects_uneven_splits(dp_size, n_micro):
    g = _golden()
    batch, params, loss_fn = _setup(g, "token-mean")
    with pytest.raises(ValueError):
        accumulation.microbatch_gradients(
            loss_fn=loss_fn, batch=batch, params=params, num_micro_batches=n_micro, dp_size=dp_size
        )


@pytest.mark.exercise(EXERCISE)
def test_microbatch_gradients_passes_the_global_counts():
    # Record what loss_fn receives: 8 rows, 27 valid tokens (6+5+1+0+6+2+1+6), 2 ranks.
    g = _golden()
    batch, params, _ = _setup(g, "token-mean")
    seen = []

    def loss_fn(micro_batch, **counts):
        seen.append((micro_batch["response_mask"].shape[0], counts))
        return (micro_batch["x"] @ params[0]).sum() * 0.0

    accumulation.microbatch_gradients(
        loss_fn=loss_fn, batch=batch, params=params, num_micro_batches=2, dp_size=2, global_counts=True
    )
    assert [rows for rows, _ in seen] == [2, 2, 2, 2], "4 micro-batches of 2 rows each (2 ranks × 2)"
    for _, counts in seen:
        assert counts.get("dp_size") == 2 and counts.get("batch_num_tokens") == 27 and (
            counts.get("global_batch_size") == 8
        ), (
            f"each micro-batch should get dp_size=2, batch_num_tokens=27 (the whole batch's valid tokens) and "
            f"global_batch_size=8 (all rows); loss_fn got {counts}\n" + hint_line()
        )
