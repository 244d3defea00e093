"""Graded tests for exercises/02/reward_managers.py (goldens from verl 0.9.1's reward-loop
DAPORewardManager and legacy BatchRewardManager: verlings/goldens/ch02_reward_managers.py)."""

import pytest
import torch

from verlings import learner_module
from verlings.testing import assert_close, assert_equal, golden, hint_line, tensors

managers = learner_module("02", "reward_managers")

RAMP_WHY = ("overlong term = min(-(L - (max_resp_len - len)) / len * penalty_factor, 0), L in tokens, "
            "added to the score, not clipped from below")


def _cfg(row) -> dict | None:
    max_len, buf, factor, enable, log = (float(x) for x in row)
    return {"enable": bool(enable), "len": int(buf), "penalty_factor": factor, "log": bool(log)}, int(max_len)


def _dapo_cases():
    g = golden("02", "dapo_manager")
    for i in range(len(g["length"])):
        c = int(g["cfg"][i])
        if g["configs_present"][c]:
            cfg, max_len = _cfg(g["configs"][c])
        else:
            cfg, max_len = None, None
        score = float(g["score"][i])
        result = {"score": score, "acc": score > 0} if g["is_dict"][i] else score
        yield g, i, cfg, max_len, result


@pytest.mark.exercise("02.dapo_manager")
def test_dapo_reward_matches_verl():
    for g, i, cfg, max_len, result in _dapo_cases():
        reward, _ = managers.dapo_reward(result=result, valid_response_length=int(g["length"][i]),
                                         max_resp_len=max_len, overlong_buffer_cfg=cfg)
        assert_close(float(reward), float(g["reward"][i]), rtol=1e-5, atol=1e-5, why=RAMP_WHY,
                     what=f"dapo_reward({result!r}, L={int(g['length'][i])}, max_resp_len={max_len}, {cfg})")


@pytest.mark.exercise("02.dapo_manager")
def test_dapo_reward_extra_info_matches_verl():
    for g, i, cfg, max_len, result in _dapo_cases():
        _, extra = managers.dapo_reward(result=result, valid_response_length=int(g["length"][i]),
                                        max_resp_len=max_len, overlong_buffer_cfg=cfg)
        where = f"dapo_reward({result!r}, L={int(g['length'][i])}, max_resp_len={max_len}, {cfg})"
        expected_keys = (["score", "acc"] if isinstance(result, dict) else ["acc"])
        expected_keys += ["overlong_reward", "overlong"] if g["has_overlong"][i] else []
        assert_equal(sorted(extra), sorted(expected_keys), what=f"{where}: the keys of reward_extra_info",
                     why="a dict result: all its keys; a number: {'acc': score}; "
                         "with log on: overlong_reward, overlong")
        assert_close(float(extra["acc"]), float(g["acc"][i]), what=f"{where}: extra['acc']",
                     why="a number result is also logged as 'acc'; a dict keeps its own 'acc'")
        if g["has_overlong"][i]:
            assert_close(float(extra["overlong_reward"]), float(g["overlong_reward"][i]), rtol=1e-5, atol=1e-5,
                         what=f"{where}: extra['overlong_reward']", why=RAMP_WHY)
            assert_equal(bool(extra["overlong"]), bool(g["overlong"][i]), what=f"{where}: extra['overlong']",
                         why="overlong is True exactly when the overlong term is negative")


@pytest.mark.exercise("02.dapo_manager")
def test_dapo_reward_hand_worked():
    cfg = {"enable": True, "len": 4, "penalty_factor": 1.0, "log": False}
    # max 16, buffer 4: free up to 12 tokens; 14 → -(14 - 12) / 4 = -0.5; 16 → -1; 20 → -2 (no clip)
    for length, expected in ((0, 2.0), (12, 2.0), (13, 1.75), (14, 1.5), (16, 1.0), (20, 0.0)):
        reward, extra = managers.dapo_reward(result=2.0, valid_response_length=length, max_resp_len=16,
                                             overlong_buffer_cfg=cfg)
        assert_close(float(reward), expected, what=f"dapo_reward(2.0, L={length}, max 16, buffer 4)", why=RAMP_WHY)
        assert_equal(sorted(extra), ["acc"], what="reward_extra_info with log off",
                     why="log=False: no overlong keys, only the number's 'acc'")
    # disabled, or no config at all: the score, whatever the length
    for off in ({"enable": False, "len": 4, "penalty_factor": 1.0, "log": True}, None):
        reward, extra = managers.dapo_reward(result=2.0, valid_response_length=30, max_resp_len=16,
                                             overlong_buffer_cfg=off)
        assert_close(float(reward), 2.0, what=f"dapo_reward(2.0, L=30) with overlong_buffer_cfg={off}",
                     why="no shaping unless overlong_buffer_cfg.enable is true")
        assert_equal(sorted(extra), ["acc"], what=f"reward_extra_info with overlong_buffer_cfg={off}",
                     why="a disabled buffer logs nothing about length")


@pytest.mark.exercise("02.dapo_manager")
def test_dapo_reward_buffer_of_one_token():
    # verl refuses only len <= 0 (dapo.py: assert overlong_buffer_cfg.len > 0): a buffer of 1 is valid.
    # max 4, buffer 1: free up to 3 tokens; 3 → 1.0; 4 → -(4 - 3) / 1 × 0.5 = -0.5 → 0.5; 5 → -1.0 → 0.0
    cfg = {"enable": True, "len": 1, "penalty_factor": 0.5, "log": False}
    for length, expected in ((3, 1.0), (4, 0.5), (5, 0.0)):
        reward, _ = managers.dapo_reward(result=1.0, valid_response_length=length, max_resp_len=4,
                                         overlong_buffer_cfg=cfg)
        assert_close(float(reward), expected, what=f"dapo_reward(1.0, L={length}, max 4, buffer 1, factor 0.5)",
                     why="verl accepts any buffer len > 0, a single token too; " + RAMP_WHY)


@pytest.mark.exercise("02.dapo_manager")
def test_dapo_reward_log_is_optional():
    # verl reads cfg.log only when the buffer is enabled; a config without "log" must not crash
    reward, extra = managers.dapo_reward(result=1.0, valid_response_length=16, max_resp_len=16,
                                         overlong_buffer_cfg={"enable": True, "len": 4, "penalty_factor": 1.0})
    assert_close(float(reward), 0.0, what="dapo_reward(1.0, L=16, max 16, buffer 4) without 'log'", why=RAMP_WHY)
    assert_equal(sorted(extra), ["acc"], what="reward_extra_info without 'log'", why="log defaults to False")


@pytest.mark.exercise("02.dapo_manager")
@pytest.mark.parametrize(("max_len", "buffer", "fragment"), [(None, 4, "max_resp_len"), (8, 16, "max_resp_len"),
                                                            (16, 0, "len")])
def test_dapo_reward_bad_config_raises(max_len, buffer, fragment):
    cfg = {"enable": True, "len": buffer, "penalty_factor": 1.0, "log": True}
    with pytest.raises(ValueError) as info:
        result = managers.dapo_reward(result=1.0, valid_response_length=3, max_resp_len=max_len,
                                      overlong_buffer_cfg=cfg)
        pytest.fail(f"dapo_reward(max_resp_len={max_len}, buffer len={buffer}) returned {result!r}; verl refuses "
                    "this config (ValueError here)\n" + hint_line())
    assert fragment in str(info.value), f"the ValueError should name {fragment!r}, got: {info.value}"
    # the same numbers with the buffer disabled are fine: verl checks only an enabled buffer
    managers.dapo_reward(result=1.0, valid_response_length=3, max_resp_len=max_len,
                         overlong_buffer_cfg={**cfg, "enable": False})


def _batch(seed_golden):
    g = tensors(seed_golden)
    bs, response_length = g["responses"].shape
    return g, {
        "responses": g["responses"],
        "attention_mask": g["attention_mask"],
        "response_mask": g["attention_mask"][:, -response_length:].clone(),
        "response_text": [f"response {i}" for i in range(bs)],
        "data_source": ["toy"] * bs,
        "reward_model": [{"style": "rule", "ground_truth": repr(float(s))} for s in g["scores"]],
        "extra_info": [{"index": i} for i in range(bs)],
    }


@pytest.mark.exercise("02.batch_manager")
def test_batch_manager_matches_verl():
    g, batch = _batch(golden("02", "batch_manager"))
    calls = []

    def scorer(*, data_sources, solution_strs, ground_truths, extra_infos, scale=1.0):
        calls.append(len(solution_strs))
        return [scale * float(t) for t in ground_truths]

    reward, extra = managers.batch_compute_reward(batch=batch, compute_score=scorer, reward_kwargs={"scale": 2.0})
    assert_equal(calls, [int(c) for c in g["calls"]], what="calls to the batch scorer (responses per call)",
                 why="the batch manager calls compute_score ONCE, with every response")
    assert_close(reward, g["reward_tensor_scaled"], what="batch_compute_reward → reward_tensor (reward_kwargs scale=2)",
                 why="each score on its last real token; reward_kwargs go to every call")
    assert_equal(dict(extra), {}, what="extra_info for number scores", why="only dict scores add extra info")


@pytest.mark.exercise("02.batch_manager")
def test_batch_manager_dict_scores_match_verl():
    g, batch = _batch(golden("02", "batch_manager"))

    def scorer(*, data_sources, solution_strs, ground_truths, extra_infos):
        return [{"score": float(t), "acc": float(t) > 0, "index": e["index"]}
                for t, e in zip(ground_truths, extra_infos)]

    reward, extra = managers.batch_compute_reward(batch=batch, compute_score=scorer)
    assert_close(reward, g["reward_tensor_dict"], what="batch_compute_reward with dict scores",
                 why="a dict score's 'score' is the reward")
    for key in ("score", "acc", "index"):
        assert key in extra, f"extra_info has no {key!r}: keep every key of the dict scores (got {sorted(extra)})"
    assert_close(torch.tensor(extra["score"], dtype=torch.float64), g["extra_score"], what="extra_info['score']")
    assert_equal(list(extra["acc"]), [bool(a) for a in g["extra_acc"]], what="extra_info['acc']")
    assert_equal(list(extra["index"]), [int(i) for i in g["extra_index"]], what="extra_info['index']",
                 why="one entry per response, in batch order")


@pytest.mark.exercise("02.batch_manager")
def test_batch_manager_passes_the_lists():
    _, batch = _batch(golden("02", "batch_manager"))
    bs = len(batch["response_text"])
    batch["data_source"] = [f"source-{i % 3}" for i in range(bs)]
    batch["reward_model"][1] = {"style": "model"}  # no ground truth: None goes to the scorer
    batch["reward_scores"] = [{"tool": float(i)} for i in range(bs)]
    seen = {}

    def scorer(**kwargs):
        seen.update(kwargs)
        return [0.0] * bs

    managers.batch_compute_reward(batch=batch, compute_score=scorer)
    assert_equal(sorted(seen), ["data_sources", "extra_infos", "ground_truths", "solution_strs"],
                 what="the keywords of the batch scorer call",
                 why="plural names: data_sources, solution_strs, ground_truths, extra_infos (and reward_kwargs)")
    assert_equal(list(seen["data_sources"]), batch["data_source"], what="data_sources")
    assert_equal(list(seen["solution_strs"]), batch["response_text"], what="solution_strs")
    truths = [rm.get("ground_truth") for rm in batch["reward_model"]]
    assert_equal(list(seen["ground_truths"]), truths, what="ground_truths",
                 why="reward_model[i].get('ground_truth'): None when a row has none")
    expected = [{"index": i, "rollout_reward_scores": {"tool": float(i)}} for i in range(bs)]
    assert_equal([dict(e) for e in seen["extra_infos"]], expected, what="extra_infos",
                 why="each row's extra_info plus 'rollout_reward_scores' = batch['reward_scores'][i]")


@pytest.mark.exercise("02.batch_manager")
def test_batch_manager_without_extra_info_or_rollout_scores():
    _, batch = _batch(golden("02", "batch_manager"))
    del batch["extra_info"]
    bs = len(batch["response_text"])
    seen = []

    def scorer(*, data_sources, solution_strs, ground_truths, extra_infos):
        seen.extend(dict(e) for e in extra_infos)
        return [1.0] * bs

    managers.batch_compute_reward(batch=batch, compute_score=scorer)
    assert_equal(seen, [{"rollout_reward_scores": {}}] * bs, what="extra_infos when the batch has no extra_info",
                 why="verl starts from {} per row and adds rollout_reward_scores ({} without reward_scores)")


@pytest.mark.exercise("02.batch_manager")
@pytest.mark.parametrize("delta", [-1, 1])
def test_batch_manager_wrong_number_of_scores_raises(delta):
    _, batch = _batch(golden("02", "batch_manager"))
    bs = len(batch["response_text"])

    def scorer(*, data_sources, solution_strs, ground_truths, extra_infos):
        return [1.0] * (bs + delta)

    with pytest.raises(ValueError) as info:
        managers.batch_compute_reward(batch=batch, compute_score=scorer)
        pytest.fail(f"a scorer returning {bs + delta} scores for {bs} responses was accepted: raise ValueError\n"
                    + hint_line())
    assert str(bs) in str(info.value) and str(bs + delta) in str(info.value), (
        f"the ValueError should say both counts ({bs + delta} scores, {bs} responses), got: {info.value}")
