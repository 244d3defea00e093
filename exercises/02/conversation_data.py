"""Prompts that carry conversation history: multi-turn data for a single-turn RL rollout.

Lesson: exercises/02/README.md §1.6 (中文: README.zh-CN.md §1.6).
Mirrors what verl 0.9.1's ``verl/utils/dataset/rl_dataset.py::RLHFDataset`` does with a
row whose ``prompt`` holds several messages: it keeps the list as ``raw_prompt``, and with
``data.filter_overlong_prompts=True`` drops every row for which
``len(tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True))``
is more than ``data.max_prompt_length``. The whole history counts towards that length;
only the new reply is generated and trained on.

A history is a list of chat messages that alternate ``user``, ``assistant``, ``user``, ...,
starting with ``user`` and ending with ``assistant``::

    [{"role": "user", "content": "Tom has 3 apples and buys 2. How many?"},
     {"role": "assistant", "content": "3 + 2 = 5. #### 5"}]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

INSTRUCTION = 'Let\'s think step by step and output the final answer after "####".'
DATA_SOURCE = "openai/gsm8k"
ABILITY = "math"


def history_prompt(history: Sequence[dict], question: str, system: str | None = None) -> list[dict[str, str]]:
    """The prompt messages of a row that continues a conversation.

    Args:
        history: earlier turns, ``user``/``assistant`` alternating, starting with ``user`` and
            ending with ``assistant`` (``[]`` is allowed); each ``content`` a non-empty string.
        question: the new user question (non-empty string).
        system: an optional system prompt (non-empty string or ``None``).

    Returns:
        A new list: ``[system message if given] + history + [{"role": "user", "content":
        question + " " + INSTRUCTION}]``, each message exactly ``{"role", "content"}``. The
        caller's list and dicts are left unchanged.

    Raises:
        ValueError: a message out of turn (a ``system`` message inside ``history`` included), a
        history that ends with a user turn, an empty or non-string content, an empty question or
        system prompt — the message names the position (``history[2]``).

    Example:
        >>> history_prompt([{"role": "user", "content": "1+1?"}, {"role": "assistant", "content": "#### 2"}], "2+2?")
        [{'role': 'user', 'content': '1+1?'}, {'role': 'assistant', 'content': '#### 2'},
         {'role': 'user', 'content': '2+2? Let\\'s think step by step and output the final answer after "####".'}]
    """
    # TODO: validate the turns, copy them, add the system prompt and the new question.
    raise NotImplementedError("implement history_prompt — see exercises/02/README.md §1.6")


def fit_history(messages: Sequence[dict], tokenizer: Any, max_prompt_length: int) -> list[dict[str, str]]:
    """The longest recent part of a conversation prompt that verl's length filter keeps.

    Args:
        messages: a prompt as ``history_prompt`` returns it (optional system message first, the
            new user question last).
        tokenizer: a Hugging Face tokenizer with a chat template.
        max_prompt_length: verl's ``data.max_prompt_length``, in tokens.

    Returns:
        The messages with the fewest *oldest* history turns removed so that the prompt's length —
        measured exactly as ``RLHFDataset`` measures it, the chat template with
        ``add_generation_prompt=True``, in tokens — is at most ``max_prompt_length``. Turns go in
        whole ``(user, assistant)`` pairs; the system message and the new question always stay.
        A prompt that already fits comes back unchanged (as a new list).

    Raises:
        ValueError: even the system message plus the new question is longer than
        ``max_prompt_length``.
    """
    # TODO: measure like RLHFDataset; drop the oldest pair until it fits.
    raise NotImplementedError("implement fit_history — see exercises/02/README.md §1.6")


def make_history_row(
    history: Sequence[dict],
    question: str,
    ground_truth: str,
    index: int,
    split: str = "train",
    system: str | None = None,
) -> dict[str, Any]:
    """A verl RL row whose prompt continues a conversation.

    Returns:
        ``{"data_source": DATA_SOURCE, "prompt": <the messages of history_prompt for history,
        question and system>, "ability": ABILITY, "reward_model": {"style": "rule", "ground_truth": ground_truth},
        "extra_info": {"split": split, "index": index, "question": question}}`` — only the new
        question is scored, so the ground truth and ``extra_info.question`` are the new question's.
    """
    # TODO: the row, like make_row of gsm8k_data.py, with the history prompt.
    raise NotImplementedError("implement make_history_row — see exercises/02/README.md §1.6")
