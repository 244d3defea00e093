"""Golden values for exercises/02/reward_managers.py, from verl 0.9.1.

* ``dapo_manager``: verl's reward-loop ``DAPORewardManager.run_single`` on one-response
  ``DataProto``s over a grid of valid lengths (0 … beyond ``max_resp_len``) and overlong configs
  (enabled with and without logging, disabled, absent), for number and dict scores. Each case's
  config is composed by Hydra from verl's ``ppo_trainer`` with the ``+reward.reward_kwargs.*``
  overrides the lesson shows (§4.5).
* ``batch_manager``: verl's legacy ``BatchRewardManager`` on the padded batch of
  ``reward_placement`` (row 0 empty, last row full), the fake batch scorer returning the ground
  truths as numbers, then as dicts.
"""

from __future__ import annotations

import numpy as np

from verlings.goldens import snapshot
from verlings.goldens.ch02_rewards import _NoDecode, padded_batch

RESPONSE_COLUMNS = 20  # the rollout's response_length: longer than some max_resp_len below
# (max_resp_len, len, penalty_factor, enable, log); None: no overlong_buffer_cfg at all
CONFIGS = [(16, 4, 1.0, True, True), (16, 16, 0.5, True, True), (12, 6, 2.0, True, False),
           (16, 4, 1.0, False, True), None]


def _overrides(cfg: tuple | None) -> list[str]:
    base = ["reward.reward_manager.name=dapo"]
    if cfg is None:
        return base
    max_len, buf, factor, enable, log = cfg
    k = "+reward.reward_kwargs"
    return [*base, f"{k}.max_resp_len={max_len}", f"{k}.overlong_buffer_cfg.enable={enable}",
            f"{k}.overlong_buffer_cfg.len={buf}", f"{k}.overlong_buffer_cfg.penalty_factor={factor}",
            f"{k}.overlong_buffer_cfg.log={log}"]


@snapshot("02", "dapo_manager")
def dapo_manager() -> dict:
    import torch
    from verl import DataProto
    from verl.experimental.reward_loop.reward_manager import get_reward_manager_cls

    from verlings.verl_config import compose

    def plain(data_source, solution_str, ground_truth, extra_info=None):
        return float(ground_truth)

    def as_dict(data_source, solution_str, ground_truth, extra_info=None):
        return {"score": float(ground_truth), "acc": float(ground_truth) > 0}

    rows: dict[str, list] = {k: [] for k in ("cfg", "length", "is_dict", "score", "reward", "has_overlong",
                                             "overlong_reward", "overlong", "acc")}
    g = torch.Generator().manual_seed(11)
    for c, cfg in enumerate(CONFIGS):
        config = compose(_overrides(cfg))
        for is_dict, fn in ((False, plain), (True, as_dict)):
            manager = get_reward_manager_cls("dapo")(config, _NoDecode(), fn)
            for length in range(0, RESPONSE_COLUMNS + 1):
                score = round(float(torch.randn(1, generator=g)), 4)
                mask = torch.cat([torch.ones(3), (torch.arange(RESPONSE_COLUMNS) < length).float()]).long()[None]
                data = DataProto.from_dict(
                    tensors={"prompts": torch.ones(1, 3, dtype=torch.long),
                             "responses": torch.full((1, RESPONSE_COLUMNS), 7, dtype=torch.long),
                             "attention_mask": mask},
                    non_tensors={"data_source": np.array(["toy"], dtype=object),
                                 "reward_model": np.array([{"ground_truth": repr(score)}], dtype=object),
                                 "extra_info": np.array([{}], dtype=object)},
                )
                out = manager.loop.run_until_complete(manager.run_single(data))
                info = out["reward_extra_info"]
                rows["cfg"].append(c)
                rows["length"].append(length)
                rows["is_dict"].append(is_dict)
                rows["score"].append(score)
                rows["reward"].append(float(out["reward_score"]))
                rows["has_overlong"].append("overlong_reward" in info)
                rows["overlong_reward"].append(float(info.get("overlong_reward", 0.0)))
                rows["overlong"].append(bool(info.get("overlong", False)))
                rows["acc"].append(float(info["acc"]))
    table = np.array([c if c is not None else (0, 0, 0.0, False, False) for c in CONFIGS], dtype=np.float64)
    return {
        "configs": table,  # max_resp_len, len, penalty_factor, enable, log (a row of zeros: no cfg)
        "configs_present": np.array([c is not None for c in CONFIGS]),
        **{k: np.array(v, dtype=np.float64 if k in ("score", "reward", "overlong_reward", "acc") else None)
           for k, v in rows.items()},
    }


@snapshot("02", "batch_manager")
def batch_manager() -> dict:
    from verl import DataProto
    from verl.workers.reward_manager.batch import BatchRewardManager

    prompts, responses, attention_mask, scores = padded_batch(seed=7)
    bs = responses.size(0)
    truths = [repr(float(s)) for s in scores]

    def data() -> DataProto:
        return DataProto.from_dict(
            tensors={"prompts": prompts, "responses": responses, "attention_mask": attention_mask},
            non_tensors={
                "data_source": np.array(["toy"] * bs, dtype=object),
                "reward_model": np.array([{"ground_truth": t} for t in truths], dtype=object),
                "extra_info": np.array([{"index": i} for i in range(bs)], dtype=object),
            },
        )

    calls: list[int] = []

    def plain(data_sources, solution_strs, ground_truths, extra_infos, scale=1.0):
        calls.append(len(solution_strs))
        return [scale * float(t) for t in ground_truths]

    def as_dict(data_sources, solution_strs, ground_truths, extra_infos):
        return [{"score": float(t), "acc": float(t) > 0, "index": e["index"]}
                for t, e in zip(ground_truths, extra_infos)]

    reward = BatchRewardManager(_NoDecode(), num_examine=0, compute_score=plain, scale=2.0)(data())
    result = BatchRewardManager(_NoDecode(), num_examine=0, compute_score=as_dict)(data(), return_dict=True)
    info = result["reward_extra_info"]
    return {
        "prompts": prompts, "responses": responses, "attention_mask": attention_mask, "scores": scores,
        "reward_tensor_scaled": reward, "calls": np.array(calls), "reward_tensor_dict": result["reward_tensor"],
        "extra_score": np.array(info["score"], dtype=np.float64), "extra_acc": np.array(info["acc"]),
        "extra_index": np.array(info["index"]),
    }
