"""GSM8K examples → verl parquet rows: the data format every verl RL run starts from.

Lesson: exercises/02/README.md §1 (中文: README.zh-CN.md §1).
Mirrors verl 0.9.1's preprocessing scripts (``examples/data_preprocess/`` in verl's
repository, not shipped in the wheel): ``gsm8k.py`` (style ``chat``),
``gsm8k_multiturn_w_interaction.py`` (``multi_turn``), ``gsm8k_tool_agent_loop.py`` (``tool``).

A raw GSM8K example is ``{"question": str, "answer": str}``; the answer is a worked
solution whose last line is ``#### N``. verl's trainer reads one parquet row per prompt:

    {
        "data_source": "openai/gsm8k",          # picks the reward function (§4.3)
        "prompt": [{"role": "user", "content": "..."}],  # chat messages, NOT a string
        "ability": "math",
        "reward_model": {"style": "rule", "ground_truth": "72"},
        "extra_info": {"split": "train", "index": 0, "answer": <raw answer>, "question": <raw question>},
    }

The texts below are verl's, character for character (given: nothing to do here).
"""

from __future__ import annotations

import os
import re  # you will need it
from typing import Any  # handy for the row dicts

DATA_SOURCE = "openai/gsm8k"
ABILITY = "math"
STYLES = ("chat", "system", "multi_turn", "tool")

# appended to the question after one space: style chat and system ...
INSTRUCTION = 'Let\'s think step by step and output the final answer after "####".'
# ... and styles multi_turn and tool (backticks instead of double quotes)
INSTRUCTION_BACKTICKS = "Let's think step by step and output the final answer after `####`."
# style system (the course's: verl's chat rows with a system message in front)
SYSTEM_PROMPT = (
    "You are a math expert. You are given a question and you need to solve it step by step. "
    "Put your final answer in the format of `#### <answer>`."
)
# style multi_turn (verl's gsm8k_multiturn_w_interaction.py, its grammar included)
SYSTEM_PROMPT_MULTI_TURN = (
    "You are a math expert. You are given a question and you need to solve it step by step. "
    "You should rethinking carefully if user point out your answer is wrong. "
    "Put your final answer in the format of `#### <answer>`."
)
# style tool (verl's gsm8k_tool_agent_loop.py)
SYSTEM_PROMPT_TOOL = (
    "You are a math expert. You are given a question and you need to solve it step by step. "
    "Reasoning step by step before any tool call. "
    "You should use the `calc_gsm8k_reward` tool after step by step solving the question, "
    "before generate final answer at least once and refine your answer if necessary. "
    "Put your final answer in the format of `#### <answer>`."
)
TOOL_NAME = "calc_gsm8k_reward"
AGENT_NAME = "tool_agent"
INTERACTION_NAME = "gsm8k"


def extract_gsm8k_answer(answer: str) -> str:
    """The ground truth of a GSM8K answer, as verl's preprocessing stores it.

    Args:
        answer: the worked solution, ending in ``#### N``.

    Returns:
        The number after the **first** ``#### `` (pattern ``#### (-?[0-9.,]+)``, as verl's
        ``re.search``), with thousands commas removed: the reward later compares
        *strings*, and a model that writes ``#### 1,200`` has them stripped too.

    Raises:
        ValueError: when there is no ``#### N`` (verl asserts; say what is wrong instead).

    Example:
        >>> extract_gsm8k_answer("4 * $300 = $<<4*300=1200>>1,200.\\n#### 1,200")
        '1200'
    """
    # TODO: your implementation (stuck? `python grader.py hint 02.extract_answer`).
    raise NotImplementedError("implement extract_gsm8k_answer — see exercises/02/README.md §1.2")


def make_row(example: dict, index: int, split: str, style: str = "chat") -> dict:
    """One verl RL row for a GSM8K example.

    Args:
        example: ``{"question": str, "answer": str}``.
        index: the example's position in its split (``extra_info.index``; verl uses it
            as the prompt's id).
        split: ``"train"`` or ``"test"``.
        style: one of :data:`STYLES` (anything else: ``ValueError``).

    Returns:
        A dict with, in this order, ``data_source`` (:data:`DATA_SOURCE`), [``agent_name``:
        :data:`AGENT_NAME`, tool style only], ``prompt``, ``ability`` (:data:`ABILITY`),
        ``reward_model`` ``{"style": "rule", "ground_truth": extract_gsm8k_answer(answer)}``
        and ``extra_info`` ``{"split", "index", "answer": raw answer, "question": raw question}``
        (the *raw* question, without the instruction). Per style, with
        ``q = question + " " + instruction``:

        ============ ============================================ ==============================
        style        prompt                                       extra keys in extra_info
        ============ ============================================ ==============================
        chat         user: question + " " + INSTRUCTION           —
        system       system: SYSTEM_PROMPT;                       —
                     user: question + " " + INSTRUCTION
        multi_turn   system: SYSTEM_PROMPT_MULTI_TURN;            ``interaction_kwargs``:
                     user: question + " " + INSTRUCTION_BACKTICKS ``{"name": INTERACTION_NAME,
                                                                  "query": q, "ground_truth"}``
        tool         system: SYSTEM_PROMPT_TOOL;                  ``need_tools_kwargs``: True,
                     user: question + " " + INSTRUCTION_BACKTICKS ``tools_kwargs``: ``{TOOL_NAME:
                                                                  {"create_kwargs": {"ground_truth"}}}``,
                                                                  ``interaction_kwargs``:
                                                                  ``{"query": q, "ground_truth"}``
        ============ ============================================ ==============================

        Each message is ``{"role": ..., "content": ...}``; ``q`` is the user message's content.

    Example:
        >>> row = make_row({"question": "1+1?", "answer": "1+1=2\\n#### 2"}, index=7, split="test")
        >>> row["prompt"], row["reward_model"], row["extra_info"]["index"]
        ([{'role': 'user', 'content': '1+1? Let\\'s think step by step and output the final answer after "####".'}],
         {'style': 'rule', 'ground_truth': '2'}, 7)
    """
    # TODO: your implementation (stuck? `python grader.py hint 02.make_row`).
    raise NotImplementedError("implement make_row — see exercises/02/README.md §1.3")


def write_parquet(rows: list[dict], path: str | os.PathLike) -> None:
    """Write rows to a parquet file that verl's ``RLHFDataset`` can read.

    Args:
        rows: dicts as returned by :func:`make_row` (same keys in every row).
        path: the ``.parquet`` file to write; missing parent folders are created.

    Use ``pyarrow``: ``pyarrow.Table.from_pylist(rows)`` keeps nested lists and dicts as
    parquet lists and structs (a prompt stays a list of messages), then
    ``pyarrow.parquet.write_table``.

    Raises:
        ValueError: when ``rows`` is empty (a parquet file without rows has no schema,
            and a training run on it would fail much later).
    """
    # TODO: your implementation (stuck? `python grader.py hint 02.write_parquet`).
    raise NotImplementedError("implement write_parquet — see exercises/02/README.md §1.5")
