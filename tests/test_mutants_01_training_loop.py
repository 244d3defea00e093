"""Known-wrong variants of exercises/01/training_loop.py: each must fail at least one graded test.

Each mutant's code is appended to solutions/01/training_loop.py, so it may use the module's
imports (np, torch, uuid) and wrap the reference functions.
"""

import pytest

from verlings.dev.mutants import Mutant, caught


def _fit_step(**replace: str) -> str:
    """fit_step with some of its lines replaced (keys: uid, repeat, ref, values, kl, updates, copy)."""
    code = {
        "copy": "batch = dict(batch)",
        "uid_then_repeat": """rows = len(next(iter(batch.values())))
    batch["uid"] = np.array([str(uuid.uuid4()) for _ in range(rows)], dtype=object)
    batch = repeat_batch(batch, workers.rollout_n, interleave=True)""",
        "stages": """batch.update(workers.generate_sequences(batch))
    batch.update(workers.compute_reward(batch))
    batch.update(workers.compute_log_prob(batch))""",
        "ref": """if workers.use_reference_policy:
        batch.update(workers.compute_ref_log_prob(batch))""",
        "values": """if workers.use_critic:
        batch.update(workers.compute_values(batch))""",
        "kl": """if workers.use_kl_in_reward:
        batch.update(workers.apply_kl_penalty(batch))
    else:
        batch["token_level_rewards"] = batch["token_level_scores"]""",
        "advantage": "batch.update(workers.compute_advantage(batch))",
        "updates": """metrics = {}
    if workers.use_critic:
        metrics.update(workers.update_critic(batch))
    metrics.update(workers.update_actor(batch))
    return metrics""",
    }
    code.update(replace)
    body = "\n    ".join(code.values())
    return f"\ndef fit_step(batch, workers):\n    {body}\n"


UID_AFTER = """batch = repeat_batch(batch, workers.rollout_n, interleave=True)
    rows = len(next(iter(batch.values())))
    batch["uid"] = np.array([str(uuid.uuid4()) for _ in range(rows)], dtype=object)"""
BLOCK_REPEAT = """rows = len(next(iter(batch.values())))
    batch["uid"] = np.array([str(uuid.uuid4()) for _ in range(rows)], dtype=object)
    batch = repeat_batch(batch, workers.rollout_n, interleave=False)"""
VALUES_AFTER_ADVANTAGE = """batch.update(workers.compute_advantage(batch))
    if workers.use_critic:
        batch.update(workers.compute_values(batch))"""

MUTANTS = [
    # ---------------------------------------------------------- repeat_batch
    Mutant("repeat_always_block", "01.repeat", "training_loop", """
_reference_repeat = repeat_batch

def repeat_batch(batch, repeat_times, interleave=True):
    return _reference_repeat(batch, repeat_times, interleave=False)
"""),
    Mutant("repeat_always_interleaved", "01.repeat", "training_loop", """
_reference_repeat = repeat_batch

def repeat_batch(batch, repeat_times, interleave=True):
    return _reference_repeat(batch, repeat_times, interleave=True)
"""),
    # numpy columns tiled while the tensors are interleaved: tags no longer match their rows
    Mutant("repeat_numpy_tiled", "01.repeat", "training_loop", """
def repeat_batch(batch, repeat_times, interleave=True):
    out = {}
    for key, col in batch.items():
        if isinstance(col, torch.Tensor):
            out[key] = col.repeat_interleave(repeat_times, dim=0) if interleave else col.repeat(
                repeat_times, *([1] * (col.dim() - 1)))
        else:
            out[key] = np.tile(col, (repeat_times,) + (1,) * (col.ndim - 1))
    return out
"""),
    # the repeated columns written back into the caller's dict instead of a new one
    Mutant("repeat_into_the_input", "01.repeat", "training_loop", """
_reference_repeat = repeat_batch

def repeat_batch(batch, repeat_times, interleave=True):
    batch.update(_reference_repeat(batch, repeat_times, interleave))
    return batch
"""),
    # np.repeat without axis flattens 2-D columns
    Mutant("repeat_numpy_flattens", "01.repeat", "training_loop", """
_reference_repeat = repeat_batch

def repeat_batch(batch, repeat_times, interleave=True):
    out = _reference_repeat(batch, repeat_times, interleave)
    if interleave:
        out.update({k: np.repeat(v, repeat_times) for k, v in batch.items() if isinstance(v, np.ndarray)})
    return out
"""),
    # the numpy columns dropped
    Mutant("repeat_tensors_only", "01.repeat", "training_loop", """
_reference_repeat = repeat_batch

def repeat_batch(batch, repeat_times, interleave=True):
    return _reference_repeat({k: v for k, v in batch.items() if isinstance(v, torch.Tensor)}, repeat_times, interleave)
"""),
    # ---------------------------------------------------------- fit_step
    Mutant("uid_assigned_after_repeat", "01.fit_step", "training_loop", _fit_step(uid_then_repeat=UID_AFTER)),
    Mutant("block_repeat_instead_of_interleaved", "01.fit_step", "training_loop",
           _fit_step(uid_then_repeat=BLOCK_REPEAT)),
    Mutant("actor_updated_before_critic", "01.fit_step", "training_loop", _fit_step(updates="""metrics = {}
    metrics.update(workers.update_actor(batch))
    if workers.use_critic:
        metrics.update(workers.update_critic(batch))
    return metrics""")),
    Mutant("kl_in_reward_when_disabled", "01.fit_step", "training_loop",
           _fit_step(kl="batch.update(workers.apply_kl_penalty(batch))")),
    Mutant("kl_in_reward_never", "01.fit_step", "training_loop",
           _fit_step(kl='batch["token_level_rewards"] = batch["token_level_scores"]')),
    Mutant("ref_log_prob_always", "01.fit_step", "training_loop",
           _fit_step(ref="batch.update(workers.compute_ref_log_prob(batch))")),
    Mutant("values_after_advantage", "01.fit_step", "training_loop",
           _fit_step(values="", advantage=VALUES_AFTER_ADVANTAGE)),
    Mutant("advantage_replaces_batch", "01.fit_step", "training_loop",
           _fit_step(advantage="batch = {**workers.compute_advantage(batch), 'uid': batch['uid']}")),
    Mutant("changes_callers_batch", "01.fit_step", "training_loop", _fit_step(copy="pass")),
    Mutant("returns_actor_metrics_only", "01.fit_step", "training_loop", _fit_step(updates="""if workers.use_critic:
        workers.update_critic(batch)
    return workers.update_actor(batch)""")),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
