"""verl 0.9.1's Hydra config, for the graded tests that check what a learner's overrides do.

``compose(overrides)`` builds the ``ppo_trainer`` config exactly as ``python -m verl.trainer.main_ppo``
would (Hydra compose from ``verl/trainer/config``, unresolved); ``rejection(cfg)`` runs verl's own
``validate_config`` on it and returns the error verl raises, or ``None`` when verl accepts it.
The same steps chapter 01's ``test_config.py`` takes; composing needs Hydra only, validating imports
verl (3–5 s), so callers import lazily.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def config_dir() -> Path:
    """``verl/trainer/config``, found without importing verl."""
    spec = importlib.util.find_spec("verl")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("verl is not installed — run `python grader.py doctor`")
    return Path(next(iter(spec.submodule_search_locations))) / "trainer" / "config"


def compose(overrides: Sequence[str]) -> Any:
    """The composed ``ppo_trainer`` DictConfig; Hydra's ``ConfigCompositionException`` on a bad override."""
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
