"""Reference solution for exercises/02/conversation_data.py: prompts that carry conversation history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

INSTRUCTION = 'Let\'s think step by step and output the final answer after "####".'
DATA_SOURCE = "openai/gsm8k"
ABILITY = "math"


def history_prompt(history: Sequence[dict], question: str, system: str | None = None) -> list[dict[str, str]]:
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"the new question must be a non-empty string, got {question!r}")
    messages: list[dict[str, str]] = []
    if system is not None:
        if not isinstance(system, str) or not system.strip():
            raise ValueError(f"system must be a non-empty string or None, got {system!r}")
        messages.append({"role": "system", "content": system})
    for i, message in enumerate(history):
        # Turns alternate user, assistant, user, ...: the template and the policy both assume it,
        # and the new question must follow an assistant turn.
        want = "user" if i % 2 == 0 else "assistant"
        if not isinstance(message, dict) or message.get("role") != want:
            raise ValueError(f"history[{i}] must be a {want!r} message, got {message!r}")
        content = message.get("content")
        if not isinstance(content, str) or not content.strip():
            raise ValueError(f"history[{i}] has no text content: {message!r}")
        messages.append({"role": want, "content": content})  # a copy: the caller's list is left alone
    if len(history) % 2:
        raise ValueError(f"history ends with a user turn (history[{len(history) - 1}]); it must end with the "
                         "assistant's reply, so that the new question is the next user turn")
    messages.append({"role": "user", "content": question + " " + INSTRUCTION})
    return messages


def prompt_length(messages: Sequence[dict], tokenizer: Any) -> int:
    # Exactly what RLHFDataset's filter_overlong_prompts measures: template + generation prompt, in tokens.
    ids = tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=True)
    if isinstance(ids, dict) or hasattr(ids, "keys"):  # some transformers versions return a BatchEncoding
        ids = ids["input_ids"]
    return len(ids)


def fit_history(messages: Sequence[dict], tokenizer: Any, max_prompt_length: int) -> list[dict[str, str]]:
    messages = [dict(m) for m in messages]
    head = messages[:1] if messages and messages[0]["role"] == "system" else []
    turns, last = messages[len(head) : -1], messages[-1:]
    # Drop the oldest (user, assistant) pair until it fits: never half a pair, never the system
    # prompt or the new question.
    while True:
        kept = head + turns + last
        if prompt_length(kept, tokenizer) <= max_prompt_length:
            return kept
        if not turns:
            raise ValueError(f"even without history the prompt is {prompt_length(kept, tokenizer)} tokens, "
                             f"more than max_prompt_length={max_prompt_length}")
        turns = turns[2:]


def make_history_row(
    history: Sequence[dict],
    question: str,
    ground_truth: str,
    index: int,
    split: str = "train",
    system: str | None = None,
) -> dict[str, Any]:
    return {
        "data_source": DATA_SOURCE,
        "prompt": history_prompt(history, question, system),
        "ability": ABILITY,
        "reward_model": {"style": "rule", "ground_truth": ground_truth},
        # Only the new question is scored: its ground truth, its raw text.
        "extra_info": {"split": split, "index": index, "question": question},
    }
