"""Golden values for exercises/03 losses.py, from verl 0.9.1 (``verl/trainer/ppo/core_algos.py``).

Each file stores its inputs, a ``cases`` JSON string with the keyword arguments of
every case, and the outputs as ``<case>__<output>``. Masked positions hold large,
finite junk so that a loss which forgets the mask cannot match by accident.
"""

from __future__ import annotations

import json

import numpy as np
import torch

from verlings.goldens import snapshot

AGG_MODES = ("token-mean", "token-sum", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm")
# Global counts as verl's ppo_loss passes them (config.global_batch_info): this micro-batch is one of
# several on one of dp_size ranks, so the counts are bigger than its own.
GLOBAL_CASES = [
    {"dp_size": 2, "batch_num_tokens": 61, "global_batch_size": 13},
    {"dp_size": 4, "batch_num_tokens": 97, "global_batch_size": 24, "loss_scale_factor": 32},
    {"dp_size": 1, "batch_num_tokens": 50, "global_batch_size": 10},
    {"loss_scale_factor": 5},
]


def _ragged_mask(g: torch.Generator, bs: int, response_length: int) -> torch.Tensor:
    """Right-padded (bs, response_length) int64 mask: row 1 empty, the last row full, others random."""
    lengths = torch.randint(1, response_length, (bs,), generator=g)
    lengths[1], lengths[-1] = 0, response_length
    return (torch.arange(response_length)[None, :] < lengths[:, None]).long()


def _junk_where_masked(x: torch.Tensor, mask: torch.Tensor, junk: torch.Tensor) -> torch.Tensor:
    return torch.where(mask.bool(), x, junk)


def _cases(cases: dict) -> np.ndarray:
    return np.array(json.dumps(cases, sort_keys=True))


@snapshot("03", "agg_loss")
def agg_loss() -> dict:
    from verl.trainer.ppo.core_algos import agg_loss as verl_agg_loss

    g = torch.Generator().manual_seed(301)
    bs, response_length = 6, 8
    mask = _ragged_mask(g, bs, response_length)
    loss_mat = _junk_where_masked(torch.randn(bs, response_length, generator=g), mask, torch.full((), 50.0))
    out = {"loss_mat": loss_mat, "loss_mask": mask, "global_cases": _cases(GLOBAL_CASES)}
    for mode in AGG_MODES:
        out[mode] = verl_agg_loss(loss_mat=loss_mat, loss_mask=mask, loss_agg_mode=mode)
        for i, kwargs in enumerate(GLOBAL_CASES):
            out[f"g{i}__{mode}"] = verl_agg_loss(loss_mat=loss_mat, loss_mask=mask, loss_agg_mode=mode, **kwargs)
    return out


def _actor_config(**kwargs):
    """verl's own ActorConfig (the fields the loss does not read get valid dummies)."""
    from verl.workers.config.actor import ActorConfig

    info = kwargs.pop("global_batch_info", {})
    config = ActorConfig(strategy="fsdp", rollout_n=1, ppo_micro_batch_size_per_gpu=1, **kwargs)
    config.global_batch_info.update(info)
    return config


@snapshot("03", "policy_loss")
def policy_loss() -> dict:
    from verl.trainer.ppo import core_algos

    g = torch.Generator().manual_seed(302)
    bs, response_length = 6, 10
    mask = _ragged_mask(g, bs, response_length)
    old_log_prob = -3.0 * torch.rand(bs, response_length, generator=g)
    # log-ratios up to about ±1.5: some tokens inside the clip range, some outside, some past ratio 3.
    log_ratio = 0.7 * torch.randn(bs, response_length, generator=g)
    log_ratio = _junk_where_masked(log_ratio, mask, torch.full((), 4.0))  # would be clipped if counted
    log_prob = old_log_prob + log_ratio
    advantages = _junk_where_masked(torch.randn(bs, response_length, generator=g), mask, torch.full((), -30.0))
    rollout_is_weights = _junk_where_masked(0.5 + torch.rand(bs, response_length, generator=g), mask,
                                            torch.full((), 0.0))

    # Each case: the ActorConfig fields, the loss_agg_mode, whether rollout_is_weights is passed.
    cases = {
        "default": {"config": {"clip_ratio": 0.2}, "loss_agg_mode": "token-mean"},
        "clip_higher": {
            "config": {"clip_ratio": 0.2, "clip_ratio_low": 0.1, "clip_ratio_high": 0.28, "clip_ratio_c": 2.0},
            "loss_agg_mode": "seq-mean-token-sum",
        },
        "high_only": {
            "config": {"clip_ratio": 0.25, "clip_ratio_low": None, "clip_ratio_high": 0.4},
            "loss_agg_mode": "seq-mean-token-mean",
        },
        "low_only": {
            "config": {"clip_ratio": 0.3, "clip_ratio_low": 0.1, "clip_ratio_high": None, "clip_ratio_c": 1.5},
            "loss_agg_mode": "token-mean",
        },
        "global_counts": {
            "config": {"clip_ratio": 0.2, "global_batch_info": {
                "dp_size": 2, "batch_num_tokens": 70, "global_batch_size": 16, "loss_scale_factor": None}},
            "loss_agg_mode": "token-mean",
        },
        "global_seq_norm": {
            "config": {"clip_ratio": 0.2, "clip_ratio_high": 0.28, "global_batch_info": {
                "dp_size": 4, "batch_num_tokens": 150, "global_batch_size": 24, "loss_scale_factor": 16}},
            "loss_agg_mode": "seq-mean-token-sum-norm",
        },
        "is_weights": {"config": {"clip_ratio": 0.2}, "loss_agg_mode": "token-mean", "rollout_is_weights": True},
    }
    out = {
        "old_log_prob": old_log_prob, "log_prob": log_prob, "advantages": advantages, "response_mask": mask,
        "rollout_is_weights": rollout_is_weights, "cases": _cases(cases),
    }
    for name, case in cases.items():
        lp = log_prob.clone().requires_grad_(True)
        pg_loss, metrics = core_algos.compute_policy_loss_vanilla(
            old_log_prob=old_log_prob, log_prob=lp, advantages=advantages, response_mask=mask,
            loss_agg_mode=case["loss_agg_mode"], config=_actor_config(**case["config"]),
            rollout_is_weights=rollout_is_weights if case.get("rollout_is_weights") else None,
        )
        (grad,) = torch.autograd.grad(pg_loss, lp)
        out.update({
            f"{name}__pg_loss": pg_loss, f"{name}__pg_clipfrac": np.float32(metrics["actor/pg_clipfrac"]),
            f"{name}__ppo_kl": np.float32(metrics["actor/ppo_kl"]),
            f"{name}__pg_clipfrac_lower": np.float32(metrics["actor/pg_clipfrac_lower"]),
            f"{name}__grad_log_prob": grad,
        })
    return out


@snapshot("03", "value_loss")
def value_loss() -> dict:
    from verl.trainer.ppo.core_algos import compute_value_loss

    g = torch.Generator().manual_seed(303)
    bs, response_length = 5, 9
    mask = _ragged_mask(g, bs, response_length)
    values = torch.randn(bs, response_length, generator=g)
    vpreds = values + 0.8 * torch.randn(bs, response_length, generator=g)  # some moved past the clip range
    returns = _junk_where_masked(
        values + torch.randn(bs, response_length, generator=g), mask, torch.full((), 40.0)
    )
    cases = {
        "default": {"cliprange_value": 0.5},
        "seq_norm": {"cliprange_value": 0.2, "loss_agg_mode": "seq-mean-token-sum-norm"},
        "global_token_mean": {"cliprange_value": 0.5, "dp_size": 2, "batch_num_tokens": 60, "global_batch_size": 12},
        "global_seq_norm": {
            "cliprange_value": 0.3, "loss_agg_mode": "seq-mean-token-sum-norm", "dp_size": 4,
            "batch_num_tokens": 120, "global_batch_size": 20, "loss_scale_factor": 12,
        },
        "token_sum": {"cliprange_value": 0.5, "loss_agg_mode": "token-sum", "dp_size": 2},
    }
    out = {"vpreds": vpreds, "returns": returns, "values": values, "response_mask": mask, "cases": _cases(cases)}
    for name, kwargs in cases.items():
        vp = vpreds.clone().requires_grad_(True)
        vf_loss, vf_clipfrac = compute_value_loss(
            vpreds=vp, returns=returns, values=values, response_mask=mask, **kwargs
        )
        (grad,) = torch.autograd.grad(vf_loss, vp)
        out.update({f"{name}__vf_loss": vf_loss, f"{name}__vf_clipfrac": vf_clipfrac, f"{name}__grad_vpreds": grad})
    return out


@snapshot("03", "entropy_loss")
def entropy_loss() -> dict:
    from verl.trainer.ppo.core_algos import compute_entropy_loss

    g = torch.Generator().manual_seed(304)
    bs, response_length, vocab_size = 4, 6, 11
    mask = _ragged_mask(g, bs, response_length)
    # Sharp and flat distributions mixed, so masked tokens change the mean if they are counted.
    scale = torch.rand(bs, response_length, 1, generator=g) * 4.0
    logits = scale * torch.randn(bs, response_length, vocab_size, generator=g)
    cases = {"default": {}, "seq_mean": {"loss_agg_mode": "seq-mean-token-mean"}}
    out = {"logits": logits, "response_mask": mask, "cases": _cases(cases)}
    for name, kwargs in cases.items():
        out[f"{name}__entropy_loss"] = compute_entropy_loss(logits=logits, response_mask=mask, **kwargs)
    return out
