"""Golden values for exercises/02 (gsm8k_reward.py, reward_manager.py), from verl 0.9.1.

* ``gsm8k_scores``: verl's ``gsm8k.extract_solution`` / ``compute_score`` and
  ``default_compute_score("openai/gsm8k", ...)`` on seeded noisy completions
  (:func:`verlings.fixtures.gsm8k.noisy_completions`) plus hand-picked edge strings.
* ``reward_placement``: verl's ``NaiveRewardManager`` on a small ``DataProto`` whose
  scores are known (the fake scorer returns ``float(ground_truth)``), one response empty,
  one full length; a second call with dict scores gives ``reward_extra_info``.
"""

from __future__ import annotations

import numpy as np
import torch

from verlings.goldens import snapshot

EDGE_CASES = [
    ("", "1"), (".", "1"), (",", "1"), ("....", "1"), ("####", "1"), ("#### ", "1"), ("#### 5 #### 6", "6"),
    ("#### 5 #### 6", "5"), ("#### 1,200", "1200"), ("#### $1,200", "1200"), ("#### 1,200.", "1200"),
    ("####7", "7"), ("#### -3", "-3"), ("#### 0.5", "0.5"), ("answer: 72.", "72"), ("72 . . .", "72"),
    ("x" * 400 + "#### 9", "9"), ("#### 9" + "x" * 400, "9"),
]


def _cases(n: int, seed: int) -> tuple[list[str], list[str], list[str]]:
    from verlings.fixtures.gsm8k import noisy_completions

    rows = noisy_completions(n, seed=seed)
    texts = [r["solution_str"] for r in rows] + [t for t, _ in EDGE_CASES]
    truths = [r["ground_truth"] for r in rows] + [g for _, g in EDGE_CASES]
    kinds = [r["kind"] for r in rows] + ["edge"] * len(EDGE_CASES)
    return texts, truths, kinds


@snapshot("02", "gsm8k_scores")
def gsm8k_scores() -> dict:
    from verl.utils.reward_score import default_compute_score, gsm8k

    texts, truths, kinds = _cases(600, seed=2)
    out: dict = {"solution_str": np.array(texts), "ground_truth": np.array(truths), "kind": np.array(kinds)}
    for method in ("strict", "flexible"):
        answers = [gsm8k.extract_solution(t, method=method) for t in texts]
        out[f"{method}_found"] = np.array([a is not None for a in answers])
        out[f"{method}_answer"] = np.array(["" if a is None else a for a in answers])
        out[f"{method}_score"] = np.array([gsm8k.compute_score(t, g, method=method) for t, g in zip(texts, truths)],
                                          dtype=np.float64)
        # non-default format_score and score: the format score is paid only when an answer was extracted
        out[f"{method}_score_custom"] = np.array(
            [gsm8k.compute_score(t, g, method=method, format_score=0.1, score=2.0) for t, g in zip(texts, truths)],
            dtype=np.float64,
        )
    out["default_score"] = np.array([default_compute_score("openai/gsm8k", t, g) for t, g in zip(texts, truths)],
                                    dtype=np.float64)
    return out


class _NoDecode:
    """NaiveRewardManager decodes for printing and for solution_str; the fake scorer ignores it."""

    def decode(self, ids, skip_special_tokens=True) -> str:
        return " ".join(str(int(i)) for i in ids)


def padded_batch(seed: int, bs: int = 7, prompt_length: int = 5, response_length: int = 6):
    """Left-padded prompts, right-padded responses; row 0 empty, row bs-1 full length."""
    g = torch.Generator().manual_seed(seed)
    prompt_lens = torch.randint(1, prompt_length + 1, (bs,), generator=g)
    response_lens = torch.randint(1, response_length, (bs,), generator=g)
    response_lens[0], response_lens[-1] = 0, response_length
    prompt_mask = (torch.arange(prompt_length)[None, :] >= prompt_length - prompt_lens[:, None]).long()
    response_mask = (torch.arange(response_length)[None, :] < response_lens[:, None]).long()
    prompts = torch.randint(3, 50, (bs, prompt_length), generator=g) * prompt_mask
    responses = torch.randint(3, 50, (bs, response_length), generator=g) * response_mask
    scores = torch.randn(bs, generator=g).float()
    return prompts, responses, torch.cat([prompt_mask, response_mask], dim=1), scores


@snapshot("02", "reward_placement")
def reward_placement() -> dict:
    from verl import DataProto
    from verl.workers.reward_manager.naive import NaiveRewardManager

    prompts, responses, attention_mask, scores = padded_batch(seed=5)
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

    def plain(data_source, solution_str, ground_truth, extra_info=None):
        return float(ground_truth)

    def as_dict(data_source, solution_str, ground_truth, extra_info=None):
        s = float(ground_truth)
        return {"score": s, "acc": s > 0, "index": extra_info["index"]}

    reward = NaiveRewardManager(_NoDecode(), num_examine=0, compute_score=plain)(data())
    result = NaiveRewardManager(_NoDecode(), num_examine=0, compute_score=as_dict)(data(), return_dict=True)
    info = result["reward_extra_info"]
    return {
        "prompts": prompts, "responses": responses, "attention_mask": attention_mask, "scores": scores,
        "reward_tensor": reward, "reward_tensor_dict": result["reward_tensor"],
        "extra_score": np.array(info["score"], dtype=np.float64), "extra_acc": np.array(info["acc"]),
        "extra_index": np.array(info["index"]),
    }
