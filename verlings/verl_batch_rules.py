"""verl 0.9.1's batch-size checks, transcribed line by line: the oracle of chapter 01's differential tests.

verl checks a step's batch sizes in six places, three when it validates the config and three when
the actor's first update runs. The live functions cannot be called on a hundred generated configs
inside a graded run: importing their modules costs 20–80 s on the course's busy two cores, and
``validate_config`` needs a whole composed config (0.1–2.5 s a call). So each check is copied here
with its file and line, in the order verl reaches it; ``tests/test_verl_01_batch_math.py`` runs this
transcription against the live verl functions on a grid of 3,600 configurations.

The exercise's messages for rules 1–3 are verl's own; verl's runtime asserts (rules 4–6) say
``Got mini_batch_size=…``, so the exercise words them itself (its stub docstring lists them).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    rule: int  # the exercise's numbering (1–6)
    where: str  # verl's check
    message: str  # the exercise's ValueError message for it


def verl_batch_verdict(train: int, n: int, mini: int, micro: int | None, n_gpus: int, dynamic: bool) -> Verdict | None:
    """The first of verl's checks that rejects these sizes (fsdp strategy, one actor), or None."""
    if not dynamic:
        # verl/utils/config.py::validate_config, lines 103, 120, 123-127 (not megatron: minimal_bsz = n_gpus)
        minimal_bsz = n_gpus
        real_train_batch_size = train * n
        if not real_train_batch_size % minimal_bsz == 0:
            return Verdict(
                1,
                "verl/utils/config.py:124 validate_config",
                (
                    f"real_train_batch_size ({real_train_batch_size}) must be divisible by minimal possible batch size "
                    f"({minimal_bsz})"
                ),
            )
        # verl/workers/config/actor.py:198-210 ActorConfig.__post_init__ (run by omega_conf_to_dataclass,
        # validate_config line 164); the deprecated ppo_micro_batch_size is never set in the course.
        if micro is None:
            return Verdict(
                2,
                "verl/workers/config/actor.py:207 ActorConfig.__post_init__",
                (
                    "[actor] Please set at least one of 'actor.ppo_micro_batch_size' or "
                    "'actor.ppo_micro_batch_size_per_gpu' if use_dynamic_bsz is not enabled."
                ),
            )
        # verl/workers/config/actor.py:222-229 ActorConfig.validate (validate_config line 165)
        if train < mini:
            return Verdict(
                3,
                "verl/workers/config/actor.py:225 ActorConfig.validate",
                (f"train_batch_size ({train}) must be >= actor.ppo_mini_batch_size ({mini})"),
            )
    # verl/trainer/ppo/ray_trainer.py:1352-1353: the actor's mini batch counts responses.
    mini_batch_size = mini * n
    # verl/workers/engine_workers.py:267 TrainingWorker.train_mini_batch (dp size = n_gpus)
    if not mini_batch_size % n_gpus == 0:
        return Verdict(
            4,
            "verl/workers/engine_workers.py:267 TrainingWorker.train_mini_batch",
            (f"ppo_mini_batch_size * rollout.n ({mini_batch_size}) must be divisible by n_gpus ({n_gpus})"),
        )
    mini_batch_size_per_gpu = mini_batch_size // n_gpus
    # verl/utils/tensordict_utils.py:588 make_iterator, on one GPU's share of the step (T*n/n_gpus
    # rows; with rule 4 passed, T*n/n_gpus is (T/M) mini batches exactly when M divides T).
    if not (train * n) % (mini_batch_size_per_gpu * n_gpus) == 0:
        return Verdict(
            5,
            "verl/utils/tensordict_utils.py:588 make_iterator",
            (f"train_batch_size ({train}) must be divisible by actor.ppo_mini_batch_size ({mini})"),
        )
    # verl/workers/engine/utils.py:125 prepare_micro_batches (use_dynamic_bsz False, force_group_size 1)
    if not dynamic and not mini_batch_size_per_gpu % micro == 0:
        return Verdict(
            6,
            "verl/workers/engine/utils.py:125 prepare_micro_batches",
            (
                f"ppo_mini_batch_size * rollout.n / n_gpus ({mini_batch_size_per_gpu}) must be divisible by "
                f"ppo_micro_batch_size_per_gpu ({micro})"
            ),
        )
    return None


def verl_optimizer_steps(train: int, n: int, mini: int, n_gpus: int, epochs: int) -> int:
    """Optimizer steps of one update: the mini batches ``make_iterator`` yields on one GPU, every epoch.

    verl/workers/engine_workers.py:270-279: one GPU iterates its T*n/n_gpus rows in mini batches of
    M*n/n_gpus for ``epochs`` passes, one optimizer step each (for sizes ``verl_batch_verdict`` accepts).
    """
    rows_per_gpu = train * n // n_gpus
    mini_batch_size_per_gpu = mini * n // n_gpus
    return epochs * (rows_per_gpu // mini_batch_size_per_gpu)
