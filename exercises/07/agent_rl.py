"""Agent RL: your chapter-05 tool agent inside a real verl multi-turn GRPO run.

In chapter 05 your parser, tools and agent loop talked to a scripted server. Here verl runs
them: its ``AgentLoopWorker`` loads the tools from a **tool-config YAML**
(``actor_rollout_ref.rollout.multi_turn.tool_config_path``, read by
``verl/tools/tool_registry.py::initialize_tools_from_config``), instantiates the agent loop
named by ``actor_rollout_ref.rollout.agent.default_agent_loop`` from its registry (your
``@register("verlings_tool_agent")`` class), and trains on the token ids, mask and log-probs
your ``run_agent`` returns. The grader swaps chapter 05's given ``parse_tool_calls`` (verl's
Hermes parser) for *your* ``parse_hermes``.

The task (``verlings/agent_rl/task.py``): ``What is 347 * 29?`` — a product the tiny model
cannot compute, so the trajectory that earns the reward is: call the calculator, read its
answer, repeat it. The warm start (verl's SFT trainer on such conversations) teaches the shape.

Your part: the tool config, the overrides that switch verl's rollout to your loop, and the
reward that reads the model's final answer. Lesson: exercises/07/README.md.
"""

from __future__ import annotations

import re  # you will want it
from typing import Any

ANSWER = r"-?\d+"  # an integer answer: an optional minus, then digits
FORMAT_SCORE = 0.1  # a final answer that is a number, but the wrong one
TOOL_RESPONSE_END = "</tool_response>"


def tool_config(class_name: str, tool_schema: dict[str, Any]) -> dict[str, Any]:
    """The content of a verl tool-config YAML declaring one native tool.

    Args:
        class_name: the dotted import path of a ``BaseTool`` subclass that verl's workers can import,
            e.g. ``"verlings.agent_rl.learner_tools.CalculatorTool"`` (your chapter-05 calculator).
        tool_schema: the OpenAI function schema to declare for it (``{"type": "function", "function": {...}}``).

    Returns:
        The mapping ``yaml.safe_dump`` writes and ``initialize_tools_from_config`` reads back: one
        entry under ``tools`` with the class, its ``config`` (the tool type verl 0.9.1 knows) and the
        schema. verl gives ``config`` and ``tool_schema`` to the tool's constructor.
    """
    # TODO: your implementation (stuck? `python grader.py hint 07.tool_config`).
    raise NotImplementedError("implement tool_config — see exercises/07/README.md §2.1")


def agent_overrides(tool_config_path: str, agent_name: str, max_turns: int) -> list[str]:
    """The Hydra overrides (``key=value``) that make verl's rollout run your agent loop with the tools.

    Args:
        tool_config_path: the YAML :func:`tool_config` content was written to.
        agent_name: the name your loop registered with verl (``"verlings_tool_agent"``).
        max_turns: the most model generations per trajectory (verl's ``max_assistant_turns``).

    Returns:
        Overrides under ``actor_rollout_ref.rollout`` (verl 0.9.1's ``rollout.yaml``): multi-turn
        on, the tool config, the turn limit, and the agent loop every row uses when the dataset
        names none. Each must be accepted by ``verl/trainer/config/ppo_trainer.yaml``.
    """
    # TODO: your implementation (stuck? `python grader.py hint 07.overrides`).
    raise NotImplementedError("implement agent_overrides — see exercises/07/README.md §2.2")


def compute_score(data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None,
                  **kwargs: Any) -> dict[str, float]:
    """The correctness reward of one multi-turn trajectory (verl's custom reward function).

    Args:
        data_source: ``"verlings/mul"``.
        solution_str: verl's ``tokenizer.decode(response, skip_special_tokens=True)`` of the *whole*
            response: the model's turns **and** the tool turns between them, e.g.
            ``'<tool_call>\\n{...}\\n</tool_call>\\nuser\\n<tool_response>\\n10063\\n</tool_response>\\nassistant\\n10063'``.
        ground_truth: the product as a string, e.g. ``"10063"``.
        extra_info: the row's ``extra_info`` plus what verl adds (``num_turns``, ...); may be ``None``.

    Returns:
        ``{"score": s, "acc": a}``. The **final answer** is the last integer (:data:`ANSWER`) the model
        wrote after the last ``</tool_response>`` (the whole text when there is none), not counting the
        arguments of a ``<tool_call>``; a number the *tool* wrote is never the model's answer.
        ``a = 1.0`` when the final answer equals the ground truth as an integer, else ``0.0``;
        ``s = 1.0`` when correct, :data:`FORMAT_SCORE` when there is a final answer but a wrong one,
        ``0.0`` when there is none. verl trains on ``score`` and reports ``acc`` in validation.
    """
    # TODO: your implementation (stuck? `python grader.py hint 07.reward`).
    raise NotImplementedError("implement compute_score — see exercises/07/README.md §2.3")
