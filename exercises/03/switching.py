"""Switching algorithms: the Hydra overrides that turn one verl 0.9.1 run into another.

Lesson: exercises/03/README.md §3.13 (中文: README.zh-CN.md §3.13).
The algorithms of this chapter are all selected by config keys of
``python -m verl.trainer.main_ppo`` (``verl/trainer/config/ppo_trainer.yaml``): the advantage
estimator (``algorithm.*``), the actor's loss (``actor_rollout_ref.actor.*``), the reward
manager (``reward.*``) and the critic (``critic.*``). The graded tests append your overrides to
a working base run, compose verl's config with Hydra and run verl's ``validate_config`` on it.
"""

from __future__ import annotations

ALGORITHMS = ("grpo", "dr_grpo", "dapo", "ppo")


def switch_overrides(
    algorithm: str, model_path: str, max_response_length: int, micro_batch_size_per_gpu: int = 2
) -> list[str]:
    """Hydra overrides (``"key=value"`` strings) that switch a GRPO-style base run to ``algorithm``.

    Args:
        algorithm: one of :data:`ALGORITHMS`; anything else raises ``ValueError`` naming them.
        model_path: the policy's folder (the critic starts from the same model).
        max_response_length: ``data.max_response_length`` of the run.
        micro_batch_size_per_gpu: micro-batch size for any new worker you add (default 2).

    Returns:
        Overrides that, appended after the base run's and composed with verl's ``ppo_trainer``
        config, give a config that verl's ``validate_config`` accepts and that says:

        ============ ==========================================================================
        ``grpo``     estimator ``grpo`` with std normalisation; ``token-mean``; KL as a loss
                     (``use_kl_loss`` True, ``kl_loss_type=low_var_kl``, ``kl_loss_coef=0.001``);
                     no KL in the reward
        ``dr_grpo``  estimator ``grpo`` without std normalisation; ``seq-mean-token-sum-norm``
                     with ``loss_scale_factor = max_response_length``; no KL (loss nor reward)
        ``dapo``     estimator ``grpo`` with std normalisation; ``clip_ratio_low=0.2``,
                     ``clip_ratio_high=0.28``; ``token-mean``; no KL; dynamic sampling
                     (``algorithm.filter_groups.enable`` True, a ``metric`` set); the ``dapo``
                     reward manager with ``reward.reward_kwargs.overlong_buffer_cfg`` =
                     ``{enable: True, len: max_response_length // 4, penalty_factor: 1.0,
                     log: False}`` and ``reward.reward_kwargs.max_resp_len = max_response_length``
        ``ppo``      estimator ``gae`` with ``algorithm.lam=0.95``; a critic (enabled by the
                     estimator) on ``model_path`` with ``micro_batch_size_per_gpu``; one sample
                     per prompt (``rollout.n=1``); no KL loss
        ============ ==========================================================================

        Keys that verl's config does not have yet must be *added* (Hydra's ``+key=value``).

    Example:
        ``switch_overrides("dr_grpo", "/models/tiny", 512)`` contains
        ``"algorithm.norm_adv_by_std_in_grpo=False"``; ``python -m verl.trainer.main_ppo <base
        overrides> <these overrides>`` then trains Dr. GRPO.
    """
    # TODO: one list of overrides per algorithm (lesson §3.13 has the keys).
    raise NotImplementedError("implement switch_overrides — see exercises/03/README.md §3.13")
