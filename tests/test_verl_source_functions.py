"""verlings.verl_source compiles verl's functions from their source without importing verl; these
tests check that what it compiles is what ``import verl`` gives, on the same inputs."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

# verl imported at collection (seconds under load), not inside a test's time limit.
import verl.utils.torch_functional as verl_F
from verl.experimental.agent_loop.tool_parser import HermesToolParser
from verl.trainer.ppo import core_algos

from verlings.verl_source import verl_core_algos, verl_functions, verl_hermes_parser, verl_torch_functional


def test_compiled_torch_functional_equals_imported_verl():
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


def test_compiled_hermes_parser_equals_imported_verl():
    import asyncio

    text = 'a <tool_call>{"name": "f", "arguments": {"x": 1.50, "y": "中"}}</tool_call> b <tool_call>[[</tool_call>'
    imported = HermesToolParser(SimpleNamespace(decode=lambda ids: ids))
    ours_content, ours_calls = asyncio.run(verl_hermes_parser().extract_tool_calls(text))
    verl_content, verl_calls = asyncio.run(imported.extract_tool_calls(text))
    # Two FunctionCall classes (compiled and imported): compared by their fields.
    assert (ours_content, [c.model_dump() for c in ours_calls]) == (verl_content, [c.model_dump() for c in verl_calls])
