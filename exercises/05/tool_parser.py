"""Reading tool calls out of a model turn — verl's Hermes tool parser.

Lesson: exercises/05/README.md §1.2 (中文: README.zh-CN.md §1.2).
Mirrors verl 0.9.1 ``verl/experimental/agent_loop/tool_parser.py::HermesToolParser``
(registered as ``hermes``, the format of Qwen2.5/Qwen3 and of verl's GSM8K tool recipes).

A chat model that was taught the Hermes format calls a tool by writing JSON between two
markers, one call per block, as many blocks as it likes::

    Let me compute.
    <tool_call>
    {"name": "calculator", "arguments": {"expression": "48/2"}}
    </tool_call><|im_end|>

verl's agent loop decodes the model's token ids (``tokenizer.decode(ids)``, special tokens
kept, so a trailing ``<|im_end|>`` is part of the text) and hands the text to the parser.
The parser returns the *content* (what the model wrote besides its calls) and the calls.
A model in training writes broken JSON all the time: such a call is skipped (verl logs
it), the rest of the turn still counts, and the rollout never crashes.
"""

from __future__ import annotations


def parse_hermes(text: str) -> tuple[str, list[dict[str, str]]]:
    """Split one model turn into its content and its Hermes tool calls, exactly as verl does.

    Args:
        text: the decoded model turn (may contain ``<|im_end|>`` and any other text).

    Returns:
        ``(content, calls)``:

        * ``calls``: one ``{"name": str, "arguments": str}`` per well-formed block, in order.
          A block is what lies between ``<tool_call>`` and the *next* ``</tool_call>``
          (non-greedy, across newlines). Its text must be a JSON object with a string
          ``"name"`` and an ``"arguments"`` key (any JSON value); otherwise the block is
          skipped. ``"arguments"`` is re-serialised as JSON (default separators, non-ASCII kept as is):
          always a JSON *string* (``'{"x": 1}'``, ``'null'``, ``'"a string"'``), never a dict.
        * ``content``: ``text`` with every matched ``<tool_call>...</tool_call>`` block removed
          (markers included, valid or not); nothing else is stripped. A text without both
          markers is returned unchanged, with no calls.

    Example:
        >>> parse_hermes('Sure.\\n<tool_call>\\n{"name": "add", "arguments": {"a": 1}}\\n</tool_call>')
        ('Sure.\\n', [{'name': 'add', 'arguments': '{"a": 1}'}])
        >>> parse_hermes('<tool_call>{"name": "add", "arguments": {</tool_call>')  # broken JSON: skipped
        ('', [])
    """
    # TODO: your implementation (stuck? `python grader.py hint 05.parse_hermes`).
    raise NotImplementedError("implement parse_hermes — see exercises/05/README.md §1.2")
