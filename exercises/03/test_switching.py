"""Graded tests for exercises/03/switching.py: the overrides are composed with verl 0.9.1's own Hydra
config and checked by verl's ``validate_config`` (verlings/verl_config.py; verl imported lazily, 3–5 s)."""

from functools import cache

import pytest

from verlings import learner_module
from verlings.testing import assert_equal, hint_line

switching = learner_module("03", "switching")
EXERCISE = "03.switching"
MAX_RESPONSE_LENGTH = 48


@cache
def _model() -> str:
    from verlings.capstone.model import model_path  # the course's tiny Qwen2 (built once, cached)

    return str(model_path())


def _base() -> list[str]:
    """A GRPO run on one GPU that verl accepts (chapter 01's first run)."""
    model = _model()
    return [
        "algorithm.adv_estimator=grpo", "data.train_files=train.parquet", "data.val_files=test.parquet",
        "data.train_batch_size=4", "data.max_prompt_length=64", f"data.max_response_length={MAX_RESPONSE_LENGTH}",
        f"actor_rollout_ref.model.path='{model}'", "actor_rollout_ref.rollout.n=2",
        "actor_rollout_ref.rollout.name=vllm", "actor_rollout_ref.rollout.tensor_model_parallel_size=1",
        "actor_rollout_ref.actor.ppo_mini_batch_size=4", "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=2",
        "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=2",
        "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=2", "trainer.n_gpus_per_node=1", "trainer.nnodes=1",
    ]


def _composed(algorithm: str, micro_batch_size_per_gpu: int | None = 1):
    """verl's config after ``algorithm``'s overrides; ``micro_batch_size_per_gpu=None`` leaves the default."""
    # Cached per function too: the course's mutant runner grades many targets in one process, and
    # pytest keeps this module between runs — a cache keyed on the algorithm alone hands one
    # variant's config to the next.
    return _composed_with(switching.switch_overrides, algorithm, micro_batch_size_per_gpu)


@cache
def _composed_with(switch_overrides, algorithm: str, micro_batch_size_per_gpu: int | None):
    from verlings import verl_config

    micro = {} if micro_batch_size_per_gpu is None else {"micro_batch_size_per_gpu": micro_batch_size_per_gpu}
    overrides = switch_overrides(
        algorithm=algorithm, model_path=_model(), max_response_length=MAX_RESPONSE_LENGTH, **micro
    )
    assert isinstance(overrides, list) and all(isinstance(o, str) for o in overrides), (
        f"switch_overrides({algorithm!r}, ...) should return a list of str, got {overrides!r}"
    )
    try:
        return verl_config.compose(_base() + overrides)
    except Exception as exc:
        # Hydra is imported only here: a remembered composition needs none of it (60 ms a run)
        from hydra.errors import ConfigCompositionException

        if not isinstance(exc, ConfigCompositionException):
            raise
        raise AssertionError(
            f"Hydra cannot compose verl's config with your {algorithm!r} overrides: {exc}\n"
            "  a key that verl's config does not have needs '+key=value'\n"
            + hint_line()
        ) from None


A = "actor_rollout_ref.actor."
EXPECTED = {
    "grpo": {
        "algorithm.adv_estimator": "grpo", "algorithm.norm_adv_by_std_in_grpo": True,
        "algorithm.use_kl_in_reward": False, A + "loss_agg_mode": "token-mean", A + "use_kl_loss": True,
        A + "kl_loss_type": "low_var_kl", A + "kl_loss_coef": 0.001,
    },
    "dr_grpo": {
        "algorithm.adv_estimator": "grpo", "algorithm.norm_adv_by_std_in_grpo": False,
        "algorithm.use_kl_in_reward": False, A + "loss_agg_mode": "seq-mean-token-sum-norm",
        A + "loss_scale_factor": MAX_RESPONSE_LENGTH, A + "use_kl_loss": False,
    },
    "dapo": {
        "algorithm.adv_estimator": "grpo", "algorithm.norm_adv_by_std_in_grpo": True,
        "algorithm.use_kl_in_reward": False, A + "clip_ratio_low": 0.2, A + "clip_ratio_high": 0.28,
        A + "loss_agg_mode": "token-mean", A + "use_kl_loss": False, "algorithm.filter_groups.enable": True,
        "reward.reward_manager.name": "dapo",
        "reward.reward_kwargs.overlong_buffer_cfg": {
            "enable": True, "len": MAX_RESPONSE_LENGTH // 4, "penalty_factor": 1.0, "log": False,
        },
        "reward.reward_kwargs.max_resp_len": MAX_RESPONSE_LENGTH,
    },
    "ppo": {
        "algorithm.adv_estimator": "gae", "algorithm.lam": 0.95, "actor_rollout_ref.rollout.n": 1,
        A + "use_kl_loss": False, "critic.ppo_micro_batch_size_per_gpu": 1,
    },
}
WHY = {
    "grpo": "GRPO: grpo estimator with the std, token-mean, KL as a loss (low_var_kl, 0.001), no KL in the reward",
    "dr_grpo": "Dr. GRPO: no std normalisation, seq-mean-token-sum-norm with a constant loss_scale_factor, no KL",
    "dapo": "DAPO: clip-higher 0.2/0.28, token-mean, no KL, filter_groups on, the dapo reward manager with "
    "+reward.reward_kwargs.overlong_buffer_cfg and +reward.reward_kwargs.max_resp_len",
    "ppo": "PPO: the gae estimator (lam 0.95) with a critic, one sample per prompt, no KL loss",
}


@pytest.mark.exercise(EXERCISE)
@pytest.mark.parametrize("algorithm", list(EXPECTED))
def test_switch_overrides_set_the_algorithm(algorithm):
    from verlings import verl_config

    cfg = _composed(algorithm)
    seen = {key: verl_config.select(cfg, key) for key in EXPECTED[algorithm]}
    wrong = {k: v for k, v in EXPECTED[algorithm].items() if seen[k] != v}
    assert_equal({k: seen[k] for k in wrong}, wrong, what=f"the composed config after your {algorithm!r} overrides",
                 why=WHY[algorithm])


@pytest.mark.exercise(EXERCISE)
@pytest.mark.parametrize("algorithm", list(EXPECTED))
def test_switch_overrides_accepted_by_verl(algorithm):
    from verlings import verl_config

    cfg = _composed(algorithm)
    assert_equal(verl_config.rejection(cfg), None, what=f"verl's validate_config on the {algorithm!r} config",
                 why="verl must accept the run as composed (batch sizes, the critic's settings)")


@pytest.mark.exercise(EXERCISE)
def test_switch_overrides_dapo_sets_a_filter_metric():
    from verlings import verl_config

    metric = verl_config.select(_composed("dapo"), "algorithm.filter_groups.metric")
    assert metric, "dynamic sampling needs algorithm.filter_groups.metric (e.g. acc, the dapo manager's accuracy)"


@pytest.mark.exercise(EXERCISE)
def test_switch_overrides_ppo_uses_a_critic_on_the_model():
    from verlings import verl_config

    cfg = _composed("ppo")
    assert_equal((verl_config.uses_critic(cfg), verl_config.select(cfg, "critic.model.path")), (True, _model()),
                 what="(critic used, critic.model.path)",
                 why="gae needs a critic; verl's default critic.model.path is not your model")


@pytest.mark.exercise(EXERCISE)
def test_switch_overrides_rejects_unknown_algorithms():
    with pytest.raises(ValueError, match="dr_grpo"):
        switching.switch_overrides(algorithm="reinforce", model_path=_model(), max_response_length=MAX_RESPONSE_LENGTH)


@pytest.mark.exercise(EXERCISE)
def test_switch_overrides_dapo_buffer_is_a_whole_number_of_tokens():
    from verlings import verl_config

    length = verl_config.select(_composed("dapo"), "reward.reward_kwargs.overlong_buffer_cfg.len")
    # 48 // 4 = 12 tokens; 48 / 4 would compose as the float 12.0 (and 50 / 4 as 12.5, not a length)
    assert_equal((type(length).__name__, length), ("int", MAX_RESPONSE_LENGTH // 4),
                 what="(type, value) of reward.reward_kwargs.overlong_buffer_cfg.len",
                 why="the overlong buffer is max_response_length // 4 tokens: a whole number (floor division)")


@pytest.mark.exercise(EXERCISE)
def test_switch_overrides_ppo_critic_micro_batch_defaults_to_two():
    from verlings import verl_config

    cfg = _composed("ppo", micro_batch_size_per_gpu=None)
    assert_equal(verl_config.select(cfg, "critic.ppo_micro_batch_size_per_gpu"), 2,
                 what="critic.ppo_micro_batch_size_per_gpu when micro_batch_size_per_gpu is not given",
                 why="the signature's default micro_batch_size_per_gpu=2 sizes the critic's micro-batches")
