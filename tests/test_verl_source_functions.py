"""verlings.differential compiles verl's functions from their source without importing verl; these
tests check that what it compiles is what ``import verl`` gives, on the same inputs."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from verlings.differential import verl_core_algos, verl_functions, verl_torch_functional


def test_compiled_torch_functional_equals_imported_verl():
    import verl.utils.torch_functional as verl_F

    ours = verl_torch_functional()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5, generator=g)
    mask = (torch.rand(3, 5, generator=g) > 0.3).long()
    logits = torch.randn(3, 5, 7, generator=g) * 30
    labels = torch.randint(0, 7, (3, 5), generator=g)
    ids = torch.randint(0, 4, (3, 5), generator=g)
    pairs = [
        ("masked_mean", (x, mask)),
        ("masked_var", (x, mask)),
        ("masked_whiten", (x, mask)),
        ("logprobs_from_logits", (logits, labels)),
        ("entropy_from_logits", (logits,)),
        ("get_response_mask", (ids, [1, 2])),
    ]
    for name, args in pairs:
        assert torch.equal(getattr(ours, name)(*args), getattr(verl_F, name)(*args)), name


def test_compiled_core_algos_equals_imported_verl():
    from verl.trainer.ppo import core_algos

    ours = verl_core_algos()
    g = torch.Generator().manual_seed(1)
    rewards = torch.randn(4, 6, generator=g)
    values = torch.randn(4, 6, generator=g)
    mask = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 0, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]])
    index = np.array(["a", "b", "a", "c"], dtype=object)
    calls = [
        ("compute_gae_advantage_return", (rewards, values, mask, 0.9, 0.95), {}),
        ("compute_grpo_outcome_advantage", (rewards, mask, index), {}),
        ("compute_rloo_outcome_advantage", (rewards, mask, index), {}),
        ("compute_reinforce_plus_plus_outcome_advantage", (rewards, mask), {"config": SimpleNamespace(gamma=0.9)}),
        ("agg_loss", (rewards, mask, "seq-mean-token-sum-norm"), {}),
        ("compute_value_loss", (values, rewards, values.flip(-1), mask, 0.2), {}),
        ("kl_penalty", (values, rewards, "low_var_kl+"), {}),
    ]
    for name, args, kwargs in calls:
        seen, expected = getattr(ours, name)(*args, **kwargs), getattr(core_algos, name)(*args, **kwargs)
        seen = seen if isinstance(seen, tuple) else (seen,)
        expected = expected if isinstance(expected, tuple) else (expected,)
        for s, e in zip(seen, expected, strict=True):
            assert torch.equal(torch.as_tensor(s), torch.as_tensor(e)), name


def test_a_missing_function_is_named():
    with pytest.raises(LookupError, match="no_such_function"):
        verl_functions("utils/torch_functional.py", ("masked_mean", "no_such_function"), {"torch": torch})
