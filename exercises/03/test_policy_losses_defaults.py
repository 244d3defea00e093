"""Graded tests for exercises/03/policy_losses.py: what the docstrings state beyond the goldens — the
default ``loss_agg_mode``, ``config.policy_loss`` fields left ``None``, the asserts, the clamps, Clip-Cov's
strict covariance bounds and KL-Cov on one valid token or none. Every expected value is worked by hand
below (verl 0.9.1's functions give the same on these inputs)."""

import math

import pytest
import torch

from verlings import learner_module
from verlings.fixtures.actor_config import ActorConfig, PolicyLossConfig, call_policy_loss
from verlings.testing import assert_close

pl = learner_module("03", "policy_losses")
EXERCISES = {
    "gspo": "03.gspo",
    "cispo": "03.cispo",
    "gpg": "03.gpg_loss",
    "clip_cov": "03.clip_cov",
    "kl_cov": "03.kl_cov",
    "geo_mean": "03.geo_mean",
}
DEFAULT_MODE = {
    "gspo": "seq-mean-token-mean",
    "cispo": "token-mean",
    "gpg": "token-mean",
    "clip_cov": "token-mean",
    "kl_cov": "token-mean",
}
NONE_POLICY = {
    "clip_cov_ratio": None,
    "clip_cov_lb": None,
    "clip_cov_ub": None,
    "kl_cov_ratio": None,
    "ppo_kl_coef": None,
}


def _call(loss: str, *args, **kwargs):
    return call_policy_loss(getattr(pl, f"compute_policy_loss_{loss}"), *args, **kwargs)


@pytest.mark.parametrize(
    "loss", [pytest.param(loss, marks=pytest.mark.exercise(EXERCISES[loss])) for loss in DEFAULT_MODE]
)
def test_policy_loss_default_loss_agg_mode(loss):
    # Two rows of different lengths (3 and 1 valid tokens), so every mode gives a different number.
    g = torch.Generator().manual_seed(7)
    log_prob = -torch.rand(2, 3, generator=g) - 0.5
    args = (
        log_prob - 0.1 * torch.randn(2, 3, generator=g),
        log_prob,
        torch.tensor([[1.0, -0.5, 2.0], [-1.5, 0, 0]]),
        torch.tensor([[1, 1, 1], [1, 0, 0]]),
    )
    default, _ = _call(loss, *args)
    explicit, _ = _call(loss, *args, loss_agg_mode=DEFAULT_MODE[loss])
    assert_close(
        default,
        explicit,
        what=f"compute_policy_loss_{loss} without loss_agg_mode",
        why=f"loss_agg_mode defaults to {DEFAULT_MODE[loss]!r} (verl's signature)",
    )


# Clip-Cov and KL-Cov on one row built so that the covariances are exact: A = [1, -1, 0] (mean 0) and
# log_prob = [a - 10, -10, -a - 10] (mean -10) give cov = (A - 0) · (log_prob + 10) = [a, 0, 0]; with
# old_log_prob = log_prob (ratio 1) PPO's clip never acts. Token-mean losses -A · corr:
#   token 0 zeroed → (0 + 1 + 0) / 3 = 1/3, pg_clipfrac 1/3;  nothing zeroed → (-1 + 1 + 0) / 3 = 0.
def _cov_row(a: float) -> tuple[torch.Tensor, ...]:
    log_prob = torch.tensor([[a - 10.0, -10.0, -a - 10.0]])
    return log_prob, log_prob.clone(), torch.tensor([[1.0, -1.0, 0.0]]), torch.ones(1, 3, dtype=torch.int64)


@pytest.mark.exercise("03.clip_cov")
@pytest.mark.parametrize(
    ("a", "policy", "zeroed", "why"),
    [
        (1.5, {}, True, "cov 1.5 lies in (1, 5): the one candidate is cut (clip_num = max(int(0.0002·3), 1) = 1)"),
        (1.5, NONE_POLICY, True, "None → clip_cov_ratio 0.0002, clip_cov_lb 1.0, clip_cov_ub 5.0: cov 1.5 is cut"),
        (1.0, {}, False, "the bounds are strict: clip_cov_lb < cov; a cov of exactly 1.0 is not a candidate"),
        (5.0, {}, False, "the bounds are strict: cov < clip_cov_ub; a cov of exactly 5.0 is not a candidate"),
        (5.5, NONE_POLICY, False, "clip_cov_ub None → 5.0: a cov of 5.5 is not a candidate"),
    ],
)
def test_clip_cov_bounds_and_defaults(a, policy, zeroed, why):
    config = ActorConfig(policy_loss=PolicyLossConfig(**{k: v for k, v in policy.items() if k.startswith("clip")}))
    pg_loss, metrics = _call("clip_cov", *_cov_row(a), config=config, loss_agg_mode="token-mean")
    expected = 1.0 / 3.0 if zeroed else 0.0
    what = f"compute_policy_loss_clip_cov, cov = [{a}, 0, 0], policy_loss {policy or 'defaults'}"
    assert_close(pg_loss, torch.tensor(expected), what=f"{what} → pg_loss", why=why)
    assert_close(metrics["actor/pg_clipfrac"], expected, what=f"{what} → pg_clipfrac", why=why)


@pytest.mark.exercise("03.clip_cov")
def test_clip_cov_ratio_none_cuts_one_token_of_two_candidates():
    # A = [1, -1, 0], log_prob = [a - 10, -a - 10, -10] → cov = [a, a, 0]: two candidates at a = 2.
    # clip_cov_ratio None → 0.0002 → clip_num 1: exactly one of them is cut (which one is randperm's
    # draw): loss (0 + 1 + 0) / 3 or (-1 + 0 + 0) / 3, |loss| = 1/3; cutting both would give 0.
    log_prob = torch.tensor([[-8.0, -12.0, -10.0]])
    config = ActorConfig(policy_loss=PolicyLossConfig(clip_cov_ratio=None))
    pg_loss, metrics = _call(
        "clip_cov",
        log_prob,
        log_prob.clone(),
        torch.tensor([[1.0, -1.0, 0.0]]),
        torch.ones(1, 3, dtype=torch.int64),
        config=config,
    )
    assert_close(
        pg_loss.abs(),
        torch.tensor(1.0 / 3.0),
        what="|pg_loss| of Clip-Cov with two candidates",
        why="clip_cov_ratio None → 0.0002: clip_num = max(int(0.0002 · 3), 1) = 1 token cut",
    )
    assert_close(
        metrics["actor/pg_clipfrac"],
        1.0 / 3.0,
        what="pg_clipfrac of Clip-Cov with two candidates",
        why="one token of three cut",
    )


@pytest.mark.exercise("03.kl_cov")
@pytest.mark.parametrize(
    ("mask", "policy", "expected", "why"),
    [
        # cov = [a, 0, 0] with a = 2: the top-1 token (0) gets + ppo_kl_coef · |d|, d = 0.5 everywhere:
        # (-1·e^0.5 + 1·0.5  +  1·e^0.5  +  0) / 3 = 0.5 / 3 with ppo_kl_coef = 1.0
        ([[1, 1, 1]], NONE_POLICY, 0.5 / 3.0, "None → kl_cov_ratio 0.0002 (1 token of 3) and ppo_kl_coef 1.0"),
        # one valid token: it is the top-1 token: -1·e^0.5 + 0.1 · 0.5 (the config's ppo_kl_coef 0.1)
        ([[1, 0, 0]], {}, -math.exp(0.5) + 0.05, "a single valid token still gets the penalty (N = 1 ≥ 1)"),
        # no valid token: nothing to rank; the global count 4 makes token-mean 0 / 4 = 0
        ([[0, 0, 0]], {}, 0.0, "an all-padding micro-batch has no token to penalise (no topk on nothing)"),
    ],
)
def test_kl_cov_defaults_and_edges(mask, policy, expected, why):
    log_prob = torch.tensor([[-8.0, -10.0, -12.0]])
    kl_policy = {k: v for k, v in policy.items() if not k.startswith("clip")}
    config = ActorConfig(
        policy_loss=PolicyLossConfig(**kl_policy), global_batch_info={"batch_num_tokens": 4} if not any(mask[0]) else {}
    )
    pg_loss, _ = _call(
        "kl_cov",
        log_prob - 0.5,
        log_prob,
        torch.tensor([[1.0, -1.0, 0.0]]),
        torch.tensor(mask),
        config=config,
        loss_agg_mode="token-mean",
    )
    assert_close(
        pg_loss, torch.tensor(expected), what=f"compute_policy_loss_kl_cov (mask {mask}, {policy or 'config'})", why=why
    )


@pytest.mark.parametrize(
    "loss", [pytest.param(k, marks=pytest.mark.exercise(EXERCISES[k])) for k in ("clip_cov", "kl_cov")]
)
@pytest.mark.parametrize("bad", ["no policy_loss", "ratio 0"])
def test_cov_losses_assert_their_config(loss, bad):
    if bad == "no policy_loss":
        config = ActorConfig(policy_loss=None)
    else:
        config = ActorConfig(policy_loss=PolicyLossConfig(**{f"{loss}_ratio": 0.0}))
    with pytest.raises(AssertionError):
        _call(loss, *_cov_row(2.0), config=config)


@pytest.mark.exercise("03.gspo")
def test_gspo_clamps_the_sequence_log_ratio_at_ten():
    # d = 12 on both tokens, A = -1: s = exp(min(12, 10)) = e^10; -A·s = e^10 beats -A·clip(s) = 1.2;
    # seq-mean-token-mean of one row: e^10 (e^11 or e^12 without verl's clamp at 10)
    pg_loss, _ = _call(
        "gspo",
        torch.full((1, 2), -14.0),
        torch.full((1, 2), -2.0),
        torch.full((1, 2), -1.0),
        torch.ones(1, 2, dtype=torch.int64),
    )
    assert_close(
        pg_loss,
        torch.tensor(math.exp(10.0)),
        what="GSPO's pg_loss with a sequence log-ratio of 12",
        why="the sequence log-ratio is clamped to ≤ 10 before exp",
    )


@pytest.mark.exercise("03.cispo")
def test_cispo_clamps_the_log_ratio_at_twenty():
    # d = [25, -22] is clamped to [20, -20]: ppo_kl = mean(-d) = -(20 - 20) / 2 = 0 (±0.5 with ±21)
    _, metrics = _call(
        "cispo",
        torch.tensor([[-30.0, -1.0]]),
        torch.tensor([[-5.0, -23.0]]),
        torch.ones(1, 2),
        torch.ones(1, 2, dtype=torch.int64),
    )
    assert_close(
        metrics["actor/ppo_kl"],
        0.0,
        what="CISPO's ppo_kl with log-ratios [25, -22]",
        why="the log-ratio is clamped to [-20, 20] before exp, and ppo_kl is the mean of the clamped -d",
    )


@pytest.mark.exercise("03.geo_mean")
def test_geo_mean_edges():
    # Two clipped tokens with A = 0 (d = ±1 outside [-0.2, 0.2]): neither clip fraction counts them
    # (A > 0 / A < 0 only). A third, padding token has rollout_is_weight 0: log(0 + 1e-10) · 0 = 0.
    # Row: Â = 0, so the loss is -0 · ratio = 0.
    _, metrics = _call(
        "geo_mean",
        torch.tensor([[-2.0, -2.0, -2.0]]),
        torch.tensor([[-1.0, -3.0, -2.0]]),
        torch.zeros(1, 3),
        torch.tensor([[1, 1, 0]]),
        rollout_is_weights=torch.tensor([[1.0, 1.0, 0.0]]),
    )
    assert_close(
        metrics["actor/pg_clipfrac"],
        0.0,
        what="GMPO's pg_clipfrac, clipped tokens with A = 0",
        why="pg_clipfrac counts clipped tokens with A > 0 only",
    )
    assert_close(
        metrics["actor/pg_clipfrac_lower"],
        0.0,
        what="GMPO's pg_clipfrac_lower, clipped tokens with A = 0",
        why="pg_clipfrac_lower counts clipped tokens with A < 0 only",
    )
    pg_loss, _ = _call(
        "geo_mean",
        torch.tensor([[-2.0, -2.0, -2.0]]),
        torch.tensor([[-1.0, -3.0, -2.0]]),
        torch.tensor([[1.0, 1.0, 0.0]]),
        torch.tensor([[1, 1, 0]]),
        rollout_is_weights=torch.tensor([[1.0, 1.0, 0.0]]),
    )
    # d = [1, -1] clipped to [0.2, -1] for A > 0 (sgn·min(sgn·d, sgn·clamp)): ratio exp((0.2 - 1) / 2) = e^-0.4,
    # Â = 1, weights exp((log(1 + 1e-10) · 2) / 2) = 1: loss -e^-0.4; a weight 0 on padding must not give NaN
    assert_close(
        pg_loss,
        torch.tensor(-math.exp(-0.4)),
        what="GMPO's pg_loss with rollout_is_weights 0 on padding",
        why="log(w + 1e-10) only over valid tokens: a padding weight of 0 contributes 0, never NaN",
    )
