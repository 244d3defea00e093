"""Reference solutions of exercises/03/advantages.py agree with live verl 0.9.1 on seeded random inputs.

Also: verl's own functions, used as a learner's target, pass every graded test of the four
exercises — the graded tests demand verl's semantics, not our implementation's details.
"""

import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from verlings.dev.mutants import graded_failures
from verlings.paths import SOLUTIONS
from verlings.target import load_module
from verlings.testing import assert_close

ref = load_module("03", "advantages", root=SOLUTIONS)
from verl.trainer.ppo import core_algos as ca  # noqa: E402 - verl is required for meta-tests


def _mask_with_holes(g: torch.Generator, bs: int, length: int) -> torch.Tensor:
    """Right padding plus random holes (tool output) inside the responses; every row keeps a valid token."""
    lens = torch.randint(1, length + 1, (bs,), generator=g)
    mask = (torch.arange(length)[None, :] < lens[:, None]).long()
    holes = torch.rand(bs, length, generator=g) < 0.2
    mask[holes] = 0
    mask[:, 0] = 1
    return mask


def _groups(g: torch.Generator, n_groups: int, kind: str) -> np.ndarray:
    """Group ids with sizes 1..6, shuffled; strings like verl's uuid4 uids, or ints."""
    sizes = torch.randint(1, 7, (n_groups,), generator=g).tolist()
    labels = np.repeat(np.arange(n_groups), sizes)
    labels = labels[torch.randperm(len(labels), generator=g).numpy()]
    if kind == "str":
        return np.array([f"uid-{i:04x}-{i * 7919 % 65536:04x}" for i in labels], dtype=object)
    return labels.astype(np.int64) * 13 + 5


def _outcome_batch(seed: int, kind: str, binary: bool = False, length: int = 12):
    g = torch.Generator().manual_seed(seed)
    index = _groups(g, 10, kind)
    bs = len(index)
    mask = _mask_with_holes(g, bs, length)
    last = (torch.arange(length)[None, :] * mask).argmax(dim=1)
    scores = (torch.rand(bs, generator=g) > 0.5).float() if binary else torch.randn(bs, generator=g)
    rewards = torch.zeros(bs, length)
    rewards[torch.arange(bs), last] = scores
    return rewards, mask, index


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("gamma", "lam"), [(1.0, 1.0), (0.99, 0.95), (0.9, 0.5)])
def test_gae_agrees(seed, gamma, lam):
    g = torch.Generator().manual_seed(seed)
    mask = _mask_with_holes(g, 8, 20)
    rewards, values = torch.randn(8, 20, generator=g), torch.randn(8, 20, generator=g)
    expected = ca.compute_gae_advantage_return(rewards, values, mask, gamma=gamma, lam=lam)
    seen = ref.compute_gae_advantage_return(rewards, values, mask, gamma=gamma, lam=lam)
    # Equal everywhere, masked positions included: the reference follows verl's loop exactly.
    assert_close(seen[0], expected[0], what="gae advantages")
    assert_close(seen[1], expected[1], what="gae returns")


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kind", ["str", "int"])
@pytest.mark.parametrize("binary", [False, True], ids=["gaussian", "binary"])
@pytest.mark.parametrize("kwargs", [{}, {"norm_adv_by_std_in_grpo": False}, {"epsilon": 0.01}], ids=str)
def test_grpo_agrees(seed, kind, binary, kwargs):
    rewards, mask, index = _outcome_batch(seed, kind, binary)
    seen = ref.compute_grpo_outcome_advantage(rewards, mask, index, **kwargs)
    for fn in (ca.compute_grpo_outcome_advantage, ca.compute_grpo_vectorized_outcome_advantage):
        expected = fn(rewards, mask, index, **kwargs)
        assert_close(seen[0], expected[0], what=f"grpo advantages vs {fn.__name__}")
        assert_close(seen[1], expected[1], what=f"grpo returns vs {fn.__name__}")


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kind", ["str", "int"])
@pytest.mark.parametrize("binary", [False, True], ids=["gaussian", "binary"])
def test_rloo_agrees(seed, kind, binary):
    rewards, mask, index = _outcome_batch(seed, kind, binary)
    seen = ref.compute_rloo_outcome_advantage(rewards, mask, index)
    expected = ca.compute_rloo_outcome_advantage(rewards, mask, index)
    assert_close(seen[0], expected[0], what="rloo advantages")
    assert_close(seen[1], expected[1], what="rloo returns")


def test_rloo_vectorized_differs_from_loop_only_on_singletons():
    # verl 0.9.1's two RLOO versions disagree on a prompt sampled once: the loop keeps the raw
    # score, the vectorised one gives 0. The course follows compute_rloo_outcome_advantage.
    rewards, mask, index = _outcome_batch(seed=2, kind="str")  # three singleton groups
    _, counts = np.unique(index, return_counts=True)
    assert (counts == 1).any(), "the batch should hold a singleton group"
    seen = ref.compute_rloo_outcome_advantage(rewards, mask, index)[0]
    vectorized = ca.compute_rloo_vectorized_outcome_advantage(rewards, mask, index)[0]
    single = torch.from_numpy(np.isin(index, np.unique(index)[counts == 1]))
    assert_close(seen[~single], vectorized[~single], what="rloo vs rloo_vectorized, groups of 2 or more")
    assert_close(seen[single], rewards.sum(-1, keepdim=True)[single] * mask[single], what="rloo singletons")


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("gamma", [1.0, 0.99, 0.7])
def test_reinforce_plus_plus_agrees(seed, gamma):
    g = torch.Generator().manual_seed(seed)
    mask = _mask_with_holes(g, 8, 20)
    rewards = torch.randn(8, 20, generator=g)  # rewards on masked tokens too: both must skip them
    config = OmegaConf.create({"gamma": gamma})
    expected = ca.compute_reinforce_plus_plus_outcome_advantage(rewards, mask, config=config)
    for seen in (
        ref.compute_reinforce_plus_plus_outcome_advantage(rewards, mask, gamma=gamma),
        ref.compute_reinforce_plus_plus_outcome_advantage(rewards, mask, config=config),  # as verl's trainer calls it
    ):
        assert_close(seen[0], expected[0], what="reinforce++ advantages")
        assert_close(seen[1], expected[1], what="reinforce++ returns")


@pytest.mark.parametrize("norm", [True, False])
def test_grpo_edge_cases_agree(norm):
    # Only singletons; only all-equal groups; all-zero rewards: never NaN, same as verl.
    mask = torch.ones(6, 3, dtype=torch.long)
    for rewards, index in [
        (torch.randn(6, 3, generator=torch.Generator().manual_seed(0)), np.array(list("abcdef"))),
        (torch.full((6, 3), 0.25), np.array(list("aabbcc"))),
        (torch.zeros(6, 3), np.array(list("abab" "cc"))),
    ]:
        seen = ref.compute_grpo_outcome_advantage(rewards, mask, index, norm_adv_by_std_in_grpo=norm)[0]
        expected = ca.compute_grpo_outcome_advantage(rewards, mask, index, norm_adv_by_std_in_grpo=norm)[0]
        assert not torch.isnan(seen).any()
        assert_close(seen, expected, what=f"grpo edge case {index.tolist()}")


_VERL_AS_TARGET = '''
"""verl 0.9.1's own estimators, laid out as a learner's exercises/03/advantages.py."""
from omegaconf import OmegaConf
from verl.trainer.ppo.core_algos import (
    compute_gae_advantage_return,
    compute_grpo_outcome_advantage,
    compute_rloo_outcome_advantage,
)
from verl.trainer.ppo.core_algos import compute_reinforce_plus_plus_outcome_advantage as _rpp


def compute_reinforce_plus_plus_outcome_advantage(token_level_rewards, response_mask, gamma=None, config=None):
    # the contract takes gamma= or, as verl's trainer calls it, config=
    config = config if config is not None else OmegaConf.create({"gamma": gamma})
    return _rpp(token_level_rewards, response_mask, config=config)
'''


@pytest.mark.parametrize("exercise", ["03.gae", "03.grpo", "03.rloo", "03.reinforce_pp"])
def test_verl_itself_passes_the_graded_tests(exercise, tmp_path: Path):
    (tmp_path / "03").mkdir()
    (tmp_path / "03" / "advantages.py").write_text(textwrap.dedent(_VERL_AS_TARGET), encoding="utf-8")
    failed, passed = graded_failures(tmp_path, exercise)
    assert passed, f"no graded test of {exercise} ran"
    assert not failed, f"verl's own implementation fails graded tests of {exercise}: {failed}"
