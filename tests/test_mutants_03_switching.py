"""Known-wrong variants of exercises/03/switching.py: each must fail at least one graded test.

Each mutant is an edit of solutions/03/switching.py (``replace={reference text: wrong text}``).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

EX = "03.switching"
# DAPO's overlong reward shaping: the five reward_kwargs lines of the reference
OVERLONG = (
    '        "+reward.reward_kwargs.overlong_buffer_cfg.enable=True",\n'
    '        f"+reward.reward_kwargs.overlong_buffer_cfg.len={buffer}",\n'
    '        "+reward.reward_kwargs.overlong_buffer_cfg.penalty_factor=1.0",\n'
    '        "+reward.reward_kwargs.overlong_buffer_cfg.log=False",\n'
    '        f"+reward.reward_kwargs.max_resp_len={max_response_length}",\n'
)
FILTER_GROUPS = '        "algorithm.filter_groups.enable=True",\n        "algorithm.filter_groups.metric=acc",\n'
UNKNOWN = (
    "        raise ValueError(f\"unknown algorithm {algorithm!r}: expected one of {', '.join(ALGORITHMS)}\")\n"
)


def _drop(line: str) -> dict[str, str]:
    """The edit that removes one override line of the reference."""
    return {line: ""}


MUTANTS = [
    Mutant("grpo_without_kl_loss", EX, "switching",
           replace={'f"{ACTOR}.use_kl_loss=True",': 'f"{ACTOR}.use_kl_loss=False",'}),
    Mutant("dr_grpo_keeps_std", EX, "switching",
           replace={'"algorithm.norm_adv_by_std_in_grpo=False",': '"algorithm.norm_adv_by_std_in_grpo=True",'}),
    Mutant("dr_grpo_token_mean", EX, "switching",
           replace={"loss_agg_mode=seq-mean-token-sum-norm": "loss_agg_mode=token-mean"}),
    Mutant("dr_grpo_scale_factor_left_to_response_length", EX, "switching",
           replace=_drop('            f"{ACTOR}.loss_scale_factor={max_response_length}",\n')),
    Mutant("dapo_clip_high_equals_low", EX, "switching", replace={"clip_ratio_high=0.28": "clip_ratio_high=0.2"}),
    Mutant("dapo_without_overlong_shaping", EX, "switching", replace=_drop(OVERLONG)),
    Mutant("dapo_new_keys_without_plus", EX, "switching", replace={OVERLONG: OVERLONG.replace("+reward.", "reward.")}),
    Mutant("dapo_without_dynamic_sampling", EX, "switching", replace=_drop(FILTER_GROUPS)),
    Mutant("dapo_naive_reward_manager", EX, "switching", replace=_drop('        "reward.reward_manager.name=dapo",\n')),
    Mutant("ppo_critic_without_micro_batch", EX, "switching",
           replace=_drop('            f"critic.ppo_micro_batch_size_per_gpu={micro_batch_size_per_gpu}",\n')),
    Mutant("ppo_critic_on_verls_default_model", EX, "switching",
           replace=_drop("            f\"critic.model.path='{model_path}'\",\n")),
    Mutant("ppo_keeps_the_group", EX, "switching", replace=_drop('            "actor_rollout_ref.rollout.n=1",\n')),
    # true division: 48 / 4 composes as the float 12.0, not a length in tokens
    Mutant("dapo_buffer_true_division", EX, "switching",
           replace={"buffer = max_response_length // 4": "buffer = max_response_length / 4"}),
    # the signature's default is part of the contract: one sample per micro-batch is not it
    Mutant("micro_batch_default_one", EX, "switching",
           replace={"micro_batch_size_per_gpu: int = 2\n": "micro_batch_size_per_gpu: int = 1\n"}),
    Mutant("unknown_algorithm_falls_back_to_grpo", EX, "switching", replace={UNKNOWN: '        algorithm = "grpo"\n'}),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
