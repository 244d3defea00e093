"""Graded differential tests for exercises/01/batch_math.py: your batch-size rules against verl 0.9.1's
own checks on generated configurations.

verl's side is ``verlings/verl_batch_rules.py``: its six checks (``validate_config``,
``ActorConfig.__post_init__``/``validate``, ``TrainingWorker.train_mini_batch``, ``make_iterator``,
``prepare_micro_batches``) copied line by line with their file and line numbers, because importing
them costs 20–80 s here; tests/test_verl_01_batch_math.py runs that copy against the live verl
functions. Hypothesis draws prompts, n, mini and micro batch sizes, GPUs (1 to 16), dynamic batching
on or off and epochs: random ones (most are rejected early), valid ones built to pass, and valid
ones with one size nudged by one. Derandomized: the same configurations on every run; a failure
shows the smallest it found.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verlings import learner_module
from verlings.differential import PROPERTY_SETTINGS, assert_agrees
from verlings.verl_batch_rules import verl_batch_verdict, verl_optimizer_steps

batch_math = learner_module("01", "batch_math")

GPUS = st.sampled_from([1, 2, 3, 4, 6, 8, 16])


@st.composite
def valid_sizes(draw):
    """(T, n, M, m, n_gpus) that pass every rule: M = n_gpus·m·a prompts, T = M·b."""
    n, gpus, micro = draw(st.integers(1, 8)), draw(GPUS), draw(st.integers(1, 8))
    mini = gpus * micro * draw(st.integers(1, 3))
    return mini * draw(st.integers(1, 4)), n, mini, micro, gpus


@st.composite
def nudged(draw):
    """A valid configuration with one size moved by ±1: each rule's edge."""
    sizes = list(draw(valid_sizes()))
    i = draw(st.integers(0, 4))
    sizes[i] = max(1, sizes[i] + draw(st.sampled_from([-1, 1])))
    return tuple(sizes)


sizes = st.one_of(
    st.tuples(st.integers(1, 64), st.integers(1, 16), st.integers(1, 64), st.integers(1, 16), GPUS),
    valid_sizes(),
    nudged(),
)


def _config(train, n, mini, micro, dynamic, epochs):
    actor = {"ppo_mini_batch_size": mini, "ppo_micro_batch_size_per_gpu": micro, "use_dynamic_bsz": dynamic}
    if epochs is not None:
        actor["ppo_epochs"] = epochs
    return {"data": {"train_batch_size": train}, "actor_rollout_ref": {"rollout": {"n": n}, "actor": actor}}


def _message(config, n_gpus):
    """validate_batch_sizes' ValueError message, or None when it returns."""
    try:
        batch_math.validate_batch_sizes(config=config, n_gpus=n_gpus)
    except ValueError as exc:
        return str(exc)
    return None


def _verl_message(config, n_gpus):
    actor = config["actor_rollout_ref"]["actor"]
    verdict = verl_batch_verdict(
        config["data"]["train_batch_size"],
        config["actor_rollout_ref"]["rollout"]["n"],
        actor["ppo_mini_batch_size"],
        actor["ppo_micro_batch_size_per_gpu"],
        n_gpus,
        actor["use_dynamic_bsz"],
    )
    return None if verdict is None else verdict.message


@pytest.mark.exercise("01.real_batch")
@settings(PROPERTY_SETTINGS, max_examples=50)
@given(train=st.integers(1, 4096), n=st.integers(1, 64))
def test_real_train_batch_size_agrees_with_verl(train, n):
    assert_agrees(
        "real_train_batch_size",
        batch_math.real_train_batch_size,
        # verl/utils/config.py:123: real_train_batch_size = data.train_batch_size * actor_rollout_ref.rollout.n
        lambda train_batch_size, rollout_n: train_batch_size * rollout_n,
        kwargs={"train_batch_size": train, "rollout_n": n},
        types=(int,),
        why="verl: data.train_batch_size prompts × rollout.n responses each",
    )


@pytest.mark.exercise("01.validate_batch")
@settings(PROPERTY_SETTINGS, max_examples=150)
@given(sizes=sizes, drop_micro=st.booleans(), dynamic=st.booleans())
def test_validate_batch_sizes_agrees_with_verls_checks(sizes, drop_micro, dynamic):
    train, n, mini, micro, gpus = sizes
    config = _config(train, n, mini, None if drop_micro else micro, dynamic, None)
    assert_agrees(
        "validate_batch_sizes",
        _message,
        _verl_message,
        kwargs={"config": config, "n_gpus": gpus},
        types=(str, type(None)),
        why="(the message raised, None = accepted) verl checks 1-3 only without dynamic batching, then 4-6 "
        "(6 only without dynamic batching), in the docstring's order; T and M count prompts, per GPU counts responses",
    )


@pytest.mark.exercise("01.optimizer_steps")
@settings(PROPERTY_SETTINGS, max_examples=60)
@given(sizes=valid_sizes(), epochs=st.one_of(st.none(), st.integers(1, 4)))
def test_optimizer_steps_agree_with_verls_iterator(sizes, epochs):
    train, n, mini, micro, gpus = sizes
    config = _config(train, n, mini, micro, False, epochs)
    assert_agrees(
        "optimizer_steps_per_batch",
        batch_math.optimizer_steps_per_batch,
        lambda config: verl_optimizer_steps(train, n, mini, gpus, 1 if epochs is None else epochs),
        kwargs={"config": config},
        types=(int,),
        why=f"verl (on {gpus} GPUs): one optimizer step per mini batch of M·n/n_gpus rows of a GPU's T·n/n_gpus, "
        "every epoch (ppo_epochs defaults to 1)",
    )
