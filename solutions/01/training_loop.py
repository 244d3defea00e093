"""Reference solutions: one step of verl's PPO trainer, stage by stage (verl 0.9.1 RayPPOTrainer.fit)."""

from __future__ import annotations

import uuid
from typing import Any, Protocol

import numpy as np
import torch

Batch = dict[str, Any]


class Workers(Protocol):
    rollout_n: int
    use_reference_policy: bool
    use_critic: bool
    use_kl_in_reward: bool

    def generate_sequences(self, batch: Batch) -> Batch: ...
    def compute_reward(self, batch: Batch) -> Batch: ...
    def compute_log_prob(self, batch: Batch) -> Batch: ...
    def compute_ref_log_prob(self, batch: Batch) -> Batch: ...
    def compute_values(self, batch: Batch) -> Batch: ...
    def apply_kl_penalty(self, batch: Batch) -> Batch: ...
    def compute_advantage(self, batch: Batch) -> Batch: ...
    def update_critic(self, batch: Batch) -> dict[str, float]: ...
    def update_actor(self, batch: Batch) -> dict[str, float]: ...


def repeat_batch(batch: Batch, repeat_times: int, interleave: bool = True) -> Batch:
    out: Batch = {}
    for key, column in batch.items():
        if isinstance(column, torch.Tensor):
            if interleave:  # a, a, b, b: the n responses of one prompt sit next to each other
                out[key] = column.repeat_interleave(repeat_times, dim=0)
            else:  # a, b, a, b: the whole batch again
                out[key] = column.repeat(repeat_times, *([1] * (column.dim() - 1)))
        elif isinstance(column, np.ndarray):
            if interleave:
                out[key] = np.repeat(column, repeat_times, axis=0)
            else:
                out[key] = np.tile(column, (repeat_times,) + (1,) * (column.ndim - 1))
        else:
            raise TypeError(f"column {key!r} is a {type(column).__name__}; expected torch.Tensor or numpy.ndarray")
    return out


def fit_step(batch: Batch, workers: Workers) -> dict[str, float]:
    batch = dict(batch)  # the caller's dict stays as it was
    rows = len(next(iter(batch.values())))
    # 1. One group id per *prompt*, before the repeat, so the n responses of a prompt share it:
    #    GRPO/RLOO normalise within a group by this id.
    batch["uid"] = np.array([str(uuid.uuid4()) for _ in range(rows)], dtype=object)
    # 2. n samples per prompt, interleaved (a, a, b, b), as DataProto.repeat(interleave=True).
    batch = repeat_batch(batch, workers.rollout_n, interleave=True)
    # 3–7. Each stage adds columns; later stages read them (a dict union, like DataProto.union).
    batch.update(workers.generate_sequences(batch))
    batch.update(workers.compute_reward(batch))
    batch.update(workers.compute_log_prob(batch))  # old log-probs: the policy that sampled
    if workers.use_reference_policy:
        batch.update(workers.compute_ref_log_prob(batch))
    if workers.use_critic:
        batch.update(workers.compute_values(batch))
    # 8. Rewards: the scores, minus a KL penalty only when it is in the reward (needs ref log-probs).
    if workers.use_kl_in_reward:
        batch.update(workers.apply_kl_penalty(batch))
    else:
        batch["token_level_rewards"] = batch["token_level_scores"]
    batch.update(workers.compute_advantage(batch))
    # 9–10. The critic learns first, then the actor, from the same advantages.
    metrics: dict[str, float] = {}
    if workers.use_critic:
        metrics.update(workers.update_critic(batch))
    metrics.update(workers.update_actor(batch))
    return metrics
