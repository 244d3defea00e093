"""Golden values for exercises/05 (agent RL), from verl 0.9.1.

* ``hermes_parser`` — verl's ``HermesToolParser.extract_tool_calls`` on a corpus of model
  turns (encoded with the course tokenizer, as verl sees them): content and calls.
* ``tool_delta`` — verl's ``QwenContinuousTokenBuilder.tokenize_context_incremental_messages``:
  the tokens a tool turn adds to a running trajectory.
* ``agent_trajectories`` — verl's own ``ToolAgentLoop`` (registered as ``tool_agent``) run
  against the scripted server of :mod:`verlings.fixtures.scripted_server` on every scenario
  of ``SCENARIOS``, with the probe tools.

The ids depend on the course tokenizer: each file stores its fingerprint, and the graded
tests say "regenerate" when the tokenizer changed (``python -m verlings.goldens 05``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import numpy as np

from verlings.goldens import snapshot

# Model turns as verl's HermesToolParser receives them (the server's ids, decoded).
HERMES_CORPUS: list[tuple[str, str]] = [
    ("plain", "The answer is 42."),
    ("plain_eos", "The answer is 42.<|im_end|>"),
    (
        "one_call",
        'Let me compute.\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "48/2"}}\n</tool_call>',
    ),
    (
        "one_call_eos",
        '<tool_call>\n{"name": "calc_gsm8k_reward", "arguments": {"answer": "72"}}\n</tool_call><|im_end|>',
    ),
    (
        "two_calls",
        '<tool_call>\n{"name": "a", "arguments": {"x": 1}}\n</tool_call>\n'
        '<tool_call>\n{"name": "b", "arguments": {"y": [1, 2]}}\n</tool_call>',
    ),
    (
        "text_between_calls",
        'First <tool_call>{"name": "a", "arguments": {}}</tool_call> then '
        '<tool_call>{"name": "b", "arguments": {}}</tool_call> done.',
    ),
    ("no_space_json", '<tool_call>{"name":"calculator","arguments":{"expression":"2+3"}}</tool_call>'),
    ("malformed_missing_brace", '<tool_call>\n{"name": "echo", "arguments": {"text": "hi"}\n</tool_call>'),
    ("malformed_empty_args", '<tool_call>\n{"name": "echo", "arguments": }\n</tool_call>'),
    (
        "malformed_then_valid",
        '<tool_call>{"name": "a", "arguments": {</tool_call>\n'
        '<tool_call>{"name": "b", "arguments": {"k": "v"}}</tool_call>',
    ),
    ("single_quotes", "<tool_call>{'name': 'a', 'arguments': {}}</tool_call>"),
    ("trailing_garbage", '<tool_call>{"name": "a", "arguments": {}} and more</tool_call>'),
    ("empty_call", "<tool_call></tool_call>"),
    ("missing_arguments", '<tool_call>{"name": "a"}</tool_call>'),
    ("missing_name", '<tool_call>{"arguments": {"x": 1}}</tool_call>'),
    ("name_not_string", '<tool_call>{"name": 123, "arguments": {}}</tool_call>'),
    ("name_null", '<tool_call>{"name": null, "arguments": {}}</tool_call>'),
    ("json_list", '<tool_call>[{"name": "a", "arguments": {}}]</tool_call>'),
    ("json_string", '<tool_call>"calculator"</tool_call>'),
    ("arguments_string", '<tool_call>{"name": "a", "arguments": "{\\"x\\": 1}"}</tool_call>'),
    ("arguments_null", '<tool_call>{"name": "a", "arguments": null}</tool_call>'),
    ("arguments_number", '<tool_call>{"name": "a", "arguments": 1.50}</tool_call>'),
    ("arguments_nested", '<tool_call>{"name": "a", "arguments": {"b": {"c": [1.0, 2e3, true, null]}}}</tool_call>'),
    ("arguments_unicode", '<tool_call>{"name": "weather", "arguments": {"city": "北京", "note": "☀"}}</tool_call>'),
    ("arguments_escaped_unicode", '<tool_call>{"name": "w", "arguments": {"city": "\\u5317\\u4eac"}}</tool_call>'),
    ("extra_keys", '<tool_call>{"name": "a", "arguments": {}, "id": "call_0"}</tool_call>'),
    ("duplicate_keys", '<tool_call>{"name": "a", "name": "b", "arguments": {}}</tool_call>'),
    ("nan_argument", '<tool_call>{"name": "a", "arguments": {"x": NaN}}</tool_call>'),
    ("only_open", 'I will call <tool_call>{"name": "a", "arguments": {}}'),
    ("only_close", '{"name": "a", "arguments": {}}</tool_call>'),
    ("reversed_markers", '</tool_call> {"name": "a", "arguments": {}} <tool_call>'),
    (
        "unclosed_then_closed",
        '<tool_call>{"name": "a", "arguments": {}}\n<tool_call>{"name": "b", "arguments": {}}</tool_call>',
    ),
    ("multiline_json", '<tool_call>\n{\n  "name": "a",\n  "arguments": {\n    "x": 1\n  }\n}\n</tool_call>\n'),
    ("calls_with_eos_inside", '<tool_call>{"name": "a", "arguments": {}}<|im_end|></tool_call>'),
    ("content_after_call", '<tool_call>{"name": "a", "arguments": {}}</tool_call>\nWaiting for the result.'),
    ("chinese_content", '我来算一下。\n<tool_call>\n{"name": "calc", "arguments": {"expression": "3*7"}}</tool_call>'),
    ("tool_response_markup", "<tool_response>\n21\n</tool_response> is what the tool said."),
]


def tokenizer_fingerprint(tokenizer: Any) -> str:
    """Changes whenever the vocabulary, the merges' result or the chat template change."""
    h = hashlib.sha1()
    h.update(json.dumps(sorted(tokenizer.get_vocab().items())).encode())
    h.update(str(tokenizer.chat_template).encode())
    h.update(repr(tokenizer.encode("The answer is 42.\n<tool_call>{}</tool_call>", add_special_tokens=False)).encode())
    return h.hexdigest()[:16]


@snapshot("05", "hermes_parser")
def hermes_parser() -> dict:
    from verl.experimental.agent_loop.tool_parser import HermesToolParser

    from verlings.fixtures.tokenizer import local_tokenizer

    tok = local_tokenizer()
    parser = HermesToolParser(tok)
    names, texts, contents, calls_json = [], [], [], []
    for name, text in HERMES_CORPUS:
        ids = tok.encode(text, add_special_tokens=False)
        assert tok.decode(ids) == text, f"{name}: the course tokenizer does not round-trip this text"
        content, calls = asyncio.run(parser.extract_tool_calls(ids))
        names.append(name)
        texts.append(text)
        contents.append(content)
        calls_json.append(json.dumps([{"name": c.name, "arguments": c.arguments} for c in calls], ensure_ascii=False))
    return {"names": np.array(names), "texts": np.array(texts), "contents": np.array(contents),
            "calls_json": np.array(calls_json)}


# Tool turns appended to a trajectory: (label, tool messages, render with the tool schemas?).
DELTA_CASES: list[tuple[str, list[dict], bool]] = [
    ("one", [{"role": "tool", "content": "42"}], False),
    ("one_with_tools", [{"role": "tool", "content": "42"}], True),
    ("two", [{"role": "tool", "content": "first"}, {"role": "tool", "content": "second"}], False),
    ("three_with_tools", [{"role": "tool", "content": c} for c in ("24", "72", "Error: division by zero")], True),
    ("empty", [{"role": "tool", "content": ""}], False),
    ("multiline", [{"role": "tool", "content": "line 1\nline 2\n"}], False),
    ("unicode", [{"role": "tool", "content": "北京 晴 25°C"}], False),
    ("json", [{"role": "tool", "content": '{"temperature": 26.1, "unit": "celsius"}'}], True),
]

DELTA_TOOL_SCHEMAS = [
    {
        "type": "function",
        "function": {
            "name": "calculator",
            "description": "Evaluate an arithmetic expression",
            "parameters": {
                "type": "object",
                "properties": {"expression": {"type": "string"}},
                "required": ["expression"],
            },
        },
    }
]


@snapshot("05", "tool_delta")
def tool_delta() -> dict:
    from verl.utils.tokenizer.continuous_token import QwenContinuousTokenBuilder

    from verlings.fixtures.tokenizer import local_tokenizer

    tok = local_tokenizer()
    builder = QwenContinuousTokenBuilder(tok)
    previous = [
        {"role": "user", "content": "What is 48/2 + 48?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"type": "function", "function": {"name": "calculator", "arguments": {"expression": "48/2"}}}
            ],
        },
    ]
    labels, cases, flat, offsets = [], [], [], [0]
    for label, messages, with_tools in DELTA_CASES:
        tools = DELTA_TOOL_SCHEMAS if with_tools else None
        ids = builder.tokenize_context_incremental_messages(previous, previous + messages, tools=tools)
        labels.append(label)
        cases.append(json.dumps({"tool_messages": messages, "with_tools": with_tools}, ensure_ascii=False))
        flat += ids
        offsets.append(len(flat))
    return {
        "labels": np.array(labels),
        "cases_json": np.array(cases),
        "tool_schemas_json": np.array(json.dumps(DELTA_TOOL_SCHEMAS)),
        "ids": np.array(flat, dtype=np.int64),
        "offsets": np.array(offsets, dtype=np.int64),
        "tokenizer": np.array(tokenizer_fingerprint(tok)),
    }


async def _run_verl_tool_agent(scenario: Any, tokenizer: Any):
    import verl.experimental.agent_loop  # noqa: F401 - registers "tool_agent"

    from verlings.fixtures.agent_loops import instantiate_agent_loop, verl_tool_agent_config
    from verlings.fixtures.probe_tools import probe_tools

    server = scenario.server(tokenizer)
    config = verl_tool_agent_config(scenario.max_turns, scenario.response_length)
    loop = instantiate_agent_loop("tool_agent", server, tokenizer, probe_tools(scenario.tools), config)
    output = await loop.run(scenario.sampling_params, raw_prompt=list(scenario.messages), tools_kwargs={})
    return output, server


@snapshot("05", "agent_trajectories")
def agent_trajectories() -> dict:
    from verlings.fixtures.probe_tools import probe_tools, tool_schemas
    from verlings.fixtures.scenarios import SCENARIOS
    from verlings.fixtures.tokenizer import local_tokenizer

    tok = local_tokenizer()
    arrays: dict[str, Any] = {"scenarios": np.array(list(SCENARIOS)), "tokenizer": np.array(tokenizer_fingerprint(tok))}
    # The schemas the prompts were templated with (every scenario uses the three probe tools).
    arrays["tool_schemas_json"] = np.array(json.dumps(tool_schemas(probe_tools(("echo", "sleep", "explode")))))
    for name, sc in SCENARIOS.items():
        output, server = asyncio.run(_run_verl_tool_agent(sc, tok))
        arrays[f"{name}__prompt_ids"] = np.array(output.prompt_ids, dtype=np.int64)
        arrays[f"{name}__response_ids"] = np.array(output.response_ids, dtype=np.int64)
        arrays[f"{name}__response_mask"] = np.array(output.response_mask, dtype=np.int64)
        arrays[f"{name}__response_logprobs"] = np.array(output.response_logprobs, dtype=np.float64)
        arrays[f"{name}__num_turns"] = np.array(output.num_turns, dtype=np.int64)
        arrays[f"{name}__tool_rewards"] = np.array(output.extra_fields["tool_rewards"], dtype=np.float64)
        arrays[f"{name}__generate_calls"] = np.array(len(server.calls), dtype=np.int64)
    return arrays
