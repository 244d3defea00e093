"""Graded tests for exercises/04/custom_reward.py: hand-worked components, then verl's own loader and manager.

custom_reward.py builds on your rule_rewards.py: if these fail with a NotImplementedError from
rule_rewards.py, finish §1 first.
"""

import numpy as np
import pytest

from verlings import learner_module
from verlings.target import active
from verlings.testing import assert_close, assert_equal

custom = learner_module("04", "custom_reward")

KEYS = ["correct", "format", "length", "score"]
GOOD = "<think>2 + 2 = 4</think> The answer is \\boxed{4}."


def _check(result, expected: dict, case: str, why: str | None = None) -> None:
    assert isinstance(result, dict), f"{case}: compute_score must return a dict, got {type(result).__name__}"
    assert_equal(sorted(result), KEYS, what=f"keys of compute_score on {case}",
                 why="return combine(...): 'score' plus every component, so verl logs each one")
    for key in ("correct", "format", "length", "score"):
        assert_close(result[key], expected[key], what=f"compute_score(...)[{key!r}] on {case}",
                     why=why)


@pytest.mark.exercise("04.custom_reward")
@pytest.mark.parametrize(
    ("solution", "truth", "extra_info", "expected"),
    [
        # Thinks, boxes the right answer, 8 words: correct 1, format 1, length 0 (8 <= 384).
        # score = 1.0*1 + 0.1*1 + 0.5*0 = 1.1
        (GOOD, "4", None, {"correct": 1.0, "format": 1.0, "length": 0.0, "score": 1.1}),
        # Well formed, wrong answer: 1.0*0 + 0.1*1 = 0.1
        (GOOD.replace("{4}", "{5}"), "4", None, {"correct": 0.0, "format": 1.0, "length": 0.0, "score": 0.1}),
        # Right answer written as a fraction, no think block: math_equal("1/2", "0.5") → correct 1, format 0.
        ("The answer is \\boxed{1/2}.", "0.5", {}, {"correct": 1.0, "format": 0.0, "length": 0.0, "score": 1.0}),
        # The last box counts: the draft 3 is wrong, the final 4 is right.
        ("<think>maybe \\boxed{3}? no.</think> \\boxed{4}", 4, None,
         {"correct": 1.0, "format": 1.0, "length": 0.0, "score": 1.1}),
        # 480 tokens given by the caller: expected_len = 512 - 128 = 384, exceed 96 → -96/128 = -0.75;
        # score = 1.0*1 + 0.1*0 + 0.5*(-0.75) = 0.625
        ("\\boxed{4}", "4", {"response_length": 480}, {"correct": 1.0, "format": 0.0, "length": -0.75, "score": 0.625}),
        # No answer at all: everything 0.
        ("I don't know.", "4", None, {"correct": 0.0, "format": 0.0, "length": 0.0, "score": 0.0}),
    ],
    ids=["right", "wrong", "fraction_no_think", "last_box", "overlong_tokens", "no_answer"],
)
def test_compute_score_hand_worked(solution, truth, extra_info, expected):
    result = custom.compute_score(data_source="toy", solution_str=solution, ground_truth=truth, extra_info=extra_info)
    _check(result, expected, repr(solution[:40]))


@pytest.mark.exercise("04.custom_reward")
def test_compute_score_counts_words_without_a_token_length():
    # 500 words and no extra_info["response_length"]: length = 500 → -(500 - 384) / 128 = -0.90625.
    solution = "word " * 499 + "\\boxed{7}"
    result = custom.compute_score(data_source="toy", solution_str=solution, ground_truth="7", extra_info={})
    _check(result, {"correct": 1.0, "format": 0.0, "length": -0.90625, "score": 1.0 + 0.5 * -0.90625},
           "500 words")


@pytest.mark.exercise("04.custom_reward")
def test_compute_score_settings_from_keyword_arguments():
    # weights only on correct; a 64-token limit with a 16-token buffer: 56 tokens → -(56-48)/16*2 = -1.0.
    result = custom.compute_score(
        data_source="toy", solution_str=GOOD, ground_truth="4", extra_info={"response_length": 56},
        weights={"correct": 2.0, "format": 0.0, "length": 1.0}, max_response_length=64, overlong_buffer_len=16,
        penalty_factor=2.0,
    )
    # score = 2.0*1 + 0.0*1 + 1.0*(-1.0) = 1.0
    _check(result, {"correct": 1.0, "format": 1.0, "length": -1.0, "score": 1.0},
           "custom settings (extra_info={'response_length': 56}, weights={'correct': 2.0, 'format': 0.0, "
           "'length': 1.0}, max_response_length=64, overlong_buffer_len=16, penalty_factor=2.0)",
           why="every setting is a keyword argument that wins over the default: score = combine(components, "
               "weights or WEIGHTS) = 2.0*1 + 0.0*1 + 1.0*(-1.0) = 1.0; the length term uses the given limit, "
               "buffer and factor: -(56 - 48) / 16 * 2.0 = -1.0")


@pytest.mark.exercise("04.custom_reward")
def test_compute_score_through_verls_loader():
    from omegaconf import OmegaConf
    from verl.trainer.ppo.reward import get_custom_reward_fn

    config = OmegaConf.create({"reward": {"custom_reward_function": {
        "path": str(active() / "04" / "custom_reward.py"), "name": "compute_score",
        "reward_kwargs": {"max_response_length": 64, "overlong_buffer_len": 16},
    }}})
    fn = get_custom_reward_fn(config)
    assert fn is not None, "verl found no custom reward function"
    # reward_kwargs reach the function: 56 tokens with max 64, buffer 16 → -(56-48)/16 = -0.5.
    result = fn(data_source="toy", solution_str=GOOD, ground_truth="4", extra_info={"response_length": 56})
    _check(result, {"correct": 1.0, "format": 1.0, "length": -0.5, "score": 1.0 + 0.1 - 0.25},
           "verl's loader with reward_kwargs")


@pytest.mark.exercise("04.custom_reward")
async def test_compute_score_in_verls_reward_manager():
    """verl's NaiveRewardManager (reward loop) decodes a response, calls compute_score and logs every key."""
    import torch
    from omegaconf import OmegaConf
    from verl import DataProto
    from verl.experimental.reward_loop.reward_manager.naive import NaiveRewardManager
    from verl.trainer.ppo.reward import get_custom_reward_fn

    from verlings.fixtures.tokenizer import local_tokenizer

    tokenizer = local_tokenizer()
    config = OmegaConf.create({"reward": {"custom_reward_function": {
        "path": str(active() / "04" / "custom_reward.py"), "name": "compute_score",
    }}})
    manager = NaiveRewardManager(config, tokenizer, compute_score=get_custom_reward_fn(config))
    prompt = tokenizer.encode("What is 2 + 2?")
    response = [*tokenizer.encode(GOOD), tokenizer.eos_token_id]
    width = len(response) + 3  # right padding after the response
    data = DataProto.from_dict(
        tensors={
            "prompts": torch.tensor([prompt]),
            "responses": torch.tensor([[*response, *[tokenizer.pad_token_id] * 3]]),
            "attention_mask": torch.tensor([[1] * len(prompt) + [1] * len(response) + [0] * 3]),
        },
        non_tensors={"data_source": np.array(["toy"], dtype=object),
                     "reward_model": np.array([{"ground_truth": "4"}], dtype=object),
                     "extra_info": np.array([{"index": 0}], dtype=object)},
    )
    assert data.batch["responses"].shape[1] == width
    out = await manager.run_single(data)  # the manager was made inside this event loop, as verl does
    # The decoded response is GOOD (the EOS token is special and skipped): score 1.1 as in the first case.
    assert_close(out["reward_score"], 1.1, what="verl's reward_score",
                 why="verl takes result['score'] as the reward")
    for key in ("correct", "format", "length"):
        assert key in out["reward_extra_info"], f"verl did not log {key!r}: return every component in the dict"
