"""Two stateful verl tools (reference solution): a safe calculator and the GSM8K answer checker.

Mirrors verl 0.9.1 ``verl/tools/base_tool.py::BaseTool`` (lifecycle create → execute →
calc_reward → release) and verl's former ``verl/tools/gsm8k_tool.py``.
"""

from __future__ import annotations

import ast
import math
import operator
from typing import Any
from uuid import uuid4

from verl.tools.base_tool import BaseTool
from verl.tools.schemas import OpenAIFunctionToolSchema, ToolResponse
from verl.utils.reward_score import gsm8k

MAX_EXPRESSION_CHARS = 200
MAX_EXPONENT = 100
MAX_ABS = 10**30

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


class CalculatorError(ValueError):
    """The expression is not plain, bounded arithmetic."""


def _checked(value: Any) -> int | float:
    if isinstance(value, complex):
        raise CalculatorError("the result is not a real number")
    if isinstance(value, float) and not math.isfinite(value):
        raise CalculatorError("the result is not a finite number")
    if abs(value) > MAX_ABS:
        raise CalculatorError(f"a number is larger than {MAX_ABS:.0e} in absolute value")
    return value


def _evaluate(node: ast.AST) -> int | float:
    # A whitelist walk over the syntax tree: anything not listed here is refused, so no name,
    # call, attribute or subscript can ever run. eval() would run all of them.
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):  # type(): bool is an int subclass
        return _checked(node.value)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _checked(_UNARY[type(node.op)](_evaluate(node.operand)))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise CalculatorError(f"exponents are limited to ±{MAX_EXPONENT}")
        try:
            return _checked(_BINARY[type(node.op)](left, right))
        except ZeroDivisionError:
            raise CalculatorError("division by zero") from None
        except OverflowError:
            raise CalculatorError("the result is too large") from None
    raise CalculatorError(f"{type(node).__name__} is not allowed (numbers, + - * / // % ** and parentheses only)")


def calculate(expression: Any) -> str:
    """``"2+3*4"`` → ``"14"``; anything else → ``"Error: ..."`` (never an exception)."""
    if not isinstance(expression, str):
        return f"Error: expression must be a string, got {type(expression).__name__}"
    if len(expression) > MAX_EXPRESSION_CHARS:
        return f"Error: expression longer than {MAX_EXPRESSION_CHARS} characters"
    try:
        value = _evaluate(ast.parse(expression.strip(), mode="eval"))
    except CalculatorError as exc:
        return f"Error: {exc}"
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return f"Error: not an arithmetic expression ({type(exc).__name__})"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


class CalculatorTool(BaseTool):
    def __init__(self, config: dict | None = None, tool_schema: OpenAIFunctionToolSchema | None = None) -> None:
        self._instance_dict: dict[str, dict[str, Any]] = {}  # per object: two tools never share state
        super().__init__(config or {}, tool_schema)

    def get_openai_tool_schema(self) -> OpenAIFunctionToolSchema:
        # BaseTool.__init__ calls this when no schema is given, before self.tool_schema exists.
        return OpenAIFunctionToolSchema.model_validate({
            "type": "function",
            "function": {
                "name": "calculator",
                "description": "Evaluate an arithmetic expression: numbers, + - * / // % ** and parentheses",
                "parameters": {
                    "type": "object",
                    "properties": {"expression": {"type": "string", "description": "e.g. (48 + 24) / 2"}},
                    "required": ["expression"],
                },
            },
        })

    async def create(self, instance_id: str | None = None, **kwargs: Any) -> tuple[str, ToolResponse]:
        instance_id = instance_id or str(uuid4())
        self._instance_dict[instance_id] = {"calls": 0}
        return instance_id, ToolResponse()

    async def execute(
        self, instance_id: str, parameters: dict[str, Any], **kwargs: Any
    ) -> tuple[ToolResponse, float, dict]:
        state = self._instance_dict.setdefault(instance_id, {"calls": 0})
        state["calls"] += 1
        expression = parameters.get("expression") if isinstance(parameters, dict) else None
        # A bad expression is the model's mistake, not the trainer's: it gets an answer it can read.
        return ToolResponse(text=calculate(expression)), 0.0, {}

    async def calc_reward(self, instance_id: str, **kwargs: Any) -> float:
        return 0.0

    async def release(self, instance_id: str, **kwargs: Any) -> None:
        self._instance_dict.pop(instance_id, None)


class Gsm8kAnswerTool(BaseTool):
    def __init__(self, config: dict | None = None, tool_schema: OpenAIFunctionToolSchema | None = None) -> None:
        self._instance_dict: dict[str, dict[str, Any]] = {}
        super().__init__(config or {}, tool_schema)

    def get_openai_tool_schema(self) -> OpenAIFunctionToolSchema:
        return OpenAIFunctionToolSchema.model_validate({
            "type": "function",
            "function": {
                "name": "calc_gsm8k_reward",
                "description": "A tool for calculating the reward of gsm8k. (1.0 if parsed answer is correct, "
                "0.0 if parsed answer is incorrect or not correctly parsed)",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "answer": {"type": "string", "description": "The model's answer to the GSM8K math problem, "
                                   "must be a digits"},
                    },
                    "required": ["answer"],
                },
            },
        })

    async def create(
        self, instance_id: str | None = None, ground_truth: str | None = None, **kwargs: Any
    ) -> tuple[str, ToolResponse]:
        instance_id = instance_id or str(uuid4())
        if ground_truth is None:  # verl's ToolAgentLoop passes create(create_kwargs={...})
            ground_truth = (kwargs.get("create_kwargs") or {}).get("ground_truth")
        self._instance_dict[instance_id] = {"response": "", "ground_truth": ground_truth, "reward": 0.0}
        return instance_id, ToolResponse()

    async def execute(
        self, instance_id: str, parameters: dict[str, Any], **kwargs: Any
    ) -> tuple[ToolResponse, float, dict]:
        answer = parameters.get("answer", "")
        if not isinstance(answer, str):
            answer = str(answer)
        state = self._instance_dict[instance_id]
        state["response"] = answer if answer.startswith("#### ") else "#### " + answer
        reward = await self.calc_reward(instance_id)
        # Step reward: a penalty for submitting without improving (discourages spamming the checker).
        tool_reward = 0.0 if reward > state["reward"] else -0.05
        state["reward"] = reward
        return ToolResponse(text=f"Current parsed {answer=} {reward=}"), tool_reward, {}

    async def calc_reward(self, instance_id: str, **kwargs: Any) -> float:
        state = self._instance_dict[instance_id]
        return gsm8k.compute_score(
            state["response"], state["ground_truth"], method="flexible", format_score=0.0, score=1.0
        )

    async def release(self, instance_id: str, **kwargs: Any) -> None:
        self._instance_dict.pop(instance_id, None)
