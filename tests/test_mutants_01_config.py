"""Known-wrong variants of exercises/01/config.py: each must fail at least one graded test.

Each mutant is an edit of solutions/01/config.py (``replace={reference text: wrong text}``).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

COMPOSE_CALL = "        return compose(config_name=\"ppo_trainer\", overrides=list(overrides))"


def _first_run_without(line: str) -> dict[str, str]:
    """An edit that drops the override ``line`` from first_run_overrides."""
    return {f"        {line},\n": ""}


MUTANTS = [
    # ---------------------------------------------------------- compose_config
    # initialize_config_dir called, not used as a context manager: Hydra stays initialised
    Mutant("compose_leaks_global_hydra", "01.compose", "config", replace={
        "    GlobalHydra.instance().clear()\n": "",
        "    with initialize_config_dir(config_dir=str(verl_config_dir()), version_base=None):\n" + COMPOSE_CALL:
        "    initialize_config_dir(config_dir=str(verl_config_dir()), version_base=None)\n"
        "    return compose(config_name=\"ppo_trainer\", overrides=list(overrides))"}),
    # a typo silently ignored: the run starts with the default value
    Mutant("compose_swallows_errors", "01.compose", "config", replace={
        COMPOSE_CALL: "        try:\n    " + COMPOSE_CALL + "\n        except Exception:\n"
        "            return compose(config_name=\"ppo_trainer\", overrides=[])"}),
    # interpolations resolved: not what verl's main receives
    Mutant("compose_resolves", "01.compose", "config", replace={
        "from omegaconf import DictConfig": "from omegaconf import DictConfig, OmegaConf",
        COMPOSE_CALL: "        cfg = compose(config_name=\"ppo_trainer\", overrides=list(overrides))\n"
        "    OmegaConf.resolve(cfg)\n    return cfg"}),
    # the Megatron trainer config instead of ppo_trainer
    Mutant("compose_wrong_config_name", "01.compose", "config",
           replace={"config_name=\"ppo_trainer\"": "config_name=\"ppo_megatron_trainer\""}),
    # ---------------------------------------------------------- first_run_overrides
    # verl's defaults leave the micro batch sizes null: validate_config rejects the config
    Mutant("first_run_without_micro_batches", "01.first_run", "config",
           replace=_first_run_without("f\"actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu={micro}\"")),
    Mutant("first_run_without_log_prob_micro", "01.first_run", "config",
           replace=_first_run_without("f\"actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu={micro}\"")),
    # tensor_model_parallel_size left at verl's 2
    Mutant("first_run_keeps_tp_2", "01.first_run", "config",
           replace=_first_run_without("\"actor_rollout_ref.rollout.tensor_model_parallel_size=1\"")),
    # the mini batch counted in responses (T*n): train_batch_size >= ppo_mini_batch_size fails
    Mutant("first_run_mini_in_responses", "01.first_run", "config", replace={
        "mini = train_batch_size if": "mini = train_batch_size * rollout_n if"}),
    # n_gpus ignored: verl would wait for 1 GPU per node
    Mutant("first_run_ignores_n_gpus", "01.first_run", "config",
           replace={"f\"trainer.n_gpus_per_node={n_gpus}\"": "\"trainer.n_gpus_per_node=1\""}),
    # paths not quoted: a comma or space breaks Hydra's parser
    Mutant("first_run_unquoted_paths", "01.first_run", "config", replace={
        "def _quote(value: str) -> str:\n": "def _quote(value: str) -> str:\n    return value\n"}),
    # a single path turned into a one-element list
    Mutant("first_run_files_always_lists", "01.first_run", "config",
           replace={"        return _quote(str(value))\n": "        value = [value]\n"}),
    # GAE without the critic's model and micro batch size
    Mutant("first_run_gae_without_critic", "01.first_run", "config",
           replace={"if adv_estimator == \"gae\":": "if False:"}),
    # validation and checkpoints left on
    Mutant("first_run_validates_before_training", "01.first_run", "config",
           replace=_first_run_without("\"trainer.val_before_train=False\"")),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
