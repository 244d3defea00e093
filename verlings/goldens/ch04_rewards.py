"""Golden values for exercises/04 (rule_rewards.py), from verl 0.9.1.

* ``boxed``: verl's ``math_dapo.last_boxed_only_string`` + ``remove_boxed`` on seeded random
  strings built from boxes, braces, fractions and text, plus hand-picked edge strings.
* ``overlong``: the overlong reward of verl's DAPO reward manager (reward loop,
  ``verl/experimental/reward_loop/reward_manager/dapo.py``) — a real ``run_single`` on a
  one-row ``DataProto`` whose scorer returns 0, so the reward *is* the penalty — for a grid
  of response lengths and buffer settings.

Regenerate with ``python -m verlings.goldens 04``.
"""

from __future__ import annotations

import asyncio
import random

import numpy as np

from verlings.goldens import snapshot

BOXED_EDGE_CASES = [
    "", "no box here", "\\boxed{}", "\\boxed{42}", "\\boxed{1} and \\boxed{2}", "\\boxed{1} and \\boxed{2",
    "\\boxed{\\frac{1}{2}}", "\\boxed{{}}", "\\boxed{a{b}c}", "\\boxed{1}}}", "\\boxed{{1}", "\\boxed",
    "\\boxed 5", "x \\boxed{\\sqrt{\\frac{3}{4}}} y", "\\boxed{\\text{(A)}}.", "\\fbox{3}", "\\boxed{3} \\fbox{4}",
    "The answer is $\\boxed{-7}$.", "\\boxed{1,000}", "\\boxed{\\boxed{2}}", "\\boxed{\\boxed{2}",
]

_FRAGMENTS = [
    "\\boxed{", "}", "{", "\\frac{1}{2}", "42", "-3", " the answer is ", "x", "\\boxed", "\\sqrt{2}",
    "\\left(", "\\right)", "$", " ", "\n", "\\boxed{7}", "\\dfrac{3}{4}", "1,200", "{}", "\\fbox{",
]


def boxed_inputs(n: int = 400, seed: int = 4) -> list[str]:
    rng = random.Random(f"ch04-boxed-{seed}")
    texts = ["".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(1, 12))) for _ in range(n)]
    return texts + BOXED_EDGE_CASES


@snapshot("04", "boxed")
def boxed() -> dict:
    from verl.utils.reward_score.math_dapo import last_boxed_only_string, remove_boxed

    texts = boxed_inputs()
    found, content = [], []
    for t in texts:
        box = last_boxed_only_string(t)
        found.append(box is not None)
        content.append("" if box is None else remove_boxed(box))
    return {"text": np.array(texts), "found": np.array(found), "content": np.array(content)}


# (max_response_length, overlong_buffer_len, penalty_factor)
OVERLONG_SETTINGS = [(20, 4, 1.0), (16, 16, 0.5), (64, 10, 2.0), (7, 1, 1.0)]


class _NoDecode:
    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        return ""


async def _dapo_penalty(max_len: int, buffer_len: int, factor: float, length: int) -> float:
    import torch
    from omegaconf import OmegaConf
    from verl import DataProto
    from verl.experimental.reward_loop.reward_manager.dapo import DAPORewardManager

    config = OmegaConf.create({"reward": {"reward_kwargs": {
        "max_resp_len": max_len,
        "overlong_buffer_cfg": {"enable": True, "len": buffer_len, "penalty_factor": factor, "log": True},
    }}})
    manager = DAPORewardManager(config, _NoDecode(), compute_score=lambda **kw: 0.0)
    prompt_length = 3
    attention_mask = torch.zeros(1, prompt_length + max_len, dtype=torch.int64)
    attention_mask[0, :prompt_length] = 1
    attention_mask[0, prompt_length : prompt_length + length] = 1
    data = DataProto.from_dict(
        tensors={
            "prompts": torch.ones(1, prompt_length, dtype=torch.int64),
            "responses": torch.ones(1, max_len, dtype=torch.int64),
            "attention_mask": attention_mask,
        },
        non_tensors={"data_source": np.array(["toy"], dtype=object),
                     "reward_model": np.array([{"ground_truth": "0"}], dtype=object)},
    )
    out = await manager.run_single(data)
    assert out["reward_extra_info"]["overlong_reward"] == out["reward_score"]  # the scorer gave 0
    return float(out["reward_score"])


@snapshot("04", "overlong")
def overlong() -> dict:
    rows = [(m, b, f, n) for (m, b, f) in OVERLONG_SETTINGS for n in range(0, m + 1)]

    async def all_rows() -> list[float]:
        return [await _dapo_penalty(m, b, f, n) for (m, b, f, n) in rows]

    penalties = asyncio.run(all_rows())
    table = np.array(rows, dtype=np.float64)
    return {
        "max_response_length": table[:, 0].astype(np.int64),
        "overlong_buffer_len": table[:, 1].astype(np.int64),
        "penalty_factor": table[:, 2],
        "response_length": table[:, 3].astype(np.int64),
        "penalty": np.array(penalties, dtype=np.float64),
    }
