"""Graded tests for exercises/01/config.py — the integration with verl's Hydra config.

The expected defaults come from verl itself: ``verl/trainer/config/_generated_ppo_trainer.yaml``
is the flattened ``ppo_trainer`` config that verl generates and ships. Only the tests that check
that verl accepts a config import verl (lazily, 3–5 s).
"""

import warnings
from functools import cache
from pathlib import Path

import pytest

from verlings import learner_module
from verlings.testing import assert_equal, hint_line

config = learner_module("01", "config")


@cache  # read-only here: verl's file, parsed once a run
def _verl_defaults() -> dict:
    from omegaconf import OmegaConf

    from verlings import verl_config

    return OmegaConf.to_container(OmegaConf.load(verl_config.config_dir() / "_generated_ppo_trainer.yaml"))


def _compose(overrides):
    """The tests' own Hydra composition (independent of the learner's compose_config).

    verlings/verl_config.py composes as verl does and remembers the result on disk, keyed by the
    overrides: a second run with unchanged overrides composes nothing."""
    from verlings import verl_config

    return verl_config.compose(list(overrides))


def _verl_rejection(cfg) -> str | None:
    """verl's own validate_config on cfg: None when accepted, else the error it raises.

    verlings/verl_config.py runs it and remembers the verdict on disk, keyed by the composed
    config: your changed overrides are always validated again."""
    from verlings import verl_config

    return verl_config.rejection(cfg)


def _select(cfg, key):
    from omegaconf import OmegaConf

    value = OmegaConf.select(cfg, key, throw_on_missing=False)
    return OmegaConf.to_container(value) if OmegaConf.is_config(value) else value


# ---------------------------------------------------------------- 01.compose


def _first_differences(seen: dict, expected: dict, prefix: str = "", limit: int = 5) -> list[str]:
    out = []
    for key, want in expected.items():
        where = f"{prefix}{key}"
        if key not in seen:
            out.append(f"{where}: missing")
        elif isinstance(want, dict) and isinstance(seen[key], dict):
            out += _first_differences(seen[key], want, where + ".", limit)
        elif seen[key] != want:
            out.append(f"{where}: {seen[key]!r} instead of {want!r}")
        if len(out) >= limit:
            break
    return out[:limit]


@pytest.mark.exercise("01.compose")
def test_compose_config_defaults_match_verl():
    from omegaconf import OmegaConf

    cfg = config.compose_config(overrides=[])
    assert OmegaConf.is_config(cfg), f"compose_config returned {type(cfg).__name__}; expected Hydra's DictConfig"
    diffs = _first_differences(OmegaConf.to_container(cfg), _verl_defaults())
    assert_equal(
        diffs, [], what="compose_config([]) vs verl's _generated_ppo_trainer.yaml",
        why="compose config_name='ppo_trainer' from verl/trainer/config, unresolved (no resolve=True)",
    )


@pytest.mark.exercise("01.compose")
def test_compose_config_applies_overrides():
    cfg = config.compose_config(overrides=[
        "data.train_batch_size=4",                  # change a value
        "trainer.logger=[console,tensorboard]",     # a list
        "+data.course_note=hello",                  # add a key that verl's config does not have
        "algorithm.adv_estimator=grpo",
    ])
    seen = {k: _select(cfg, k) for k in
            ("data.train_batch_size", "trainer.logger", "data.course_note", "algorithm.adv_estimator")}
    expected = {"data.train_batch_size": 4, "trainer.logger": ["console", "tensorboard"],
                "data.course_note": "hello", "algorithm.adv_estimator": "grpo"}
    assert_equal(seen, expected, what="compose_config with overrides",
                 why="pass the overrides to hydra.compose(..., overrides=overrides) unchanged")


@pytest.mark.exercise("01.compose")
def test_compose_config_twice_is_independent():
    first = config.compose_config(overrides=["data.train_batch_size=4"])
    second = config.compose_config(overrides=[])
    default = _verl_defaults()["data"]["train_batch_size"]
    assert_equal(
        (first.data.train_batch_size, second.data.train_batch_size), (4, default),
        what="data.train_batch_size of two calls in a row",
        why="Hydra keeps global state: use initialize_config_dir as a context manager "
        "(and GlobalHydra.instance().clear() first)",
    )


@pytest.mark.exercise("01.compose")
def test_compose_config_typo_raises_hydras_error():
    from hydra.errors import ConfigCompositionException

    with pytest.raises(ConfigCompositionException) as info:
        config.compose_config(overrides=["data.train_batch_siz=4"])
    assert "+data.train_batch_siz" in str(info.value), (
        f"Hydra's message should suggest the '+' form; got: {info.value}\n"
        "  let Hydra's exception propagate unchanged\n" + hint_line()
    )


@pytest.mark.exercise("01.compose")
def test_compose_config_struct_mode_and_any_cwd(tmp_path, monkeypatch):
    from omegaconf import OmegaConf
    from omegaconf.errors import ConfigAttributeError

    monkeypatch.chdir(tmp_path)  # the learner's shell may be anywhere
    cfg = config.compose_config(overrides=["trainer.total_training_steps=2"])
    assert_equal(cfg.trainer.total_training_steps, 2, what="trainer.total_training_steps (composed from a "
                 "different working directory)",
                 why="find verl's config folder from the installed package (verl_config_dir()), not the cwd")
    assert OmegaConf.is_struct(cfg), "the config should be in struct mode, as Hydra composes it (typos fail)"
    with pytest.raises(ConfigAttributeError):
        _ = cfg.trainer.total_training_stepz


# ---------------------------------------------------------------- 01.first_run


# Paths that are the same on every run (nothing is read from them), so that verl's verdict on an
# unchanged config is remembered between runs; the space checks the quoting.
FIRST_RUN_DIR = Path("/tmp/verlings-first-run")


def _first_run(**kw):
    model = FIRST_RUN_DIR / "tiny model"
    train, val = FIRST_RUN_DIR / "train.parquet", FIRST_RUN_DIR / "test.parquet"
    overrides = config.first_run_overrides(model_path=str(model), train_files=str(train), val_files=str(val), **kw)
    assert isinstance(overrides, list) and all(isinstance(o, str) for o in overrides), (
        f"first_run_overrides should return a list of str, got {overrides!r}"
    )
    return _compose(overrides), str(model), str(train), str(val)


DEFAULTS = {  # the docstring's table with the default arguments
    "algorithm.adv_estimator": "grpo",
    "data.train_batch_size": 4,
    "data.max_prompt_length": 64,
    "data.max_response_length": 32,
    "actor_rollout_ref.rollout.n": 2,
    "actor_rollout_ref.rollout.name": "vllm",
    "actor_rollout_ref.rollout.tensor_model_parallel_size": 1,
    "actor_rollout_ref.actor.ppo_mini_batch_size": 4,
    "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu": 2,
    "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu": 2,
    "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu": 2,
    "trainer.n_gpus_per_node": 1,
    "trainer.nnodes": 1,
    "trainer.total_training_steps": 2,
    "trainer.logger": ["console", "tensorboard"],
    "trainer.project_name": "verlings",
    "trainer.experiment_name": "first_run",
    "trainer.val_before_train": False,
    "trainer.test_freq": -1,
    "trainer.save_freq": -1,
}


def _check_values(cfg, expected):
    seen = {k: _select(cfg, k) for k in expected}
    wrong = {k: (seen[k], v) for k, v in expected.items() if seen[k] != v}
    assert_equal(
        {k: s for k, (s, _) in wrong.items()}, {k: v for k, (_, v) in wrong.items()},
        what="composed values that differ from the docstring's table",
        why="each row of the table is one 'key=value' override",
    )


@pytest.mark.exercise("01.first_run")
def test_first_run_overrides_accepted_by_verl(tmp_path):
    cfg, *_ = _first_run()
    assert_equal(
        _verl_rejection(cfg), None, what="verl.utils.config.validate_config on the composed first-run config",
        why="verl's defaults leave the micro batch sizes null and assume 8 GPUs — see the table",
    )


@pytest.mark.exercise("01.first_run")
def test_first_run_overrides_default_values(tmp_path):
    cfg, model, train, val = _first_run()
    _check_values(cfg, {**DEFAULTS, "actor_rollout_ref.model.path": model,
                        "data.train_files": train, "data.val_files": val})


@pytest.mark.exercise("01.first_run")
def test_first_run_overrides_custom_sizes(tmp_path):
    kw = dict(train_batch_size=8, rollout_n=4, ppo_mini_batch_size=4, micro_batch_size_per_gpu=4, n_gpus=2,
              max_prompt_length=128, max_response_length=48, total_training_steps=5, rollout_name="sglang",
              project_name="p", experiment_name="e", loggers=("console",))
    cfg, *_ = _first_run(**kw)
    _check_values(cfg, {
        "data.train_batch_size": 8, "actor_rollout_ref.rollout.n": 4,
        "actor_rollout_ref.actor.ppo_mini_batch_size": 4,
        "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu": 4,
        "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu": 4,
        "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu": 4,
        "trainer.n_gpus_per_node": 2, "data.max_prompt_length": 128, "data.max_response_length": 48,
        "trainer.total_training_steps": 5, "actor_rollout_ref.rollout.name": "sglang",
        "trainer.project_name": "p", "trainer.experiment_name": "e", "trainer.logger": ["console"],
    })
    # 8 prompts × 4 = 32 responses on 2 GPUs; mini 4×4 = 16 → 8 per GPU → micro batches of 4.
    assert_equal(_verl_rejection(cfg), None, what="validate_config with the custom sizes")


@pytest.mark.exercise("01.first_run")
def test_first_run_overrides_quote_paths():
    odd = FIRST_RUN_DIR / "my data, v=1 [it's]"  # the same every run (the composition is remembered)
    files = [str(odd / "a.parquet"), str(odd / "b.parquet")]
    overrides = config.first_run_overrides(model_path=str(odd / "model"), train_files=files,
                                           val_files=str(odd / "test.parquet"))
    cfg = _compose(overrides)
    _check_values(cfg, {"data.train_files": files, "data.val_files": str(odd / "test.parquet"),
                        "actor_rollout_ref.model.path": str(odd / "model")})


@pytest.mark.exercise("01.first_run")
def test_first_run_overrides_gae_adds_the_critic(tmp_path):
    cfg, model, *_ = _first_run(adv_estimator="gae", micro_batch_size_per_gpu=1)
    _check_values(cfg, {"algorithm.adv_estimator": "gae", "critic.model.path": model,
                        "critic.ppo_micro_batch_size_per_gpu": 1,
                        "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu": 1})
