"""Batch sizes: how many prompts, responses, mini batches and micro batches one step has.

Lesson: exercises/01/README.md §3 (中文: README.zh-CN.md §3).
Mirrors verl 0.9.1: ``verl/utils/config.py::validate_config``,
``verl/workers/config/actor.py::ActorConfig`` (``__post_init__`` and ``validate``), and the
runtime checks of ``verl/workers/engine_workers.py::TrainingWorker.train_mini_batch``,
``verl/utils/tensordict_utils.py::make_iterator`` and ``verl/workers/engine/utils.py::prepare_micro_batches``.

The vocabulary (verl's config keys):
    data.train_batch_size                        prompts per training step
    actor_rollout_ref.rollout.n                  responses sampled per prompt
    actor_rollout_ref.actor.ppo_mini_batch_size  prompts per optimizer step (× n responses)
    actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu
                                                 responses per forward/backward pass on one GPU
    n_gpus                                       trainer.n_gpus_per_node × trainer.nnodes

The ``config`` argument below is a nested dict shaped like verl's config (a ``DictConfig``
from ``compose_config`` works too — only ``config[...]`` and ``.get`` are used)::

    config = {
        "data": {"train_batch_size": 8},
        "actor_rollout_ref": {
            "rollout": {"n": 4},
            "actor": {
                "ppo_mini_batch_size": 4,
                "ppo_micro_batch_size_per_gpu": 2,  # None (or absent) = not set
                "ppo_epochs": 1,                    # optional, default 1
                "use_dynamic_bsz": False,           # optional, default False
            },
        },
    }
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def real_train_batch_size(train_batch_size: int, rollout_n: int) -> int:
    """How many *responses* one training step holds.

    ``data.train_batch_size`` counts prompts. The rollout samples ``rollout.n`` responses for
    every prompt, and from then on every stage works on responses.

    Args:
        train_batch_size: prompts per step (``data.train_batch_size``).
        rollout_n: responses per prompt (``actor_rollout_ref.rollout.n``).

    Returns:
        The number of responses (rows) in the step's batch — verl calls it ``real_train_batch_size``.

    Example:
        >>> real_train_batch_size(train_batch_size=8, rollout_n=4)
        32
    """
    # TODO: your implementation (stuck? `python grader.py hint 01.real_batch`).
    raise NotImplementedError("implement real_train_batch_size — see exercises/01/README.md §3.1")


def validate_batch_sizes(config: Mapping[str, Any], n_gpus: int) -> None:
    """Raise ``ValueError`` for a batch configuration verl would reject; return ``None`` otherwise.

    verl finds the first three problems when it validates the config (before any worker starts);
    the last three only when the actor's first update runs, minutes into the run. Check them all
    up front, **in this order**, and raise ``ValueError`` with exactly these messages (the numbers
    in parentheses are the values)::

        Without dynamic batching (actor.use_dynamic_bsz False, the default):
        1. T*n not divisible by n_gpus
           "real_train_batch_size (T*n) must be divisible by minimal possible batch size (n_gpus)"
        2. ppo_micro_batch_size_per_gpu missing or None
           "[actor] Please set at least one of 'actor.ppo_micro_batch_size' or
            'actor.ppo_micro_batch_size_per_gpu' if use_dynamic_bsz is not enabled."   (one line)
        3. T < M
           "train_batch_size (T) must be >= actor.ppo_mini_batch_size (M)"
        Always:
        4. M*n not divisible by n_gpus
           "ppo_mini_batch_size * rollout.n (M*n) must be divisible by n_gpus (n_gpus)"
        5. T not divisible by M
           "train_batch_size (T) must be divisible by actor.ppo_mini_batch_size (M)"
        Without dynamic batching:
        6. M*n/n_gpus not divisible by the micro batch size m
           "ppo_mini_batch_size * rollout.n / n_gpus (M*n/n_gpus) must be divisible by
            ppo_micro_batch_size_per_gpu (m)"                                          (one line)

    where T = ``data.train_batch_size``, n = ``rollout.n``, M = ``actor.ppo_mini_batch_size``
    and m = ``actor.ppo_micro_batch_size_per_gpu``. Messages 1–3 are verl's own wording.

    Args:
        config: the nested dict described in the module docstring.
        n_gpus: data-parallel GPUs (``trainer.n_gpus_per_node * trainer.nnodes``; one CPU counts as 1).

    Example:
        T=8 prompts, n=4 → 32 responses; M=4 prompts → 16 responses per optimizer step,
        8 per GPU on 2 GPUs, cut into micro batches of m=2 → 4 micro batches (gradient accumulation).
        With m=3 instead, 8 responses cannot be cut into micro batches of 3: rule 6 fails.
    """
    # TODO: your implementation (stuck? `python grader.py hint 01.validate_batch`).
    raise NotImplementedError("implement validate_batch_sizes — see exercises/01/README.md §3.2")


def optimizer_steps_per_batch(config: Mapping[str, Any]) -> int:
    """How many optimizer steps the actor takes on one training batch.

    The actor's update cuts the step's responses into mini batches of ``M * n`` responses and
    takes one optimizer step per mini batch, for ``ppo_epochs`` passes over the batch. Micro
    batches only accumulate gradients; they are not optimizer steps.

    Args:
        config: the nested dict described in the module docstring (assume it passes
            ``validate_batch_sizes``). ``actor.ppo_epochs`` defaults to 1 when absent.

    Returns:
        The number of optimizer steps per training step (an ``int``).

    Example:
        T=8 prompts, n=4, M=4 prompts, ppo_epochs=2 → 32 responses in mini batches of 16
        → 2 mini batches × 2 epochs = 4 optimizer steps.
    """
    # TODO: your implementation (stuck? `python grader.py hint 01.optimizer_steps`).
    raise NotImplementedError("implement optimizer_steps_per_batch — see exercises/01/README.md §3.3")
