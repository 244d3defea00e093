"""Graded differential tests for exercises/03/kl.py: kl_penalty against verl 0.9.1's
``verl/trainer/ppo/core_algos.py`` (its own source, compiled without importing the verl package) on
generated log-probabilities — every estimator and its '+' straight-through form, log-ratios far past
the ±20 clamp, float32 / float64 / bfloat16. Each case also checks the dtype, the gradient with
respect to ``logprob``, and that your function left its inputs unchanged. Hypothesis is
derandomized: the same examples on every run.
"""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from verlings import learner_module
from verlings.differential import assert_tensors_agree, verl_core_algos
from verlings.tensor_strategies import TENSOR_SETTINGS, batch_shapes, values

kl = learner_module("03", "kl")
SETTINGS = TENSOR_SETTINGS  # derandomized, 15 examples a test
ESTIMATORS = ("kl", "k1", "abs", "mse", "k2", "low_var_kl", "k3")


@st.composite
def logprob_pairs(draw):
    rows, width = draw(batch_shapes)
    dtype = draw(st.sampled_from([torch.float32, torch.float64, torch.bfloat16]))
    scale = draw(st.sampled_from([1.0, 8.0]))  # 8 · 4 = 32: past the ±20 clamp of k3
    logprob = values(draw, (rows, width), torch.float64, -4.0, 0.0) * scale
    ref = values(draw, (rows, width), torch.float64, -4.0, 0.0) * scale
    return logprob.to(dtype), ref.to(dtype)


def _value_and_grad(fn):
    """``fn``'s value and its gradient with respect to ``logprob`` (summed): the straight-through
    forms differ from the plain ones only there."""

    def run(logprob, ref_logprob, name):
        x = logprob.detach().clone().requires_grad_(True)
        out = fn(x, ref_logprob, name)
        (grad,) = torch.autograd.grad(out.sum(), x, allow_unused=True)
        return out.detach(), torch.zeros_like(x) if grad is None else grad

    return run


@pytest.mark.exercise("03.kl_penalty")
@SETTINGS
@given(pair=logprob_pairs(), name=st.sampled_from(ESTIMATORS))
def test_kl_penalty_agrees_with_verl_on_generated_logprobs(pair, name):
    logprob, ref = pair
    assert_tensors_agree(
        "kl_penalty",
        kl.kl_penalty,
        verl_core_algos().kl_penalty,
        (logprob, ref, name),
        why="verl: k1 = logprob - ref; abs = |k1|; k2 = ½ k1²; k3 = exp(c) - c - 1 with c = ref - logprob "
        "clamped to [-20, 20], the result clamped to [-10, 10]",
    )


@pytest.mark.exercise("03.kl_straight_through")
@SETTINGS
@given(pair=logprob_pairs(), name=st.sampled_from([e + "+" for e in ESTIMATORS]))
def test_kl_straight_through_agrees_with_verl_value_and_gradient(pair, name):
    logprob, ref = pair
    assert_tensors_agree(
        "kl_penalty (value, d/d logprob)",
        _value_and_grad(kl.kl_penalty),
        _value_and_grad(verl_core_algos().kl_penalty),
        (logprob, ref, name),
        why="verl: 'X+' has the value of estimator X and the gradient of k2 = ½ (logprob - ref)², i.e. logprob - ref",
    )


@pytest.mark.exercise("03.apply_kl_penalty")
def test_apply_kl_penalty_default_estimator_is_kl():
    # verl's apply_kl_penalty(data, kl_ctrl, kl_penalty="kl"): left out, the estimator is k1 = logprob - ref.
    old = torch.tensor([[-1.0, -2.0, -0.5]])
    ref = torch.tensor([[-1.5, -1.0, -0.5]])
    scores, mask = torch.tensor([[0.0, 0.0, 1.0]]), torch.tensor([[1, 1, 0]])
    rewards, current = kl.apply_kl_penalty(scores, old, ref, mask, 0.1)
    # k1 = [0.5, -1.0, 0.0 (masked)]: rewards = scores - 0.1 · k1; current = mean over valid (0.5 - 1.0) / 2 = -0.25
    assert_tensors_agree(
        "apply_kl_penalty (kl_penalty left out)",
        lambda *a: kl.apply_kl_penalty(*a),
        lambda *a: (torch.tensor([[-0.05, 0.1, 1.0]]), -0.25),
        (scores, old, ref, mask, 0.1),
        why="the default estimator is verl's 'kl' (k1)",
    )
    assert isinstance(current, float) and rewards.shape == scores.shape
