"""Known-wrong variants of exercises/02/reward_manager.py: each must fail at least one graded test.

Each mutant is an edit of solutions/02/reward_manager.py (``replace={reference text: wrong text}``).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

PLACE, REWARD, DEFAULT = "02.place_scores", "02.compute_reward", "02.default_score"
AT_LAST = "reward[torch.arange(reward.size(0)), last] = scores"
LAST = "last = response_mask.long().sum(dim=-1) - 1"
UNKNOWN = "raise NotImplementedError(f\"Reward function is not implemented for {data_source=}\")"

MUTANTS = [
    # Found by `python -m verlings.dev never-failing 02`: graded tests no variant made fail.
    # the MATH sources sent to the gsm8k scorer (no #### in a \\boxed{} answer: always 0)
    Mutant("math_sources_scored_as_gsm8k", DEFAULT, "reward_manager", replace={
        'if data_source == "openai/gsm8k":': 'if data_source == "openai/gsm8k" or data_source in MATH_SOURCES:'}),
    # gsm8k scored with the flexible method; verl's default_compute_score uses gsm8k's strict default
    Mutant("gsm8k_scored_flexibly", DEFAULT, "reward_manager", replace={
        "result = compute_score(solution_str, ground_truth)":
        'result = compute_score(solution_str, ground_truth, method="flexible")'}),
    # Subtle (issue 24): the scores' dtype kept — caught by the differential test on generated batches.
    Mutant("reward_dtype_of_the_scores", PLACE, "reward_manager", replace={
        "scores = torch.as_tensor(scores, dtype=torch.float32)\n    reward = torch.zeros(response_mask.shape, "
        "dtype=torch.float32)": "scores = torch.as_tensor(scores)\n    reward = torch.zeros(response_mask.shape, "
        "dtype=scores.dtype)"}),
    Mutant("reward_on_the_padding", PLACE, "reward_manager", replace={AT_LAST: "reward[:, -1] = scores"}),
    Mutant("reward_on_the_first_token", PLACE, "reward_manager", replace={AT_LAST: "reward[:, 0] = scores"}),
    Mutant("reward_one_past_the_end", PLACE, "reward_manager", replace={
        LAST: "last = response_mask.long().sum(dim=-1).clamp(max=response_mask.size(1) - 1)"}),
    Mutant("empty_response_loses_its_score", PLACE, "reward_manager", replace={
        "    return reward\n": "    reward[response_mask.long().sum(-1) == 0] = 0.0\n    return reward\n"}),
    Mutant("bool_mask_summed_as_bool", PLACE, "reward_manager", replace={
        LAST: "last = response_mask.sum(-1) - 1 if response_mask.dtype != torch.bool "
        "else response_mask.any(-1).long() - 1"}),
    Mutant("response_mask_from_the_left", REWARD, "reward_manager", replace={
        "batch[\"attention_mask\"][:, -responses.size(1):]": "batch[\"attention_mask\"][:, :responses.size(1)]"}),
    Mutant("scorer_called_positionally", REWARD, "reward_manager", replace={
        "data_source=batch[": "batch[", "solution_str=batch[": "batch[", "ground_truth=batch[": "batch[",
        "extra_info=None if": "None if"}),
    Mutant("dict_scores_extra_dropped", REWARD, "reward_manager",
           replace={"response_mask), dict(extra_info)": "response_mask), {}"}),
    # a batch without extra_info hands the scorer {} where verl hands it None
    Mutant("extra_info_missing_crashes", REWARD, "reward_manager",
           replace={"extra_info=None if extra_infos is None": "extra_info={} if extra_infos is None"}),
    Mutant("unknown_source_scores_zero", DEFAULT, "reward_manager", replace={UNKNOWN: "return 0.0"}),
    Mutant("unknown_source_vague_error", DEFAULT, "reward_manager",
           replace={UNKNOWN: "raise NotImplementedError(\"no reward function\")"}),
    Mutant("result_not_converted_to_float", DEFAULT, "reward_manager", replace={
        "        result = compute_score(solution_str, ground_truth)\n":
        "        return compute_score(solution_str, ground_truth)\n"}),
    Mutant("gsm8k_matched_loosely", DEFAULT, "reward_manager",
           replace={'if data_source == "openai/gsm8k":': 'if "gsm8k" in data_source.lower():'}),
]


@pytest.mark.timeout(300)  # runs an exercise's graded tests in-process; some import verl
@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
