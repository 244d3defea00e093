"""Graded tests for exercises/01/batch_math.py.

Every expected value is worked by hand in a comment; tests/test_verl_01_batch_math.py checks the
reference solution against verl 0.9.1's own validation on a grid of configurations.
"""

import pytest

from verlings import learner_module
from verlings.testing import assert_equal

batch_math = learner_module("01", "batch_math")


def _config(train, n, mini, micro=None, *, epochs=None, dynamic=None, drop_micro=False):
    """The nested dict of batch_math's module docstring: T, n, M, m (+ optional keys)."""
    actor = {"ppo_mini_batch_size": mini, "ppo_micro_batch_size_per_gpu": micro}
    if drop_micro:
        del actor["ppo_micro_batch_size_per_gpu"]
    if epochs is not None:
        actor["ppo_epochs"] = epochs
    if dynamic is not None:
        actor["use_dynamic_bsz"] = dynamic
    return {"data": {"train_batch_size": train}, "actor_rollout_ref": {"rollout": {"n": n}, "actor": actor}}


def _error(config, n_gpus):
    """The ValueError message of validate_batch_sizes, or None when it accepts the config."""
    try:
        result = batch_math.validate_batch_sizes(config=config, n_gpus=n_gpus)
    except ValueError as exc:
        return str(exc)
    assert result is None, f"validate_batch_sizes returned {result!r}; it should return None (or raise ValueError)"
    return None


# ---------------------------------------------------------------- 01.real_batch


@pytest.mark.exercise("01.real_batch")
@pytest.mark.parametrize(("train", "n", "expected"), [(8, 4, 32), (3, 1, 3), (5, 7, 35), (1, 16, 16)])
def test_real_train_batch_size_counts_responses(train, n, expected):
    # train prompts × n responses each: 8×4 = 32, 3×1 = 3, 5×7 = 35, 1×16 = 16.
    seen = batch_math.real_train_batch_size(train_batch_size=train, rollout_n=n)
    assert_equal(
        seen, expected, what=f"real_train_batch_size(train_batch_size={train}, rollout_n={n})",
        why="train_batch_size counts prompts; each prompt gets rollout_n responses",
    )


# ---------------------------------------------------------------- 01.validate_batch

VALID = [
    # (T, n, M, m, n_gpus, dynamic) — worked: T*n % g, T >= M, M*n % g, T % M, (M*n/g) % m all 0
    pytest.param(8, 4, 4, 2, 2, None, id="docstring-example"),  # 32%2, 8>=4, 16%2, 8%4, 8%2
    pytest.param(4, 2, 4, 2, 1, None, id="cpu-first-run"),  # 8%1, 4>=4, 8%1, 4%4, 8%2
    pytest.param(3, 2, 3, 3, 2, None, id="odd-prompts-even-responses"),  # 6%2, 3>=3, 6%2, 3%3, 3%3
    pytest.param(3, 2, 3, 2, 1, None, id="micro-divides-responses-not-prompts"),  # 6%1, 3>=3, 6%1, 3%3, 6%2
    pytest.param(16, 8, 2, 4, 4, None, id="many-minis"),  # 128%4, 16>=2, 16%4, 16%2, 4%4
    pytest.param(8, 2, 4, None, 2, True, id="dynamic-without-micro"),  # 16%2, 8%4 (rules 2, 3, 6 skipped)
    pytest.param(8, 4, 4, 3, 2, True, id="dynamic-ignores-micro"),  # 16%2, 8%4 (rule 6 skipped)
]


@pytest.mark.exercise("01.validate_batch")
@pytest.mark.parametrize(("train", "n", "mini", "micro", "gpus", "dynamic"), VALID)
def test_validate_batch_sizes_accepts_valid_configs(train, n, mini, micro, gpus, dynamic):
    seen = _error(_config(train, n, mini, micro, dynamic=dynamic), gpus)
    assert_equal(
        seen, None, what=f"validate_batch_sizes(T={train}, n={n}, M={mini}, m={micro}, n_gpus={gpus}, "
        f"dynamic={dynamic})",
        why="verl accepts this configuration: is a rule using prompts where it should use responses "
        "(or the other way round), or checking the micro batch against the wrong size?",
    )


NO_MICRO = (
    "[actor] Please set at least one of 'actor.ppo_micro_batch_size' or "
    "'actor.ppo_micro_batch_size_per_gpu' if use_dynamic_bsz is not enabled."
)

INVALID = [
    # rule 1: T*n = 3*1 = 3 responses over 2 GPUs
    pytest.param(
        _config(3, 1, 3, 1), 2,
        "real_train_batch_size (3) must be divisible by minimal possible batch size (2)", id="rule1",
    ),
    # rule 1 counts responses: 5 prompts × 2 = 10 responses over 4 GPUs
    pytest.param(
        _config(5, 2, 5, 1), 4,
        "real_train_batch_size (10) must be divisible by minimal possible batch size (4)", id="rule1-responses",
    ),
    # rule 2: no micro batch size (None, or the key absent)
    pytest.param(_config(4, 2, 4, None), 1, NO_MICRO, id="rule2-none"),
    pytest.param(_config(4, 2, 4, drop_micro=True), 1, NO_MICRO, id="rule2-absent"),
    # rule 3: 2 prompts cannot fill a mini batch of 4 prompts (even though 2*4 = 8 responses >= 4)
    pytest.param(
        _config(2, 4, 4, 2), 1, "train_batch_size (2) must be >= actor.ppo_mini_batch_size (4)", id="rule3",
    ),
    # rule 4: T*n = 4 splits over 2 GPUs, but a mini batch of 1*1 = 1 response does not
    pytest.param(
        _config(4, 1, 1, 1), 2, "ppo_mini_batch_size * rollout.n (1) must be divisible by n_gpus (2)", id="rule4",
    ),
    # rule 5: 6 prompts are not a whole number of mini batches of 4 (M*n = 8 splits over 2 GPUs)
    pytest.param(
        _config(6, 2, 4, 2), 2, "train_batch_size (6) must be divisible by actor.ppo_mini_batch_size (4)",
        id="rule5",
    ),
    # rule 6: M*n/g = 4*4/2 = 8 responses per GPU, micro batches of 3
    pytest.param(
        _config(8, 4, 4, 3), 2,
        "ppo_mini_batch_size * rollout.n / n_gpus (8) must be divisible by ppo_micro_batch_size_per_gpu (3)",
        id="rule6",
    ),
    # rule 6 is per GPU: M*n = 4 divides by m = 4, but each of the 2 GPUs holds only 4/2 = 2 responses
    pytest.param(
        _config(4, 1, 4, 4), 2,
        "ppo_mini_batch_size * rollout.n / n_gpus (2) must be divisible by ppo_micro_batch_size_per_gpu (4)",
        id="rule6-per-gpu",
    ),
    # order: rules 1, 2, 3 all fail (3 responses on 2 GPUs, no micro, 3 < 4): the first one wins
    pytest.param(
        _config(3, 1, 4, None), 2,
        "real_train_batch_size (3) must be divisible by minimal possible batch size (2)", id="order-1-first",
    ),
    # order: rules 3 and 5 both fail (2 < 4 and 2 % 4 != 0): rule 3 first
    pytest.param(
        _config(2, 2, 4, 1), 1, "train_batch_size (2) must be >= actor.ppo_mini_batch_size (4)", id="order-3-first",
    ),
    # dynamic batching skips rules 1-3 and 6, never 4 and 5: 6 % 4 != 0
    pytest.param(
        _config(6, 2, 4, None, dynamic=True), 2,
        "train_batch_size (6) must be divisible by actor.ppo_mini_batch_size (4)", id="dynamic-rule5",
    ),
    # dynamic batching still splits a mini batch of M*n = 3 responses over 2 GPUs: rule 4
    pytest.param(
        _config(6, 1, 3, None, dynamic=True), 2,
        "ppo_mini_batch_size * rollout.n (3) must be divisible by n_gpus (2)", id="dynamic-rule4",
    ),
]


@pytest.mark.exercise("01.validate_batch")
@pytest.mark.parametrize(("config", "gpus", "message"), INVALID)
def test_validate_batch_sizes_rejects_with_verl_message(config, gpus, message):
    seen = _error(config, gpus)
    actor = config["actor_rollout_ref"]["actor"]
    assert_equal(
        seen, message,
        what=f"ValueError message for T={config['data']['train_batch_size']}, "
        f"n={config['actor_rollout_ref']['rollout']['n']}, M={actor['ppo_mini_batch_size']}, "
        f"m={actor.get('ppo_micro_batch_size_per_gpu')}, n_gpus={gpus}, dynamic={actor.get('use_dynamic_bsz')}",
        why="None means nothing was raised. Check the six rules in the docstring's order; "
        "T and M count prompts, everything per GPU counts responses (× n).",
    )


@pytest.mark.exercise("01.validate_batch")
def test_validate_batch_sizes_does_not_modify_config():
    config = _config(8, 4, 4, 2, epochs=1)
    before = repr(config)
    batch_math.validate_batch_sizes(config=config, n_gpus=2)
    assert_equal(repr(config), before, what="config after validate_batch_sizes",
                 why="validation must only read the config")


# ---------------------------------------------------------------- 01.optimizer_steps

STEPS = [
    # (T, n, M, epochs, expected): epochs × T / M — n cancels out: (T*n) / (M*n)
    pytest.param(8, 4, 4, 2, 4, id="docstring-example"),  # 2 × 8/4
    pytest.param(8, 4, 4, None, 2, id="epochs-default-1"),  # 1 × 8/4
    pytest.param(4, 2, 4, 1, 1, id="one-mini-batch"),  # 1 × 4/4
    pytest.param(12, 3, 4, 3, 9, id="three-epochs"),  # 3 × 12/4
    pytest.param(16, 1, 2, 1, 8, id="n-1"),  # 1 × 16/2
    pytest.param(16, 8, 2, 1, 8, id="n-8-same-count"),  # 1 × 16/2: n does not change it
]


@pytest.mark.exercise("01.optimizer_steps")
@pytest.mark.parametrize(("train", "n", "mini", "epochs", "expected"), STEPS)
def test_optimizer_steps_per_batch(train, n, mini, epochs, expected):
    seen = batch_math.optimizer_steps_per_batch(config=_config(train, n, mini, 1, epochs=epochs))
    assert_equal(
        seen, expected, what=f"optimizer_steps_per_batch(T={train}, n={n}, M={mini}, ppo_epochs={epochs})",
        why="one optimizer step per mini batch per epoch; a mini batch is M prompts = M*n responses, "
        "so n cancels out (ppo_epochs defaults to 1)",
    )
    assert isinstance(seen, int), f"optimizer_steps_per_batch returned {type(seen).__name__}, expected int"
