"""The reference estimators of §2.6–§2.10 agree with live verl 0.9.1 on generated inputs (Hypothesis, derandomized).

Also: verl's own functions, used as a learner's target, pass every graded test of these exercises.
"""

import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from verlings.dev.mutants import graded_failures
from verlings.paths import SOLUTIONS
from verlings.target import load_module
from verlings.testing import assert_close

ref = load_module("03", "advantages", root=SOLUTIONS)
from verl.trainer.ppo import core_algos  # noqa: E402 - verl is required for meta-tests

DETERMINISTIC = settings(derandomize=True, max_examples=40, deadline=None, database=None)


@st.composite
def _batches(draw, min_group: int = 1):
    """Outcome rewards on the last valid token, ragged masks (int or float), groups in any order."""
    sizes = draw(st.lists(st.integers(min_group, 5), min_size=1, max_size=5))
    bs = sum(sizes)
    response_length = draw(st.integers(1, 6))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    lengths = torch.randint(1, response_length + 1, (bs,), generator=g)
    mask = (torch.arange(response_length)[None, :] < lengths[:, None]).long()
    if draw(st.booleans()):
        mask = mask.float()
    binary = draw(st.booleans())
    scores = torch.randint(0, 2, (bs,), generator=g).float() if binary else torch.randn(bs, generator=g)
    rewards = torch.zeros(bs, response_length)
    rewards[torch.arange(bs), lengths - 1] = scores
    uids = np.array([f"u{i}" for i, n in enumerate(sizes) for _ in range(n)], dtype=object)
    perm = torch.randperm(bs, generator=g).numpy()
    if draw(st.booleans()):
        uids = np.array([int(u[1:]) * 3 for u in uids])
    return rewards[perm], mask[perm], uids[perm]


def _agree(name: str, **kwargs) -> None:
    ours = getattr(ref, name)(**kwargs)
    theirs = getattr(core_algos, name)(**kwargs)
    for what, a, b in zip(("advantages", "returns"), ours, theirs):
        assert_close(a, b, what=f"{name} → {what}")


@DETERMINISTIC
@given(batch=_batches(min_group=2), norm=st.booleans(), epsilon=st.sampled_from([1e-6, 0.1]))
def test_grpo_passk_agrees(batch, norm, epsilon):
    rewards, mask, index = batch
    _agree("compute_grpo_passk_outcome_advantage", token_level_rewards=rewards, response_mask=mask, index=index,
           epsilon=epsilon, config={"norm_adv_by_std_in_grpo": norm})


def test_grpo_passk_groups_of_one_raise_like_verl():
    kwargs = {"token_level_rewards": torch.ones(3, 1), "response_mask": torch.ones(3, 1),
              "index": np.array(["a", "a", "b"]), "config": {"norm_adv_by_std_in_grpo": True}}
    with pytest.raises(ValueError):
        core_algos.compute_grpo_passk_outcome_advantage(**kwargs)
    with pytest.raises(ValueError):
        ref.compute_grpo_passk_outcome_advantage(**kwargs)


@DETERMINISTIC
@given(batch=_batches())
def test_reinforce_plus_plus_baseline_agrees(batch):
    rewards, mask, index = batch
    if int((mask > 0).sum()) < 2:  # verl's whitening needs two valid tokens, and so does ours
        return
    _agree("compute_reinforce_plus_plus_baseline_outcome_advantage", token_level_rewards=rewards,
           response_mask=mask, index=index)


@DETERMINISTIC
@given(batch=_batches())
def test_opo_agrees(batch):
    rewards, mask, index = batch
    _agree("compute_opo_outcome_advantage", token_level_rewards=rewards, response_mask=mask, index=index)


@DETERMINISTIC
@given(batch=_batches(), f_norm=st.sampled_from([1.0, 2.5]))
def test_gpg_agrees(batch, f_norm):
    rewards, mask, index = batch
    _agree("compute_gpg_outcome_advantage", token_level_rewards=rewards, response_mask=mask, index=index,
           f_norm=f_norm, alpha=3.0)


@DETERMINISTIC
@given(batch=_batches(), seed=st.integers(0, 1000))
def test_remax_agrees(batch, seed):
    rewards, mask, _ = batch
    g = torch.Generator().manual_seed(seed)
    rewards = rewards + 0.1 * torch.randn(rewards.shape, generator=g)  # per-token terms and junk under the mask
    _agree("compute_remax_outcome_advantage", token_level_rewards=rewards,
           reward_baselines=torch.randn(rewards.shape[0], generator=g), response_mask=mask)


_VERL_AS_TARGET = """
from verl.trainer.ppo.core_algos import (
    compute_gpg_outcome_advantage,
    compute_grpo_passk_outcome_advantage,
    compute_opo_outcome_advantage,
    compute_reinforce_plus_plus_baseline_outcome_advantage,
    compute_remax_outcome_advantage,
)
"""


@pytest.mark.parametrize("exercise", ["03.grpo_passk", "03.reinforce_pp_baseline", "03.opo", "03.remax", "03.gpg"])
def test_verl_itself_passes_the_graded_tests(exercise, tmp_path: Path):
    (tmp_path / "03").mkdir()
    (tmp_path / "03" / "advantages.py").write_text(textwrap.dedent(_VERL_AS_TARGET), encoding="utf-8")
    failed, passed = graded_failures(tmp_path, exercise, module="advantages")
    assert passed, f"no graded test of {exercise} ran"
    assert not failed, f"verl's own implementation fails graded tests of {exercise}: {failed}"
