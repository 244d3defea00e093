"""Known-wrong variants of exercises/03/accumulation.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

# Each mutant's code is appended to solutions/03/accumulation.py. _TEMPLATE is the reference
# loop with named holes, so that each mutant changes exactly one step.
_TEMPLATE = """
def microbatch_gradients(loss_fn, batch, params, num_micro_batches, dp_size=1, global_counts=True):
    bs = batch["response_mask"].shape[0]
    if num_micro_batches < 1 or dp_size < 1 or bs % (dp_size * num_micro_batches) != 0:
        raise ValueError("uneven split")
    per_rank = bs // dp_size
    size = per_rank // num_micro_batches
    total = [torch.zeros_like(p) for p in params]
    for rank in range(dp_size):
        for k in range(num_micro_batches):
            start = rank * per_rank + k * size
            mb = {key: v[start : start + size] for key, v in batch.items()}
            rank_rows = {key: v[rank * per_rank : (rank + 1) * per_rank] for key, v in batch.items()}
            if global_counts:
                counts = {COUNTS}
                scale = GLOBAL_SCALE
            else:
                counts = {"dp_size": 1, "batch_num_tokens": None, "global_batch_size": None}
                scale = LOCAL_SCALE
            loss = loss_fn(mb, **counts) * scale
            for acc, grad in zip(total, torch.autograd.grad(loss, list(params))):
                acc += grad RANK_REDUCE
    return total
"""
_HOLES = {
    "COUNTS": '"dp_size": dp_size, "batch_num_tokens": int(batch["response_mask"].sum()), "global_batch_size": bs',
    "GLOBAL_SCALE": "1.0",
    "LOCAL_SCALE": "1.0 / num_micro_batches",
    "RANK_REDUCE": "/ dp_size",
}


def _variant(**holes: str) -> str:
    code = _TEMPLATE
    for hole, default in _HOLES.items():
        code = code.replace(hole, holes.get(hole, default))
    return code


MUTANTS = [
    Mutant(
        "local_counts_always",  # the gradient-accumulation bug in the "fixed" path
        "03.microbatch_gradients",
        "accumulation",
        _variant(COUNTS='"dp_size": 1, "batch_num_tokens": None, "global_batch_size": None',
                 GLOBAL_SCALE="1.0 / num_micro_batches"),
    ),
    Mutant(
        "global_counts_also_divided_by_micro_batches",
        "03.microbatch_gradients",
        "accumulation",
        _variant(GLOBAL_SCALE="1.0 / num_micro_batches"),
    ),
    Mutant(
        "ranks_summed_not_averaged",
        "03.microbatch_gradients",
        "accumulation",
        _variant(RANK_REDUCE=""),
    ),
    Mutant(
        "dp_size_not_passed_to_the_loss",
        "03.microbatch_gradients",
        "accumulation",
        _variant(COUNTS='"dp_size": 1, "batch_num_tokens": int(batch["response_mask"].sum()), '
                        '"global_batch_size": bs'),
    ),
    Mutant(
        "token_count_of_the_rank_only",  # the all-reduce of batch_num_tokens forgotten
        "03.microbatch_gradients",
        "accumulation",
        _variant(COUNTS='"dp_size": dp_size, "batch_num_tokens": int(rank_rows["response_mask"].sum()), '
                        '"global_batch_size": bs'),
    ),
    Mutant(
        "global_batch_size_counts_nonempty_rows",
        "03.microbatch_gradients",
        "accumulation",
        _variant(COUNTS='"dp_size": dp_size, "batch_num_tokens": int(batch["response_mask"].sum()), '
                        '"global_batch_size": int((batch["response_mask"].sum(-1) > 0).sum())'),
    ),
    Mutant(
        "global_batch_size_of_the_rank_only",
        "03.microbatch_gradients",
        "accumulation",
        _variant(COUNTS='"dp_size": dp_size, "batch_num_tokens": int(batch["response_mask"].sum()), '
                        '"global_batch_size": per_rank'),
    ),
    Mutant(
        "local_path_not_divided_by_micro_batches",
        "03.microbatch_gradients",
        "accumulation",
        _variant(LOCAL_SCALE="1.0"),
    ),
    Mutant(
        "micro_batches_interleaved",  # rows dealt round-robin: same global result, a different local one
        "03.microbatch_gradients",
        "accumulation",
        _variant().replace(
            "mb = {key: v[start : start + size] for key, v in batch.items()}",
            "mb = {key: v[rank * per_rank + k : (rank + 1) * per_rank : num_micro_batches] "
            "for key, v in batch.items()}",
        ),
    ),
    Mutant(
        "uneven_split_accepted",
        "03.microbatch_gradients",
        "accumulation",
        _variant().replace('raise ValueError("uneven split")', "pass"),
    ),
    # The signature's defaults (issue 24): caught by test_accumulation_defaults.py.
    Mutant(
        "microbatch_local_counts_by_default",
        "03.microbatch_gradients",
        "accumulation",
        replace={"global_counts: bool = True,": "global_counts: bool = False,"},
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
