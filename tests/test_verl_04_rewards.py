"""Reference solutions of chapter 04 agree with live verl 0.9.1 (and math-verify) on seeded inputs."""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from verl import DataProto
from verl.utils.reward_score.math_dapo import last_boxed_only_string, remove_boxed

from verlings.goldens.ch04_rewards import _FRAGMENTS, BOXED_EDGE_CASES
from verlings.paths import SOLUTIONS
from verlings.target import load_module

rules = load_module("04", "rule_rewards", root=SOLUTIONS)
custom = load_module("04", "custom_reward", root=SOLUTIONS)
model_reward = load_module("04", "model_reward", root=SOLUTIONS)


def _verl_last_boxed(text: str) -> str | None:
    box = last_boxed_only_string(text)
    return None if box is None else remove_boxed(box)


@pytest.mark.parametrize("seed", range(5))
def test_last_boxed_agrees_with_math_dapo(seed):
    rng = random.Random(seed)
    texts = ["".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(1, 20))) for _ in range(300)]
    for text in texts + BOXED_EDGE_CASES:
        assert rules.last_boxed(text) == _verl_last_boxed(text), repr(text)


class _NoDecode:
    eos_token = "<eos>"

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        return ""


def _batch(length: int, max_len: int) -> DataProto:
    prompt_length = 2
    attention_mask = torch.zeros(1, prompt_length + max_len, dtype=torch.int64)
    attention_mask[0, : prompt_length + length] = 1
    return DataProto.from_dict(
        tensors={"prompts": torch.ones(1, prompt_length, dtype=torch.int64),
                 "responses": torch.ones(1, max_len, dtype=torch.int64), "attention_mask": attention_mask},
        non_tensors={"data_source": np.array(["toy"], dtype=object),
                     "reward_model": np.array([{"ground_truth": "0"}], dtype=object)},
    )


@pytest.mark.parametrize("seed", range(3))
def test_overlong_penalty_agrees_with_the_legacy_dapo_manager(seed):
    from verl.workers.reward_manager.dapo import DAPORewardManager

    rng = random.Random(seed)
    for _ in range(20):
        max_len = rng.randint(2, 64)
        buffer_len = rng.randint(1, max_len)
        factor = rng.choice([0.5, 1.0, 2.0, 3.7])
        length = rng.randint(1, max_len)
        cfg = OmegaConf.create({"enable": True, "len": buffer_len, "penalty_factor": factor, "log": False})
        manager = DAPORewardManager(_NoDecode(), num_examine=0, compute_score=lambda **kw: 0.0,
                                    max_resp_len=max_len, overlong_buffer_cfg=cfg)
        reward = manager(_batch(length, max_len))[0, length - 1].item()
        ours = rules.overlong_penalty(length, max_len, buffer_len, factor)
        assert ours == pytest.approx(reward, rel=1e-5, abs=1e-6), (length, max_len, buffer_len, factor)


def test_overlong_penalty_beyond_max_resp_len_agrees_with_the_legacy_dapo_manager():
    """issue 24: data.max_response_length (the batch width) can exceed DAPO's max_resp_len; verl does not
    clamp at -penalty_factor. The graded differential test's transcription relies on this."""
    from verl.workers.reward_manager.dapo import DAPORewardManager

    for max_len, buffer_len, factor, length in [(16, 4, 1.0, 24), (16, 4, 1.0, 32), (10, 10, 0.5, 30), (8, 2, 2.0, 9)]:
        cfg = OmegaConf.create({"enable": True, "len": buffer_len, "penalty_factor": factor, "log": False})
        manager = DAPORewardManager(_NoDecode(), num_examine=0, compute_score=lambda **kw: 0.0,
                                    max_resp_len=max_len, overlong_buffer_cfg=cfg)
        reward = manager(_batch(length, 2 * length))[0, length - 1].item()
        assert reward < -factor
        ours = rules.overlong_penalty(length, max_len, buffer_len, factor)
        assert ours == pytest.approx(reward, rel=1e-5, abs=1e-6), (length, max_len, buffer_len, factor)


def _math_verify(pred: str, truth: str) -> bool:
    from math_verify import parse, verify

    return bool(verify(parse(f"${truth}$"), parse(f"${pred}$")))


@pytest.mark.parametrize("seed", range(3))
def test_math_equal_agrees_with_math_verify_on_numbers(seed):
    # Exact numbers written as fractions, decimals and \frac: both judges must agree on these.
    rng = random.Random(seed)
    for _ in range(40):
        q = rng.choice([1, 2, 4, 5, 8, 10, 20, 25])
        p = rng.randint(-99, 99)
        value = Fraction(p, q)
        decimal = f"{float(value):.6f}".rstrip("0").rstrip(".")
        for pred in (f"{p}/{q}", f"\\frac{{{p}}}{{{q}}}", f"\\dfrac{{{p}}}{{{q}}}", decimal):
            for truth in (decimal, f"{p + 1}/{q}"):
                assert rules.math_equal(pred, truth) == _math_verify(pred, truth), (pred, truth)


def test_custom_reward_in_verls_dapo_manager():
    """verl's DAPO manager adds its own overlong penalty on top of our dict score and logs our components."""
    import asyncio

    from verl.experimental.reward_loop.reward_manager.dapo import DAPORewardManager

    from verlings.fixtures.tokenizer import local_tokenizer

    tokenizer = local_tokenizer()
    text = "<think>2+2=4</think> \\boxed{4}"
    response = tokenizer.encode(text)
    max_len = len(response) + 2
    buffer_len = 4  # the response sits 2 tokens before the end: 2 tokens into the 4-token buffer
    config = OmegaConf.create({"reward": {"reward_kwargs": {
        "max_resp_len": max_len, "overlong_buffer_cfg": {"enable": True, "len": buffer_len, "penalty_factor": 1.0,
                                                         "log": True}}}})

    async def run() -> dict:
        manager = DAPORewardManager(config, tokenizer, compute_score=custom.compute_score)
        data = DataProto.from_dict(
            tensors={"prompts": torch.tensor([tokenizer.encode("2+2?")]),
                     "responses": torch.tensor([[*response, tokenizer.pad_token_id, tokenizer.pad_token_id]]),
                     "attention_mask": torch.tensor([[1] * len(tokenizer.encode("2+2?")) + [1] * len(response)
                                                     + [0, 0]])},
            non_tensors={"data_source": np.array(["toy"], dtype=object),
                         "reward_model": np.array([{"ground_truth": "4"}], dtype=object),
                         "extra_info": np.array([{}], dtype=object)},
        )
        return await manager.run_single(data)

    out = asyncio.run(run())
    ours = custom.compute_score("toy", text, "4")
    dapo = rules.overlong_penalty(len(response), max_len, buffer_len, 1.0)  # -(2/4) = -0.5
    assert dapo == -0.5
    assert out["reward_score"] == pytest.approx(ours["score"] + dapo)
    assert {"correct", "format", "length", "overlong_reward"} <= set(out["reward_extra_info"])


def test_model_reward_in_verls_naive_manager():
    """The async model reward through verl's reward loop manager, against the live server."""
    import asyncio

    from verl.experimental.reward_loop.reward_manager.naive import NaiveRewardManager
    from verl.trainer.ppo.reward import get_custom_reward_fn

    from verlings.fixtures.reward_server import RewardServer
    from verlings.fixtures.tokenizer import local_tokenizer

    tokenizer = local_tokenizer()
    texts = ["The answer is 4.", "I think it is 5", "<think>x</think> \\boxed{4}"]
    with RewardServer() as server:
        config = OmegaConf.create({"reward": {"custom_reward_function": {
            "path": str(SOLUTIONS / "04" / "model_reward.py"), "name": "compute_score",
            "reward_kwargs": {"url": server.url}}}})
        fn = get_custom_reward_fn(config)

        async def run() -> list[dict]:
            manager = NaiveRewardManager(config, tokenizer, compute_score=fn)
            outs = []
            for text in texts:
                response = tokenizer.encode(text)
                data = DataProto.from_dict(
                    tensors={"prompts": torch.tensor([[1, 2]]), "responses": torch.tensor([response]),
                             "attention_mask": torch.ones(1, 2 + len(response), dtype=torch.int64)},
                    non_tensors={"data_source": np.array(["toy"], dtype=object),
                                 "reward_model": np.array([{"ground_truth": ""}], dtype=object),
                                 "extra_info": np.array([{}], dtype=object)},
                )
                outs.append(await manager.run_single(data))
            return outs

        outs = asyncio.run(run())
        expected = server.expected(texts)
    assert [o["reward_score"] for o in outs] == pytest.approx(expected, rel=1e-6)
    assert all("rm_score" in o["reward_extra_info"] for o in outs)


async def test_score_texts_against_a_subprocess_server():
    """The server as its own process (python -m verlings.fixtures.reward_server), as the benchmark runs it."""
    import asyncio
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "verlings.fixtures.reward_server", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), timeout=120)
        assert line.startswith("READY "), line
        url = line.split()[1]
        from verlings.fixtures.reward_server import RewardServer

        server = RewardServer.attach(url).start()
        texts = [f"text {i}" for i in range(10)]
        assert await model_reward.score_texts(url, texts, batch_size=3) == pytest.approx(server.expected(texts))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
