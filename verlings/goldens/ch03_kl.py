"""Golden values for exercises/03 kl.py, from verl 0.9.1.

``kl_penalty`` and the controllers come from ``verl/trainer/ppo/core_algos.py``;
``apply_kl_penalty`` from ``verl/trainer/ppo/ray_trainer.py`` (on a DataProto).
Gradients are of ``sum(weights * kl)`` so that every token's gradient is visible.
"""

from __future__ import annotations

import json

import numpy as np
import torch

from verlings.goldens import snapshot

ESTIMATORS = ("kl", "k1", "abs", "mse", "k2", "low_var_kl", "k3")
STRAIGHT_THROUGH = ("k1+", "kl+", "abs+", "k2+", "mse+", "k3+", "low_var_kl+")


def key(name: str) -> str:
    """``k3+`` → ``k3plus``: npz keys stay plain file names."""
    return name.replace("+", "plus")


def _log_probs(seed: int, bs: int = 4, response_length: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probabilities whose log-ratio spans small values, k3's clamp at 10, and the ±20 clamp."""
    g = torch.Generator().manual_seed(seed)
    logprob = -4.0 * torch.rand(bs, response_length, generator=g)
    delta = 1.5 * torch.randn(bs, response_length, generator=g)
    delta[0, :4] = torch.tensor([3.5, -4.0, 25.0, -25.0])  # ref - logprob: k3 clamps at 10 for the first three
    return logprob, logprob + delta


def _value_and_grads(verl_kl_penalty, logprob, ref_logprob, weights, name):
    lp = logprob.clone().requires_grad_(True)
    ref = ref_logprob.clone().requires_grad_(True)
    value = verl_kl_penalty(lp, ref, kl_penalty=name)
    grad_lp, grad_ref = torch.autograd.grad((weights * value).sum(), (lp, ref))
    return {f"{key(name)}": value, f"{key(name)}__grad_logprob": grad_lp, f"{key(name)}__grad_ref_logprob": grad_ref}


@snapshot("03", "kl_penalty")
def kl_penalty() -> dict:
    from verl.trainer.ppo.core_algos import kl_penalty as verl_kl_penalty

    logprob, ref_logprob = _log_probs(seed=401)
    weights = torch.rand(logprob.shape, generator=torch.Generator().manual_seed(4010)) + 0.5
    out = {"logprob": logprob, "ref_logprob": ref_logprob, "weights": weights}
    for name in ESTIMATORS:
        out.update(_value_and_grads(verl_kl_penalty, logprob, ref_logprob, weights, name))
    return out


@snapshot("03", "kl_straight_through")
def kl_straight_through() -> dict:
    from verl.trainer.ppo.core_algos import kl_penalty as verl_kl_penalty

    logprob, ref_logprob = _log_probs(seed=402)
    weights = torch.rand(logprob.shape, generator=torch.Generator().manual_seed(4020)) + 0.5
    out = {"logprob": logprob, "ref_logprob": ref_logprob, "weights": weights}
    for name in STRAIGHT_THROUGH:
        out.update(_value_and_grads(verl_kl_penalty, logprob, ref_logprob, weights, name))
    return out


APPLY_CASES = {
    "kl": {"kl_coef": 0.05, "kl_penalty": "kl"},
    "low_var_kl": {"kl_coef": 0.2, "kl_penalty": "low_var_kl"},
    "k2": {"kl_coef": 0.1, "kl_penalty": "k2"},
}


@snapshot("03", "apply_kl_penalty")
def apply_kl_penalty() -> dict:
    from verl import DataProto
    from verl.trainer.ppo.core_algos import FixedKLController
    from verl.trainer.ppo.ray_trainer import apply_kl_penalty as verl_apply_kl_penalty

    g = torch.Generator().manual_seed(403)
    bs, response_length = 5, 8
    lengths = torch.tensor([3, 0, 8, 5, 1])  # row 1 has no response token
    mask = (torch.arange(response_length)[None, :] < lengths[:, None]).long()
    # Outcome reward at the last valid token, 0 elsewhere (as a reward manager places it).
    scores = torch.zeros(bs, response_length)
    last = (lengths - 1).clamp(min=0)
    scores[torch.arange(bs), last] = torch.randn(bs, generator=g) * (lengths > 0)
    old_log_prob = -3.0 * torch.rand(bs, response_length, generator=g)
    ref_log_prob = old_log_prob + 0.8 * torch.randn(bs, response_length, generator=g)
    # Junk on padding: a far-off reference there would dominate an unmasked KL.
    ref_log_prob = torch.where(mask.bool(), ref_log_prob, torch.full((), -15.0))

    out = {
        "token_level_scores": scores, "old_log_prob": old_log_prob, "ref_log_prob": ref_log_prob,
        "response_mask": mask, "cases": np.array(json.dumps(APPLY_CASES, sort_keys=True)),
    }
    for name, kwargs in APPLY_CASES.items():
        data = DataProto.from_dict({
            "token_level_scores": scores, "old_log_probs": old_log_prob, "ref_log_prob": ref_log_prob,
            "response_mask": mask,
        })
        data, metrics = verl_apply_kl_penalty(
            data, FixedKLController(kl_coef=kwargs["kl_coef"]), kl_penalty=kwargs["kl_penalty"]
        )
        out[f"{name}__token_level_rewards"] = data.batch["token_level_rewards"]
        out[f"{name}__current_kl"] = np.float32(metrics["actor/reward_kl_penalty"])
    return out


# (current_kl, n_steps) fed to update() in turn: errors inside and outside ±0.2, several batch sizes.
CONTROLLER_STEPS = ((0.5, 64), (0.11, 64), (0.02, 128), (0.095, 32), (0.3, 256), (0.1, 16))


@snapshot("03", "kl_controllers")
def kl_controllers() -> dict:
    from verl.trainer.ppo.core_algos import AdaptiveKLController, FixedKLController

    adaptive = AdaptiveKLController(init_kl_coef=0.2, target_kl=0.1, horizon=1000)
    fixed = FixedKLController(kl_coef=0.05)
    adaptive_values, fixed_values = [], []
    for current_kl, n_steps in CONTROLLER_STEPS:
        adaptive.update(current_kl=current_kl, n_steps=n_steps)
        fixed.update(current_kl=current_kl, n_steps=n_steps)
        adaptive_values.append(adaptive.value)
        fixed_values.append(fixed.value)
    return {
        "current_kl": np.array([s[0] for s in CONTROLLER_STEPS], dtype=np.float64),
        "n_steps": np.array([s[1] for s in CONTROLLER_STEPS], dtype=np.int64),
        "init_kl_coef": np.float64(0.2), "target_kl": np.float64(0.1), "horizon": np.int64(1000),
        "fixed_kl_coef": np.float64(0.05),
        "adaptive_values": np.array(adaptive_values, dtype=np.float64),
        "fixed_values": np.array(fixed_values, dtype=np.float64),
    }
