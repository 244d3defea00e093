"""Reference solutions of exercises/02/reward_managers.py agree with verl 0.9.1, and the lesson's
claims about verl's reward-manager registries (chapter 02 §4.4) hold.

* ``dapo_reward`` against the reward-loop ``DAPORewardManager`` built from a config composed by
  Hydra with the lesson's ``+reward.reward_kwargs.*`` overrides, on random lengths and configs;
* ``batch_compute_reward`` against the legacy ``BatchRewardManager`` on random padded batches
  with the course tokenizer (verl decodes the tokens itself), dict scores and rollout scores.
"""

import numpy as np
import pytest
import torch

from verlings.fixtures.tokenizer import local_tokenizer
from verlings.paths import SOLUTIONS
from verlings.target import load_module
from verlings.verl_config import compose

ref = load_module("02", "reward_managers", root=SOLUTIONS)
from verl import DataProto  # noqa: E402 - verl is required for meta-tests
from verl.experimental.reward_loop.reward_manager import get_reward_manager_cls  # noqa: E402
from verl.trainer.ppo.reward import resolve_reward_manager_cls  # noqa: E402
from verl.workers.reward_manager.batch import BatchRewardManager  # noqa: E402

TOKENIZER = local_tokenizer()


def test_registered_names_are_the_lessons():
    import verl.workers.reward_manager  # noqa: F401 - fills the legacy registry
    from verl.experimental.reward_loop.reward_manager.registry import REWARD_MANAGER
    from verl.workers.reward_manager.registry import REWARD_MANAGER_REGISTRY

    assert sorted(REWARD_MANAGER) == ["dapo", "gdpo", "naive", "rate_limited", "remote"]
    assert sorted(REWARD_MANAGER_REGISTRY) == ["batch", "dapo", "naive", "prime", "rate_limited"]


def test_the_default_config_picks_naive_from_the_reward_loop():
    cfg = compose([])
    assert cfg.reward.reward_manager.source == "register" and cfg.reward.reward_manager.name == "naive"
    assert resolve_reward_manager_cls(cfg).__name__ == "NaiveRewardManager"
    assert resolve_reward_manager_cls(compose(["reward.reward_manager.name=dapo"])).__name__ == "DAPORewardManager"


@pytest.mark.parametrize("name", ["batch", "prime"])
def test_legacy_only_names_are_unknown_to_main_ppo(name):
    # the lesson: main_ppo's reward loop resolves names in its own registry, where these are absent
    with pytest.raises(ValueError, match=f"Unknown reward manager: {name}"):
        resolve_reward_manager_cls(compose([f"reward.reward_manager.name={name}"]))


def _dapo_config(max_len: int, buf: int, factor: float, enable: bool, log: bool):
    k = "+reward.reward_kwargs"
    return compose(["reward.reward_manager.name=dapo", f"{k}.max_resp_len={max_len}",
                    f"{k}.overlong_buffer_cfg.enable={enable}", f"{k}.overlong_buffer_cfg.len={buf}",
                    f"{k}.overlong_buffer_cfg.penalty_factor={factor}", f"{k}.overlong_buffer_cfg.log={log}"])


class _Decode:
    def decode(self, ids, skip_special_tokens=True) -> str:
        return TOKENIZER.decode(ids, skip_special_tokens=skip_special_tokens)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dapo_reward_agrees_with_verl(seed):
    rng = np.random.default_rng(seed)
    columns = 24
    for _ in range(4):
        max_len = int(rng.integers(4, 30))
        buf = int(rng.integers(1, max_len + 1))
        factor = float(rng.choice([0.5, 1.0, 2.0]))
        enable, log = bool(rng.integers(0, 2)), bool(rng.integers(0, 2))
        config = _dapo_config(max_len, buf, factor, enable, log)
        as_dict = bool(rng.integers(0, 2))

        def scorer(data_source, solution_str, ground_truth, extra_info=None, _d=as_dict):
            s = float(ground_truth)
            return {"score": s, "acc": s > 0, "n": len(solution_str)} if _d else s

        manager = get_reward_manager_cls("dapo")(config, _Decode(), scorer)
        cfg = {"enable": enable, "len": buf, "penalty_factor": factor, "log": log}
        for length in rng.integers(0, columns + 1, size=6):
            score = round(float(rng.normal()), 3)
            ids = torch.from_numpy(rng.integers(3, 200, size=columns))
            mask = torch.cat([torch.ones(2), (torch.arange(columns) < int(length)).float()]).long()[None]
            data = DataProto.from_dict(
                tensors={"prompts": torch.ones(1, 2, dtype=torch.long), "responses": ids[None], "attention_mask": mask},
                non_tensors={"data_source": np.array(["toy"], dtype=object),
                             "reward_model": np.array([{"ground_truth": repr(score)}], dtype=object),
                             "extra_info": np.array([{}], dtype=object)},
            )
            out = manager.loop.run_until_complete(manager.run_single(data))
            text = TOKENIZER.decode(ids[: int(length)], skip_special_tokens=True)
            reward, extra = ref.dapo_reward(scorer("toy", text, repr(score)), int(length), max_len, cfg)
            assert float(reward) == pytest.approx(float(out["reward_score"]), abs=1e-5)
            theirs = {k: (float(v) if hasattr(v, "item") else v) for k, v in out["reward_extra_info"].items()}
            assert set(extra) == set(theirs)
            for key, value in extra.items():
                assert float(value) == pytest.approx(float(theirs[key]), abs=1e-5), key


@pytest.mark.parametrize(("max_len", "buf"), [(8, 16), (16, 0)])
def test_dapo_bad_config_refused_by_both(max_len, buf):
    with pytest.raises(AssertionError):
        get_reward_manager_cls("dapo")(_dapo_config(max_len, buf, 1.0, True, True), _Decode(), lambda **kw: 0.0)
    with pytest.raises(ValueError):
        ref.dapo_reward(1.0, 3, max_len, {"enable": True, "len": buf, "penalty_factor": 1.0, "log": True})
    # disabled: both accept it
    get_reward_manager_cls("dapo")(_dapo_config(max_len, buf, 1.0, False, True), _Decode(), lambda **kw: 0.0)
    ref.dapo_reward(1.0, 3, max_len, {"enable": False, "len": buf, "penalty_factor": 1.0, "log": True})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batch_compute_reward_agrees_with_verl(seed):
    g = torch.Generator().manual_seed(seed)
    bs, prompt_length, response_length = 9, 4, 12
    response_lens = torch.randint(0, response_length + 1, (bs,), generator=g)
    response_mask = (torch.arange(response_length)[None, :] < response_lens[:, None]).long()
    responses = torch.randint(3, 300, (bs, response_length), generator=g) * response_mask
    prompt_mask = torch.ones(bs, prompt_length, dtype=torch.long)
    attention_mask = torch.cat([prompt_mask, response_mask], dim=1)
    truths = [repr(round(float(x), 3)) for x in torch.randn(bs, generator=g)]
    rollout = [{"tool": float(i)} for i in range(bs)]

    def scorer(data_sources, solution_strs, ground_truths, extra_infos, bonus=0.0):
        return [{"score": float(t) + bonus + e["rollout_reward_scores"]["tool"], "acc": float(t) > 0, "len": len(s)}
                for s, t, e in zip(solution_strs, ground_truths, extra_infos)]

    proto = DataProto.from_dict(
        tensors={"prompts": torch.ones(bs, prompt_length, dtype=torch.long), "responses": responses,
                 "attention_mask": attention_mask},
        non_tensors={"data_source": np.array(["toy"] * bs, dtype=object),
                     "reward_model": np.array([{"ground_truth": t} for t in truths], dtype=object),
                     "extra_info": np.array([{"index": i} for i in range(bs)], dtype=object),
                     "reward_scores": np.array(rollout, dtype=object)},
    )
    theirs = BatchRewardManager(_Decode(), num_examine=0, compute_score=scorer, bonus=0.5)(proto, return_dict=True)
    batch = {"responses": responses, "attention_mask": attention_mask, "response_mask": response_mask,
             "response_text": [TOKENIZER.decode(responses[i, : int(response_lens[i])], skip_special_tokens=True)
                               for i in range(bs)],
             "data_source": ["toy"] * bs, "reward_model": [{"ground_truth": t} for t in truths],
             "extra_info": [{"index": i} for i in range(bs)], "reward_scores": rollout}
    reward, extra = ref.batch_compute_reward(batch, scorer, {"bonus": 0.5})
    torch.testing.assert_close(reward, theirs["reward_tensor"])
    assert {k: list(v) for k, v in extra.items()} == {k: list(v) for k, v in theirs["reward_extra_info"].items()}
