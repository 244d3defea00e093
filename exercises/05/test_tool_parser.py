"""Graded tests for exercises/05/tool_parser.py (goldens from verl 0.9.1: verlings/goldens/ch05_agent.py)."""

import json
import random

import numpy as np
import pytest

from verlings import learner_module
from verlings.testing import assert_equal, golden, hint_line, snapshot_path

tool_parser = learner_module("05", "tool_parser")
EX = "05.parse_hermes"


def _cases() -> list[str]:
    path = snapshot_path("05", "hermes_parser")
    if not path.is_file():
        return ["golden-missing"]
    with np.load(path, allow_pickle=False) as data:
        return [str(n) for n in data["names"]]


def _why(text: str, expected: tuple, seen: tuple) -> str:
    (e_content, e_calls), (s_content, s_calls) = expected, seen
    if not isinstance(s_content, str) or not isinstance(s_calls, list):
        return "return a (str, list) pair: the content and the list of calls"
    if any(not isinstance(c, dict) or set(c) != {"name", "arguments"} for c in s_calls):
        return 'each call is a dict with exactly the keys "name" and "arguments"'
    if any(not isinstance(c["arguments"], str) for c in s_calls):
        return "verl gives the arguments as a JSON string: json.dumps(arguments, ensure_ascii=False), not a dict"
    if len(s_calls) > len(e_calls):
        return ("verl skips a block that is not a JSON object with a string 'name' and an 'arguments' key "
                "(broken JSON, a list, a missing key, a non-string name)")
    if len(s_calls) < len(e_calls):
        return ("a call is missing: blocks are non-greedy and span newlines (re.DOTALL, '.*?'); "
                "a broken block must not stop the others")
    if s_calls != e_calls:
        return ("same number of calls, different values: arguments are re-serialised "
                "(json.dumps(value, ensure_ascii=False): 1.50 → 1.5, \\u5317 → 北)")
    if "<tool_call>" in s_content and "<tool_call>" not in e_content:
        return "remove every matched <tool_call>...</tool_call> block from the content, markers included"
    return "the content is the text minus the matched blocks — nothing else is stripped or added"


@pytest.mark.exercise(EX)
@pytest.mark.parametrize("case", _cases())
def test_parse_hermes_matches_verl(case):
    g = golden("05", "hermes_parser")
    i = [str(n) for n in g["names"]].index(case)
    text = str(g["texts"][i])
    expected = (str(g["contents"][i]), json.loads(str(g["calls_json"][i])))
    seen = tool_parser.parse_hermes(text)
    if tuple(seen) != expected:
        assert_equal(
            tuple(seen) if isinstance(seen, tuple | list) else seen, expected,
            what=f"parse_hermes({text!r})", why=_why(text, expected, tuple(seen)),
        )


@pytest.mark.exercise(EX)
def test_parse_hermes_hand_worked():
    # Worked by hand from verl's HermesToolParser: the block (markers included) leaves the content,
    # the arguments dict comes back as json.dumps of it.
    text = 'Sure.\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "1 + 2"}}\n</tool_call>'
    content, calls = tool_parser.parse_hermes(text)
    assert_equal(content, "Sure.\n", what="content",
                 why="the text before the call is kept as written, trailing newline included")
    assert_equal(calls, [{"name": "calculator", "arguments": '{"expression": "1 + 2"}'}], what="calls")


@pytest.mark.exercise(EX)
def test_parse_hermes_text_without_calls_is_unchanged():
    text = "No tools needed: 6 * 7 = 42.<|im_end|>"
    assert_equal(tool_parser.parse_hermes(text), (text, []), what="parse_hermes(plain text)")


@pytest.mark.exercise(EX)
def test_parse_hermes_never_raises_on_garbage():
    # Whatever the model writes, the parser answers; never a complete block left in the content.
    pieces = ["<tool_call>", "</tool_call>", '{"name": "a", "arguments": {}}', "{", "}", '"', "\n", "text ",
              '{"name": 1}', "[]", "null", "<|im_end|>", "中文", '"arguments": ', ","]
    rng = random.Random(5)
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        content, calls = tool_parser.parse_hermes(text)
        assert isinstance(content, str) and isinstance(calls, list), (
            f"parse_hermes({text!r}) returned {content!r}, {calls!r}: expected a (str, list) pair"
        )
        start = content.find("<tool_call>")
        assert start < 0 or "</tool_call>" not in content[start:], (
            f"parse_hermes({text!r}): a whole <tool_call>...</tool_call> block is still in the content {content!r}"
            f"\n" + hint_line()
        )
        for call in calls:
            assert isinstance(call["name"], str) and isinstance(call["arguments"], str), (
                f"parse_hermes({text!r}): {call!r} — name and arguments are strings"
            )
            json.loads(call["arguments"])  # always valid JSON


@pytest.mark.exercise(EX)
def test_parse_hermes_survives_deep_nesting():
    # A model can write anything, e.g. a block of 5000 "[": json.loads gives up with RecursionError
    # (not a JSONDecodeError). verl 0.9.1's HermesToolParser catches every Exception there, skips that
    # call and still removes the block from the content. Worked by hand: content "after", no calls.
    text = "<tool_call>" + "[" * 5000 + "</tool_call>after"
    shown = "parse_hermes('<tool_call>' + '[' * 5000 + '</tool_call>after')"
    try:
        seen = tool_parser.parse_hermes(text)
    except RecursionError:
        raise AssertionError(
            f"called {shown} → RecursionError; verl → ('after', [])\n"
            "  json.loads raises RecursionError on deep nesting: skip that block like any other bad call — "
            f"the rollout must never crash on what the model wrote\n" + hint_line()
        ) from None
    assert_equal(tuple(seen) if isinstance(seen, tuple | list) else seen, ("after", []), what=f"called {shown}",
                 why="the bad block is skipped and still removed from the content")


@pytest.mark.exercise(EX)
def test_parse_hermes_a_rejected_call_does_not_stop_the_next():
    # Worked from verl's loop: the first block's name is not a string (FunctionCall rejects it, verl logs
    # and goes on), the second block is a valid call; both blocks leave the content.
    text = ('<tool_call>{"name": 1, "arguments": {}}</tool_call>then'
            '<tool_call>{"name": "calc", "arguments": {"x": 1}}</tool_call>')
    seen = tool_parser.parse_hermes(text)
    assert_equal(tuple(seen) if isinstance(seen, tuple | list) else seen,
                 ("then", [{"name": "calc", "arguments": '{"x": 1}'}]), what=f"parse_hermes({text!r})",
                 why="a rejected call is skipped (continue), the calls after it are still parsed")
