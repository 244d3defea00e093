"""Known-wrong variants of exercises/03/switching.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught


def _drop(algorithm: str, prefix: str) -> str:
    """switch_overrides with every override of ``algorithm`` that starts with ``prefix`` removed."""
    return f"""
    _reference_switch = switch_overrides

    def switch_overrides(algorithm, model_path, max_response_length, micro_batch_size_per_gpu=2):
        out = _reference_switch(algorithm, model_path, max_response_length, micro_batch_size_per_gpu)
        if algorithm == {algorithm!r}:
            out = [o for o in out if not o.startswith({prefix!r})]
        return out
    """


def _replace(algorithm: str, old: str, new: str) -> str:
    return f"""
    _reference_switch = switch_overrides

    def switch_overrides(algorithm, model_path, max_response_length, micro_batch_size_per_gpu=2):
        out = _reference_switch(algorithm, model_path, max_response_length, micro_batch_size_per_gpu)
        if algorithm == {algorithm!r}:
            out = [o.replace({old!r}, {new!r}) for o in out]
        return out
    """


MUTANTS = [
    Mutant("grpo_without_kl_loss", "03.switching", "switching",
           _replace("grpo", "actor.use_kl_loss=True", "actor.use_kl_loss=False")),
    Mutant("dr_grpo_keeps_std", "03.switching", "switching",
           _replace("dr_grpo", "norm_adv_by_std_in_grpo=False", "norm_adv_by_std_in_grpo=True")),
    Mutant("dr_grpo_token_mean", "03.switching", "switching",
           _replace("dr_grpo", "seq-mean-token-sum-norm", "token-mean")),
    Mutant("dr_grpo_scale_factor_left_to_response_length", "03.switching", "switching",
           _drop("dr_grpo", "actor_rollout_ref.actor.loss_scale_factor")),
    Mutant("dapo_clip_high_equals_low", "03.switching", "switching",
           _replace("dapo", "clip_ratio_high=0.28", "clip_ratio_high=0.2")),
    Mutant("dapo_without_overlong_shaping", "03.switching", "switching", _drop("dapo", "+reward.reward_kwargs")),
    Mutant("dapo_new_keys_without_plus", "03.switching", "switching", _replace("dapo", "+reward.", "reward.")),
    Mutant("dapo_without_dynamic_sampling", "03.switching", "switching", _drop("dapo", "algorithm.filter_groups")),
    Mutant("dapo_naive_reward_manager", "03.switching", "switching", _drop("dapo", "reward.reward_manager.name")),
    Mutant("ppo_critic_without_micro_batch", "03.switching", "switching",
           _drop("ppo", "critic.ppo_micro_batch_size_per_gpu")),
    Mutant("ppo_critic_on_verls_default_model", "03.switching", "switching", _drop("ppo", "critic.model.path")),
    Mutant("ppo_keeps_the_group", "03.switching", "switching", _drop("ppo", "actor_rollout_ref.rollout.n")),
    # true division: 48 / 4 composes as the float 12.0, not a length in tokens
    Mutant("dapo_buffer_true_division", "03.switching", "switching",
           replace={"buffer = max_response_length // 4": "buffer = max_response_length / 4"}),
    # the signature's default is part of the contract: one sample per micro-batch is not it
    Mutant("micro_batch_default_one", "03.switching", "switching",
           replace={"micro_batch_size_per_gpu: int = 2\n": "micro_batch_size_per_gpu: int = 1\n"}),
    Mutant(
        "unknown_algorithm_falls_back_to_grpo",
        "03.switching",
        "switching",
        """
        _reference_switch = switch_overrides

        def switch_overrides(algorithm, model_path, max_response_length, micro_batch_size_per_gpu=2):
            if algorithm not in ALGORITHMS:
                algorithm = "grpo"
            return _reference_switch(algorithm, model_path, max_response_length, micro_batch_size_per_gpu)
        """,
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
