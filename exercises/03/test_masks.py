"""Graded tests for exercises/03/masks.py (goldens from verl 0.9.1: verlings/goldens/ch03_masks.py)."""

import pytest
import torch

from verlings import learner_module
from verlings.testing import assert_close, golden, tensors

masks = learner_module("03", "masks")


@pytest.mark.exercise("03.response_mask")
def test_compute_response_mask_matches_verl():
    g = tensors(golden("03", "response_mask"))
    seen = masks.compute_response_mask(responses=g["responses"], attention_mask=g["attention_mask"])
    assert_close(
        seen, g["response_mask"], what="compute_response_mask", exercise="03.response_mask",
        why="the response is the right-most response_length columns of attention_mask",
    )
    assert seen.dtype == g["attention_mask"].dtype, f"dtype {seen.dtype}, expected attention_mask's {g['attention_mask'].dtype}"


@pytest.mark.exercise("03.response_mask")
def test_compute_response_mask_ignores_prompt_padding():
    # Worked by hand: prompt of 4 columns (2 real), response of 3 columns (2 real).
    attention_mask = torch.tensor([[0, 0, 1, 1, 1, 1, 0]])
    responses = torch.tensor([[7, 8, 0]])
    seen = masks.compute_response_mask(responses=responses, attention_mask=attention_mask)
    assert_close(seen, torch.tensor([[1, 1, 0]]), what="compute_response_mask", exercise="03.response_mask")


@pytest.mark.exercise("03.masked_mean")
@pytest.mark.parametrize(("axis", "key"), [(None, "mean_all"), (1, "mean_axis1"), (0, "mean_axis0")])
def test_masked_mean_matches_verl(axis, key):
    g = tensors(golden("03", "masked_mean"))
    seen = masks.masked_mean(values=g["values"], mask=g["mask"], axis=axis)
    assert_close(seen, g[key], what=f"masked_mean(axis={axis})", exercise="03.masked_mean")


@pytest.mark.exercise("03.masked_mean")
def test_masked_mean_ignores_inf_on_masked_positions():
    # (1 + 2) / 2 = 1.5; the inf sits on a masked position and must not leak (0 * inf = NaN).
    values = torch.tensor([1.0, 2.0, float("inf")])
    seen = masks.masked_mean(values=values, mask=torch.tensor([1, 1, 0]))
    assert_close(
        seen, torch.tensor(1.5), what="masked_mean with inf under the mask", exercise="03.masked_mean",
        why="values * mask turns inf into NaN; select with torch.where first",
    )
