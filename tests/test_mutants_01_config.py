"""Known-wrong variants of exercises/01/config.py: each must fail at least one graded test.

Each mutant's code is appended to solutions/01/config.py, so it may use the module's helpers
(verl_config_dir, _quote, _files) and wrap the reference functions.
"""

import pytest

from verlings.dev.mutants import Mutant, caught


def _first_run_without(*prefixes: str) -> str:
    """first_run_overrides with the overrides starting with any of ``prefixes`` left out."""
    return f"""
_reference_first_run = first_run_overrides

def first_run_overrides(model_path, train_files, val_files, **kw):
    return [o for o in _reference_first_run(model_path, train_files, val_files, **kw)
            if not o.startswith({prefixes!r})]
"""


MUTANTS = [
    # ---------------------------------------------------------- compose_config
    # initialize_config_dir called, not used as a context manager: Hydra stays initialised
    Mutant("compose_leaks_global_hydra", "01.compose", "config", """
def compose_config(overrides):
    from hydra import compose, initialize_config_dir

    initialize_config_dir(config_dir=str(verl_config_dir()), version_base=None)
    return compose(config_name="ppo_trainer", overrides=list(overrides))
"""),
    # a typo silently ignored: the run starts with the default value
    Mutant("compose_swallows_errors", "01.compose", "config", """
_reference_compose = compose_config

def compose_config(overrides):
    try:
        return _reference_compose(overrides)
    except Exception:
        return _reference_compose([])
"""),
    # interpolations resolved: not what verl's main receives
    Mutant("compose_resolves", "01.compose", "config", """
_reference_compose = compose_config

def compose_config(overrides):
    from omegaconf import OmegaConf

    cfg = _reference_compose(overrides)
    OmegaConf.resolve(cfg)
    return cfg
"""),
    # the Megatron trainer config instead of ppo_trainer
    Mutant("compose_wrong_config_name", "01.compose", "config", """
def compose_config(overrides):
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(verl_config_dir()), version_base=None):
        return compose(config_name="ppo_megatron_trainer", overrides=list(overrides))
"""),
    # ---------------------------------------------------------- first_run_overrides
    # verl's defaults leave the micro batch sizes null: validate_config rejects the config
    Mutant("first_run_without_micro_batches", "01.first_run", "config",
           _first_run_without("actor_rollout_ref.actor.ppo_micro")),
    Mutant("first_run_without_log_prob_micro", "01.first_run", "config",
           _first_run_without("actor_rollout_ref.rollout.log_prob")),
    # tensor_model_parallel_size left at verl's 2
    Mutant("first_run_keeps_tp_2", "01.first_run", "config",
           _first_run_without("actor_rollout_ref.rollout.tensor_model_parallel_size")),
    # the mini batch counted in responses (T*n): train_batch_size >= ppo_mini_batch_size fails
    Mutant("first_run_mini_in_responses", "01.first_run", "config", """
_reference_first_run = first_run_overrides

def first_run_overrides(model_path, train_files, val_files, **kw):
    t, n = kw.get("train_batch_size", 4), kw.get("rollout_n", 2)
    if kw.get("ppo_mini_batch_size") is None:
        kw["ppo_mini_batch_size"] = t * n
    return _reference_first_run(model_path, train_files, val_files, **kw)
"""),
    # n_gpus ignored: verl would wait for 1 GPU per node
    Mutant("first_run_ignores_n_gpus", "01.first_run", "config", """
_reference_first_run = first_run_overrides

def first_run_overrides(model_path, train_files, val_files, **kw):
    kw.pop("n_gpus", None)
    return _reference_first_run(model_path, train_files, val_files, **kw)
"""),
    # paths not quoted: a comma or space breaks Hydra's parser
    Mutant("first_run_unquoted_paths", "01.first_run", "config", """
_quote = str

def _files(value):
    if isinstance(value, str):
        return value
    return "[" + ",".join(value) + "]"
"""),
    # a single path turned into a one-element list
    Mutant("first_run_files_always_lists", "01.first_run", "config", """
_reference_files = _files

def _files(value):
    return _reference_files([value] if isinstance(value, str) else value)
"""),
    # GAE without the critic's model and micro batch size
    Mutant("first_run_gae_without_critic", "01.first_run", "config", _first_run_without("critic.")),
    # validation and checkpoints left on
    Mutant("first_run_validates_before_training", "01.first_run", "config",
           _first_run_without("trainer.val_before_train")),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
