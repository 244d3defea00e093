"""Reference parse_hermes agrees with live verl 0.9.1 HermesToolParser on a corpus and on seeded random turns."""

import asyncio
import random

import pytest

from verlings.goldens.ch05_agent import HERMES_CORPUS
from verlings.paths import SOLUTIONS
from verlings.target import load_module

ref = load_module("05", "tool_parser", root=SOLUTIONS)
from verl.experimental.agent_loop.tool_parser import HermesToolParser  # noqa: E402 - verl is required for meta-tests


@pytest.fixture(scope="module")
def tokenizer():
    from verlings.fixtures.tokenizer import local_tokenizer

    return local_tokenizer()


def _verl(parser, tokenizer, text):
    ids = tokenizer.encode(text, add_special_tokens=False)
    assert tokenizer.decode(ids) == text, "the course tokenizer must round-trip the text for the comparison"
    content, calls = asyncio.run(parser.extract_tool_calls(ids))
    return content, [{"name": c.name, "arguments": c.arguments} for c in calls]


@pytest.mark.parametrize(("name", "text"), HERMES_CORPUS, ids=[n for n, _ in HERMES_CORPUS])
def test_corpus_agrees(name, text, tokenizer):
    assert ref.parse_hermes(text) == _verl(HermesToolParser(tokenizer), tokenizer, text)


PIECES = [
    "<tool_call>", "</tool_call>", '{"name": "calc", "arguments": {"expression": "1+2"}}', '{"name": "a"}',
    '{"arguments": {}}', '{"name": 7, "arguments": {}}', "[1, 2]", '"x"', "null", "{", "}", "\n", "  ",
    "Let me think. ", "中文 ", "<|im_end|>", '{"name": "b", "arguments": "raw"}', '{"name": "c", "arguments": [1.50]}',
    '{"name": "d", "arguments": {"k": "\\u5317"}}', "<tool_response>", "NaN", '{"name": "e", "arguments": {}} tail',
]


@pytest.mark.parametrize("seed", range(8))
def test_random_turns_agree(seed, tokenizer):
    rng = random.Random(seed)
    parser = HermesToolParser(tokenizer)
    for _ in range(60):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 10)))
        assert ref.parse_hermes(text) == _verl(parser, tokenizer, text), text


def test_deep_nesting_agrees(tokenizer):
    # issue 24: verl catches every Exception from json.loads (RecursionError included) and skips the call.
    text = "<tool_call>" + "[" * 5000 + "</tool_call>after"
    assert ref.parse_hermes(text) == _verl(HermesToolParser(tokenizer), tokenizer, text) == ("after", [])
