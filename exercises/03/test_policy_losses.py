"""Graded tests for exercises/03/policy_losses.py (goldens from verl 0.9.1: verlings/goldens/ch03_policy_losses.py)."""

import json
import math
from functools import cache

import pytest
import torch

from verlings import learner_module
from verlings.fixtures.actor_config import ActorConfig, PolicyLossConfig
from verlings.testing import assert_close, golden, hint_line, tensors

pl = learner_module("03", "policy_losses")

EXERCISES = {
    "gspo": "03.gspo", "cispo": "03.cispo", "gpg": "03.gpg_loss", "geo_mean": "03.geo_mean",
    "clip_cov": "03.clip_cov", "kl_cov": "03.kl_cov",
}
SEED = 1234  # the goldens were made with torch.manual_seed(SEED) before each call (clip_cov draws)
WHY = {
    "gspo": "GSPO: the sequence ratio exp(mean valid log-ratio) as the value, each token's own log_prob as the "
    "gradient; then PPO's max(-A·s, -A·clip(s)) per token, agg_loss(**global_batch_info)",
    "cispo": "CISPO: -sg(clamp(r, 1-low, 1+high)) · A · log_prob per token — the clipped ratio is a constant weight",
    "gpg": "GPG: -A · log_prob per token, aggregated like any loss (no ratio, no clip)",
    "geo_mean": "GMPO: per row exp(mean of the sign-aware clipped log-ratios) times -(mean advantage), then the "
    "plain mean over rows (loss_agg_mode and global_batch_info are not used)",
    "clip_cov": "Clip-Cov: PPO's clipped loss, times 0 on the chosen high-covariance tokens (candidates in "
    "row-major order, one torch.randperm when there are any)",
    "kl_cov": "KL-Cov: -A·exp(d) everywhere, plus ppo_kl_coef·|d| on the top-covariance tokens (torch.topk)",
}
CASE_NOTES = {
    "global_counts": "; aggregate with **config.global_batch_info",
    "is_weights": "; multiply each token's loss by rollout_is_weights before aggregating",
    "low_none": "; clip_ratio_low None falls back to clip_ratio",
}


def _config(fields: dict) -> ActorConfig:
    fields = dict(fields)
    info = dict(fields.pop("global_batch_info", {}))
    policy_loss = PolicyLossConfig(**fields.pop("policy_loss", {}))
    return ActorConfig(**fields, policy_loss=policy_loss, global_batch_info=info)


@cache
def _golden(loss: str) -> tuple[dict, dict]:
    """(numpy arrays, tensors) of one golden file, read once (the tests never modify them)."""
    raw = golden("03", f"pl_{loss}")
    return raw, tensors(raw)


def _cases(loss: str) -> list[tuple[str, str]]:
    return [(loss, case) for case in json.loads(str(_golden(loss)[0]["cases"]))]


def _call(loss: str, g: dict, case: dict, log_prob: torch.Tensor | None = None):
    fn = getattr(pl, f"compute_policy_loss_{loss}")
    torch.manual_seed(SEED)
    result = fn(
        old_log_prob=g["old_log_prob"], log_prob=g["log_prob"] if log_prob is None else log_prob,
        advantages=g["advantages"], response_mask=g["response_mask"],
        loss_agg_mode=case.get("loss_agg_mode", "token-mean"), config=_config(case["config"]),
        rollout_is_weights=g["rollout_is_weights"] if case.get("rollout_is_weights") else None,
    )
    assert isinstance(result, tuple | list) and len(result) == 2 and isinstance(result[1], dict), (
        f"compute_policy_loss_{loss} must return (pg_loss, metrics) with metrics a dict"
    )
    return result


def _check_golden(loss: str, case_name: str) -> None:
    raw, g = _golden(loss)
    case = json.loads(str(raw["cases"]))[case_name]
    log_prob = g["log_prob"].clone().requires_grad_(True)
    pg_loss, metrics = _call(loss, g, case, log_prob)
    why = WHY[loss] + CASE_NOTES.get(case_name, "")
    assert_close(pg_loss, g[f"{case_name}__pg_loss"], why=why,
                 what=f"compute_policy_loss_{loss} ({case_name}: {case}) → pg_loss")
    names = json.loads(str(raw[f"{case_name}__metric_names"]))
    assert sorted(metrics) == names, f"metrics keys: expected {names} (verl's), seen {sorted(metrics)}"
    for key in names:
        assert type(metrics[key]) is float, f"metrics[{key!r}] must be a Python float (verl logs .item())"
        expected = g[f"{case_name}__metric__{key.split('/')[-1]}"]
        assert_close(metrics[key], expected, what=f"metrics[{key!r}] ({case_name})")
    assert isinstance(pg_loss, torch.Tensor) and pg_loss.requires_grad, "pg_loss must carry the gradient to log_prob"
    (grad,) = torch.autograd.grad(pg_loss, log_prob)
    assert_close(grad, g[f"{case_name}__grad_log_prob"], what=f"d pg_loss / d log_prob ({case_name})",
                 mask=g["response_mask"], why=why)


@pytest.mark.exercise("03.gspo")
@pytest.mark.parametrize(("loss", "case"), _cases("gspo"), ids=lambda v: str(v))
def test_compute_policy_loss_gspo_matches_verl(loss, case):
    _check_golden(loss, case)


@pytest.mark.exercise("03.cispo")
@pytest.mark.parametrize(("loss", "case"), _cases("cispo"), ids=lambda v: str(v))
def test_compute_policy_loss_cispo_matches_verl(loss, case):
    _check_golden(loss, case)


@pytest.mark.exercise("03.gpg_loss")
@pytest.mark.parametrize(("loss", "case"), _cases("gpg"), ids=lambda v: str(v))
def test_compute_policy_loss_gpg_matches_verl(loss, case):
    _check_golden(loss, case)


@pytest.mark.exercise("03.geo_mean")
@pytest.mark.parametrize(("loss", "case"), _cases("geo_mean"), ids=lambda v: str(v))
def test_compute_policy_loss_geo_mean_matches_verl(loss, case):
    _check_golden(loss, case)


@pytest.mark.exercise("03.clip_cov")
@pytest.mark.parametrize(("loss", "case"), _cases("clip_cov"), ids=lambda v: str(v))
def test_compute_policy_loss_clip_cov_matches_verl(loss, case):
    _check_golden(loss, case)


@pytest.mark.exercise("03.kl_cov")
@pytest.mark.parametrize(("loss", "case"), _cases("kl_cov"), ids=lambda v: str(v))
def test_compute_policy_loss_kl_cov_matches_verl(loss, case):
    _check_golden(loss, case)


@pytest.mark.parametrize(
    "loss", [pytest.param(loss, marks=pytest.mark.exercise(exercise)) for loss, exercise in EXERCISES.items()]
)
def test_policy_loss_is_registered_under_verls_name(loss):
    fn = pl.get_policy_loss_fn(loss)
    assert fn is getattr(pl, f"compute_policy_loss_{loss}"), (
        f"compute_policy_loss_{loss} must stay registered as {loss!r} (keep the @register_policy_loss decorator)"
        f"\n{hint_line()}"
    )
    # What verl's actor does: look the loss up by loss_mode and call it. ratio 1, A = 0 everywhere → loss 0.
    pg_loss, _ = fn(old_log_prob=torch.zeros(2, 3), log_prob=torch.zeros(2, 3), advantages=torch.zeros(2, 3),
                    response_mask=torch.ones(2, 3), loss_agg_mode="token-mean", config=ActorConfig(),
                    rollout_is_weights=None)
    assert_close(pg_loss, torch.tensor(0.0), what=f"get_policy_loss_fn({loss!r})(...) with zero advantages")


# ---------------------------------------------------------------- hand-worked cases


def _one_row(log_ratios, advantages, mask=None, log_prob=None):
    n = len(log_ratios)
    lp = torch.tensor([log_prob if log_prob is not None else [-1.0] * n])
    return {
        "old_log_prob": lp - torch.tensor([log_ratios]), "log_prob": lp.clone().requires_grad_(True),
        "advantages": torch.tensor([advantages]), "response_mask": torch.tensor([mask or [1] * n]),
    }


@pytest.mark.exercise("03.gspo")
def test_compute_policy_loss_gspo_hand_worked():
    # Token log-ratios [0.2, 0.4] → s = exp(0.3) = 1.3499 on both tokens. A = 1, ε = 0.2:
    # max(-1.3499, -1.2) = -1.2 on both (clipped) → loss -1.2, pg_clipfrac 1.
    # With A = -1: max(1.3499, 1.2) = 1.3499 on both → loss 1.3499, and each token's gradient is
    # -A · s / 2 tokens = 0.6749 (its own log_prob's, scaled by the sequence ratio).
    x = _one_row([0.2, 0.4], [1.0, 1.0])
    loss, metrics = pl.compute_policy_loss_gspo(**{k: v for k, v in x.items()}, loss_agg_mode="token-mean",
                                               config=ActorConfig())
    assert_close(loss, torch.tensor(-1.2), what="GSPO pg_loss, A = +1",
                 why="the ratio is the sequence's geometric mean exp(0.3) = 1.35, clipped to 1.2")
    assert_close(metrics["actor/pg_clipfrac"], 1.0, what="pg_clipfrac")
    x = _one_row([0.2, 0.4], [-1.0, -1.0])
    loss, _ = pl.compute_policy_loss_gspo(**x, loss_agg_mode="token-mean", config=ActorConfig())
    assert_close(loss, torch.tensor(math.exp(0.3)), what="GSPO pg_loss, A = -1")
    (grad,) = torch.autograd.grad(loss, x["log_prob"])
    assert_close(grad, torch.full((1, 2), math.exp(0.3) / 2), what="GSPO gradient",
                 why="value exp(sequence mean log-ratio), gradient through each token's own log_prob: "
                 "log_prob - log_prob.detach() + mean.detach() (a token's own exp(0.2) would give 0.61 here)")


@pytest.mark.exercise("03.cispo")
def test_compute_policy_loss_cispo_hand_worked():
    # Token 0: r = 1.5 → w = clamp(1.5, 0.8, 1.2) = 1.2. Token 1: r = 1.1 → w = 1.1 (inside the clip).
    # A = 1, log_prob = -0.5 on both: losses -w·A·log_prob = 0.6 and 0.55 → token-mean 0.575.
    # Gradients -w·A / 2 = [-0.6, -0.55]: token 0 keeps a gradient although it is clipped (PPO gives 0).
    # Without the detach, token 1 would get -A·(w + w·log_prob) / 2 = -0.275.
    x = _one_row([math.log(1.5), math.log(1.1)], [1.0, 1.0], log_prob=[-0.5, -0.5])
    loss, metrics = pl.compute_policy_loss_cispo(**x, loss_agg_mode="token-mean", config=ActorConfig())
    assert_close(loss, torch.tensor(0.575), what="CISPO pg_loss")
    (grad,) = torch.autograd.grad(loss, x["log_prob"])
    assert_close(grad, torch.tensor([[-0.6, -0.55]]), what="CISPO gradient",
                 why="the clipped ratio is a detached weight: the gradient is -w·A/n on every token, clipped or not")
    assert_close(metrics["actor/pg_clipfrac"], 0.5, what="pg_clipfrac (r != clipped r)")


@pytest.mark.exercise("03.gpg_loss")
def test_compute_policy_loss_gpg_hand_worked():
    # log_prob [-1, -2], A [1, -1]: losses -(-1)(1) = 1 and -(-2)(-1) = -2; token-mean -0.5; d/d log_prob = -A / 2.
    x = _one_row([0.3, -0.3], [1.0, -1.0], log_prob=[-1.0, -2.0])
    loss, metrics = pl.compute_policy_loss_gpg(**x, loss_agg_mode="token-mean", config=ActorConfig())
    assert_close(loss, torch.tensor(-0.5), what="GPG pg_loss",
                 why="-A · log_prob, no ratio: old_log_prob plays no part")
    assert metrics == {}, "GPG's loss returns no metrics (an empty dict), as in verl"


@pytest.mark.exercise("03.geo_mean")
def test_compute_policy_loss_geo_mean_hand_worked():
    # A = 1 on both tokens, d = [0.5, -0.1], ε = 0.2: clamp → [0.2, -0.1]; sgn = 1 → min(d, clamp) = [0.2, -0.1];
    # ratio = exp(0.05) = 1.0513; loss = -1 · 1.0513. A second, empty row adds a 0 and halves the mean.
    x = _one_row([0.5, -0.1], [1.0, 1.0])
    loss, metrics = pl.compute_policy_loss_geo_mean(**x, loss_agg_mode="token-mean", config=ActorConfig())
    assert_close(loss, torch.tensor(-math.exp(0.05)), what="GMPO pg_loss")
    assert_close(metrics["actor/pg_clipfrac"], 0.5, what="pg_clipfrac (token 0 clipped, A > 0)")
    x2 = {k: torch.cat([v.detach(), torch.zeros_like(v.detach())]) for k, v in x.items()}
    loss2, _ = pl.compute_policy_loss_geo_mean(**x2, loss_agg_mode="token-mean", config=ActorConfig())
    assert_close(loss2, torch.tensor(-math.exp(0.05) / 2), what="GMPO pg_loss with an empty second row",
                 why="verl takes the plain mean over all bs rows, empty ones included")


@pytest.mark.exercise("03.clip_cov")
def test_compute_policy_loss_clip_cov_without_candidates_is_ppo():
    # A = ±0.1: every |cov| is far below clip_cov_lb = 1, so no token is chosen and the loss is PPO's clip loss:
    # ratio e^0.1 = 1.1052 (inside the clip) → token-mean of -A·r = -(0.1 - 0.1)·1.1052 / 2 = 0.
    x = _one_row([0.1, 0.1], [0.1, -0.1])
    loss, metrics = pl.compute_policy_loss_clip_cov(**x, loss_agg_mode="token-mean", config=ActorConfig())
    assert_close(loss, torch.tensor(0.0), what="Clip-Cov pg_loss without candidates")
    assert_close(metrics["actor/pg_clipfrac"], 0.0, what="pg_clipfrac without candidates")


@pytest.mark.exercise("03.kl_cov")
def test_compute_policy_loss_kl_cov_hand_worked():
    # Three tokens, A = [2, 0, -2] (mean 0), log_prob = [-1, -2, -4] (mean -7/3), d = 0.5 everywhere.
    # cov = A · (log_prob + 7/3) = [2.667, 0, 3.333]; kl_cov_ratio 0.4 → max(1, int(3 · 0.4)) = 1 token: token 2.
    # losses -A·e^0.5 = [-3.2974, 0, 3.2974]; token 2 adds 1.0 · |0.5| → token-mean (0 + 0.5) / 3 = 0.1667.
    x = _one_row([0.5, 0.5, 0.5], [2.0, 0.0, -2.0], log_prob=[-1.0, -2.0, -4.0])
    config = ActorConfig(policy_loss=PolicyLossConfig(kl_cov_ratio=0.4, ppo_kl_coef=1.0))
    loss, metrics = pl.compute_policy_loss_kl_cov(**x, loss_agg_mode="token-mean", config=config)
    assert_close(loss, torch.tensor(0.5 / 3), what="KL-Cov pg_loss",
                 why="only the token with the largest advantage × log-prob covariance gets + ppo_kl_coef · |d|")
    assert_close(metrics["actor/ppo_kl"], 0.5, what="KL-Cov ppo_kl = masked mean of |d|")
