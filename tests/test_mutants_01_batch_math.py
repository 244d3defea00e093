"""Known-wrong variants of exercises/01/batch_math.py: each must fail at least one graded test.

Each mutant is an edit of solutions/01/batch_math.py (``replace={reference text: wrong text}``).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

VALIDATE = "01.validate_batch"
STEPS = "01.optimizer_steps"

MUTANTS = [
    # ---------------------------------------------------------- real_train_batch_size
    Mutant("real_batch_counts_prompts", "01.real_batch", "batch_math",
           replace={"return train_batch_size * rollout_n": "return train_batch_size"}),
    Mutant("real_batch_adds_n", "01.real_batch", "batch_math",
           replace={"return train_batch_size * rollout_n": "return train_batch_size + rollout_n"}),
    # ---------------------------------------------------------- validate_batch_sizes
    # data.train_batch_size taken as the number of responses (it counts prompts)
    Mutant("train_batch_counted_as_responses", VALIDATE, "batch_math",
           replace={"real = real_train_batch_size(train, n)": "real = train"}),
    # the mini batch compared in responses: T*n >= M instead of T >= M
    Mutant("mini_check_in_responses", VALIDATE, "batch_math", replace={"if train < mini:": "if train * n < mini:"}),
    # micro/mini rule inverted: the micro batch must divide the per-GPU mini batch, not the other way round
    Mutant("micro_mini_rule_inverted", VALIDATE, "batch_math",
           replace={"per_gpu % micro != 0": "micro % per_gpu != 0"}),
    # the micro batch checked against the whole mini batch, forgetting it is per GPU
    Mutant("micro_rule_not_per_gpu", VALIDATE, "batch_math",
           replace={"per_gpu % micro != 0": "mini_responses % micro != 0"}),
    # the micro batch checked against M prompts instead of M*n/n_gpus responses
    Mutant("micro_rule_in_prompts", VALIDATE, "batch_math", replace={"per_gpu % micro != 0": "mini % micro != 0"}),
    # dynamic batching ignored: a missing micro batch size is always an error
    Mutant("dynamic_bsz_ignored", VALIDATE, "batch_math",
           replace={"bool(actor.get(\"use_dynamic_bsz\", False)),": "False,"}),
    # T % M checked before T >= M: the wrong message for T < M
    Mutant("divisibility_before_minimum", VALIDATE, "batch_math", replace={
        "    # ... each GPU's share of the step is cut into whole mini batches (tensordict_utils.make_iterator) ...\n"
        "    if train % mini != 0:\n": "    if False:\n",
        "    real = real_train_batch_size(train, n)\n":
        "    real = real_train_batch_size(train, n)\n"
        "    if train % mini != 0:\n"
        "        raise ValueError(f\"train_batch_size ({train}) must be divisible by \"\n"
        "                         f\"actor.ppo_mini_batch_size ({mini})\")\n",
    }),
    # verl-style assert instead of ValueError: every rule raises AssertionError
    Mutant("asserts_instead_of_value_error", VALIDATE, "batch_math", replace={
        "    train, n, mini, micro, _, dynamic = _sizes(config)\n":
        "    ValueError = AssertionError\n    train, n, mini, micro, _, dynamic = _sizes(config)\n"}),
    # the runtime rules (4-6) left out: verl would fail minutes into the run
    Mutant("runtime_rules_missing", VALIDATE, "batch_math", replace={
        "    # Runtime (TrainingWorker.train_mini_batch)":
        "    return\n    # Runtime (TrainingWorker.train_mini_batch)"}),
    # ---------------------------------------------------------- optimizer_steps_per_batch
    Mutant("steps_forget_epochs", STEPS, "batch_math",
           replace={"return epochs * (train // mini)": "return train // mini"}),
    Mutant("steps_count_responses_per_prompt_mini", STEPS, "batch_math", replace={
        "train, _, mini, _, epochs, _ = _sizes(config)": "train, n, mini, _, epochs, _ = _sizes(config)",
        "return epochs * (train // mini)": "return epochs * (train * n // mini)"}),
    Mutant("steps_count_micro_batches", STEPS, "batch_math", replace={
        "train, _, mini, _, epochs, _ = _sizes(config)": "train, n, mini, micro, epochs, _ = _sizes(config)",
        "return epochs * (train // mini)": "return epochs * (train * n // micro)"}),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
