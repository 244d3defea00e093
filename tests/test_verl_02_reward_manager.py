"""Reference solutions of exercises/02/reward_manager.py agree with verl 0.9.1's NaiveRewardManager.

The whole flow: noisy completions are tokenized with the course tokenizer, right-padded into a
DataProto, and scored by verl's manager (which decodes them itself) and by the reference
``compute_reward`` (given the same decoded text).
"""

import numpy as np
import pytest
import torch

from verlings.fixtures.gsm8k import noisy_completions
from verlings.fixtures.tokenizer import local_tokenizer
from verlings.paths import SOLUTIONS
from verlings.target import load_module

ref = load_module("02", "reward_manager", root=SOLUTIONS)
from verl import DataProto  # noqa: E402 - verl is required for meta-tests
from verl.utils.reward_score import default_compute_score  # noqa: E402
from verl.workers.reward_manager.naive import NaiveRewardManager  # noqa: E402

TOKENIZER = local_tokenizer()
PROMPT_LENGTH, RESPONSE_LENGTH = 6, 96


def make_batch(seed: int, bs: int = 12):
    g = torch.Generator().manual_seed(seed)
    rows = noisy_completions(bs, seed=seed)
    rows[0]["solution_str"] = ""                                 # an empty response
    rows[1]["solution_str"] = "x" * 2000 + " #### " + rows[1]["ground_truth"]  # longer than the response budget
    rows[4]["solution_str"] = "Step by step.\n#### " + rows[4]["ground_truth"]  # surely right
    sources = ["openai/gsm8k"] * bs
    sources[2], rows[2]["solution_str"], rows[2]["ground_truth"] = "lighteval/MATH", "so \\boxed{4}", "4"
    sources[3], rows[3]["solution_str"], rows[3]["ground_truth"] = "HuggingFaceH4/MATH-500", "\\boxed{5}", "4"
    pad = TOKENIZER.pad_token_id
    responses = torch.full((bs, RESPONSE_LENGTH), pad, dtype=torch.long)
    response_mask = torch.zeros(bs, RESPONSE_LENGTH, dtype=torch.long)
    texts = []
    for i, row in enumerate(rows):
        ids = TOKENIZER.encode(row["solution_str"], add_special_tokens=False)[:RESPONSE_LENGTH - 1]
        if row["solution_str"]:
            ids = [*ids, TOKENIZER.eos_token_id]  # a finished response ends with <|im_end|>
        responses[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        response_mask[i, : len(ids)] = 1
        # what verl decodes: the valid response tokens, special tokens skipped
        texts.append(TOKENIZER.decode(ids, skip_special_tokens=True))
    prompt_lens = torch.randint(1, PROMPT_LENGTH + 1, (bs,), generator=g)
    prompt_mask = (torch.arange(PROMPT_LENGTH)[None, :] >= PROMPT_LENGTH - prompt_lens[:, None]).long()
    prompts = torch.randint(3, 500, (bs, PROMPT_LENGTH), generator=g) * prompt_mask
    attention_mask = torch.cat([prompt_mask, response_mask], dim=1)
    non_tensors = {
        "data_source": sources,
        "reward_model": [{"style": "rule", "ground_truth": r["ground_truth"]} for r in rows],
        "extra_info": [{"index": i, "split": "train"} for i in range(bs)],
    }
    proto = DataProto.from_dict(
        tensors={"prompts": prompts, "responses": responses, "attention_mask": attention_mask},
        non_tensors={k: np.array(v, dtype=object) for k, v in non_tensors.items()},
    )
    batch = {"responses": responses, "attention_mask": attention_mask, "response_mask": response_mask,
             "response_text": texts, **{k: list(v) for k, v in non_tensors.items()}}
    return proto, batch


@pytest.mark.parametrize("seed", range(4))
def test_compute_reward_agrees_with_naive_reward_manager(seed):
    proto, batch = make_batch(seed)
    expected = NaiveRewardManager(TOKENIZER, num_examine=0)(proto)
    seen, extra = ref.compute_reward(batch, ref.default_compute_score)
    torch.testing.assert_close(seen, expected, rtol=0, atol=0)
    assert extra == {}
    assert (expected != 0).sum() >= 2, "the batch should hold right answers (rows 2 and 4 at least)"


@pytest.mark.parametrize("seed", range(2))
def test_dict_scores_agree(seed):
    proto, batch = make_batch(seed)

    def scorer(data_source, solution_str, ground_truth, extra_info=None):
        s = default_compute_score(data_source, solution_str, ground_truth)
        return {"score": s - 0.5, "acc": s > 0, "length": len(solution_str)}

    expected = NaiveRewardManager(TOKENIZER, num_examine=0, compute_score=scorer)(proto, return_dict=True)
    seen, extra = ref.compute_reward(batch, scorer)
    torch.testing.assert_close(seen, expected["reward_tensor"], rtol=0, atol=0)
    assert extra == dict(expected["reward_extra_info"])


@pytest.mark.parametrize("seed", range(3))
def test_place_scores_agrees(seed):
    proto, batch = make_batch(seed)
    scores = torch.randn(len(batch["response_text"]), generator=torch.Generator().manual_seed(seed))
    truths = [repr(float(s)) for s in scores]
    proto.non_tensor_batch["reward_model"] = np.array([{"ground_truth": t} for t in truths], dtype=object)
    expected = NaiveRewardManager(TOKENIZER, num_examine=0, compute_score=lambda **kw: float(kw["ground_truth"]))(proto)
    torch.testing.assert_close(ref.place_scores(scores, batch["response_mask"]), expected, rtol=0, atol=0)


def test_default_compute_score_agrees():
    rows = noisy_completions(500, seed=3)
    for row in rows:
        args = (row["solution_str"], row["ground_truth"])
        seen, expected = ref.default_compute_score("openai/gsm8k", *args), default_compute_score("openai/gsm8k", *args)
        assert seen == expected and type(seen) is type(expected), (args, seen, expected)
    for source in ref.MATH_SOURCES:
        for text in ("\\boxed{4}", "\\boxed{\\frac{1}{2}}", "no box", "\\boxed{ 4 }"):
            assert ref.default_compute_score(source, text, "4") == default_compute_score(source, text, "4")
    for source in ("unknown/source", "gsm8k"):
        with pytest.raises(NotImplementedError):
            default_compute_score(source, "#### 1", "1")
        with pytest.raises(NotImplementedError, match=source):
            ref.default_compute_score(source, "#### 1", "1")


@pytest.mark.parametrize("seed", range(3))
def test_place_scores_agrees_with_the_reward_loop(seed):
    """verl 0.9.1's trainer scores through the reward loop; it places scores with assemble_rm_scores."""
    from verl.experimental.reward_loop.reward_manager.base import RewardManagerBase

    proto, batch = make_batch(seed)
    scores = torch.randn(len(batch["response_text"]), generator=torch.Generator().manual_seed(seed)).tolist()
    expected = RewardManagerBase.assemble_rm_scores(proto, scores)
    torch.testing.assert_close(ref.place_scores(scores, batch["response_mask"]), expected, rtol=0, atol=0)
