"""benchmarks/probe_07_copy_context.py asks one question per context (chapter 07 §5): the loss is on the
copied answer only, the contexts hold what the lesson says they hold, and a model that copies scores 1."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from verlings.dev.scripts import load_script

ROOT = Path(__file__).resolve().parent.parent


def _probe():
    return load_script(ROOT / "benchmarks" / "probe_07_copy_context.py")


@pytest.fixture(scope="module")
def tok():
    from verlings.fixtures.tokenizer import local_tokenizer

    return local_tokenizer()


@pytest.mark.parametrize("context", ["short", "long", "vlong", "notools", "full", "drill"])
def test_the_loss_is_on_the_copied_answer_only(tok, context):
    probe = _probe()
    ids, loss_mask, attention = probe.batch(tok, context, random.Random(3), 4)
    for row, mask, att in zip(ids, loss_mask, attention):
        answer = tok.decode(row[mask.bool()])
        assert re.fullmatch(r"\d+<\|im_end\|>", answer), answer
        prompt = tok.decode(row[: int(mask.nonzero()[0])])
        assert prompt.endswith("<|im_start|>assistant\n") and answer[:-10] in prompt, prompt[-80:]
        assert int(att.sum()) == int(mask.nonzero()[-1]) + 1, "attention covers the row up to the answer's end"


def test_the_contexts_hold_what_the_lesson_says(tok):
    probe = _probe()

    def prompt(context):
        head, _, answer = probe.example(tok, context, random.Random(5))
        return tok.decode(head), answer, len(head)

    short, answer, n_short = prompt("short")
    assert re.findall(r"\d+", short) == [answer], "short: the only digits are the ones to copy"
    vlong, answer, n_vlong = prompt("vlong")
    assert re.findall(r"\d+", vlong) == [answer] and n_vlong > 200 > n_short + 150
    full, answer, n_full = prompt("full")
    assert "<tools>" in full and "calculator" in full and n_full > 200
    notools, answer, n_notools = prompt("notools")
    assert "<tools>" not in notools and n_notools < 100 and len(re.findall(r"\d+", notools)) > 1
    drill, answer, n_drill = prompt("drill")
    assert "<tool_call>" not in drill and n_drill < 60 and len(re.findall(r"\d+", drill)) == 3


def test_a_model_that_copies_scores_one_and_one_that_does_not_scores_zero(tok):
    import torch

    probe = _probe()

    class Scripted:
        def __init__(self, right: bool):
            self.right = right

        def eval(self):
            return self

        def train(self, mode: bool = True):
            return self

        def generate(self, ids, max_new_tokens, **_):
            text = tok.decode(ids[0])
            number = re.findall(r"<tool_response>\n(\d+)", text)[-1]
            if not self.right:
                number = number[::-1] + "1"
            out = tok.encode(number + "<|im_end|>", add_special_tokens=False)
            return torch.cat([ids, torch.tensor([out])], dim=1)

    assert probe.copy_rate(Scripted(True), tok, "full", n=8) == 1.0
    assert probe.copy_rate(Scripted(False), tok, "full", n=8) == 0.0
