"""Known-wrong variants of exercises/03/accumulation.py: each must fail at least one graded test.

Each mutant is an edit of solutions/03/accumulation.py (``replace={reference text: wrong text}``).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

EX = "03.microbatch_gradients"
RAISE = "    if num_micro_batches < 1 or dp_size < 1 or bs % (dp_size * num_micro_batches) != 0:\n"
GLOBAL_SCALE = "scale = 1.0  #"
LOCAL_SCALE = "scale = 1.0 / num_micro_batches\n"
CALL = "loss = loss_fn(micro_batch, **counts) * scale"
GBS = '"global_batch_size": bs,'

MUTANTS = [
    # the gradient-accumulation bug in the "fixed" path: every micro-batch normalised by its own counts
    Mutant("local_counts_always", EX, "accumulation", replace={"    if global_counts:\n": "    if False:\n"}),
    Mutant("global_counts_also_divided_by_micro_batches", EX, "accumulation",
           replace={GLOBAL_SCALE: "scale = 1.0 / num_micro_batches  #"}),
    Mutant("ranks_summed_not_averaged", EX, "accumulation", replace={"acc += grad / dp_size": "acc += grad"}),
    Mutant("dp_size_not_passed_to_the_loss", EX, "accumulation",
           replace={'"dp_size": dp_size,': '"dp_size": 1,'}),
    # the all-reduce of batch_num_tokens forgotten: each rank counts its own rows' tokens
    Mutant("token_count_of_the_rank_only", EX, "accumulation", replace={
        CALL: "rank_tokens = int(batch['response_mask'][rank * per_rank : (rank + 1) * per_rank].sum())\n"
              "            if global_counts:\n"
              "                counts = {**counts, 'batch_num_tokens': rank_tokens}\n"
              f"            {CALL}"}),
    Mutant("global_batch_size_counts_nonempty_rows", EX, "accumulation",
           replace={GBS: '"global_batch_size": int((batch["response_mask"].sum(-1) > 0).sum()),'}),
    Mutant("global_batch_size_of_the_rank_only", EX, "accumulation",
           replace={GBS: '"global_batch_size": per_rank,'}),
    Mutant("local_path_not_divided_by_micro_batches", EX, "accumulation",
           replace={LOCAL_SCALE: "scale = 1.0\n"}),
    # rows dealt round-robin: same global result, a different local one
    Mutant("micro_batches_interleaved", EX, "accumulation", replace={
        "value[start : start + size]": "value[rank * per_rank + k : (rank + 1) * per_rank : num_micro_batches]"}),
    Mutant("uneven_split_accepted", EX, "accumulation", replace={RAISE: "    if False:\n"}),
    # The signature's defaults (issue 24): caught by test_accumulation_defaults.py.
    Mutant("microbatch_local_counts_by_default", EX, "accumulation",
           replace={"global_counts: bool = True,": "global_counts: bool = False,"}),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
