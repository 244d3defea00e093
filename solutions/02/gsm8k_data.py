"""GSM8K examples → verl parquet rows (reference solution).

Mirrors verl's ``examples/data_preprocess/gsm8k.py`` (style ``chat``),
``gsm8k_multiturn_w_interaction.py`` (``multi_turn``) and ``gsm8k_tool_agent_loop.py`` (``tool``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

DATA_SOURCE = "openai/gsm8k"
ABILITY = "math"
STYLES = ("chat", "system", "multi_turn", "tool")

INSTRUCTION = 'Let\'s think step by step and output the final answer after "####".'
INSTRUCTION_BACKTICKS = "Let's think step by step and output the final answer after `####`."
SYSTEM_PROMPT = (
    "You are a math expert. You are given a question and you need to solve it step by step. "
    "Put your final answer in the format of `#### <answer>`."
)
SYSTEM_PROMPT_MULTI_TURN = (
    "You are a math expert. You are given a question and you need to solve it step by step. "
    "You should rethinking carefully if user point out your answer is wrong. "
    "Put your final answer in the format of `#### <answer>`."
)
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
    # verl's preprocessing: the first "#### N", commas removed (the reward compares strings).
    match = re.search(r"#### (\-?[0-9\.\,]+)", answer)
    if match is None:
        raise ValueError(f"no '#### <number>' line in the answer: {answer[-80:]!r}")
    return match.group(1).replace(",", "")


def make_row(example: dict, index: int, split: str, style: str = "chat") -> dict:
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; expected one of {', '.join(STYLES)}")
    question_raw, answer_raw = example["question"], example["answer"]
    solution = extract_gsm8k_answer(answer_raw)
    if style == "chat":
        prompt = [{"role": "user", "content": question_raw + " " + INSTRUCTION}]
    elif style == "system":
        prompt = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": question_raw + " " + INSTRUCTION},
        ]
    else:
        system = SYSTEM_PROMPT_MULTI_TURN if style == "multi_turn" else SYSTEM_PROMPT_TOOL
        prompt = [
            {"role": "system", "content": system},
            {"role": "user", "content": question_raw + " " + INSTRUCTION_BACKTICKS},
        ]
    # extra_info keeps the *raw* question and the full worked answer, for logging and analysis.
    extra_info: dict[str, Any] = {"split": split, "index": index, "answer": answer_raw, "question": question_raw}
    question = prompt[-1]["content"]
    if style == "multi_turn":
        extra_info["interaction_kwargs"] = {"name": INTERACTION_NAME, "query": question, "ground_truth": solution}
    row: dict[str, Any] = {"data_source": DATA_SOURCE}
    if style == "tool":
        row["agent_name"] = AGENT_NAME  # which verl agent loop rolls this prompt out
        extra_info["need_tools_kwargs"] = True
        extra_info["tools_kwargs"] = {TOOL_NAME: {"create_kwargs": {"ground_truth": solution}}}
        extra_info["interaction_kwargs"] = {"query": question, "ground_truth": solution}
    row.update({
        "prompt": prompt,
        "ability": ABILITY,
        "reward_model": {"style": "rule", "ground_truth": solution},
        "extra_info": extra_info,
    })
    return row


def write_parquet(rows: list[dict], path: str | os.PathLike) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not rows:
        raise ValueError("no rows to write: an empty parquet file has no schema and verl cannot train on it")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
