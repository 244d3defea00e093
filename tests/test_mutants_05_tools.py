"""Known-wrong variants of exercises/05/tools.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

CALC, GSM = "05.calculator", "05.gsm8k_tool"

MUTANTS = [
    Mutant(
        "calculator_uses_eval",
        CALC,
        "tools",
        """
        def calculate(expression):
            try:
                value = eval(expression)
            except Exception as exc:
                return f"Error: {exc}"
            if isinstance(value, float) and value.is_integer():
                return str(int(value))
            return repr(value) if isinstance(value, float) else str(value)
        """,
    ),
    Mutant(
        "calculator_uses_restricted_eval",
        CALC,
        "tools",
        """
        def calculate(expression):
            try:
                value = eval(str(expression).strip(), {"__builtins__": {}}, {})  # still eval: not safe
            except Exception as exc:
                return f"Error: {exc}"
            if isinstance(value, float) and value.is_integer():
                return str(int(value))
            return repr(value) if isinstance(value, float) else str(value)
        """,
    ),
    Mutant(
        "calculator_accepts_bools",
        CALC,
        "tools",
        """
        _solution_evaluate = _evaluate

        def _evaluate(node):
            if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
                return _checked(node.value)
            if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
                return _checked(_BINARY[type(node.op)](_evaluate(node.left), _evaluate(node.right)))
            return _solution_evaluate(node)
        """,
    ),
    Mutant(
        "calculator_unbounded_exponent",
        CALC,
        "tools",
        """
        MAX_EXPONENT = 10**9
        MAX_ABS = 10**10000
        """,
    ),
    Mutant(
        "calculator_raises_on_division_by_zero",
        CALC,
        "tools",
        """
        _solution_calculate = calculate

        def calculate(expression):
            if isinstance(expression, str) and "/ 0" in expression.replace("/0", "/ 0"):
                raise ZeroDivisionError("division by zero")
            return _solution_calculate(expression)
        """,
    ),
    Mutant(
        "calculator_prints_floats_as_floats",
        CALC,
        "tools",
        """
        _solution_calculate = calculate

        def calculate(expression):
            text = _solution_calculate(expression)
            if not text.startswith("Error") and isinstance(expression, str) and "/" in expression and "." not in text:
                return text + ".0"
            return text
        """,
    ),
    Mutant(
        "calculator_floordiv_as_truediv",
        CALC,
        "tools",
        """
        _BINARY[ast.FloorDiv] = operator.truediv
        """,
    ),
    Mutant(
        "calculator_does_not_strip",
        CALC,
        "tools",
        """
        _solution_calculate = calculate

        def calculate(expression):
            if isinstance(expression, str) and expression != expression.lstrip():
                return "Error: not an arithmetic expression (IndentationError)"
            return _solution_calculate(expression)
        """,
    ),
    Mutant(
        "calculator_state_on_the_class",
        CALC,
        "tools",
        """
        CalculatorTool._shared = {}

        def _shared_init(self, config=None, tool_schema=None):
            self._instance_dict = CalculatorTool._shared  # every object sees the same dict
            BaseTool.__init__(self, config or {}, tool_schema)

        CalculatorTool.__init__ = _shared_init
        """,
    ),
    Mutant(
        "calculator_release_forgets_nothing",
        CALC,
        "tools",
        """
        async def _release_nothing(self, instance_id, **kwargs):
            return None

        CalculatorTool.release = _release_nothing
        """,
    ),
    Mutant(
        "calculator_without_default_schema",
        CALC,
        "tools",
        """
        del CalculatorTool.get_openai_tool_schema  # BaseTool's returns self.tool_schema, which does not exist yet
        """,
    ),
    Mutant(
        "calculator_raises_for_a_missing_expression",
        CALC,
        "tools",
        """
        async def _execute(self, instance_id, parameters, **kwargs):
            return ToolResponse(text=calculate(parameters["expression"])), 0.0, {}

        CalculatorTool.execute = _execute
        """,
    ),
    Mutant(
        "gsm8k_strict_rule",
        GSM,
        "tools",
        """
        async def _strict(self, instance_id, **kwargs):
            state = self._instance_dict[instance_id]
            return gsm8k.compute_score(state["response"], state["ground_truth"], method="strict", format_score=0.0)

        Gsm8kAnswerTool.calc_reward = _strict
        """,
    ),
    Mutant(
        "gsm8k_state_on_the_class",
        GSM,
        "tools",
        """
        Gsm8kAnswerTool._shared = {}

        def _shared_init(self, config=None, tool_schema=None):
            self._instance_dict = Gsm8kAnswerTool._shared
            BaseTool.__init__(self, config or {}, tool_schema)

        Gsm8kAnswerTool.__init__ = _shared_init
        """,
    ),
    Mutant(
        "gsm8k_ignores_create_kwargs",
        GSM,
        "tools",
        """
        async def _create(self, instance_id=None, ground_truth=None, **kwargs):
            instance_id = instance_id or str(uuid4())
            self._instance_dict[instance_id] = {"response": "", "ground_truth": ground_truth, "reward": 0.0}
            return instance_id, ToolResponse()

        Gsm8kAnswerTool.create = _create
        """,
    ),
    Mutant(
        "gsm8k_no_penalty",
        GSM,
        "tools",
        """
        _solution_execute = Gsm8kAnswerTool.execute

        async def _execute(self, instance_id, parameters, **kwargs):
            response, _, metrics = await _solution_execute(self, instance_id, parameters, **kwargs)
            return response, 0.0, metrics

        Gsm8kAnswerTool.execute = _execute
        """,
    ),
    Mutant(
        "gsm8k_penalty_against_zero_not_best",
        GSM,
        "tools",
        """
        async def _execute(self, instance_id, parameters, **kwargs):
            answer = parameters.get("answer", "")
            answer = answer if isinstance(answer, str) else str(answer)
            state = self._instance_dict[instance_id]
            state["response"] = answer if answer.startswith("#### ") else "#### " + answer
            reward = await self.calc_reward(instance_id)
            return ToolResponse(text=f"Current parsed {answer=} {reward=}"), 0.0 if reward > 0 else -0.05, {}

        Gsm8kAnswerTool.execute = _execute
        """,
    ),
    Mutant(
        "gsm8k_penalty_against_best_not_previous",
        GSM,
        "tools",
        """
        async def _execute(self, instance_id, parameters, **kwargs):
            answer = parameters.get("answer", "")
            answer = answer if isinstance(answer, str) else str(answer)
            state = self._instance_dict[instance_id]
            state["response"] = answer if answer.startswith("#### ") else "#### " + answer
            reward = await self.calc_reward(instance_id)
            step = 0.0 if reward > state["reward"] else -0.05
            state["reward"] = max(reward, state["reward"])  # keeps the best, verl keeps the latest
            return ToolResponse(text=f"Current parsed {answer=} {reward=}"), step, {}

        Gsm8kAnswerTool.execute = _execute
        """,
    ),
    Mutant(
        "gsm8k_answer_not_stringified",
        GSM,
        "tools",
        """
        async def _execute(self, instance_id, parameters, **kwargs):
            answer = parameters.get("answer", "")
            state = self._instance_dict[instance_id]
            state["response"] = answer if str(answer).startswith("#### ") else "#### " + answer  # TypeError on ints
            reward = await self.calc_reward(instance_id)
            step = 0.0 if reward > state["reward"] else -0.05
            state["reward"] = reward
            return ToolResponse(text=f"Current parsed {answer=} {reward=}"), step, {}

        Gsm8kAnswerTool.execute = _execute
        """,
    ),
    Mutant(
        "gsm8k_release_forgets_nothing",
        GSM,
        "tools",
        """
        async def _release_nothing(self, instance_id, **kwargs):
            return None

        Gsm8kAnswerTool.release = _release_nothing
        """,
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
