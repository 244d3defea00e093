"""Graded differential tests for exercises/04/rule_rewards.py: overlong_penalty against verl 0.9.1's
DAPORewardManager on generated lengths — including responses longer than DAPO's max_resp_len (the
rollout's data.max_response_length may be larger than reward_model.overlong_buffer's max_resp_len).
Hypothesis is derandomized: the same examples on every run.
"""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verlings import learner_module
from verlings.differential import PROPERTY_SETTINGS, assert_agrees

rules = learner_module("04", "rule_rewards")


def verl_dapo_overlong(response_length, max_response_length, overlong_buffer_len, penalty_factor):
    """verl/workers/reward_manager/dapo.py lines 123-126, verbatim but for the names of the inputs
    (tests/test_verl_04_rewards.py checks these lines are still verl's)."""
    expected_len = max_response_length - overlong_buffer_len
    exceed_len = response_length - expected_len
    overlong_penalty_factor = penalty_factor
    overlong_reward = min(-exceed_len / overlong_buffer_len * overlong_penalty_factor, 0)
    return overlong_reward


@st.composite
def lengths(draw):
    buffer = draw(st.integers(1, 64))
    max_len = draw(st.integers(buffer, 4096))
    # up to twice max_resp_len: the response can outgrow DAPO's max_resp_len — verl does not clamp
    response = draw(st.one_of(st.integers(0, 2 * max_len), st.integers(max_len - buffer - 2, max_len + 2).filter(
        lambda n: n >= 0)))
    factor = draw(st.sampled_from([0.5, 1.0, 2.0, 0.1]))
    return response, max_len, buffer, factor


@pytest.mark.exercise("04.overlong_penalty")
@PROPERTY_SETTINGS
@given(case=lengths())
def test_overlong_penalty_agrees_with_verl_dapo_on_generated_lengths(case):
    response, max_len, buffer, factor = case
    assert_agrees(
        "overlong_penalty", rules.overlong_penalty, verl_dapo_overlong, (),
        {"response_length": response, "max_response_length": max_len, "overlong_buffer_len": buffer,
         "penalty_factor": factor},
        types=(int, float), same=lambda seen, expected: math.isclose(seen, expected, rel_tol=1e-9, abs_tol=1e-12),
        why="verl: min(-(length - (max - buffer)) / buffer * factor, 0) — no floor at -factor: a response "
            "longer than max_resp_len is penalised more",
    )
