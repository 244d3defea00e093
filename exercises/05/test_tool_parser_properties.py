"""Graded differential tests for exercises/05/tool_parser.py: parse_hermes against verl 0.9.1's own
``HermesToolParser`` (its source, compiled without importing the verl package, handed the text in
place of token ids) on generated model turns — several blocks, unclosed and nested markers, broken
JSON, names that are not strings, missing keys, arguments of every JSON type, non-ASCII text, deep
nesting. Hypothesis is derandomized: the same examples on every run; a failure shows the smallest
text it found.
"""

import asyncio
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verlings import learner_module
from verlings.differential import PROPERTY_SETTINGS, assert_agrees, verl_hermes_parser

tool_parser = learner_module("05", "tool_parser")

BODIES = [
    '{"name": "echo", "arguments": {"text": "42"}}',
    '{"name": "calc", "arguments": {"expr": "1.50 * 2", "note": "中文"}}',
    '{"name": "f", "arguments": "already a string"}',
    '{"name": "f", "arguments": [1, 2.50, null]}',
    '{"name": "f", "arguments": null}',
    '{"name": "f", "arguments": NaN}',
    '{"arguments": {}, "name": "g", "extra": 1}',
    '{"name": 7, "arguments": {}}',
    '{"name": "h"}',
    '{"arguments": {}}',
    '["echo", {}]',
    '{"name": "echo", "arguments": }',
    '"just a string"',
    "",
    "[" * 3000,
]
TEXT = ["", "\n", " ", "Let me check.\n", "é 中文 ", "<tool_call>", "</tool_call>", "<tool_call", "tool_call>"]
# A turn is text and blocks in any order: most blocks closed (several per turn, so a greedy
# regex shows), some markers alone (an unclosed call, a stray end marker).
_block = st.builds(
    lambda pad, body: f"<tool_call>{pad}{body}{pad}</tool_call>", st.sampled_from(["", "\n"]), st.sampled_from(BODIES)
)
turns = st.lists(st.one_of(_block, _block, st.sampled_from(TEXT)), max_size=6).map("".join)


def _verl(text: str) -> tuple[str, list[dict[str, str]]]:
    content, calls = asyncio.run(verl_hermes_parser().extract_tool_calls(text))
    return content, [{"name": c.name, "arguments": c.arguments} for c in calls]


def _same(seen, expected) -> bool:
    # Compared as values and types: arguments must be the JSON *string* verl builds, not a dict.
    return seen == expected and [type(c.get("arguments")) for c in seen[1]] == [str] * len(seen[1])


@pytest.fixture(autouse=True)
def _quiet_parser():
    # verl logs an ERROR for every block it skips; here the broken blocks are generated on purpose.
    logger = logging.getLogger("verlings.verl_hermes_parser")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


@pytest.mark.exercise("05.parse_hermes")
@PROPERTY_SETTINGS
@given(text=turns)
def test_parse_hermes_agrees_with_verl_on_generated_turns(text):
    assert_agrees(
        "parse_hermes",
        tool_parser.parse_hermes,
        _verl,
        (text,),
        types=(tuple,),
        same=_same,
        why="verl: no call unless both markers occur; each non-greedy <tool_call>…</tool_call> block is "
        "json.loads'ed and needs a str 'name' and an 'arguments' (re-dumped with ensure_ascii=False); "
        "any failure skips that block only; the content is the text with every matched block removed",
    )
