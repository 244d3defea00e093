"""Hermes tool-call parsing (reference solution).

Mirrors verl 0.9.1 ``verl/experimental/agent_loop/tool_parser.py::HermesToolParser``,
on the decoded text instead of the ids.
"""

from __future__ import annotations

import json
import re

# Non-greedy and across newlines: "<tool_call>A</tool_call> text <tool_call>B</tool_call>" is two calls.
TOOL_CALL_RE = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)


def parse_hermes(text: str) -> tuple[str, list[dict[str, str]]]:
    if "<tool_call>" not in text or "</tool_call>" not in text:
        return text, []
    calls = []
    for body in TOOL_CALL_RE.findall(text):
        try:
            call = json.loads(body)
            name, arguments = call["name"], call["arguments"]
            # verl re-serialises the arguments: always a JSON string, non-ASCII kept as is.
            arguments = json.dumps(arguments, ensure_ascii=False)
        # RecursionError: "<tool_call>" + 5000 "[" nests deeper than json can go (verl catches every
        # Exception here). JSONDecodeError is a ValueError.
        except (ValueError, KeyError, TypeError, IndexError, RecursionError):
            continue  # verl logs the error and skips the call; the model's other calls still run
        if not isinstance(name, str):
            continue  # verl's FunctionCall(name: str) rejects it
        calls.append({"name": name, "arguments": arguments})
    # The content is the text without the *whole* markup of every matched call (valid or not).
    return TOOL_CALL_RE.sub("", text), calls
