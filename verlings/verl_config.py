"""verl 0.9.1's Hydra config, for the graded tests that check what a learner's overrides do.

``compose(overrides)`` builds the ``ppo_trainer`` config exactly as ``python -m verl.trainer.main_ppo``
would (Hydra compose from ``verl/trainer/config``, unresolved); ``rejection(cfg)`` runs verl's own
``validate_config`` on it and returns the error verl raises, or ``None`` when verl accepts it.
The same steps chapter 01's ``test_config.py`` takes; composing needs Hydra only, validating imports
verl (3–5 s), so callers import lazily.

Both are pure functions of verl's installed files and their input, so both are remembered on disk
(``<cache>/verl_config/``, keyed by verl's version, the size and date of every file they read, and
the overrides or the composed config): a second ``pytest exercises/03`` composes nothing and never
imports verl. A learner's new overrides miss the cache and pay once; a cache file that does not
load is ignored and written again. A composition is stored pickled (with OmegaConf's version in its
key): unpickling verl's ~5000-node config takes 0.016 s, building it again from JSON with
``OmegaConf.create`` 0.08 s, and chapter 01's tests compose eleven times a run.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import pickle
import tempfile
import warnings
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any


def config_dir() -> Path:
    """``verl/trainer/config``, found without importing verl."""
    spec = importlib.util.find_spec("verl")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("verl is not installed — run `python grader.py doctor`")
    return Path(next(iter(spec.submodule_search_locations))) / "trainer" / "config"


@cache
def _stamp() -> str:
    """verl's version and the size and date of every file a composition or a validation reads.

    Once per process (0.01 s each, eleven compositions a chapter 01 run): every grading run is a
    process of its own, so a verl reinstalled between two runs is still seen."""
    root = config_dir().parent.parent  # site-packages/verl
    files = sorted(config_dir().rglob("*.yaml")) + sorted((root / "trainer" / "config").rglob("*.py"))
    files += [root / "utils" / "config.py", *sorted((root / "workers" / "config").rglob("*.py"))]
    parts = [importlib.metadata.version("verl")]
    for path in files:
        st = path.stat()
        parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
    return "\n".join(parts)


def _cache_file(kind: str, *key: str, suffix: str = ".json") -> Path:
    from verlings.fixtures.tokenizer import cache_root

    digest = hashlib.sha256("\0".join((_stamp(), *key)).encode("utf-8")).hexdigest()[:32]
    return cache_root() / "verl_config" / f"{kind}-{digest}{suffix}"


def _remembered(path: Path) -> Any:
    try:
        data = path.read_bytes()
        return pickle.loads(data) if path.suffix == ".pkl" else json.loads(data)
    except Exception:  # absent, half-written by a killed run, edited, or an unpicklable old file: compute again
        return None


def _remember(path: Path, value: Any) -> None:
    data = pickle.dumps(value) if path.suffix == ".pkl" else json.dumps(value).encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
        _prune(path.parent)
    except OSError:
        pass  # a read-only cache only costs the next run the time


# Each config a learner tries is a new file (~95 kB composed, <1 kB a verdict): the oldest go first.
KEEP_FILES = 400


def _prune(folder: Path) -> None:
    entries = []
    for entry in os.scandir(folder):
        try:
            entries.append((entry.stat().st_mtime_ns, entry.path))
        except OSError:
            continue  # removed by another run meanwhile
    for _, old in sorted(entries, reverse=True)[KEEP_FILES:]:
        try:
            os.unlink(old)
        except OSError:
            pass


def compose(overrides: Sequence[str]) -> Any:
    """The composed ``ppo_trainer`` DictConfig; Hydra's ``ConfigCompositionException`` on a bad override."""
    from omegaconf import DictConfig, OmegaConf

    path = _cache_file("compose", json.dumps(list(overrides)), importlib.metadata.version("omegaconf"), suffix=".pkl")
    stored = _remembered(path)
    if isinstance(stored, DictConfig) and OmegaConf.is_struct(stored):
        return stored
    cfg = compose_with_hydra(overrides)
    _remember(path, cfg)
    return cfg


def compose_with_hydra(overrides: Sequence[str]) -> Any:
    """Hydra's composition itself (no disk cache): the warm worker pre-fills Hydra's file memo with it."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir()), version_base=None):
        return hydra_compose(config_name="ppo_trainer", overrides=list(overrides))


def uses_reference_policy(cfg: Any) -> bool:
    # As verl/trainer/ppo/utils.py::need_reference_policy decides (importing it costs seconds more).
    return bool(cfg.algorithm.get("use_kl_in_reward", False) or cfg.actor_rollout_ref.actor.use_kl_loss)


def uses_critic(cfg: Any) -> bool:
    # As verl/trainer/ppo/utils.py::need_critic decides: critic.enable when set, else "the estimator is gae".
    return bool(cfg.critic.enable) if cfg.critic.enable is not None else cfg.algorithm.adv_estimator == "gae"


def rejection(cfg: Any) -> str | None:
    """verl's ``validate_config`` on ``cfg``: ``None`` when accepted, else ``"<Error>: <message>"``."""
    from omegaconf import OmegaConf

    # JSON of the unresolved container: the same content as its YAML, in a tenth of the time
    path = _cache_file("verdict", json.dumps(OmegaConf.to_container(cfg, resolve=False), sort_keys=True))
    stored = _remembered(path)
    if isinstance(stored, dict) and "verdict" in stored:
        return stored["verdict"]
    verdict = validate_with_verl(cfg)
    _remember(path, {"verdict": verdict})
    return verdict


def validate_with_verl(cfg: Any) -> str | None:
    from verl.utils.config import validate_config

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            validate_config(config=cfg, use_reference_policy=uses_reference_policy(cfg), use_critic=uses_critic(cfg))
    except Exception as exc:  # verl raises AssertionError and ValueError alike
        return f"{type(exc).__name__}: {exc}"
    return None


def select(cfg: Any, key: str) -> Any:
    """``cfg``'s value at a dotted key as plain Python (``None`` when missing)."""
    from omegaconf import OmegaConf

    value = OmegaConf.select(cfg, key, throw_on_missing=False)
    return OmegaConf.to_container(value) if OmegaConf.is_config(value) else value
