"""Known-wrong variants of exercises/02/reward_managers.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

MUTANTS = [
    # --- dapo_reward ---
    Mutant("dapo_penalty_clipped_at_minus_factor", "02.dapo_manager", "reward_managers", replace={
        "overlong = min(-exceed_len / overlong_buffer_cfg[\"len\"] * overlong_buffer_cfg[\"penalty_factor\"], 0)":
        "overlong = max(min(-exceed_len / overlong_buffer_cfg[\"len\"] * overlong_buffer_cfg[\"penalty_factor\"], 0),"
        " -overlong_buffer_cfg[\"penalty_factor\"])"}),
    Mutant("dapo_penalty_from_max_not_from_the_buffer", "02.dapo_manager", "reward_managers", replace={
        "expected_len = max_resp_len - overlong_buffer_cfg[\"len\"]": "expected_len = max_resp_len"}),
    Mutant("dapo_penalty_can_be_a_bonus", "02.dapo_manager", "reward_managers", replace={
        "overlong = min(-exceed_len / overlong_buffer_cfg[\"len\"] * overlong_buffer_cfg[\"penalty_factor\"], 0)":
        "overlong = -exceed_len / overlong_buffer_cfg[\"len\"] * overlong_buffer_cfg[\"penalty_factor\"]"}),
    Mutant("dapo_penalty_without_factor", "02.dapo_manager", "reward_managers", replace={
        "overlong = min(-exceed_len / overlong_buffer_cfg[\"len\"] * overlong_buffer_cfg[\"penalty_factor\"], 0)":
        "overlong = min(-exceed_len / overlong_buffer_cfg[\"len\"], 0)"}),
    Mutant("dapo_ignores_enable", "02.dapo_manager", "reward_managers", replace={
        "enabled = overlong_buffer_cfg is not None and bool(overlong_buffer_cfg[\"enable\"])":
        "enabled = overlong_buffer_cfg is not None"}),
    Mutant("dapo_number_not_logged_as_acc", "02.dapo_manager", "reward_managers", replace={
        "extra[\"acc\"] = score": "pass"}),
    Mutant("dapo_dict_score_key_dropped", "02.dapo_manager", "reward_managers", replace={
        "extra.update(result)": "extra.update({k: v for k, v in result.items() if k != \"score\"})"}),
    Mutant("dapo_logs_even_with_log_off", "02.dapo_manager", "reward_managers", replace={
        "if overlong_buffer_cfg.get(\"log\", False):": "if True:"}),
    Mutant("dapo_overlong_flag_inverted", "02.dapo_manager", "reward_managers", replace={
        "extra[\"overlong\"] = overlong < 0": "extra[\"overlong\"] = overlong <= 0"}),
    Mutant("dapo_no_config_check", "02.dapo_manager", "reward_managers", replace={
        "        if max_resp_len is None:\n": "        if False:\n",
        "        if max_resp_len < buffer_len:\n": "        if False:\n"}),
    Mutant("dapo_checks_a_disabled_buffer", "02.dapo_manager", "reward_managers", replace={
        "    if enabled:\n        # verl checks": "    if overlong_buffer_cfg is not None:\n        # verl checks"}),
    # --- batch_compute_reward ---
    Mutant("batch_scorer_called_per_response", "02.batch_manager", "reward_managers", """
        _reference_batch = batch_compute_reward

        def batch_compute_reward(batch, compute_score, reward_kwargs=None):
            def one_at_a_time(**kw):
                n = len(kw["solution_strs"])
                out = []
                for i in range(n):
                    single = {k: ([v[i]] if isinstance(v, list) else v) for k, v in kw.items()}
                    out += list(compute_score(**single))
                return out

            return _reference_batch(batch, one_at_a_time, reward_kwargs)
        """),
    Mutant("batch_singular_keywords", "02.batch_manager", "reward_managers", replace={
        "data_sources=batch[\"data_source\"]": "data_source=batch[\"data_source\"]"}),
    Mutant("batch_reward_kwargs_dropped", "02.batch_manager", "reward_managers", replace={
        "        **dict(reward_kwargs or {}),\n": ""}),
    Mutant("batch_no_rollout_reward_scores", "02.batch_manager", "reward_managers", replace={
        "        extras[i][\"rollout_reward_scores\"] = rollout_scores[i]\n": "        pass\n"}),
    Mutant("batch_extra_info_none_when_absent", "02.batch_manager", "reward_managers", replace={
        "extras = [{} for _ in range(bs)] if extras is None else [dict(e) for e in extras]":
        "extras = [None for _ in range(bs)] if extras is None else [dict(e) for e in extras]",
        "    for i in range(bs):\n        extras[i][": "    for i in range(bs):\n        if extras[i] is None:\n"
        "            continue\n        extras[i]["}),
    Mutant("batch_missing_ground_truth_crashes", "02.batch_manager", "reward_managers", replace={
        "[rm.get(\"ground_truth\") for rm in batch[\"reward_model\"]]":
        "[rm[\"ground_truth\"] for rm in batch[\"reward_model\"]]"}),
    Mutant("batch_count_not_checked", "02.batch_manager", "reward_managers", replace={
        "    if len(scores) != bs:\n": "    if False:\n"}),
    Mutant("batch_dict_extra_dropped", "02.batch_manager", "reward_managers", replace={
        "                extra_info[key].append(value)\n": "                pass\n"}),
    Mutant("batch_reward_on_the_padding", "02.batch_manager", "reward_managers", replace={
        "response_mask = batch[\"attention_mask\"][:, -responses.size(1):]":
        "response_mask = torch.ones_like(batch[\"attention_mask\"][:, -responses.size(1):])"}),
]


@pytest.mark.timeout(300)  # runs an exercise's graded tests in-process
@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
