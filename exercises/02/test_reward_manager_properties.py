"""Graded differential tests for exercises/02/reward_manager.py: place_scores against verl 0.9.1's
NaiveRewardManager placement on generated batches — int, float64, bfloat16 and Python scores, empty
and full rows, batches of one. Hypothesis is derandomized: the same examples on every run.
"""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from verlings import learner_module
from verlings.differential import PROPERTY_SETTINGS, call_text
from verlings.testing import hint_line

manager = learner_module("02", "reward_manager")


def verl_placement(scores, response_mask: torch.Tensor) -> torch.Tensor:
    """verl/workers/reward_manager/naive.py, its three placement lines (98, 114, 153), per row:
    ``reward_tensor = torch.zeros_like(responses, dtype=torch.float32)``;
    ``valid_response_length = attention_mask[prompt_length:].sum()``;
    ``reward_tensor[i, valid_response_length - 1] = reward`` (reward: the scorer's number)."""
    reward_tensor = torch.zeros(response_mask.shape, dtype=torch.float32)
    for i in range(response_mask.shape[0]):
        valid_response_length = response_mask[i].long().sum()
        reward_tensor[i, valid_response_length - 1] = float(scores[i])
    return reward_tensor


_DTYPES = ["list[int]", "list[float]", "int64", "float64", "bfloat16", "float32"]


@st.composite
def batches(draw):
    rows = draw(st.integers(1, 5))  # a batch of one included
    width = draw(st.integers(1, 6))
    lengths = draw(st.lists(st.integers(0, width), min_size=rows, max_size=rows))  # 0: an empty response
    kind = draw(st.sampled_from(_DTYPES))
    values = draw(st.lists(st.integers(-3, 3), min_size=rows, max_size=rows))
    halves = [v / 2 for v in values]  # exact in bfloat16 too, so only the dtype can differ
    scores = {
        "list[int]": values, "list[float]": halves,
        "int64": torch.tensor(values, dtype=torch.int64), "float64": torch.tensor(halves, dtype=torch.float64),
        "bfloat16": torch.tensor(halves, dtype=torch.bfloat16), "float32": torch.tensor(halves, dtype=torch.float32),
    }[kind]
    mask_dtype = draw(st.sampled_from([torch.int64, torch.bool]))  # verl: an int64 attention mask
    mask = (torch.arange(width)[None, :] < torch.tensor(lengths)[:, None]).to(mask_dtype)
    return scores, mask


def _describe(scores) -> str:
    return repr(scores) if isinstance(scores, list) else f"{scores.tolist()!r} as {scores.dtype}"


@pytest.mark.exercise("02.place_scores")
@PROPERTY_SETTINGS
@given(batch=batches())
def test_place_scores_agrees_with_verl_on_generated_batches(batch):
    scores, mask = batch
    mask_before = mask.clone()
    scores_before = scores.clone() if isinstance(scores, torch.Tensor) else list(scores)
    expected = verl_placement(scores, mask)
    seen = manager.place_scores(scores=scores, response_mask=mask)
    call = call_text("place_scores", (), {"scores": _describe(scores),
                                          "response_mask": f"{mask.tolist()} as {mask.dtype}"})
    if not isinstance(seen, torch.Tensor):
        raise AssertionError(f"called {call} → a {type(seen).__name__}; verl → a torch.Tensor"
                             "\n" + hint_line())
    if seen.dtype != torch.float32:
        raise AssertionError(
            f"called {call} → dtype {seen.dtype}; verl → torch.float32\n  verl's reward tensor is always float32 "
            "(zeros_like(responses, dtype=torch.float32)), whatever the scores' type\n"
            + hint_line())
    if seen.shape != expected.shape or not torch.equal(seen, expected):
        raise AssertionError(
            f"called {call} → {seen.tolist()}; verl → {expected.tolist()}\n  the score goes on the last real token "
            "(index = mask.sum() - 1; an empty row gives -1, the last column)"
            "\n" + hint_line())
    same_scores = torch.equal(scores, scores_before) if isinstance(scores, torch.Tensor) else scores == scores_before
    if not torch.equal(mask, mask_before) or not same_scores:
        raise AssertionError(f"called {call}: it changed its inputs in place; verl leaves them as they were"
                             "\n" + hint_line())
