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
    """(T, n, M, m, n_gpus) that pass every rule, built from one GPU's share of a mini batch:
    k micro batches of m responses on each of n_gpus GPUs = M·n responses, n one of its divisors."""
    gpus, micro, k = draw(GPUS), draw(st.integers(1, 8)), draw(st.integers(1, 4))
    responses = gpus * micro * k
    n = draw(st.sampled_from([d for d in range(1, min(responses, 16) + 1) if responses % d == 0]))
    mini = responses // n
    return mini * draw(st.integers(1, 4)), n, mini, micro, gpus


@st.composite
def nudged(draw):
    """A valid configuration with one size moved by ±1: each rule's edge."""
    sizes = list(draw(valid_sizes()))
    i = draw(st.integers(0, 4))
    sizes[i] = max(1, sizes[i] + draw(st.sampled_from([-1, 1])))
    return tuple(sizes)


@st.composite
def micro_edges(draw):
    """A valid configuration with the micro batch made j times larger: it may still divide M·n but not
    one GPU's M·n/n_gpus (rule 6 is per GPU)."""
    train, n, mini, micro, gpus = draw(valid_sizes())
    return train, n, mini, micro * draw(st.sampled_from([2, 3, gpus])), gpus


sizes = st.one_of(
    micro_edges(),
    st.tuples(st.integers(1, 64), st.integers(1, 16), st.integers(1, 64), st.integers(1, 16), GPUS),
    valid_sizes(),
    nudged(),
)


def _config(train, n, mini, micro, dynamic, epochs):
    actor = {"ppo_mini_batch_size": mini, "ppo_micro_batch_size_per_gpu": micro, "use_dynamic_bsz": dynamic}
    if micro is None:
        del actor["ppo_micro_batch_size_per_gpu"]
    if epochs is not None:
        actor["ppo_epochs"] = epochs
    return {"data": {"train_batch_size": train}, "actor_rollout_ref": {"rollout": {"n": n}, "actor": actor}}


def _message(T, n, M, m, n_gpus, dynamic):
    """validate_batch_sizes' ValueError message for these sizes (m None = the key absent), or None when it returns."""
    try:
        batch_math.validate_batch_sizes(config=_config(T, n, M, m, dynamic, None), n_gpus=n_gpus)
    except ValueError as exc:
        return str(exc)
    return None


def _verl_message(T, n, M, m, n_gpus, dynamic):
    verdict = verl_batch_verdict(T, n, M, m, n_gpus, dynamic)
    return None if verdict is None else verdict.message


@pytest.mark.exercise("01.real_batch")
@settings(PROPERTY_SETTINGS, max_examples=25)
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
@settings(PROPERTY_SETTINGS, max_examples=100)
# Mostly without dynamic batching and with a micro batch size: that is where all six rules run.
@given(
    sizes=sizes, drop_micro=st.sampled_from([False, False, False, True]), dynamic=st.sampled_from([False, False, True])
)
def test_validate_batch_sizes_agrees_with_verls_checks(sizes, drop_micro, dynamic):
    train, n, mini, micro, gpus = sizes
    # Shown as validate_batch_sizes(T=…, n=…, M=…, m=…, n_gpus=…, dynamic=…): the config dict holds these.
    assert_agrees(
        "validate_batch_sizes",
        _message,
        _verl_message,
        kwargs={"T": train, "n": n, "M": mini, "m": None if drop_micro else micro, "n_gpus": gpus, "dynamic": dynamic},
        types=(str, type(None)),
        why="(the message raised, None = accepted) verl checks 1-3 only without dynamic batching, then 4-6 "
        "(6 only without dynamic batching), in the docstring's order; T and M count prompts, per GPU counts responses",
    )


@pytest.mark.exercise("01.optimizer_steps")
@settings(PROPERTY_SETTINGS, max_examples=30)
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
