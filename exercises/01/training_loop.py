"""One step of verl's PPO/GRPO trainer, stage by stage, with the workers left abstract.

Lesson: exercises/01/README.md §5 (中文: README.zh-CN.md §5).
Mirrors verl 0.9.1: ``verl/trainer/ppo/ray_trainer.py::RayPPOTrainer.fit`` (one iteration of its
loop) and ``verl/protocol.py::DataProto.repeat``.

In verl the driver process (the *single controller*) holds the batch and calls worker groups
that run on Ray: the rollout generates, the actor computes log-probs and learns, the reference
model computes reference log-probs, the critic computes values and learns. Here the workers are
any object with the methods of :class:`Workers`, and the batch is a plain dict.

A **batch** is a dict of equal-length columns, one row per sequence (``bs`` rows):
    torch.Tensor   first dimension = rows, e.g. ``input_ids`` ``(bs, prompt_length)``
    numpy.ndarray  first dimension = rows, e.g. ``uid`` ``(bs,)`` of ``str`` (dtype object)
Like verl's ``DataProto``: ``batch`` (tensors) and ``non_tensor_batch`` (numpy) in one dict.

Columns each stage adds (``bs * n`` rows once the batch is repeated):
    generate_sequences    responses, response_mask     (bs*n, response_length)
    compute_reward        token_level_scores           (bs*n, response_length)
    compute_log_prob      old_log_probs                (bs*n, response_length)
    compute_ref_log_prob  ref_log_prob                 (bs*n, response_length)
    compute_values        values                       (bs*n, response_length)
    apply_kl_penalty      token_level_rewards          (bs*n, response_length)
    compute_advantage     advantages, returns          (bs*n, response_length)
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

import numpy as np
import torch

Batch = dict[str, Any]


class Workers(Protocol):
    """What ``fit_step`` may use — provided, nothing to implement.

    Flags (attributes), as ``RayPPOTrainer`` derives them from the config:
        rollout_n             ``actor_rollout_ref.rollout.n``: responses per prompt
        use_reference_policy  a reference model is loaded (KL loss or KL in reward)
        use_critic            a critic is trained (GAE; GRPO has none)
        use_kl_in_reward      ``algorithm.use_kl_in_reward``: subtract β·KL from the scores

    Methods: each takes the whole batch and returns a dict of **new columns** to add to it
    (see the module docstring), except the two updates, which return metrics to log.
    """

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
    """Every row ``repeat_times`` times — verl's ``DataProto.repeat``.

    Args:
        batch: a dict of columns (``torch.Tensor`` or ``numpy.ndarray``, first dimension = rows).
        repeat_times: copies of each row (``rollout.n``).
        interleave: ``True`` → copies next to each other (rows a, a, b, b);
            ``False`` → the whole batch again (a, b, a, b).

    Returns:
        A new dict with the same keys; every column has ``rows * repeat_times`` rows, keeps its
        other dimensions and dtype. The input dict and its columns are not modified.

    Example:
        >>> out = repeat_batch({"x": torch.tensor([[1], [2]]), "tag": np.array(["a", "b"], dtype=object)}, 2)
        >>> out["x"].tolist(), out["tag"].tolist()
        ([[1], [1], [2], [2]], ['a', 'a', 'b', 'b'])
        >>> repeat_batch({"x": torch.tensor([[1], [2]])}, 2, interleave=False)["x"].tolist()
        [[1], [2], [1], [2]]
    """
    # TODO: your implementation (stuck? `python grader.py hint 01.repeat`).
    raise NotImplementedError("implement repeat_batch — see exercises/01/README.md §5.1")


def fit_step(batch: Batch, workers: Workers) -> dict[str, float]:
    """One training step on a batch of prompts, in verl's order.

    1. **uid**: add a column ``"uid"``, one new id per prompt row (verl: ``str(uuid.uuid4())`` in a
       numpy object array) — *before* repeating, so the ``n`` responses of one prompt share it.
    2. **repeat** the batch ``workers.rollout_n`` times, interleaved (``repeat_batch``).
    3. **generate**: ``workers.generate_sequences``.
    4. **reward**: ``workers.compute_reward``.
    5. **old log-prob**: ``workers.compute_log_prob``.
    6. **ref log-prob**: ``workers.compute_ref_log_prob`` — only if ``workers.use_reference_policy``.
    7. **values**: ``workers.compute_values`` — only if ``workers.use_critic``.
    8. **advantages**: if ``workers.use_kl_in_reward``, ``workers.apply_kl_penalty`` (it adds
       ``token_level_rewards``); otherwise ``token_level_rewards`` is ``token_level_scores`` as they are.
       Then ``workers.compute_advantage``.
    9. **critic update**: ``workers.update_critic`` — only if ``workers.use_critic``.
    10. **actor update**: ``workers.update_actor``.

    After each of steps 3–8 add the returned columns to the batch, so every stage sees all the
    columns before it. Do not modify the caller's dict.

    Args:
        batch: ``bs`` prompt rows, e.g. ``input_ids`` ``(bs, prompt_length)``, ``attention_mask``.
        workers: see :class:`Workers`.

    Returns:
        The metrics of the step: the critic's update metrics (when there is a critic) merged with
        the actor's (``{**critic_metrics, **actor_metrics}``).

    Example (GRPO: no critic, no reference, no KL in the reward):
        2 prompts, n = 2 → generate/reward/old log-prob/advantage/actor each see 4 rows whose
        ``uid`` column reads ``[u0, u0, u1, u1]``.
    """
    # TODO: your implementation (stuck? `python grader.py hint 01.fit_step`).
    raise NotImplementedError("implement fit_step — see exercises/01/README.md §5.2")
