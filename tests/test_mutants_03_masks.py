"""Known-wrong variants of exercises/03/masks.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

MUTANTS = [
    Mutant(
        "response_mask_from_the_left",
        "03.response_mask",
        "masks",
        """
        def compute_response_mask(responses, attention_mask):
            return attention_mask[:, : responses.size(1)]
        """,
    ),
    Mutant(
        "masked_mean_multiplies_by_mask",
        "03.masked_mean",
        "masks",
        """
        def masked_mean(values, mask, axis=None):
            return (values * mask).sum(dim=axis) / (mask.sum(dim=axis) + 1e-8)
        """,
    ),
    Mutant(
        "masked_mean_plain_mean",
        "03.masked_mean",
        "masks",
        """
        def masked_mean(values, mask, axis=None):
            return values.mean() if axis is None else values.mean(dim=axis)
        """,
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
