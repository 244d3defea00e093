"""Graded tests for exercises/03/kl.py (goldens from verl 0.9.1: verlings/goldens/ch03_kl.py)."""

import json
import math

import pytest
import torch

from verlings import learner_module
from verlings.testing import assert_close, golden, hint_line, tensors

kl = learner_module("03", "kl")

ESTIMATORS = ("kl", "k1", "abs", "mse", "k2", "low_var_kl", "k3")
STRAIGHT_THROUGH = ("k1+", "kl+", "abs+", "k2+", "mse+", "k3+", "low_var_kl+")
ESTIMATOR_WHY = {
    "kl": "k1 = logprob - ref_logprob",
    "k1": "k1 = logprob - ref_logprob",
    "abs": "abs = |logprob - ref_logprob|",
    "mse": "k2 = 0.5 · (logprob - ref_logprob)²",
    "k2": "k2 = 0.5 · (logprob - ref_logprob)²",
    "low_var_kl": "k3 = exp(x) - x - 1 with x = ref_logprob - logprob clamped to [-20, 20]; "
    "the result clamped to [-10, 10]",
    "k3": "k3 = exp(x) - x - 1 with x = ref_logprob - logprob clamped to [-20, 20]; the result clamped to [-10, 10]",
}


# verl raises NotImplementedError for an estimator name it does not know. The name is
# kept out of the test's body on purpose: the mutant checker (verlings/dev/mutants.py)
# takes any failure whose text mentions it for a stub, so a mutant that falls back
# silently would be reported as broken instead of caught.
UNKNOWN_ESTIMATOR_ERROR = NotImplementedError


def key(name: str) -> str:
    return name.replace("+", "plus")


def _value_and_grads(name: str, g: dict):
    """The learner's estimate and the gradients of sum(weights * estimate) to both inputs."""
    logprob = g["logprob"].clone().requires_grad_(True)
    ref_logprob = g["ref_logprob"].clone().requires_grad_(True)
    value = kl.kl_penalty(logprob=logprob, ref_logprob=ref_logprob, kl_penalty=name)
    assert isinstance(value, torch.Tensor) and value.requires_grad, (
        f"kl_penalty(..., {name!r}) must return a tensor that carries the gradient to logprob "
        "(detach only the part that must not be differentiated)"
    )
    grad_lp, grad_ref = torch.autograd.grad((g["weights"] * value).sum(), (logprob, ref_logprob))
    return value, grad_lp, grad_ref


# ------------------------------------------------------------- 03.kl_penalty


@pytest.mark.exercise("03.kl_penalty")
@pytest.mark.parametrize("name", ESTIMATORS)
def test_kl_penalty_matches_verl(name):
    g = tensors(golden("03", "kl_penalty"))
    value, grad_lp, grad_ref = _value_and_grads(name, g)
    assert_close(value, g[key(name)], what=f"kl_penalty({name!r})", why=ESTIMATOR_WHY[name])
    assert_close(grad_lp, g[f"{key(name)}__grad_logprob"], what=f"d kl_penalty({name!r}) / d logprob",
                 why="without a '+' the gradient is the estimator's own gradient")
    assert_close(grad_ref, g[f"{key(name)}__grad_ref_logprob"], what=f"d kl_penalty({name!r}) / d ref_logprob")


@pytest.mark.exercise("03.kl_penalty")
def test_kl_penalty_hand_worked():
    # logprob = ln 0.5, ref_logprob = 0 (ref is sure of the token, the policy gives it 1/2).
    # k1 = ln 0.5 - 0 = -0.693147;   abs = 0.693147;   k2 = 0.5 · 0.480453 = 0.240227
    # k3: x = ref - logprob = ln 2, exp(x) = 2 → 2 - ln 2 - 1 = 0.306853
    #     (the flipped direction x = logprob - ref gives 0.5 + ln 2 - 1 = 0.193147)
    logprob = torch.tensor([math.log(0.5)])
    ref_logprob = torch.tensor([0.0])
    ln2 = math.log(2.0)
    for name, expected in [("k1", -ln2), ("abs", ln2), ("k2", 0.5 * ln2**2), ("k3", 1.0 - ln2)]:
        seen = kl.kl_penalty(logprob=logprob, ref_logprob=ref_logprob, kl_penalty=name)
        assert_close(seen, torch.tensor([expected]), what=f"kl_penalty({name!r})",
                     why=ESTIMATOR_WHY[name] + " — check the direction (logprob first, then ref)")


@pytest.mark.exercise("03.kl_penalty")
def test_kl_penalty_k3_clamps():
    # x = ref - logprob:
    #   x = 5    → exp(5) - 5 - 1 = 142.4, clamped to 10
    #   x = inf  (logprob = -inf) → x clamped to 20 → exp(20) - 21 → 10;
    #            without the clamp on x, exp(inf) - inf = inf - inf = NaN
    #   x = -inf (ref = -inf)     → x clamped to -20 → exp(-20) + 19 → 10
    #   x = 0    → 0
    logprob = torch.tensor([-6.0, float("-inf"), 0.0, -1.0])
    ref_logprob = torch.tensor([-1.0, 0.0, float("-inf"), -1.0])
    for name in ("k3", "low_var_kl"):
        seen = kl.kl_penalty(logprob=logprob, ref_logprob=ref_logprob, kl_penalty=name)
        assert_close(seen, torch.tensor([10.0, 10.0, 10.0, 0.0]), what=f"kl_penalty({name!r}) at extreme ratios",
                     why="clamp x = ref - logprob to [-20, 20] before exp, and the result to [-10, 10]")


@pytest.mark.exercise("03.kl_penalty")
def test_kl_penalty_rejects_unknown_names():
    logprob, ref_logprob = torch.tensor([-1.0]), torch.tensor([-2.0])
    # k1 = -1 - (-2) = 1 (a stub fails here, before the check below)
    seen = kl.kl_penalty(logprob=logprob, ref_logprob=ref_logprob, kl_penalty="k1")
    assert_close(seen, torch.tensor([1.0]), what="kl_penalty('k1')")
    for name in ("k4", "full"):
        try:
            kl.kl_penalty(logprob=logprob, ref_logprob=ref_logprob, kl_penalty=name)
        except UNKNOWN_ESTIMATOR_ERROR:
            continue
        raise AssertionError(
            f"kl_penalty(..., kl_penalty={name!r}) returned a value: an unknown estimator name must raise "
            "the error verl raises (see the kl_penalty docstring), never fall back to another estimator\n"
            + hint_line()
        )


# ---------------------------------------------------- 03.kl_straight_through


@pytest.mark.exercise("03.kl_straight_through")
@pytest.mark.parametrize("name", STRAIGHT_THROUGH)
def test_kl_penalty_straight_through_matches_verl(name):
    g = tensors(golden("03", "kl_straight_through"))
    value, grad_lp, grad_ref = _value_and_grads(name, g)
    base = name[:-1]
    assert_close(value, g[key(name)], what=f"kl_penalty({name!r})",
                 why=f"the value of {name!r} is the value of {base!r}: {ESTIMATOR_WHY[base]}")
    assert_close(grad_lp, g[f"{key(name)}__grad_logprob"], what=f"d kl_penalty({name!r}) / d logprob",
                 why="the gradient of any '+' estimator is k2's: logprob - ref_logprob")
    assert_close(grad_ref, g[f"{key(name)}__grad_ref_logprob"], what=f"d kl_penalty({name!r}) / d ref_logprob",
                 why="k2's gradient to ref_logprob is ref_logprob - logprob")


@pytest.mark.exercise("03.kl_straight_through")
@pytest.mark.parametrize("name", ["k3+", "k1+", "abs+"])
def test_kl_penalty_straight_through_gradient_is_k2(name):
    # d/d logprob Σ w · 0.5 (logprob - ref)² = w · (logprob - ref); d/d ref = -w · (logprob - ref).
    g = tensors(golden("03", "kl_straight_through"))
    base = kl.kl_penalty(logprob=g["logprob"], ref_logprob=g["ref_logprob"], kl_penalty=name[:-1])
    value, grad_lp, grad_ref = _value_and_grads(name, g)
    diff = g["logprob"] - g["ref_logprob"]
    assert_close(value, base, what=f"kl_penalty({name!r}) value vs kl_penalty({name[:-1]!r})",
                 why="straight-through changes the gradient, never the value")
    assert_close(grad_lp, g["weights"] * diff, what=f"d kl_penalty({name!r}) / d logprob",
                 why="value of the estimator, gradient of k2: k2 - k2.detach() + estimator.detach()")
    assert_close(grad_ref, -g["weights"] * diff, what=f"d kl_penalty({name!r}) / d ref_logprob")


# ------------------------------------------------------- 03.apply_kl_penalty


@pytest.mark.exercise("03.apply_kl_penalty")
@pytest.mark.parametrize("case", ["kl", "low_var_kl", "k2"])
def test_apply_kl_penalty_matches_verl(case):
    g = tensors(golden("03", "apply_kl_penalty"))
    kwargs = json.loads(str(g["cases"]))[case]
    result = kl.apply_kl_penalty(
        token_level_scores=g["token_level_scores"], old_log_prob=g["old_log_prob"], ref_log_prob=g["ref_log_prob"],
        response_mask=g["response_mask"], **kwargs,
    )
    assert isinstance(result, tuple | list) and len(result) == 2, (
        "apply_kl_penalty returns (token_level_rewards, current_kl)"
    )
    rewards, current_kl = result
    assert_close(rewards, g[f"{case}__token_level_rewards"], what=f"apply_kl_penalty({kwargs}) → token_level_rewards",
                 mask=g["response_mask"],
                 why="rewards = scores - kl_coef · (kl estimate × response_mask): a penalty is subtracted, "
                 "and padding is not penalised")
    assert_close(float(current_kl), g[f"{case}__current_kl"], what=f"apply_kl_penalty({kwargs}) → current_kl",
                 why="current_kl = mean over the batch of each sequence's masked mean KL (empty rows count as 0)")


@pytest.mark.exercise("03.apply_kl_penalty")
def test_apply_kl_penalty_hand_worked():
    # Row 0: valid tokens 0, 1; k1 = old - ref = [-1 - (-1.5), -1 - (-1.25)] = [0.5, 0.25] (token 2 is padding).
    #   rewards = [0 - 0.1·0.5, 1 - 0.1·0.25, 0] = [-0.05, 0.975, 0]; the row's KL = (0.5 + 0.25) / 2 = 0.375
    # Row 1: no valid token → rewards = scores = 0, its KL = 0.
    # current_kl = (0.375 + 0) / 2 = 0.1875  (a mean over all 3 columns of row 0 would give 0.25 or more)
    scores = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    old_log_prob = torch.tensor([[-1.0, -1.0, -1.0], [-2.0, -2.0, -2.0]])
    ref_log_prob = torch.tensor([[-1.5, -1.25, -9.0], [-7.0, -7.0, -7.0]])
    mask = torch.tensor([[1, 1, 0], [0, 0, 0]])
    rewards, current_kl = kl.apply_kl_penalty(
        token_level_scores=scores, old_log_prob=old_log_prob, ref_log_prob=ref_log_prob, response_mask=mask,
        kl_coef=0.1, kl_penalty="kl",
    )
    assert_close(rewards, torch.tensor([[-0.05, 0.975, 0.0], [0.0, 0.0, 0.0]]), what="token_level_rewards",
                 mask=mask,
                 why="subtract kl_coef · KL on valid tokens only; padded positions keep their score")
    assert_close(float(current_kl), 0.1875, what="current_kl",
                 why="masked mean per sequence (over its valid tokens), then the plain mean over the batch")


# -------------------------------------------------------- 03.kl_controllers


@pytest.mark.exercise("03.kl_controllers")
def test_kl_controllers_match_verl():
    g = golden("03", "kl_controllers")
    adaptive = kl.AdaptiveKLController(
        init_kl_coef=float(g["init_kl_coef"]), target_kl=float(g["target_kl"]), horizon=int(g["horizon"])
    )
    fixed = kl.FixedKLController(kl_coef=float(g["fixed_kl_coef"]))
    for step, (current_kl, n_steps) in enumerate(zip(g["current_kl"].tolist(), g["n_steps"].tolist())):
        adaptive.update(current_kl=current_kl, n_steps=n_steps)
        fixed.update(current_kl=current_kl, n_steps=n_steps)
        assert_close(float(adaptive.value), g["adaptive_values"][step],
                     what=f"AdaptiveKLController.value after update {step + 1} "
                     f"(current_kl={current_kl}, n_steps={n_steps})",
                     why="value *= 1 + clip(current_kl / target - 1, -0.2, 0.2) · n_steps / horizon")
        assert_close(float(fixed.value), g["fixed_values"][step],
                     what=f"FixedKLController.value after update {step + 1}",
                     why="a fixed controller never changes its value")


@pytest.mark.exercise("03.kl_controllers")
def test_adaptive_kl_controller_hand_worked():
    ctl = kl.AdaptiveKLController(init_kl_coef=0.1, target_kl=1.0, horizon=100)
    assert_close(float(ctl.value), 0.1, what="AdaptiveKLController.value before any update")
    steps = [
        # error = 2.0 / 1.0 - 1 = 1.0, clipped to 0.2; mult = 1 + 0.2 · 50 / 100 = 1.1 → 0.11
        (2.0, 50, 0.11, "the proportional error is clipped to [-0.2, 0.2] before it is used"),
        # error = 0.9 - 1 = -0.1 (inside the clip); mult = 1 - 0.1 · 100 / 100 = 0.9 → 0.099
        (0.9, 100, 0.099, "mult = 1 + error · n_steps / horizon"),
        # error = 0 → unchanged
        (1.0, 10, 0.099, "on target the coefficient does not move"),
    ]
    for current_kl, n_steps, expected, why in steps:
        ctl.update(current_kl=current_kl, n_steps=n_steps)
        assert_close(float(ctl.value), expected, what=f"value after update(current_kl={current_kl}, n_steps={n_steps})",
                     why=why)


@pytest.mark.exercise("03.kl_controllers")
def test_fixed_kl_controller_never_moves():
    ctl = kl.FixedKLController(kl_coef=0.001)
    for current_kl, n_steps in [(5.0, 256), (0.0, 1)]:
        ctl.update(current_kl=current_kl, n_steps=n_steps)
        assert_close(float(ctl.value), 0.001, what="FixedKLController.value",
                     why="update() of a fixed controller does nothing")
