"""Reference solutions: the batch-size arithmetic of a verl PPO/GRPO step (verl 0.9.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# verl's own message when no micro batch size is set (verl/workers/config/actor.py, ActorConfig.__post_init__).
_NO_MICRO = (
    "[actor] Please set at least one of 'actor.ppo_micro_batch_size' or "
    "'actor.ppo_micro_batch_size_per_gpu' if use_dynamic_bsz is not enabled."
)


def real_train_batch_size(train_batch_size: int, rollout_n: int) -> int:
    # data.train_batch_size counts prompts; every prompt is sampled rollout.n times.
    return train_batch_size * rollout_n


def _sizes(config: Mapping[str, Any]) -> tuple[int, int, int, int | None, int, bool]:
    actor = config["actor_rollout_ref"]["actor"]
    return (
        config["data"]["train_batch_size"],
        config["actor_rollout_ref"]["rollout"]["n"],
        actor["ppo_mini_batch_size"],
        actor.get("ppo_micro_batch_size_per_gpu"),
        actor.get("ppo_epochs", 1),
        bool(actor.get("use_dynamic_bsz", False)),
    )


def validate_batch_sizes(config: Mapping[str, Any], n_gpus: int) -> None:
    train, n, mini, micro, _, dynamic = _sizes(config)
    real = real_train_batch_size(train, n)
    if not dynamic:
        # verl/utils/config.py::validate_config — the whole step must split evenly over the GPUs.
        if real % n_gpus != 0:
            raise ValueError(
                f"real_train_batch_size ({real}) must be divisible by minimal possible batch size ({n_gpus})"
            )
        # ActorConfig.__post_init__: without dynamic batching a micro batch size is required.
        if micro is None:
            raise ValueError(_NO_MICRO)
        # ActorConfig.validate: both sizes count prompts, so the comparison is prompt to prompt.
        if train < mini:
            raise ValueError(f"train_batch_size ({train}) must be >= actor.ppo_mini_batch_size ({mini})")
    # Runtime (TrainingWorker.train_mini_batch): a mini batch of responses is split over the GPUs ...
    mini_responses = mini * n
    if mini_responses % n_gpus != 0:
        raise ValueError(f"ppo_mini_batch_size * rollout.n ({mini_responses}) must be divisible by n_gpus ({n_gpus})")
    # ... each GPU's share of the step is cut into whole mini batches (tensordict_utils.make_iterator) ...
    if train % mini != 0:
        raise ValueError(f"train_batch_size ({train}) must be divisible by actor.ppo_mini_batch_size ({mini})")
    # ... and each GPU's mini batch into whole micro batches (engine/utils.py::prepare_micro_batches).
    per_gpu = mini_responses // n_gpus
    if not dynamic and per_gpu % micro != 0:
        raise ValueError(
            f"ppo_mini_batch_size * rollout.n / n_gpus ({per_gpu}) must be divisible by "
            f"ppo_micro_batch_size_per_gpu ({micro})"
        )


def optimizer_steps_per_batch(config: Mapping[str, Any]) -> int:
    # One optimizer step per mini batch, every epoch. rollout.n and n_gpus cancel out:
    # (train * n / gpus) / (mini * n / gpus) = train / mini.
    train, _, mini, _, epochs, _ = _sizes(config)
    return epochs * (train // mini)
