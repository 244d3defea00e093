"""Golden values for exercises/03 policy_losses.py, from verl 0.9.1's registered policy losses.

One file per loss (``pl_<loss>.npz``) with shared inputs, a ``cases`` JSON string (the config's
fields, ``loss_agg_mode``, whether ``rollout_is_weights`` is passed, the seed set before the
call) and verl's outputs per case: ``<case>__pg_loss``, ``<case>__grad_log_prob`` and
``<case>__metric__<name>`` for every metric.
"""

from __future__ import annotations

import json

import numpy as np
import torch

from verlings.goldens import snapshot

LOSSES = ("gspo", "cispo", "gpg", "geo_mean", "clip_cov", "kl_cov")
GLOBAL = {"dp_size": 2, "batch_num_tokens": 90, "global_batch_size": 16, "loss_scale_factor": None}

# Cases shared by every loss; clip_cov / kl_cov add their own knobs below.
CASES = {
    "default": {"config": {"clip_ratio": 0.2}},
    "clip_higher": {"config": {"clip_ratio": 0.2, "clip_ratio_low": 0.1, "clip_ratio_high": 0.28},
                    "loss_agg_mode": "seq-mean-token-sum"},
    "low_none": {"config": {"clip_ratio": 0.3, "clip_ratio_low": None, "clip_ratio_high": 0.4},
                 "loss_agg_mode": "seq-mean-token-mean"},
    "global_counts": {"config": {"clip_ratio": 0.2, "global_batch_info": GLOBAL}},
    "is_weights": {"config": {"clip_ratio": 0.2}, "rollout_is_weights": True},
}
EXTRA = {
    "clip_cov": {
        # every candidate kept (k ≥ candidates): the choice does not depend on the generator
        "all_candidates": {"config": {"clip_ratio": 0.2, "policy_loss": {"clip_cov_ratio": 0.5}}},
        "narrow_band": {"config": {"clip_ratio": 0.2, "policy_loss": {
            "clip_cov_ratio": 0.5, "clip_cov_lb": 0.5, "clip_cov_ub": 2.0}}},
    },
    "kl_cov": {
        "top_fifth": {"config": {"clip_ratio": 0.2, "policy_loss": {"kl_cov_ratio": 0.2, "ppo_kl_coef": 1.0}}},
        "coef": {"config": {"clip_ratio": 0.2, "policy_loss": {"kl_cov_ratio": 0.1, "ppo_kl_coef": 0.5}},
                 "loss_agg_mode": "seq-mean-token-sum-norm"},
    },
}
SEED = 1234  # torch.manual_seed before each call (clip_cov draws with torch.randperm)


def verl_actor_config(fields: dict):
    """verl's own ActorConfig with these fields (global_batch_info and policy_loss as dicts)."""
    from verl.workers.config.actor import ActorConfig, PolicyLossConfig

    fields = dict(fields)
    info = fields.pop("global_batch_info", {})
    policy_loss = PolicyLossConfig(**fields.pop("policy_loss", {}))
    config = ActorConfig(strategy="fsdp", rollout_n=1, ppo_micro_batch_size_per_gpu=1, policy_loss=policy_loss,
                         **fields)
    config.global_batch_info.update(info)
    return config


def _inputs(seed: int = 351) -> dict[str, torch.Tensor]:
    """bs 8 × 10: ragged rows (one empty, one full), log-ratios of about ±0.6, advantages of about ±2."""
    g = torch.Generator().manual_seed(seed)
    bs, response_length = 8, 10
    lengths = torch.randint(1, response_length, (bs,), generator=g)
    lengths[1], lengths[-1] = 0, response_length
    mask = (torch.arange(response_length)[None, :] < lengths[:, None]).long()
    old_log_prob = -3.0 * torch.rand(bs, response_length, generator=g)
    log_prob = old_log_prob + 0.6 * torch.randn(bs, response_length, generator=g)
    advantages = 2.0 * torch.randn(bs, response_length, generator=g)
    weights = 0.5 + torch.rand(bs, response_length, generator=g)
    # finite junk under the mask: a loss that forgets the mask cannot match
    junk = ~mask.bool()
    return {
        "old_log_prob": torch.where(junk, -0.1, old_log_prob), "log_prob": torch.where(junk, -7.0, log_prob),
        "advantages": torch.where(junk, 9.0, advantages), "response_mask": mask,
        "rollout_is_weights": torch.where(junk, 3.0, weights),
    }


def _make(loss: str) -> dict:
    from verl.trainer.ppo import core_algos

    fn = core_algos.get_policy_loss_fn(loss)
    inputs = _inputs()
    cases = {**CASES, **EXTRA.get(loss, {})}
    out: dict = {**inputs, "cases": np.array(json.dumps(cases, sort_keys=True))}
    for name, case in cases.items():
        lp = inputs["log_prob"].clone().requires_grad_(True)
        torch.manual_seed(SEED)
        pg_loss, metrics = fn(
            inputs["old_log_prob"], lp, inputs["advantages"], inputs["response_mask"],
            case.get("loss_agg_mode", "token-mean"), verl_actor_config(case["config"]),
            inputs["rollout_is_weights"] if case.get("rollout_is_weights") else None,
        )
        (grad,) = torch.autograd.grad(pg_loss, lp)
        out[f"{name}__pg_loss"], out[f"{name}__grad_log_prob"] = pg_loss, grad
        out[f"{name}__metric_names"] = np.array(json.dumps(sorted(metrics)))
        for key, value in metrics.items():
            out[f"{name}__metric__{key.split('/')[-1]}"] = np.float32(value)
    return out


for _loss in LOSSES:
    snapshot("03", f"pl_{_loss}")(lambda _loss=_loss: _make(_loss))
