"""Known-wrong variants of exercises/01/training_loop.py: each must fail at least one graded test.

Each mutant is an edit of solutions/01/training_loop.py (``replace={reference text: wrong text}``).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

REPEAT = "01.repeat"
FIT = "01.fit_step"
NEW_OUT = "    out: Batch = {}\n"
ROWS = "    rows = len(next(iter(batch.values())))\n"
UID = "    batch[\"uid\"] = np.array([str(uuid.uuid4()) for _ in range(rows)], dtype=object)\n"
REPEAT_CALL = "    batch = repeat_batch(batch, workers.rollout_n, interleave=True)\n"
VALUES = "    if workers.use_critic:\n        batch.update(workers.compute_values(batch))\n"
ADVANTAGE = "    batch.update(workers.compute_advantage(batch))\n"
CRITIC_UPDATE = "    if workers.use_critic:\n        metrics.update(workers.update_critic(batch))\n"
ACTOR_UPDATE = "    metrics.update(workers.update_actor(batch))\n"

MUTANTS = [
    # ---------------------------------------------------------- repeat_batch
    Mutant("repeat_always_block", REPEAT, "training_loop", replace={NEW_OUT: NEW_OUT + "    interleave = False\n"}),
    Mutant("repeat_always_interleaved", REPEAT, "training_loop",
           replace={NEW_OUT: NEW_OUT + "    interleave = True\n"}),
    # numpy columns tiled while the tensors are interleaved: tags no longer match their rows
    Mutant("repeat_numpy_tiled", REPEAT, "training_loop", replace={
        "            if interleave:\n                out[key] = np.repeat(":
        "            if False:\n                out[key] = np.repeat("}),
    # the repeated columns written back into the caller's dict instead of a new one
    Mutant("repeat_into_the_input", REPEAT, "training_loop", replace={NEW_OUT: "    out: Batch = batch\n"}),
    # np.repeat without axis flattens 2-D columns
    Mutant("repeat_numpy_flattens", REPEAT, "training_loop",
           replace={"np.repeat(column, repeat_times, axis=0)": "np.repeat(column, repeat_times)"}),
    # the numpy columns dropped
    Mutant("repeat_tensors_only", REPEAT, "training_loop", replace={
        "        elif isinstance(column, np.ndarray):\n":
        "        elif isinstance(column, np.ndarray):\n            continue\n"}),
    # ---------------------------------------------------------- fit_step
    Mutant("uid_assigned_after_repeat", FIT, "training_loop",
           replace={ROWS: "", UID: "", REPEAT_CALL: REPEAT_CALL + ROWS + UID}),
    Mutant("block_repeat_instead_of_interleaved", FIT, "training_loop",
           replace={REPEAT_CALL: REPEAT_CALL.replace("interleave=True", "interleave=False")}),
    Mutant("actor_updated_before_critic", FIT, "training_loop",
           replace={CRITIC_UPDATE + ACTOR_UPDATE: ACTOR_UPDATE + CRITIC_UPDATE}),
    Mutant("kl_in_reward_when_disabled", FIT, "training_loop", replace={"if workers.use_kl_in_reward:": "if True:"}),
    Mutant("kl_in_reward_never", FIT, "training_loop", replace={"if workers.use_kl_in_reward:": "if False:"}),
    Mutant("ref_log_prob_always", FIT, "training_loop", replace={"if workers.use_reference_policy:": "if True:"}),
    Mutant("values_after_advantage", FIT, "training_loop", replace={VALUES: "", ADVANTAGE: ADVANTAGE + VALUES}),
    Mutant("advantage_replaces_batch", FIT, "training_loop", replace={
        ADVANTAGE: "    batch = {**workers.compute_advantage(batch), 'uid': batch['uid']}\n"}),
    Mutant("changes_callers_batch", FIT, "training_loop",
           replace={"    batch = dict(batch)  # the caller's dict stays as it was\n": ""}),
    Mutant("returns_actor_metrics_only", FIT, "training_loop", replace={
        "        metrics.update(workers.update_critic(batch))\n" + ACTOR_UPDATE + "    return metrics":
        "        workers.update_critic(batch)\n    return workers.update_actor(batch)"}),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
