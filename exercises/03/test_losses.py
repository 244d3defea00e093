"""Graded tests for exercises/03/losses.py (goldens from verl 0.9.1: verlings/goldens/ch03_losses.py)."""

import json
import math

import pytest
import torch

from verlings import learner_module
from verlings.fixtures.actor_config import ActorConfig
from verlings.testing import assert_close, golden, matches, tensors

losses = learner_module("03", "losses")

AGG_MODES = ("token-mean", "token-sum", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm")
AGG_WHY = {
    "token-mean": "token-mean: sum over valid tokens / number of valid tokens (padding is not a token)",
    "token-sum": "token-sum: the plain sum over valid tokens (times dp_size)",
    "seq-mean-token-sum": "seq-mean-token-sum: sum each row's valid tokens, then average over the rows "
    "that have at least one valid token",
    "seq-mean-token-mean": "seq-mean-token-mean: mean of each row's valid tokens, then average over the rows "
    "that have at least one valid token",
    "seq-mean-token-sum-norm": "seq-mean-token-sum-norm: seq-mean-token-sum divided by a constant, "
    "the padded response length loss_mask.shape[-1] (Dr. GRPO)",
}


def _cases(g: dict) -> dict:
    return json.loads(str(g["cases"]))


def _as_tuple(result, n: int, what: str) -> tuple:
    assert isinstance(result, tuple | list) and len(result) == n, f"{what} must return a tuple of {n} values"
    return tuple(result)


def _rejunk(x: torch.Tensor, mask: torch.Tensor, junk: float) -> torch.Tensor:
    """The same tensor with other values on the masked positions."""
    return torch.where(mask.bool(), x, torch.full_like(x, junk))


# ---------------------------------------------------------------- 03.agg_loss


@pytest.mark.exercise("03.agg_loss")
@pytest.mark.parametrize("mode", AGG_MODES)
def test_agg_loss_matches_verl(mode):
    g = tensors(golden("03", "agg_loss"))
    seen = losses.agg_loss(loss_mat=g["loss_mat"], loss_mask=g["loss_mask"], loss_agg_mode=mode)
    assert_close(seen, g[mode], what=f"agg_loss({mode!r})", why=AGG_WHY[mode])


@pytest.mark.exercise("03.agg_loss")
@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        # Valid tokens: row 0 → 1, 2, 3; row 1 → 4; row 2 has none. response_length = 3.
        ("token-mean", 2.5),  # (1 + 2 + 3 + 4) / 4 tokens
        ("seq-mean-token-sum", 5.0),  # row sums 6 and 4; the empty row is not a sequence: (6 + 4) / 2
        ("seq-mean-token-mean", 3.0),  # row means 2 and 4: (2 + 4) / 2
        ("seq-mean-token-sum-norm", 5.0 / 3.0),  # seq-mean-token-sum / response_length = 5 / 3
    ],
)
def test_agg_loss_hand_worked(mode, expected):
    loss_mat = torch.tensor([[1.0, 2.0, 3.0], [4.0, 100.0, 100.0], [7.0, 7.0, 7.0]])
    loss_mask = torch.tensor([[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    seen = losses.agg_loss(loss_mat=loss_mat, loss_mask=loss_mask, loss_agg_mode=mode)
    assert_close(seen, torch.tensor(expected), what=f"agg_loss({mode!r})", why=AGG_WHY[mode])


@pytest.mark.exercise("03.agg_loss")
@pytest.mark.parametrize("mode", AGG_MODES)
def test_agg_loss_ignores_masked_positions(mode):
    g = tensors(golden("03", "agg_loss"))
    loss_mat = _rejunk(g["loss_mat"], g["loss_mask"], -1000.0)  # the golden had 50.0 there
    seen = losses.agg_loss(loss_mat=loss_mat, loss_mask=g["loss_mask"], loss_agg_mode=mode)
    # the golden inputs themselves are the control: if they match, only the masked values differ
    clean = losses.agg_loss(loss_mat=g["loss_mat"], loss_mask=g["loss_mask"], loss_agg_mode=mode)
    assert_close(
        seen, g[mode], what=f"agg_loss({mode!r}) with other values under the mask",
        why="the golden inputs with -1000 instead of 50 where loss_mask is 0",
        cause="masked_positions_leak" if matches(clean, g[mode]) else None,
    )


@pytest.mark.exercise("03.agg_loss")
def test_agg_loss_rejects_unknown_mode():
    g = tensors(golden("03", "agg_loss"))
    losses.agg_loss(loss_mat=g["loss_mat"], loss_mask=g["loss_mask"], loss_agg_mode="token-mean")
    with pytest.raises(ValueError):
        losses.agg_loss(loss_mat=g["loss_mat"], loss_mask=g["loss_mask"], loss_agg_mode="seq-median")


GLOBAL_WHY = (
    "with global counts the denominator is batch_num_tokens (token-mean) or global_batch_size (seq modes), "
    "not this micro-batch's own count, and the result is multiplied by dp_size; "
    "seq-mean-token-sum-norm divides by loss_scale_factor when it is given"
)


@pytest.mark.exercise("03.agg_loss")
@pytest.mark.parametrize("mode", AGG_MODES)
@pytest.mark.parametrize("case", range(4))
def test_agg_loss_with_global_counts_matches_verl(mode, case):
    g = tensors(golden("03", "agg_loss"))
    kwargs = json.loads(str(g["global_cases"]))[case]
    seen = losses.agg_loss(loss_mat=g["loss_mat"], loss_mask=g["loss_mask"], loss_agg_mode=mode, **kwargs)
    assert_close(seen, g[f"g{case}__{mode}"], what=f"agg_loss({mode!r}, **{kwargs})",
                 why=GLOBAL_WHY)


@pytest.mark.exercise("03.agg_loss")
@pytest.mark.parametrize(
    ("mode", "kwargs", "expected"),
    [
        # Valid tokens: row 0 → 1, 2, 3; row 1 → 4; row 2 has none. Σ = 10, response_length = 3.
        ("token-mean", {"dp_size": 2, "batch_num_tokens": 8}, 2.5),  # 10 / 8 · 2
        ("token-sum", {"dp_size": 4}, 40.0),  # 10 · 4
        ("seq-mean-token-sum", {"dp_size": 2, "global_batch_size": 5}, 4.0),  # (6 + 4) / 5 · 2
        ("seq-mean-token-mean", {"dp_size": 3, "global_batch_size": 6}, 3.0),  # (2 + 4) / 6 · 3
        ("seq-mean-token-sum-norm", {"global_batch_size": 4, "loss_scale_factor": 10}, 0.25),  # 10 / 4 / 10
        ("seq-mean-token-sum-norm", {"loss_scale_factor": 2}, 2.5),  # (6 + 4) / 2 rows / 2
    ],
)
def test_agg_loss_global_counts_hand_worked(mode, kwargs, expected):
    loss_mat = torch.tensor([[1.0, 2.0, 3.0], [4.0, 100.0, 100.0], [7.0, 7.0, 7.0]])
    loss_mask = torch.tensor([[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    seen = losses.agg_loss(loss_mat=loss_mat, loss_mask=loss_mask, loss_agg_mode=mode, **kwargs)
    assert_close(seen, torch.tensor(expected), what=f"agg_loss({mode!r}, **{kwargs})",
                 why=GLOBAL_WHY)


@pytest.mark.exercise("03.agg_loss")
@pytest.mark.parametrize(
    ("mode", "missing"),
    [("token-mean", "batch_num_tokens"), ("seq-mean-token-sum", "global_batch_size"),
     ("seq-mean-token-mean", "global_batch_size"), ("seq-mean-token-sum-norm", "global_batch_size")],
)
def test_agg_loss_dp_size_needs_global_counts(mode, missing):
    g = tensors(golden("03", "agg_loss"))
    with pytest.raises(ValueError, match=missing):
        losses.agg_loss(loss_mat=g["loss_mat"], loss_mask=g["loss_mask"], loss_agg_mode=mode, dp_size=2)
    # token-sum needs no count: dp_size alone is fine.
    losses.agg_loss(loss_mat=g["loss_mat"], loss_mask=g["loss_mask"], loss_agg_mode="token-sum", dp_size=2)


@pytest.mark.exercise("03.agg_loss")
@pytest.mark.parametrize("mode", AGG_MODES)
def test_agg_loss_all_padding_micro_batch(mode):
    loss_mat = torch.randn(2, 4, generator=torch.Generator().manual_seed(0))
    loss_mask = torch.zeros(2, 4, dtype=torch.long)
    # With global counts an all-padding micro-batch contributes exactly 0 ...
    seen = losses.agg_loss(loss_mat=loss_mat, loss_mask=loss_mask, loss_agg_mode=mode, dp_size=2,
                           batch_num_tokens=12, global_batch_size=4)
    assert_close(seen, torch.tensor(0.0), what=f"agg_loss({mode!r}) of an all-padding micro-batch, global counts",
                 atol=0.0, rtol=0.0,
                 why="0 valid tokens divided by a positive global count is exactly 0")
    # ... and on its own verl divides 0 by a zero count: NaN (token-sum is a plain sum: 0).
    alone = losses.agg_loss(loss_mat=loss_mat, loss_mask=loss_mask, loss_agg_mode=mode)
    expected = torch.tensor(0.0) if mode == "token-sum" else torch.tensor(float("nan"))
    assert_close(alone, expected, what=f"agg_loss({mode!r}) of an all-padding micro-batch, local counts",
                 why="as in verl: the local count is 0 and there is no epsilon, so 0 / 0 = NaN")


# ------------------------------------------------------------- 03.policy_loss

POLICY_METRICS = {
    "pg_clipfrac": "actor/pg_clipfrac = masked mean of (clipped loss > unclipped loss) over valid tokens",
    "ppo_kl": "actor/ppo_kl = masked mean of -(log_prob - old_log_prob), the log-ratio clamped to [-20, 20]",
    "pg_clipfrac_lower": "actor/pg_clipfrac_lower = masked mean of (max(...) > -A·clip_ratio_c) where A < 0",
}
PG_LOSS_WHY = (
    "the loss is the negated objective, so PPO's pessimistic min becomes max(-A·r, -A·clip(r)); "
    "the dual clip min(·, -A·clip_ratio_c) applies only where A < 0; then agg_loss(..., **config.global_batch_info)"
)


def _config(fields: dict) -> ActorConfig:
    fields = dict(fields)
    info = fields.pop("global_batch_info", {})
    return ActorConfig(**fields, global_batch_info=dict(info))


def _vanilla(g: dict, case: dict, log_prob=None, **overrides):
    kwargs = {
        "old_log_prob": g["old_log_prob"], "log_prob": g["log_prob"] if log_prob is None else log_prob,
        "advantages": g["advantages"], "response_mask": g["response_mask"],
        "loss_agg_mode": case["loss_agg_mode"], "config": _config(case["config"]),
        "rollout_is_weights": g["rollout_is_weights"] if case.get("rollout_is_weights") else None,
    }
    kwargs.update(overrides)
    result = _as_tuple(losses.compute_policy_loss_vanilla(**kwargs), 2, "compute_policy_loss_vanilla")
    assert isinstance(result[1], dict), "compute_policy_loss_vanilla returns (pg_loss, metrics) with metrics a dict"
    for name in POLICY_METRICS:
        assert f"actor/{name}" in result[1], f"metrics must have the key 'actor/{name}' (verl's metric names)"
    return result


@pytest.mark.exercise("03.policy_loss")
@pytest.mark.parametrize(
    "case", ["default", "clip_higher", "high_only", "low_only", "global_counts", "global_seq_norm", "is_weights"]
)
def test_compute_policy_loss_vanilla_matches_verl(case):
    g = tensors(golden("03", "policy_loss"))
    spec = _cases(g)[case]
    log_prob = g["log_prob"].clone().requires_grad_(True)
    pg_loss, metrics = _vanilla(g, spec, log_prob=log_prob)
    is_note = "; rollout_is_weights multiplies each token's loss" if case == "is_weights" else ""
    assert_close(pg_loss, g[f"{case}__pg_loss"], what=f"pg_loss ({spec})",
                 why=PG_LOSS_WHY + is_note)
    for name, why in POLICY_METRICS.items():
        assert_close(metrics[f"actor/{name}"], g[f"{case}__{name}"], what=f"metrics['actor/{name}'] ({spec})",
                     why=why)
    assert isinstance(pg_loss, torch.Tensor) and pg_loss.requires_grad, (
        "pg_loss must be a tensor that carries the gradient to log_prob (is the ratio detached?)"
    )
    (grad,) = torch.autograd.grad(pg_loss, log_prob)
    assert_close(
        grad, g[f"{case}__grad_log_prob"], what="d pg_loss / d log_prob",
        mask=g["response_mask"],
        why="the gradient flows through exp(log_prob - old_log_prob) on unclipped tokens only, 0 on padding",
    )


@pytest.mark.exercise("03.policy_loss")
def test_compute_policy_loss_vanilla_metrics_are_floats():
    g = tensors(golden("03", "policy_loss"))
    _, metrics = _vanilla(g, _cases(g)["default"])
    for name in POLICY_METRICS:
        assert type(metrics[f"actor/{name}"]) is float, (
            f"metrics['actor/{name}'] must be a Python float (verl logs `.detach().item()`), "
            f"not {type(metrics[f'actor/{name}']).__name__}"
        )


@pytest.mark.exercise("03.policy_loss")
def test_compute_policy_loss_vanilla_dual_clip_only_for_negative_advantages():
    # ratio = exp(2) = 7.389 on both tokens, clip_ratio 0.2, clip_ratio_c 3.
    # A = +1: max(-7.389, -1.2) = -1.2     (the dual clip must not touch it: min(-3, -1.2) would give -3)
    # A = -1: max(7.389, 1.2) = 7.389, then min(3, 7.389) = 3    (dual clip)
    g = {"old_log_prob": torch.zeros(1, 2), "log_prob": torch.full((1, 2), 2.0),
         "advantages": torch.tensor([[1.0, -1.0]])}
    case = {"config": {"clip_ratio": 0.2, "clip_ratio_c": 3.0}, "loss_agg_mode": "token-mean"}
    for mask, expected, why in [
        ([[1, 0]], -1.2, "for A > 0 the loss is max(-A·r, -A·clip(r)) only; the dual clip is for A < 0"),
        ([[0, 1]], 3.0, "for A < 0 the loss is capped at -A·clip_ratio_c (dual clip)"),
        ([[1, 1]], 0.9, "token-mean of -1.2 and 3.0"),
    ]:
        pg_loss, _ = _vanilla({**g, "response_mask": torch.tensor(mask)}, case)
        assert_close(pg_loss, torch.tensor(expected), what=f"pg_loss with response_mask={mask}",
                     why=why)
    _, metrics = _vanilla({**g, "response_mask": torch.tensor([[1, 1]])}, case)
    # Token 1 is clipped (-1.2 > -7.389), token 2 is not (1.2 < 7.389): 1/2.
    assert_close(metrics["actor/pg_clipfrac"], 0.5, what="pg_clipfrac",
                 why=POLICY_METRICS["pg_clipfrac"])
    # Only token 2 has A < 0 and 7.389 > 3: 1/2.
    assert_close(metrics["actor/pg_clipfrac_lower"], 0.5, what="pg_clipfrac_lower",
                 why=POLICY_METRICS["pg_clipfrac_lower"])
    # ppo_kl = mean(old_log_prob - log_prob) = -2.
    assert_close(metrics["actor/ppo_kl"], -2.0, what="ppo_kl",
                 why=POLICY_METRICS["ppo_kl"])


@pytest.mark.exercise("03.policy_loss")
def test_compute_policy_loss_vanilla_clamps_the_log_ratio():
    # log_prob - old_log_prob = [30, -25, 1] is clamped to [20, -20, 1] before exp:
    # ppo_kl = -(20 - 20 + 1) / 3 = -1/3   (without the clamp: -(30 - 25 + 1) / 3 = -2).
    # A = 1 everywhere: losses max(-e^20, -1.2) = -1.2, max(-e^-20, -0.8) = -2.06e-9, max(-e, -1.2) = -1.2.
    g = {"old_log_prob": torch.tensor([[-40.0, -1.0, -2.0]]), "log_prob": torch.tensor([[-10.0, -26.0, -1.0]]),
         "advantages": torch.ones(1, 3), "response_mask": torch.ones(1, 3, dtype=torch.long)}
    pg_loss, metrics = _vanilla(g, {"config": {"clip_ratio": 0.2}, "loss_agg_mode": "token-mean"})
    assert_close(metrics["actor/ppo_kl"], -1.0 / 3.0, what="ppo_kl with log-ratios beyond ±20",
                 why="clamp log_prob - old_log_prob to [-20, 20] before exp, as verl does")
    assert_close(pg_loss, torch.tensor((-1.2 - math.exp(-20.0) - 1.2) / 3.0), what="pg_loss with extreme ratios")


@pytest.mark.exercise("03.policy_loss")
@pytest.mark.parametrize("case", ["default", "global_counts"])
def test_compute_policy_loss_vanilla_ignores_masked_positions(case):
    g = tensors(golden("03", "policy_loss"))
    mask = g["response_mask"]
    spec = _cases(g)[case]
    pg_loss, metrics = _vanilla(
        g, spec, old_log_prob=_rejunk(g["old_log_prob"], mask, -0.5), log_prob=_rejunk(g["log_prob"], mask, -9.0),
        advantages=_rejunk(g["advantages"], mask, 25.0),
    )
    # the golden inputs themselves are the control: if they match, only the masked values differ
    clean_loss, clean_metrics = _vanilla(g, spec)
    clean_ok = matches(clean_loss, g[f"{case}__pg_loss"]) and all(
        matches(clean_metrics[f"actor/{name}"], g[f"{case}__{name}"]) for name in POLICY_METRICS)
    why = "the golden inputs with other values where response_mask is 0"
    cause = "masked_positions_leak" if clean_ok else None
    assert_close(pg_loss, g[f"{case}__pg_loss"], what="pg_loss with other values under the mask",
                 why=why, cause=cause)
    for name in POLICY_METRICS:
        assert_close(metrics[f"actor/{name}"], g[f"{case}__{name}"], what=f"{name} with other values under the mask",
                     why=why, cause=cause)


@pytest.mark.exercise("03.policy_loss")
def test_compute_policy_loss_vanilla_is_registered():
    fn = losses.get_policy_loss_fn("vanilla")
    assert fn is losses.compute_policy_loss_vanilla, (
        "compute_policy_loss_vanilla must stay registered as 'vanilla' (keep the @register_policy_loss decorator)"
    )
    # What verl's trainer does with it: look it up by loss_mode, call it with keywords.
    # ratio 1 everywhere, A = [2, -1]: the loss is the token-mean of -A = (-2 + 1) / 2 = -0.5.
    pg_loss, _ = fn(old_log_prob=torch.zeros(1, 2), log_prob=torch.zeros(1, 2), advantages=torch.tensor([[2.0, -1.0]]),
                    response_mask=torch.ones(1, 2), loss_agg_mode="token-mean", config=ActorConfig(),
                    rollout_is_weights=None)
    assert_close(pg_loss, torch.tensor(-0.5), what="get_policy_loss_fn('vanilla')(...) → pg_loss")


@pytest.mark.exercise("03.policy_loss")
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_deprecated_compute_policy_loss_wraps_vanilla():
    # The flat signature (deprecated in verl 0.9.1) must give the same numbers as the vanilla loss.
    g = tensors(golden("03", "policy_loss"))
    result = _as_tuple(
        losses.compute_policy_loss(
            old_log_prob=g["old_log_prob"], log_prob=g["log_prob"], advantages=g["advantages"],
            response_mask=g["response_mask"], cliprange=0.2, cliprange_low=0.1, cliprange_high=0.28,
            clip_ratio_c=2.0, loss_agg_mode="seq-mean-token-sum",
        ),
        4, "compute_policy_loss",
    )
    for name, seen in zip(("pg_loss", *POLICY_METRICS), result):
        assert_close(seen, g[f"clip_higher__{name}"], what=f"compute_policy_loss → {name}")


# -------------------------------------------------------------- 03.value_loss

VALUE_WHY = {
    "vf_loss": "vf_loss = 0.5 · agg(max((vpreds - returns)², (clip(vpreds, values ± cliprange_value) - returns)²))",
    "vf_clipfrac": "vf_clipfrac = masked mean of (clipped squared error > unclipped squared error)",
}


@pytest.mark.exercise("03.value_loss")
@pytest.mark.parametrize("case", ["default", "seq_norm", "global_token_mean", "global_seq_norm", "token_sum"])
def test_compute_value_loss_matches_verl(case):
    g = tensors(golden("03", "value_loss"))
    kwargs = _cases(g)[case]
    vpreds = g["vpreds"].clone().requires_grad_(True)
    result = _as_tuple(
        losses.compute_value_loss(
            vpreds=vpreds, returns=g["returns"], values=g["values"], response_mask=g["response_mask"], **kwargs
        ),
        2, "compute_value_loss",
    )
    for name, seen in zip(VALUE_WHY, result):
        assert_close(seen, g[f"{case}__{name}"], what=f"compute_value_loss({kwargs}) → {name}",
                     why=VALUE_WHY[name] + ("; dp_size and the global counts go to agg_loss unchanged"
                                            if "dp_size" in kwargs else ""))
    assert isinstance(result[0], torch.Tensor) and result[0].requires_grad, "vf_loss must carry the gradient to vpreds"
    (grad,) = torch.autograd.grad(result[0], vpreds)
    assert_close(grad, g[f"{case}__grad_vpreds"], what="d vf_loss / d vpreds",
                 mask=g["response_mask"])


@pytest.mark.exercise("03.value_loss")
def test_compute_value_loss_hand_worked():
    # values 0, cliprange_value 0.5, so vpreds = 2 is clipped to 0.5.
    # token 1: returns 3 → unclipped (2 - 3)² = 1, clipped (0.5 - 3)² = 6.25 → max 6.25 (clipped is larger)
    # token 2: returns 1 → unclipped (2 - 1)² = 1, clipped (0.5 - 1)² = 0.25 → max 1
    # vf_loss = 0.5 · (6.25 + 1) / 2 = 1.8125; vf_clipfrac = 1/2.
    vf_loss, vf_clipfrac = losses.compute_value_loss(
        vpreds=torch.tensor([[2.0, 2.0, 9.0]]), returns=torch.tensor([[3.0, 1.0, -9.0]]),
        values=torch.zeros(1, 3), response_mask=torch.tensor([[1, 1, 0]]), cliprange_value=0.5,
    )
    assert_close(vf_loss, torch.tensor(1.8125), what="vf_loss",
                 why="0.5 times the larger (pessimistic) squared error, averaged over the 2 valid tokens; "
                 "min instead of max gives 0.3125, no 0.5 gives 3.625")
    assert_close(vf_clipfrac, torch.tensor(0.5), what="vf_clipfrac",
                 why=VALUE_WHY["vf_clipfrac"])


@pytest.mark.exercise("03.value_loss")
def test_compute_value_loss_ignores_masked_positions():
    g = tensors(golden("03", "value_loss"))
    mask = g["response_mask"]
    vf_loss, vf_clipfrac = losses.compute_value_loss(
        vpreds=_rejunk(g["vpreds"], mask, 7.0), returns=_rejunk(g["returns"], mask, -3.0),
        values=_rejunk(g["values"], mask, 0.0), response_mask=mask, cliprange_value=0.5,
    )
    # the golden inputs themselves are the control: if they match, only the masked values differ
    clean = losses.compute_value_loss(vpreds=g["vpreds"], returns=g["returns"], values=g["values"],
                                      response_mask=mask, cliprange_value=0.5)
    clean_ok = all(matches(c, g[f"default__{n}"]) for c, n in zip(clean, ("vf_loss", "vf_clipfrac")))
    for name, seen in (("vf_loss", vf_loss), ("vf_clipfrac", vf_clipfrac)):
        assert_close(seen, g[f"default__{name}"], what=f"{name} with other values under the mask",
                     why="the golden inputs with other values where response_mask is 0",
                     cause="masked_positions_leak" if clean_ok else None)


# ------------------------------------------------------------ 03.entropy_loss


@pytest.mark.exercise("03.entropy_loss")
@pytest.mark.parametrize("case", ["default", "seq_mean"])
def test_compute_entropy_loss_matches_verl(case):
    g = tensors(golden("03", "entropy_loss"))
    kwargs = _cases(g)[case]
    seen = losses.compute_entropy_loss(logits=g["logits"], response_mask=g["response_mask"], **kwargs)
    assert_close(seen, g[f"{case}__entropy_loss"], what=f"compute_entropy_loss({kwargs})",
                 why="per-token entropy H = logsumexp(z) - Σ softmax(z)·z, then agg_loss with the response mask")


@pytest.mark.exercise("03.entropy_loss")
def test_compute_entropy_loss_hand_worked():
    # Token 1: uniform over 4 → H = ln 4. Token 2: one logit 100 above the rest → H = 0 (to float32 precision).
    logits = torch.zeros(1, 2, 4)
    logits[0, 1, 0] = 100.0
    for mask, expected in [([[1, 0]], math.log(4.0)), ([[1, 1]], math.log(4.0) / 2), ([[0, 1]], 0.0)]:
        seen = losses.compute_entropy_loss(logits=logits, response_mask=torch.tensor(mask))
        assert_close(seen, torch.tensor(expected), what=f"compute_entropy_loss with response_mask={mask}",
                     why="entropy of each valid token, averaged over the valid tokens")


@pytest.mark.exercise("03.entropy_loss")
def test_compute_entropy_loss_ignores_masked_positions():
    g = tensors(golden("03", "entropy_loss"))
    mask = g["response_mask"]
    logits = torch.where(mask.bool()[..., None], g["logits"], torch.zeros_like(g["logits"]))  # max entropy there
    seen = losses.compute_entropy_loss(logits=logits, response_mask=mask)
    # the golden logits themselves are the control: if they match, only the masked logits differ
    clean = losses.compute_entropy_loss(logits=g["logits"], response_mask=mask)
    assert_close(
        seen, g["default__entropy_loss"], what="compute_entropy_loss with other logits under the mask",
        why="the golden logits with uniform ones where response_mask is 0",
        cause="masked_positions_leak" if matches(clean, g["default__entropy_loss"]) else None,
    )
