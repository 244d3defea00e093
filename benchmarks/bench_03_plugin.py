"""verl plug-in of benchmarks/bench_03_algorithms.py: the course's chapter-03 estimators under verl names.

verl imports every module named in ``VERL_USE_EXTERNAL_MODULES`` in each of its processes. This one
registers, once ``verl.trainer.ppo.core_algos`` is imported (not before: importing it early from
``import verl`` would be circular), the learner-side estimators of the run's target
(``VERLINGS_TARGET``, the reference solutions in the benchmark) as ``verlings_rloo`` and
``verlings_rpp_baseline``. verl's trainer calls them with keywords only (``token_level_rewards``,
``response_mask``, ``config``, ``index``); chapter 03's functions accept exactly those.
GRPO and Dr.GRPO need nothing from here: the capstone's own ``verlings_grpo`` is registered by the
probe, and reads ``algorithm.norm_adv_by_std_in_grpo``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from verlings.capstone.hooks import after_import

# verl name -> function of exercises/03/advantages.py (here: solutions/03/advantages.py)
ESTIMATORS = {
    "verlings_rloo": "compute_rloo_outcome_advantage",
    "verlings_rpp_baseline": "compute_reinforce_plus_plus_baseline_outcome_advantage",
}


def _estimator(function: str) -> Any:
    def estimate(**kwargs: Any) -> Any:
        from verlings.target import load_module

        # loaded at the call, in the worker that calls it, from the run's target (VERLINGS_TARGET)
        return getattr(load_module("03", "advantages"), function)(**kwargs)

    estimate.__name__ = function
    return estimate


def _register(core_algos: ModuleType) -> None:
    for name, function in ESTIMATORS.items():
        if name not in core_algos.ADV_ESTIMATOR_REGISTRY:
            core_algos.register_adv_est(name)(_estimator(function))


after_import("verl.trainer.ppo.core_algos", _register)
