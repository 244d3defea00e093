"""Reference solution: Hydra overrides that switch a verl 0.9.1 run between algorithms."""

from __future__ import annotations

ALGORITHMS = ("grpo", "dr_grpo", "dapo", "ppo")

ACTOR = "actor_rollout_ref.actor"


def switch_overrides(
    algorithm: str, model_path: str, max_response_length: int, micro_batch_size_per_gpu: int = 2
) -> list[str]:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}: expected one of {', '.join(ALGORITHMS)}")
    if algorithm == "ppo":
        # A critic gives per-token values; one sample per prompt is enough, and GAE's λ trades bias for variance.
        return [
            "algorithm.adv_estimator=gae",
            "algorithm.lam=0.95",
            "actor_rollout_ref.rollout.n=1",
            f"{ACTOR}.use_kl_loss=False",
            f"critic.model.path='{model_path}'",
            f"critic.ppo_micro_batch_size_per_gpu={micro_batch_size_per_gpu}",
        ]
    overrides = ["algorithm.adv_estimator=grpo", "algorithm.use_kl_in_reward=False"]
    if algorithm == "grpo":
        # DeepSeekMath's GRPO: std-normalised group advantages and a k3 KL loss to the reference.
        return [
            *overrides,
            "algorithm.norm_adv_by_std_in_grpo=True",
            f"{ACTOR}.loss_agg_mode=token-mean",
            f"{ACTOR}.use_kl_loss=True",
            f"{ACTOR}.kl_loss_type=low_var_kl",
            f"{ACTOR}.kl_loss_coef=0.001",
        ]
    if algorithm == "dr_grpo":
        # Dr. GRPO: no std division, a constant length normaliser, no KL.
        return [
            *overrides,
            "algorithm.norm_adv_by_std_in_grpo=False",
            f"{ACTOR}.loss_agg_mode=seq-mean-token-sum-norm",
            f"{ACTOR}.loss_scale_factor={max_response_length}",
            f"{ACTOR}.use_kl_loss=False",
        ]
    # DAPO: clip-higher, token-mean, no KL, dynamic sampling and the overlong reward shaping.
    buffer = max_response_length // 4
    return [
        *overrides,
        "algorithm.norm_adv_by_std_in_grpo=True",
        f"{ACTOR}.clip_ratio_low=0.2",
        f"{ACTOR}.clip_ratio_high=0.28",
        f"{ACTOR}.loss_agg_mode=token-mean",
        f"{ACTOR}.use_kl_loss=False",
        "algorithm.filter_groups.enable=True",
        "algorithm.filter_groups.metric=acc",
        "reward.reward_manager.name=dapo",
        "+reward.reward_kwargs.overlong_buffer_cfg.enable=True",
        f"+reward.reward_kwargs.overlong_buffer_cfg.len={buffer}",
        "+reward.reward_kwargs.overlong_buffer_cfg.penalty_factor=1.0",
        "+reward.reward_kwargs.overlong_buffer_cfg.log=False",
        f"+reward.reward_kwargs.max_resp_len={max_response_length}",
    ]
