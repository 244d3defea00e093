"""verl_config remembers compositions and verdicts on disk: what it hands back is what Hydra and verl give."""

from __future__ import annotations

import os
import pickle

import pytest
from omegaconf import OmegaConf

from verlings import verl_config

GOOD = ["algorithm.adv_estimator=grpo", "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=2",
        "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=2",
        "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=2"]
BAD = ["algorithm.adv_estimator=grpo"]  # no micro batch size: verl's validate_config refuses it


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VERLINGS_CACHE", str(tmp_path))
    return tmp_path / "verl_config"


def test_a_remembered_composition_is_hydras(cache):
    fresh = verl_config.compose_with_hydra(GOOD)
    first, second = verl_config.compose(GOOD), verl_config.compose(GOOD)
    assert len(list(cache.glob("compose-*.pkl"))) == 1
    for cfg in (first, second):
        assert OmegaConf.to_container(cfg, resolve=False) == OmegaConf.to_container(fresh, resolve=False)
        assert OmegaConf.is_struct(cfg), "Hydra hands out a struct config: a misspelt key must still raise"
    # interpolations are kept, not resolved at storing time
    assert OmegaConf.to_yaml(second) == OmegaConf.to_yaml(fresh)


def test_other_overrides_are_composed_again(cache):
    a = verl_config.compose(GOOD)
    b = verl_config.compose([*GOOD, "actor_rollout_ref.rollout.n=3"])
    assert (a.actor_rollout_ref.rollout.n, b.actor_rollout_ref.rollout.n) == (1, 3)
    assert len(list(cache.glob("compose-*.pkl"))) == 2


def test_remembered_verdicts_are_verls(cache):
    good, bad = verl_config.compose(GOOD), verl_config.compose(BAD)
    assert verl_config.validate_with_verl(good) is None and verl_config.rejection(good) is None
    expected = verl_config.validate_with_verl(bad)
    assert expected and "micro_batch_size" in expected, expected
    assert verl_config.rejection(bad) == expected  # computed
    assert verl_config.rejection(bad) == expected  # remembered
    assert len(list(cache.glob("verdict-*.json"))) == 2


def test_a_corrupt_cache_file_is_computed_again(cache):
    verl_config.compose(GOOD)
    (stored,) = cache.glob("compose-*.pkl")
    stored.write_bytes(stored.read_bytes()[:100])  # a run killed mid-write (before os.replace existed)
    cfg = verl_config.compose(GOOD)
    assert cfg.algorithm.adv_estimator == "grpo"
    assert pickle.loads(stored.read_bytes()).algorithm.adv_estimator == "grpo", "written again"


def test_the_cache_keeps_only_the_newest_files(cache, monkeypatch):
    monkeypatch.setattr(verl_config, "KEEP_FILES", 2)
    cache.mkdir(parents=True)
    for i, name in enumerate(("compose-old.pkl", "verdict-old.json")):
        (cache / name).write_text("{}", encoding="utf-8")
        os.utime(cache / name, ns=(i, i))  # long ago
    verl_config.compose(GOOD)
    verl_config.rejection(verl_config.compose(GOOD))
    assert sorted(p.name.split("-")[0] for p in cache.iterdir()) == ["compose", "verdict"]
    assert not (cache / "compose-old.pkl").exists() and not (cache / "verdict-old.json").exists()
