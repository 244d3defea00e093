"""Agent RL: your chapter-05 tool agent inside a real verl multi-turn GRPO run (reference solution).

Lesson: exercises/07/README.md.
"""

from __future__ import annotations

import re
from typing import Any

ANSWER = r"-?\d+"  # an integer answer: an optional minus, then digits
FORMAT_SCORE = 0.1  # a final answer that is a number, but the wrong one
TOOL_RESPONSE_END = "</tool_response>"
TOOL_CALL = re.compile(r"<tool_call>.*?</tool_call>", re.DOTALL)


def tool_config(class_name: str, tool_schema: dict[str, Any]) -> dict[str, Any]:
    return {"tools": [{"class_name": class_name, "config": {"type": "native"}, "tool_schema": tool_schema}]}


def agent_overrides(tool_config_path: str, agent_name: str, max_turns: int) -> list[str]:
    r = "actor_rollout_ref.rollout"
    return [
        f"{r}.multi_turn.enable=True",
        f"{r}.multi_turn.tool_config_path={tool_config_path}",
        f"{r}.multi_turn.max_assistant_turns={max_turns}",
        f"{r}.agent.default_agent_loop={agent_name}",
    ]


def final_answer(solution_str: str) -> str | None:
    # The last turn is what the model says after the last tool answer; tool text never counts.
    tail = solution_str.rsplit(TOOL_RESPONSE_END, 1)[-1]
    tail = TOOL_CALL.sub("", tail)  # a call's arguments are not an answer
    numbers = re.findall(ANSWER, tail)
    return numbers[-1] if numbers else None


def compute_score(data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None,
                  **kwargs: Any) -> dict[str, float]:
    answer = final_answer(solution_str)
    correct = float(answer is not None and int(answer) == int(ground_truth))
    score = correct if correct else (FORMAT_SCORE if answer is not None else 0.0)
    return {"score": score, "acc": correct}
