"""Known-wrong variants of exercises/05/tools.py: each must fail at least one graded test.

Each is a small edit of solutions/05/tools.py (``replace``); ``code`` only where the mistake is
a missing method, which an edit of the text cannot remove as plainly.
"""

import pytest

from verlings.dev.mutants import Mutant, caught

CALC, GSM = "05.calculator", "05.gsm8k_tool"
PARSE = 'value = _evaluate(ast.parse(expression.strip(), mode="eval"))'
CHECKS = (
    "    if not isinstance(expression, str):\n"
    '        return f"Error: expression must be a string, got {type(expression).__name__}"\n'
    "    if len(expression) > MAX_EXPRESSION_CHARS:\n"
    '        return f"Error: expression longer than {MAX_EXPRESSION_CHARS} characters"\n'
)
CALC_ERROR = "except CalculatorError as exc:"
CALC_RELEASE = "        self._instance_dict.pop(instance_id, None)\n\n\nclass Gsm8kAnswerTool"
GSM_RELEASE = (
    'method="flexible", format_score=0.0, score=1.0\n        )\n\n'
    "    async def release(self, instance_id: str, **kwargs: Any) -> None:\n"
    "        self._instance_dict.pop(instance_id, None)"
)
CALC_STATE = "self._instance_dict: dict[str, dict[str, Any]] = {}  # per object: two tools never share state"
GSM_RETURN = 'return ToolResponse(text=f"Current parsed {answer=} {reward=}"), tool_reward, {}'

MUTANTS = [
    # eval in place of the checks and the syntax-tree walk: it runs any Python the model writes, and
    # every error it raises reads as an answer
    Mutant(
        "calculator_uses_eval",
        CALC,
        "tools",
        replace={CHECKS: "", PARSE: "value = eval(expression)", CALC_ERROR: "except Exception as exc:"},
    ),
    Mutant(
        "calculator_uses_restricted_eval",
        CALC,
        "tools",
        replace={
            CHECKS: "",
            PARSE: 'value = eval(str(expression).strip(), {"__builtins__": {}}, {})  # still eval: not safe',
            CALC_ERROR: "except Exception as exc:",
        },
    ),
    Mutant(
        "calculator_accepts_bools",
        CALC,
        "tools",
        replace={
            "type(node.value) in (int, float)": "isinstance(node.value, (int, float))",
        },
    ),
    Mutant(
        "calculator_unbounded_exponent",
        CALC,
        "tools",
        replace={"MAX_EXPONENT = 100": "MAX_EXPONENT = 10**9", "MAX_ABS = 10**30": "MAX_ABS = 10**10000"},
    ),
    Mutant(
        "calculator_raises_on_division_by_zero",
        CALC,
        "tools",
        replace={
            '        except ZeroDivisionError:\n            raise CalculatorError("division by zero") from None\n': "",
        },
    ),
    Mutant(
        "calculator_prints_floats_as_floats",
        CALC,
        "tools",
        replace={"return str(int(value)) if value.is_integer() else repr(value)": "return repr(value)"},
    ),
    Mutant(
        "calculator_floordiv_as_truediv",
        CALC,
        "tools",
        replace={"ast.FloorDiv: operator.floordiv,": "ast.FloorDiv: operator.truediv,"},
    ),
    Mutant(
        "calculator_does_not_strip",
        CALC,
        "tools",
        replace={"ast.parse(expression.strip(), mode=": "ast.parse(expression, mode="},
    ),
    Mutant(
        "calculator_state_on_the_class",
        CALC,
        "tools",
        replace={
            "class CalculatorTool(BaseTool):\n": "class CalculatorTool(BaseTool):\n    _shared: dict = {}\n",
            CALC_STATE: "self._instance_dict = CalculatorTool._shared  # every object sees the same dict",
        },
    ),
    Mutant(
        "calculator_release_forgets_nothing",
        CALC,
        "tools",
        replace={CALC_RELEASE: "        return None\n\n\nclass Gsm8kAnswerTool"},
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
        replace={
            'parameters.get("expression") if isinstance(parameters, dict) else None': 'parameters["expression"]',
        },
    ),
    Mutant(
        "gsm8k_strict_rule",
        GSM,
        "tools",
        replace={'method="flexible", format_score=0.0': 'method="strict", format_score=0.0'},
    ),
    Mutant(
        "gsm8k_state_on_the_class",
        GSM,
        "tools",
        replace={
            "class Gsm8kAnswerTool(BaseTool):\n": "class Gsm8kAnswerTool(BaseTool):\n    _shared: dict = {}\n",
            "self._instance_dict: dict[str, dict[str, Any]] = {}\n": "self._instance_dict = Gsm8kAnswerTool._shared\n",
        },
    ),
    Mutant(
        "gsm8k_ignores_create_kwargs",
        GSM,
        "tools",
        replace={
            "        if ground_truth is None:  # verl's ToolAgentLoop passes create(create_kwargs={...})\n"
            '            ground_truth = (kwargs.get("create_kwargs") or {}).get("ground_truth")\n': "",
        },
    ),
    # only what verl's ToolAgentLoop passes (create_kwargs): the ground_truth keyword is dropped
    Mutant(
        "gsm8k_ground_truth_only_from_create_kwargs",
        GSM,
        "tools",
        replace={
            "        if ground_truth is None:  # verl's ToolAgentLoop passes create(create_kwargs={...})\n"
            '            ground_truth = (kwargs.get("create_kwargs") or {}).get("ground_truth")\n': (
                '        ground_truth = (kwargs.get("create_kwargs") or {}).get("ground_truth")\n'
            ),
        },
    ),
    # a name of its own: verl's GSM8K datasets key tools_kwargs by calc_gsm8k_reward
    Mutant("gsm8k_tool_named_after_the_class", GSM, "tools",
           replace={'"name": "calc_gsm8k_reward",': '"name": "gsm8k_answer_tool",'}),
    Mutant("gsm8k_no_penalty", GSM, "tools", replace={GSM_RETURN: GSM_RETURN.replace("tool_reward", "0.0")}),
    Mutant(
        "gsm8k_penalty_against_zero_not_best",
        GSM,
        "tools",
        replace={
            'tool_reward = 0.0 if reward > state["reward"] else -0.05': "tool_reward = 0.0 if reward > 0 else -0.05",
        },
    ),
    Mutant(
        "gsm8k_penalty_against_best_not_previous",
        GSM,
        "tools",
        replace={
            'state["reward"] = reward\n': 'state["reward"] = max(reward, state["reward"])  # verl keeps the latest\n',
        },
    ),
    Mutant(
        "gsm8k_answer_not_stringified",
        GSM,
        "tools",
        replace={
            "        if not isinstance(answer, str):\n            answer = str(answer)\n": "",
            'answer if answer.startswith("#### ")': 'answer if str(answer).startswith("#### ")',  # TypeError on ints
        },
    ),
    # the answer declared a number: the model is told to send 72, not "#### 72"
    Mutant(
        "gsm8k_answer_declared_a_number",
        GSM,
        "tools",
        replace={'"answer": {"type": "string"': '"answer": {"type": "number"'},
    ),
    # the state holds only what execute sets: calc_reward before the first submission raises KeyError
    Mutant(
        "gsm8k_state_without_a_response",
        GSM,
        "tools",
        replace={'{"response": "", "ground_truth": ground_truth, "reward": 0.0}': (
            '{"ground_truth": ground_truth, "reward": 0.0}'
        )},
    ),
    # a missing answer read as None: the model is shown answer='None'
    Mutant(
        "gsm8k_missing_answer_is_none",
        GSM,
        "tools",
        replace={'answer = parameters.get("answer", "")': 'answer = parameters.get("answer")'},
    ),
    Mutant(
        "gsm8k_release_forgets_nothing",
        GSM,
        "tools",
        replace={GSM_RELEASE: GSM_RELEASE.replace("self._instance_dict.pop(instance_id, None)", "return None")},
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
