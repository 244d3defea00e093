"""benchmarks/bench_07_warm_start_copy.py measures what chapter 07 §5 reports: its loss is where verl's
SFT puts it, and its three rates count what they say (a scripted model that copies scores 1, one that
writes the wrong digits scores 0)."""

from __future__ import annotations

from pathlib import Path

import pytest

from verlings.dev.scripts import load_script

ROOT = Path(__file__).resolve().parent.parent


def _bench():
    return load_script(ROOT / "benchmarks" / "bench_07_warm_start_copy.py")


def _verl_sft_dataset(tmp_path, rows: list[dict]):
    """The course tokenizer and verl's MultiTurnSFTDataset over ``rows`` (one parquet, as the warm start writes it)."""
    import pandas as pd
    from omegaconf import OmegaConf
    from verl.utils.dataset.multiturn_sft_dataset import MultiTurnSFTDataset

    from verlings.agent_rl.warm_start import RECIPE
    from verlings.fixtures.tokenizer import local_tokenizer

    path = tmp_path / "sft.parquet"
    pd.DataFrame(rows).to_parquet(path, index=False)
    tok = local_tokenizer()
    cfg = OmegaConf.create(
        {"messages_key": "messages", "max_length": RECIPE.max_length, "pad_mode": "no_padding", "truncation": "error"}
    )
    return tok, MultiTurnSFTDataset([str(path)], tok, cfg)


@pytest.mark.timeout(300)  # importing verl's SFT dataset (datasets, pyarrow) is slow on a busy machine
def test_the_plain_torch_loss_mask_is_verls(tmp_path):
    from verlings.agent_rl import task

    bench = _bench()
    rows = task.sft_rows(4, seed=1)
    tok, ds = _verl_sft_dataset(tmp_path, rows)
    for k, row in enumerate(rows):
        item = ds[k]
        ids = bench._ids(tok, row["messages"], row["tools"])
        assert ids == item["input_ids"].tolist(), "the plain-torch rows are not verl's ids"
        assert bench._assistant_mask(tok, ids) == item["loss_mask"].tolist(), (
            f"loss mask differs from verl's MultiTurnSFTDataset on row {k}"
        )


class _Scripted:
    """A stand-in model: answers the first turn with ``call(a, b)`` and the second with ``answer(a, b)``."""

    training = False

    def __init__(self, tok, call, answer):
        self.tok, self.call, self.answer = tok, call, answer

    def eval(self):
        return self

    def train(self, mode=True):
        return self

    def generate(self, ids, **_):
        import torch

        from verlings.agent_rl import task

        text = self.tok.decode(ids[0])
        a, b = map(int, text.split("What is ", 1)[1].split("?", 1)[0].split(" * "))
        reply = self.answer(a, b) if "<tool_response>" in text else self.call(a, b)
        new = self.tok.encode(reply + "<|im_end|>", add_special_tokens=False)
        assert task.TOOL_NAME in text  # the prompt carries the tool schema, as the agent loop renders it
        return torch.cat([ids, torch.tensor([new])], dim=1)


def _call(expression: str) -> str:
    return '<tool_call>\n{"name": "calculator", "arguments": {"expression": "' + expression + '"}}\n</tool_call>'


def test_the_rates_count_copies_and_misses():
    from verlings.agent_rl import task
    from verlings.fixtures.tokenizer import local_tokenizer

    bench = _bench()
    tok = local_tokenizer()
    pairs = task.TASK.held_out()[:3]
    good = _Scripted(tok, lambda a, b: _call(f"{a} * {b}"), lambda a, b: str(a * b))
    got = bench.evaluate(good, tok, pairs)
    assert (got["call_rate"], got["expr_match"], got["answer_copy"]) == (1.0, 1.0, 1.0), got
    wrong = _Scripted(tok, lambda a, b: _call("32 * 2"), lambda a, b: "2000")
    got = bench.evaluate(wrong, tok, pairs)
    assert (got["call_rate"], got["expr_match"], got["answer_copy"]) == (1.0, 0.0, 0.0), got
    silent = _Scripted(tok, lambda a, b: str(a * b), lambda a, b: str(a * b))
    got = bench.evaluate(silent, tok, pairs)
    assert (got["call_rate"], got["expr_match"], got["answer_copy"]) == (0.0, 0.0, 1.0), got


@pytest.mark.timeout(300)
def test_the_drills_are_verl_sft_rows(tmp_path):
    """--drill-share's short rows are rows verl's MultiTurnSFTDataset reads: in one parquet with the full
    (``tools``) rows, it renders the same ids and loss mask as the plain-torch loop. Their ``tools`` must
    be an empty list there, not None: pandas stores None as NA and verl then fails in the chat template."""

    from verlings.agent_rl import task

    bench = _bench()
    full = task.sft_rows(2, seed=1)
    drills = [bench.drill_rows(347, 29, "notools"), *(bench.drill_rows(72, 16, "pieces", k) for k in (0, 1)),
              *(bench.drill_rows(94, 75, "bare", k) for k in (0, 1))]
    rows = [*full, *drills]
    tok, ds = _verl_sft_dataset(tmp_path, rows)
    for k, row in enumerate(rows):
        item = ds[k]
        ids = bench._ids(tok, row["messages"], row["tools"])
        assert ids == item["input_ids"].tolist(), f"row {k}: the plain-torch ids are not verl's"
        assert bench._assistant_mask(tok, ids) == item["loss_mask"].tolist(), f"row {k}: loss mask differs"
        assert ("<tools>" in tok.decode(ids)) == (k < len(full)), "drills carry no tool schema"
    assert all(d["tools"] == [] for d in drills)
    assert len(bench._ids(tok, drills[0]["messages"], drills[0]["tools"])) < 100


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_verl_mode_trains_with_verls_sft_trainer_and_evaluates_each_checkpoint(capsys):
    """``--verl``: the course's recipe (fp32 unless ``--bf16``) in verl's SFT trainer, one evaluation per
    saved checkpoint, the last one the result (ch07 §5.1's bf16/fp32 comparison is made this way)."""
    import json

    bench = _bench()
    args = bench.build_parser().parse_args(["--verl", "--steps", "2", "--save-every", "1", "--n", "2"])
    info, curve = bench.train_verl(args, log=lambda line: None)
    assert [p["step"] for p in curve] == [1, 2]
    assert all(0.0 <= p[k] <= 1.0 for p in curve for k in ("call_rate", "expr_match", "answer_copy"))
    recipe = info["setting"]["recipe"]
    assert recipe["steps"] == 2 and recipe["fp32"] is True and info["train_s"] > 0
    json.dumps(info)  # what --record stores
