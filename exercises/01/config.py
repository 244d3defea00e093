"""verl's configuration: compose it with Hydra, then override it for a first, tiny run.

Lesson: exercises/01/README.md §4 (中文: README.zh-CN.md §4).
Mirrors verl 0.9.1: ``verl/trainer/main_ppo.py`` (``@hydra.main(config_path="config",
config_name="ppo_trainer", version_base=None)``), the YAML tree in ``verl/trainer/config/``
and ``verl/utils/config.py::validate_config``, which checks the composed config before any
worker starts.

``python -m verl.trainer.main_ppo key=value ...`` composes ``ppo_trainer.yaml`` with its
defaults list (actor, rollout, ref, critic, data, reward, ...) and applies the command-line
overrides. These two functions do the same in-process, so you can inspect and validate a
config in a second instead of waiting for Ray and the workers to start.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig


def verl_config_dir() -> Path:
    """verl's config folder (``verl/trainer/config``), found without importing verl (3–5 s).

    Provided — nothing to implement. ``find_spec`` locates a package without running it.
    """
    spec = importlib.util.find_spec("verl")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("verl is not installed — run `pip install -e .` (see `python grader.py doctor`)")
    return Path(next(iter(spec.submodule_search_locations))) / "trainer" / "config"


def compose_config(overrides: list[str]) -> DictConfig:
    """verl's ``ppo_trainer`` config with ``overrides`` applied — what ``main_ppo`` receives.

    Args:
        overrides: Hydra override strings, as on verl's command line:
            ``"data.train_batch_size=4"`` (change a key), ``"trainer.logger=[console,tensorboard]"``
            (a list), ``"+data.my_key=1"`` (add a key that is not in the config),
            ``"~trainer.some_key"`` (delete one).

    Returns:
        The composed ``DictConfig`` from Hydra's ``compose`` (struct mode on, interpolations such as
        ``${oc.select:...}`` left unresolved — exactly as verl gets it).

    Raises:
        hydra.errors.ConfigCompositionException: for an override Hydra cannot apply, e.g. a typo
            ``data.train_batch_siz=4`` ("Could not override 'data.train_batch_siz'. To append to your
            config use +data.train_batch_siz=4"). Let it propagate: a silently ignored typo costs a run.

    Calling it twice must work, and the second call must not see the first call's overrides.

    Example:
        >>> cfg = compose_config(["data.train_batch_size=4", "actor_rollout_ref.rollout.n=2"])
        >>> cfg.data.train_batch_size, cfg.actor_rollout_ref.rollout.n, cfg.algorithm.adv_estimator
        (4, 2, 'gae')
    """
    # TODO: your implementation (stuck? `python grader.py hint 01.compose`).
    raise NotImplementedError("implement compose_config — see exercises/01/README.md §4.2")


def first_run_overrides(
    model_path: str,
    train_files: str | Sequence[str],
    val_files: str | Sequence[str],
    *,
    adv_estimator: str = "grpo",
    train_batch_size: int = 4,
    rollout_n: int = 2,
    ppo_mini_batch_size: int | None = None,
    micro_batch_size_per_gpu: int = 2,
    max_prompt_length: int = 64,
    max_response_length: int = 32,
    total_training_steps: int = 2,
    n_gpus: int = 1,
    rollout_name: str = "vllm",
    project_name: str = "verlings",
    experiment_name: str = "first_run",
    loggers: Sequence[str] = ("console", "tensorboard"),
) -> list[str]:
    """The overrides for a first, tiny run: a small local model and local parquet files.

    verl's defaults describe a 7B model on 8 GPUs with no micro batch sizes set, so
    ``validate_config`` rejects them as they are. The result must, composed with
    ``ppo_trainer``, pass ``verl.utils.config.validate_config`` unchanged, and set:

    ==================================================================  ===============================
    key                                                                 value
    ==================================================================  ===============================
    algorithm.adv_estimator                                             adv_estimator
    data.train_files, data.val_files                                    exactly the given path(s): a
                                                                        str stays a str, a list a list
    data.train_batch_size, data.max_prompt_length, .max_response_length  the arguments
    actor_rollout_ref.model.path                                        model_path
    actor_rollout_ref.rollout.n, actor_rollout_ref.rollout.name         rollout_n, rollout_name
    actor_rollout_ref.rollout.tensor_model_parallel_size                1
    actor_rollout_ref.actor.ppo_mini_batch_size                         ppo_mini_batch_size, or
                                                                        train_batch_size when None
    actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu,               micro_batch_size_per_gpu
      actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu,
      actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu
    trainer.n_gpus_per_node, trainer.nnodes                             n_gpus, 1
    trainer.total_training_steps                                        total_training_steps
    trainer.logger                                                      list(loggers)
    trainer.project_name, trainer.experiment_name                       the arguments
    trainer.val_before_train, trainer.test_freq, trainer.save_freq      False, -1, -1
    critic.model.path, critic.ppo_micro_batch_size_per_gpu              only for "gae" (the one
                                                                        estimator here with a critic):
                                                                        model_path, micro_batch_size_per_gpu
    ==================================================================  ===============================

    Paths may contain spaces, commas, ``=``, brackets or quotes: quote them for Hydra
    (``key='/my data/train.parquet'``; inside single quotes write ``'`` as ``\\'``).

    Returns:
        A list of override strings for ``compose_config`` (or verl's command line).

    Example:
        >>> first_run_overrides("/models/tiny", "/data/train.parquet", "/data/test.parquet")[:2]
        ['algorithm.adv_estimator=grpo', "data.train_files='/data/train.parquet'"]
    """
    # TODO: your implementation (stuck? `python grader.py hint 01.first_run`).
    raise NotImplementedError("implement first_run_overrides — see exercises/01/README.md §4.3")
