"""Known-wrong variants of exercises/01/batch_math.py: each must fail at least one graded test.

Each mutant's code is appended to solutions/01/batch_math.py, so it may use the module's
helpers (_sizes, _NO_MICRO, real_train_batch_size).
"""

import pytest

from verlings.dev.mutants import Mutant, caught


def _validate(*, real="train * n", rule3="train < mini", rule6="per_gpu % micro != 0", dynamic="dynamic",
              swap_35=False, exc="ValueError"):
    """validate_batch_sizes with one piece replaced (the reference's rules otherwise)."""
    rule5 = f"""
    if train % mini != 0:
        raise {exc}(f"train_batch_size ({{train}}) must be divisible by actor.ppo_mini_batch_size ({{mini}})")"""
    rule3_code = f"""
        if {rule3}:
            raise {exc}(f"train_batch_size ({{train}}) must be >= actor.ppo_mini_batch_size ({{mini}})")"""
    return f"""
def validate_batch_sizes(config, n_gpus):
    train, n, mini, micro, _, dynamic = _sizes(config)
    real = {real}
    {rule5 if swap_35 else ""}
    if not ({dynamic}):
        if real % n_gpus != 0:
            raise {exc}(
                f"real_train_batch_size ({{real}}) must be divisible by minimal possible batch size ({{n_gpus}})"
            )
        if micro is None:
            raise {exc}(_NO_MICRO){rule3_code}
    mini_responses = mini * n
    if mini_responses % n_gpus != 0:
        raise {exc}(f"ppo_mini_batch_size * rollout.n ({{mini_responses}}) must be divisible by n_gpus ({{n_gpus}})")
    {"" if swap_35 else rule5}
    per_gpu = mini_responses // n_gpus
    if not ({dynamic}) and {rule6}:
        raise {exc}(
            f"ppo_mini_batch_size * rollout.n / n_gpus ({{per_gpu}}) must be divisible by "
            f"ppo_micro_batch_size_per_gpu ({{micro}})"
        )
"""


MUTANTS = [
    # ---------------------------------------------------------- real_train_batch_size
    Mutant("real_batch_counts_prompts", "01.real_batch", "batch_math", """
def real_train_batch_size(train_batch_size, rollout_n):
    return train_batch_size
"""),
    Mutant("real_batch_adds_n", "01.real_batch", "batch_math", """
def real_train_batch_size(train_batch_size, rollout_n):
    return train_batch_size + rollout_n
"""),
    # ---------------------------------------------------------- validate_batch_sizes
    # data.train_batch_size taken as the number of responses (it counts prompts)
    Mutant("train_batch_counted_as_responses", "01.validate_batch", "batch_math", _validate(real="train")),
    # the mini batch compared in responses: T*n >= M instead of T >= M
    Mutant("mini_check_in_responses", "01.validate_batch", "batch_math", _validate(rule3="train * n < mini")),
    # micro/mini rule inverted: the micro batch must divide the per-GPU mini batch, not the other way round
    Mutant("micro_mini_rule_inverted", "01.validate_batch", "batch_math", _validate(rule6="micro % per_gpu != 0")),
    # the micro batch checked against the whole mini batch, forgetting it is per GPU
    Mutant("micro_rule_not_per_gpu", "01.validate_batch", "batch_math",
           _validate(rule6="mini_responses % micro != 0")),
    # the micro batch checked against M prompts instead of M*n/n_gpus responses
    Mutant("micro_rule_in_prompts", "01.validate_batch", "batch_math", _validate(rule6="mini % micro != 0")),
    # dynamic batching ignored: a missing micro batch size is always an error
    Mutant("dynamic_bsz_ignored", "01.validate_batch", "batch_math", _validate(dynamic="False")),
    # T % M checked before T >= M: the wrong message for T < M
    Mutant("divisibility_before_minimum", "01.validate_batch", "batch_math", _validate(swap_35=True)),
    # verl-style assert instead of ValueError
    Mutant("asserts_instead_of_value_error", "01.validate_batch", "batch_math", _validate(exc="AssertionError")),
    # the runtime rules (4-6) left out: verl would fail minutes into the run
    Mutant("runtime_rules_missing", "01.validate_batch", "batch_math", """
_reference_validate = validate_batch_sizes

def validate_batch_sizes(config, n_gpus):
    train, n, mini, micro, _, dynamic = _sizes(config)
    if not dynamic:
        if train * n % n_gpus != 0:
            raise ValueError(
                f"real_train_batch_size ({train * n}) must be divisible by minimal possible batch size ({n_gpus})"
            )
        if micro is None:
            raise ValueError(_NO_MICRO)
        if train < mini:
            raise ValueError(f"train_batch_size ({train}) must be >= actor.ppo_mini_batch_size ({mini})")
"""),
    # ---------------------------------------------------------- optimizer_steps_per_batch
    Mutant("steps_forget_epochs", "01.optimizer_steps", "batch_math", """
def optimizer_steps_per_batch(config):
    train, _, mini, _, epochs, _ = _sizes(config)
    return train // mini
"""),
    Mutant("steps_count_responses_per_prompt_mini", "01.optimizer_steps", "batch_math", """
def optimizer_steps_per_batch(config):
    train, n, mini, _, epochs, _ = _sizes(config)
    return epochs * (train * n // mini)
"""),
    Mutant("steps_count_micro_batches", "01.optimizer_steps", "batch_math", """
def optimizer_steps_per_batch(config):
    train, n, mini, micro, epochs, _ = _sizes(config)
    return epochs * (train * n // micro)
"""),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
