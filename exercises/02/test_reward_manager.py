"""Graded tests for exercises/02/reward_manager.py (goldens from verl 0.9.1's NaiveRewardManager:
verlings/goldens/ch02_rewards.py)."""

import pytest
import torch

from verlings import learner_module
from verlings.testing import assert_close, assert_equal, golden, hint_line, tensors

manager = learner_module("02", "reward_manager")

PLACEMENT_WHY = (
    "the score goes on the last real response token, index response_mask.sum() - 1 "
    "(an empty response: index -1, the last column)"
)


def _golden_batch():
    g = tensors(golden("02", "reward_placement"))
    response_length = g["responses"].size(1)
    bs = g["responses"].size(0)
    batch = {
        "responses": g["responses"],
        "attention_mask": g["attention_mask"],
        "response_mask": g["attention_mask"][:, -response_length:].clone(),
        "response_text": [f"response {i}" for i in range(bs)],
        "data_source": ["toy"] * bs,
        # the fake scorers below read the score back from the ground truth
        "reward_model": [{"style": "rule", "ground_truth": repr(float(s))} for s in g["scores"]],
        "extra_info": [{"index": i} for i in range(bs)],
    }
    return g, batch


def score_from_truth(*, data_source, solution_str, ground_truth, extra_info=None):
    """A scorer that accepts keyword arguments only, as verl calls it."""
    return float(ground_truth)


def dict_score_from_truth(*, data_source, solution_str, ground_truth, extra_info=None):
    s = float(ground_truth)
    return {"score": s, "acc": s > 0, "index": extra_info["index"]}


@pytest.mark.exercise("02.place_scores")
def test_place_scores_matches_verl():
    g, batch = _golden_batch()
    seen = manager.place_scores(scores=g["scores"], response_mask=batch["response_mask"])
    assert_close(seen, g["reward_tensor"], what="place_scores vs NaiveRewardManager",
                 why=PLACEMENT_WHY)
    assert seen.dtype == torch.float32, f"reward tensor dtype {seen.dtype}, expected torch.float32 (verl's)"


@pytest.mark.exercise("02.place_scores")
def test_place_scores_hand_worked():
    # Row 0: 2 real tokens → index 1. Row 1: full → index 2. Row 2: empty → index -1 = 2 (verl's -1).
    mask = torch.tensor([[1, 1, 0], [1, 1, 1], [0, 0, 0]])
    expected = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.5], [0.0, 0.0, 2.0]])
    seen = manager.place_scores(scores=[1.0, 0.5, 2.0], response_mask=mask)
    assert_close(seen, expected, what="place_scores([1.0, 0.5, 2.0], ...)",
                 why=PLACEMENT_WHY)
    # The same with a bool mask and a tensor of scores.
    seen = manager.place_scores(scores=torch.tensor([1.0, 0.5, 2.0]), response_mask=mask.bool())
    assert_close(seen, expected, what="place_scores with a bool mask",
                 why="a bool mask must count like a 0/1 mask (sum it as integers)")


@pytest.mark.exercise("02.place_scores")
def test_place_scores_row_sum_is_the_score():
    # Whatever the lengths, each row sums to its score: outcome estimators (GRPO) sum over the row.
    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(0, 9, (12,), generator=g)
    mask = (torch.arange(8)[None, :] < lengths[:, None]).long()
    scores = torch.randn(12, generator=g)
    seen = manager.place_scores(scores=scores, response_mask=mask)
    assert_close(seen.sum(-1), scores, what="place_scores(...).sum(-1)",
                 why="exactly one token per row carries the score; the rest are 0")
    nonzero = (seen != 0).sum(-1)
    assert_close(nonzero, torch.ones(12, dtype=nonzero.dtype), what="non-zero entries per row")


@pytest.mark.exercise("02.compute_reward")
def test_compute_reward_matches_verl():
    g, batch = _golden_batch()
    reward, extra = manager.compute_reward(batch=batch, compute_score=score_from_truth)
    assert_close(reward, g["reward_tensor"], what="compute_reward → reward_tensor",
                 why=PLACEMENT_WHY)
    assert_equal(dict(extra), {}, what="extra_info for plain number scores",
                 why="only dict scores add extra info")


@pytest.mark.exercise("02.compute_reward")
def test_compute_reward_calls_scorer_by_keyword():
    _, batch = _golden_batch()
    batch["data_source"] = [f"source-{i % 3}" for i in range(len(batch["data_source"]))]
    calls = []

    def recording(*, data_source, solution_str, ground_truth, extra_info=None):
        calls.append({"data_source": data_source, "solution_str": solution_str, "ground_truth": ground_truth,
                      "extra_info": extra_info})
        return 0.0

    manager.compute_reward(batch=batch, compute_score=recording)
    expected = [
        {"data_source": batch["data_source"][i], "solution_str": batch["response_text"][i],
         "ground_truth": batch["reward_model"][i]["ground_truth"], "extra_info": batch["extra_info"][i]}
        for i in range(len(batch["response_text"]))
    ]
    assert_equal(calls, expected, what="the calls to compute_score, in batch order",
                 why="one call per response: data_source, the decoded text, reward_model['ground_truth'], extra_info")


@pytest.mark.exercise("02.compute_reward")
def test_compute_reward_without_extra_info_passes_none():
    _, batch = _golden_batch()
    del batch["extra_info"]
    seen = []

    def recording(*, data_source, solution_str, ground_truth, extra_info=None):
        seen.append(extra_info)
        return 1.0

    manager.compute_reward(batch=batch, compute_score=recording)
    assert_equal(seen, [None] * len(batch["response_text"]), what="extra_info when the batch has none",
                 why="the key 'extra_info' is optional: pass None when it is absent")


@pytest.mark.exercise("02.compute_reward")
def test_compute_reward_dict_scores_keep_extra_info():
    g, batch = _golden_batch()
    reward, extra = manager.compute_reward(batch=batch, compute_score=dict_score_from_truth)
    assert_close(reward, g["reward_tensor_dict"], what="compute_reward with dict scores",
                 why="a dict score's 'score' entry is the reward")
    for key in ("score", "acc", "index"):
        assert key in extra, f"extra_info has no {key!r}: keep every key of the dict scores (got {sorted(extra)})"
    assert_close(torch.tensor(extra["score"], dtype=torch.float64), g["extra_score"], what="extra_info['score']")
    assert_equal(list(extra["acc"]), [bool(a) for a in g["extra_acc"]], what="extra_info['acc']",
                 why="one entry per response, in batch order")
    assert_equal(list(extra["index"]), [int(i) for i in g["extra_index"]], what="extra_info['index']")


@pytest.mark.exercise("02.default_score")
def test_default_compute_score_gsm8k_matches_verl():
    g = golden("02", "gsm8k_scores")
    for text, truth, expected in zip(g["solution_str"], g["ground_truth"], g["default_score"]):
        seen = manager.default_compute_score(data_source="openai/gsm8k", solution_str=str(text),
                                             ground_truth=str(truth))
        if seen != expected or not isinstance(seen, float):
            assert_equal(seen, float(expected),
                         what=f"default_compute_score('openai/gsm8k', {str(text)[-50:]!r}, {str(truth)!r})",
                         why="delegate to gsm8k_reward.compute_score and return a float (verl: float(res))")


@pytest.mark.exercise("02.default_score")
def test_default_compute_score_returns_float():
    # No answer at all: gsm8k's compute_score returns the int 0; verl turns it into 0.0.
    seen = manager.default_compute_score(data_source="openai/gsm8k", solution_str="no idea", ground_truth="3")
    assert isinstance(seen, float), (
        f"default_compute_score returned {seen!r} ({type(seen).__name__}); verl returns float(res) for numbers\n"
        + hint_line()
    )


@pytest.mark.exercise("02.default_score")
@pytest.mark.parametrize("source", ["my/unknown-dataset", "gsm8k", "openai/GSM8K"])
def test_default_compute_score_unknown_source_raises(source):
    with pytest.raises(NotImplementedError) as info:
        result = manager.default_compute_score(data_source=source, solution_str="#### 1", ground_truth="1")
        pytest.fail(f"default_compute_score({source!r}, ...) returned {result!r}; an unknown data_source must "
                    "raise NotImplementedError (a silent score trains on a wrong signal)\n"
                    + hint_line())
    if "implement default_compute_score" in str(info.value):
        raise info.value  # still the stub
    assert source in str(info.value), (
        f"the NotImplementedError should name the data_source {source!r}, got: {info.value}"
    )


@pytest.mark.slow
@pytest.mark.exercise("02.default_score")
def test_default_compute_score_math_sources():
    # \boxed{4} against "4" is right; \boxed{5} is wrong (verl's math_reward: last \boxed{...}, normalised).
    for source in ("lighteval/MATH", "DigitalLearningGmbH/MATH-lighteval", "HuggingFaceH4/MATH-500"):
        right = manager.default_compute_score(data_source=source, solution_str="so \\boxed{4}", ground_truth="4")
        wrong = manager.default_compute_score(data_source=source, solution_str="so \\boxed{5}", ground_truth="4")
        assert_equal((right, wrong), (1.0, 0.0),
                     what=f"default_compute_score({source!r}) on \\boxed{{4}} / \\boxed{{5}}",
                     why="MATH sources go to verl.utils.reward_score.math_reward")
