"""Graded differential tests for exercises/03/advantages.py: your estimators against verl 0.9.1's
``verl/trainer/ppo/core_algos.py`` (its own source, compiled without importing the verl package) on
generated batches — masks with holes, all-padding rows and batches, groups of one, string and int
uids in any order, float32 / float64 / bfloat16 rewards. Each case also checks the dtype and that
your function left its inputs unchanged. Hypothesis is derandomized: the same examples on every run.
"""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from verlings import learner_module
from verlings.differential import assert_tensors_agree, verl_core_algos
from verlings.tensor_strategies import TENSOR_SETTINGS, batch_shapes, masks, values

adv = learner_module("03", "advantages")
SETTINGS = TENSOR_SETTINGS  # derandomized, 15 examples a test
REWARD_DTYPES = st.sampled_from([torch.float32, torch.float64, torch.bfloat16])
# verl's trainer hands the estimators an int64 mask (from attention_mask). A bool one breaks verl's
# 1 - response_mask; a float32 one would promote bfloat16 results to float32 (not the stated dtype).
NUMBER_MASKS = (torch.int64,)


@st.composite
def token_batches(draw):
    rows, width = draw(batch_shapes)
    dtype = draw(REWARD_DTYPES)
    mask = masks(draw, rows, width, NUMBER_MASKS)
    rewards = values(draw, (rows, width), dtype) * mask.to(dtype)  # rewards live on generated tokens
    return rewards, mask


@st.composite
def outcome_batches(draw):
    """Outcome rewards on each row's last valid token, and uids: groups of one, any order."""
    rows, width = draw(batch_shapes)
    dtype = draw(REWARD_DTYPES)
    mask = masks(draw, rows, width, NUMBER_MASKS)
    scores = values(draw, (rows,), torch.float64, 0.0, 2.0)
    rewards = torch.zeros(rows, width, dtype=torch.float64)
    for i in range(rows):
        valid = mask[i].nonzero()
        if len(valid):
            rewards[i, int(valid[-1])] = scores[i]
    groups = draw(st.lists(st.integers(0, 2), min_size=rows, max_size=rows))
    kind = draw(st.sampled_from(["str", "int"]))
    index = np.array([f"uid-{g}" for g in groups], dtype=object) if kind == "str" else np.array(groups)
    return rewards.to(dtype), mask, index


@pytest.mark.exercise("03.gae")
@SETTINGS
# Always tried first: no full-length row, a row of padding under which the critic has values.
@example(
    batch=(torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]), torch.tensor([[1, 1, 0], [0, 0, 0]])), gamma=0.9, lam=0.95
)
@given(batch=token_batches(), gamma=st.sampled_from([1.0, 0.9, 0.5]), lam=st.sampled_from([1.0, 0.95, 0.5]))
def test_gae_agrees_with_verl_on_generated_batches(batch, gamma, lam):
    rewards, mask = batch
    critic = (torch.arange(rewards.numel(), dtype=torch.float64).reshape(rewards.shape) % 5 / 2).to(rewards.dtype)
    assert_tensors_agree(
        "compute_gae_advantage_return",
        adv.compute_gae_advantage_return,
        verl_core_algos().compute_gae_advantage_return,
        (rewards, critic, mask, gamma, lam),
        where=mask,
        why="verl: GAE right to left over the valid tokens only (a masked token carries the next valid "
        "value and advantage through), returns = advantages + values, then advantages whitened over "
        "the batch's valid tokens (ValueError below two valid tokens); masked positions are not checked",
    )


@pytest.mark.exercise("03.grpo")
@SETTINGS
@given(batch=outcome_batches(), norm=st.booleans())
def test_grpo_agrees_with_verl_on_generated_batches(batch, norm):
    rewards, mask, index = batch
    assert_tensors_agree(
        "compute_grpo_outcome_advantage",
        adv.compute_grpo_outcome_advantage,
        verl_core_algos().compute_grpo_outcome_advantage,
        (rewards, mask, index),
        {"epsilon": 1e-6, "norm_adv_by_std_in_grpo": norm},
        why="verl: score = row sum; a group of one has mean 0 and std 1; else (score - group mean) / "
        "(unbiased group std + epsilon), or only minus the mean without std; times the mask",
    )


@pytest.mark.exercise("03.rloo")
@SETTINGS
@given(batch=outcome_batches())
def test_rloo_agrees_with_verl_on_generated_batches(batch):
    rewards, mask, index = batch
    assert_tensors_agree(
        "compute_rloo_outcome_advantage",
        adv.compute_rloo_outcome_advantage,
        verl_core_algos().compute_rloo_outcome_advantage,
        (rewards, mask, index),
        why="verl: in a group of n > 1, score · n/(n-1) - group mean · n/(n-1) (the mean of the others); "
        "a group of one keeps its score; times the mask",
    )


@pytest.mark.exercise("03.reinforce_pp")
@SETTINGS
@given(batch=token_batches(), gamma=st.sampled_from([1.0, 0.9, 0.5]))
def test_reinforce_pp_agrees_with_verl_on_generated_batches(batch, gamma):
    rewards, mask = batch
    assert_tensors_agree(
        "compute_reinforce_plus_plus_outcome_advantage",
        adv.compute_reinforce_plus_plus_outcome_advantage,
        verl_core_algos().compute_reinforce_plus_plus_outcome_advantage,
        (rewards, mask),
        {"config": SimpleNamespace(gamma=gamma)},
        why="verl: returns-to-go r + γ·running on valid tokens (masked tokens pass running through, "
        "their returns are 0), whitened over the batch's valid tokens, times the mask",
    )
