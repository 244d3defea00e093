"""Benchmarks for exercises/03/advantages.py: yours vs the reference solution vs verl 0.9.1.

Run through ``python grader.py bench 03``, or directly::

    python -m pytest benchmarks/bench_03_advantages.py --benchmark-only -p no:cacheprovider -o python_files='bench_*.py'

Sizes are a realistic verl step on one GPU: GRPO and RLOO at 1024 responses × 1024 tokens in
groups of 8 (128 prompts × rollout.n = 8, uuid4 string uids as verl's trainer makes them);
GAE and REINFORCE++ at 256 × 1024 (their right-to-left loop is sequential in the length).
verl has two versions of GRPO and RLOO: the catalogue's loop over responses and a
vectorised one; each gets its own group, so every row compares like with like.
"""

import uuid

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from verlings.bench import implementation
from verlings.testing import assert_close

IMPLS = ["yours", "reference", "verl"]
VERL_GRPO = {"loop": "compute_grpo_outcome_advantage", "vectorized": "compute_grpo_vectorized_outcome_advantage"}
VERL_RLOO = {"loop": "compute_rloo_outcome_advantage", "vectorized": "compute_rloo_vectorized_outcome_advantage"}
# An unfinished exercise fails its benchmark before timing; the runner reports it as not measured.
pytestmark = pytest.mark.filterwarnings("ignore:Benchmark fixture was not used")


def _batch(bs: int, length: int, seed: int) -> tuple[torch.Generator, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    lens = torch.randint(1, length + 1, (bs,), generator=g)
    mask = (torch.arange(length)[None, :] < lens[:, None]).long()
    return g, mask


@pytest.fixture(scope="module")
def outcome_batch() -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """1024 × 1024, binary outcome reward on the last valid token, uids interleaved as rollout.n repeats them."""
    bs, length, n = 1024, 1024, 8
    g, mask = _batch(bs, length, seed=0)
    rewards = torch.zeros(bs, length)
    rewards[torch.arange(bs), mask.sum(dim=1) - 1] = (torch.rand(bs, generator=g) > 0.5).float()
    rng = np.random.default_rng(0)
    uids = np.array([str(uuid.UUID(int=int(rng.integers(0, 2**63)), version=4)) for _ in range(bs // n)], dtype=object)
    return rewards, mask, np.repeat(uids, n)


@pytest.fixture(scope="module")
def token_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """256 × 1024 per-token rewards and values with right padding."""
    g, mask = _batch(256, 1024, seed=1)
    return torch.randn(256, 1024, generator=g) * mask, torch.randn(256, 1024, generator=g), mask


def _verl(name: str):
    from verl.trainer.ppo import core_algos

    return getattr(core_algos, name)


def _function(impl: str, name: str, verl_name: str | None = None):
    if impl == "verl":
        return _verl(verl_name or name)
    return getattr(implementation(impl, "03", "advantages"), name)


def _run(benchmark, impl: str, fn, expected_fn, **kwargs):
    """Time ``fn(**kwargs)``; the reference must also agree with verl at this size."""
    try:
        first = fn(**kwargs)
    except NotImplementedError as exc:
        pytest.fail(f"not implemented yet: {exc}")
    if impl == "reference":
        expected = expected_fn(**kwargs)
        assert_close(first[0], expected[0], what=f"{fn.__name__} advantages at benchmark size")
    benchmark(fn, **kwargs)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("variant", VERL_GRPO)
def test_grpo(benchmark, impl, variant, outcome_batch):
    benchmark.group = f"grpo 1024x1024 n=8 (verl {variant})"
    verl_name = VERL_GRPO[variant]
    rewards, mask, index = outcome_batch
    fn = _function(impl, "compute_grpo_outcome_advantage", verl_name)
    _run(benchmark, impl, fn, _verl(verl_name), token_level_rewards=rewards, response_mask=mask, index=index)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("variant", VERL_RLOO)
def test_rloo(benchmark, impl, variant, outcome_batch):
    benchmark.group = f"rloo 1024x1024 n=8 (verl {variant})"
    verl_name = VERL_RLOO[variant]
    rewards, mask, index = outcome_batch
    fn = _function(impl, "compute_rloo_outcome_advantage", verl_name)
    _run(benchmark, impl, fn, _verl(verl_name), token_level_rewards=rewards, response_mask=mask, index=index)


@pytest.mark.parametrize("impl", IMPLS)
def test_gae(benchmark, impl, token_batch):
    benchmark.group = "gae 256x1024"
    rewards, values, mask = token_batch
    fn = _function(impl, "compute_gae_advantage_return")
    _run(benchmark, impl, fn, _verl("compute_gae_advantage_return"),
         token_level_rewards=rewards, values=values, response_mask=mask, gamma=0.99, lam=0.95)


@pytest.mark.parametrize("impl", IMPLS)
def test_reinforce_plus_plus(benchmark, impl, token_batch):
    benchmark.group = "reinforce++ 256x1024"
    rewards, _, mask = token_batch
    name = "compute_reinforce_plus_plus_outcome_advantage"
    # verl takes the discount from its algorithm config; the course's signature takes gamma.
    kwargs = {"config": OmegaConf.create({"gamma": 0.99})} if impl == "verl" else {"gamma": 0.99}

    def verl_fn(**kw):
        kw.pop("gamma", None)
        return _verl(name)(config=OmegaConf.create({"gamma": 0.99}), **kw)

    _run(benchmark, impl, _function(impl, name), verl_fn, token_level_rewards=rewards, response_mask=mask, **kwargs)
