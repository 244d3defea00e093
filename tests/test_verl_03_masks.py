"""Reference solutions of exercises/03/masks.py agree with live verl 0.9.1 on seeded random inputs."""

import pytest
import torch

from verlings.target import load_module
from verlings.paths import SOLUTIONS
from verlings.testing import assert_close

ref = load_module("03", "masks", root=SOLUTIONS)
from verl.utils import torch_functional as tf  # noqa: E402 - verl is required for meta-tests


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_masked_mean_agrees(seed, axis):
    g = torch.Generator().manual_seed(seed)
    values = torch.randn(8, 16, generator=g)
    mask = (torch.rand(8, 16, generator=g) > 0.5).float()
    assert_close(ref.masked_mean(values, mask, axis=axis), tf.masked_mean(values, mask, axis=axis), what="masked_mean")
