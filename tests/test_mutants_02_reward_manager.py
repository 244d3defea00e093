"""Known-wrong variants of exercises/02/reward_manager.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

MUTANTS = [
    # Found by `python -m verlings.dev never-failing 02`: graded tests no variant made fail.
    # the MATH sources sent to the gsm8k scorer (no #### in a \\boxed{} answer: always 0)
    Mutant("math_sources_scored_as_gsm8k", "02.default_score", "reward_manager", replace={
        'if data_source == "openai/gsm8k":': 'if data_source == "openai/gsm8k" or data_source in MATH_SOURCES:'}),
    # gsm8k scored with the flexible method; verl's default_compute_score uses gsm8k's strict default
    Mutant("gsm8k_scored_flexibly", "02.default_score", "reward_manager", replace={
        "result = compute_score(solution_str, ground_truth)":
        'result = compute_score(solution_str, ground_truth, method="flexible")'}),
    # Subtle (issue 24): the scores' dtype kept — caught by the differential test on generated batches.
    Mutant("reward_dtype_of_the_scores", "02.place_scores", "reward_manager", replace={
        "scores = torch.as_tensor(scores, dtype=torch.float32)\n    reward = torch.zeros(response_mask.shape, "
        "dtype=torch.float32)": "scores = torch.as_tensor(scores)\n    reward = torch.zeros(response_mask.shape, "
        "dtype=scores.dtype)"}),
    Mutant("reward_on_the_padding", "02.place_scores", "reward_manager", """
        def place_scores(scores, response_mask):
            reward = torch.zeros(response_mask.shape, dtype=torch.float32)
            reward[:, -1] = torch.as_tensor(scores, dtype=torch.float32)
            return reward
        """),
    Mutant("reward_on_the_first_token", "02.place_scores", "reward_manager", """
        def place_scores(scores, response_mask):
            reward = torch.zeros(response_mask.shape, dtype=torch.float32)
            reward[:, 0] = torch.as_tensor(scores, dtype=torch.float32)
            return reward
        """),
    Mutant("reward_one_past_the_end", "02.place_scores", "reward_manager", """
        def place_scores(scores, response_mask):
            reward = torch.zeros(response_mask.shape, dtype=torch.float32)
            last = response_mask.long().sum(-1).clamp(max=response_mask.size(1) - 1)
            reward[torch.arange(reward.size(0)), last] = torch.as_tensor(scores, dtype=torch.float32)
            return reward
        """),
    Mutant("empty_response_loses_its_score", "02.place_scores", "reward_manager", """
        _reference_place = place_scores

        def place_scores(scores, response_mask):
            reward = _reference_place(scores, response_mask)
            reward[response_mask.long().sum(-1) == 0] = 0.0
            return reward
        """),
    Mutant("bool_mask_summed_as_bool", "02.place_scores", "reward_manager", """
        def place_scores(scores, response_mask):
            reward = torch.zeros(response_mask.shape, dtype=torch.float32)
            last = response_mask.sum(-1) - 1 if response_mask.dtype != torch.bool else response_mask.any(-1).long() - 1
            reward[torch.arange(reward.size(0)), last] = torch.as_tensor(scores, dtype=torch.float32)
            return reward
        """),
    Mutant("response_mask_from_the_left", "02.compute_reward", "reward_manager", """
        _reference_compute_reward = compute_reward

        def compute_reward(batch, compute_score):
            batch = dict(batch)
            length = batch["responses"].size(1)
            batch["attention_mask"] = batch["attention_mask"][:, :length]
            batch.pop("response_mask", None)
            return _reference_compute_reward(batch, compute_score)
        """),
    Mutant("scorer_called_positionally", "02.compute_reward", "reward_manager", """
        def compute_reward(batch, compute_score):
            n = batch["responses"].size(0)
            extra = batch.get("extra_info")
            scores = [compute_score(batch["data_source"][i], batch["response_text"][i],
                                    batch["reward_model"][i]["ground_truth"], None if extra is None else extra[i])
                      for i in range(n)]
            return place_scores(scores, batch["attention_mask"][:, -batch["responses"].size(1):]), {}
        """),
    Mutant("dict_scores_extra_dropped", "02.compute_reward", "reward_manager", """
        _reference_compute_reward = compute_reward

        def compute_reward(batch, compute_score):
            reward, _ = _reference_compute_reward(batch, compute_score)
            return reward, {}
        """),
    Mutant("extra_info_missing_crashes", "02.compute_reward", "reward_manager", """
        _reference_compute_reward = compute_reward

        def compute_reward(batch, compute_score):
            batch = dict(batch)
            batch.setdefault("extra_info", [{} for _ in range(batch["responses"].size(0))])
            return _reference_compute_reward(batch, compute_score)
        """),
    Mutant("unknown_source_scores_zero", "02.default_score", "reward_manager", """
        _reference_default = default_compute_score

        def default_compute_score(data_source, solution_str, ground_truth, extra_info=None):
            try:
                return _reference_default(data_source, solution_str, ground_truth, extra_info)
            except NotImplementedError:
                return 0.0
        """),
    Mutant("unknown_source_vague_error", "02.default_score", "reward_manager", """
        _reference_default = default_compute_score

        def default_compute_score(data_source, solution_str, ground_truth, extra_info=None):
            try:
                return _reference_default(data_source, solution_str, ground_truth, extra_info)
            except NotImplementedError:
                raise NotImplementedError("no reward function") from None
        """),
    Mutant("result_not_converted_to_float", "02.default_score", "reward_manager", """
        _reference_default = default_compute_score

        def default_compute_score(data_source, solution_str, ground_truth, extra_info=None):
            if data_source == "openai/gsm8k":
                from .gsm8k_reward import compute_score

                return compute_score(solution_str, ground_truth)
            return _reference_default(data_source, solution_str, ground_truth, extra_info)
        """),
    Mutant("gsm8k_matched_loosely", "02.default_score", "reward_manager", """
        _reference_default = default_compute_score

        def default_compute_score(data_source, solution_str, ground_truth, extra_info=None):
            if "gsm8k" in data_source.lower():
                data_source = "openai/gsm8k"
            return _reference_default(data_source, solution_str, ground_truth, extra_info)
        """),
]


@pytest.mark.timeout(300)  # runs an exercise's graded tests in-process; some import verl
@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
