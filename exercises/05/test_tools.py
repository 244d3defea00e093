"""Graded tests for exercises/05/tools.py: CalculatorTool and Gsm8kAnswerTool, alone and inside verl.

Expected values are worked by hand (Python's arithmetic, verl's GSM8K rule); the integration
tests run verl's own ToolAgentLoop and tool loader on your classes.
"""

import builtins
import os

import pytest

from verlings import learner_module
from verlings.fixtures.scripted_server import Completion, tool_call
from verlings.testing import assert_equal, hint_line

tools = learner_module("05", "tools")
CALC, GSM = "05.calculator", "05.gsm8k_tool"

# The first test to touch verl pays its import (several seconds, more on a busy machine).
pytestmark = pytest.mark.timeout(240)


def _calculator():
    return tools.CalculatorTool(config={}, tool_schema=None)


def _answer_tool():
    return tools.Gsm8kAnswerTool(config={}, tool_schema=None)


async def _calc(expression):
    tool = _calculator()
    instance_id, _ = await tool.create()
    try:
        response, reward, metrics = await tool.execute(instance_id, {"expression": expression})
    finally:
        await tool.release(instance_id)
    return response, reward, metrics


# --- calculator ------------------------------------------------------------------------------


@pytest.mark.exercise(CALC)
def test_calculator_schema():
    tool = _calculator()
    assert_equal(tool.name, "calculator", what="CalculatorTool().name",
                 why="BaseTool takes the name from the schema get_openai_tool_schema() returns")
    fn = tool.tool_schema.function
    assert_equal(sorted(fn.parameters.properties), ["expression"], what="schema parameters")
    assert_equal(fn.parameters.properties["expression"].type, "string", what="type of 'expression'")
    assert_equal(fn.parameters.required, ["expression"], what="required parameters")


# (expression, expected text) — Python's own arithmetic, worked by hand.
ARITHMETIC = [
    ("2+3*4", "14"),  # * before +
    ("(2+3)*4", "20"),
    ("(48 + 24) / 2", "36"),  # 72 / 2 = 36.0, a whole float → "36"
    ("7/2", "3.5"),  # true division
    ("6/3", "2"),  # 2.0 → "2"
    ("7//2", "3"),
    ("-7//2", "-4"),  # floor division rounds toward -inf
    ("7 % 3", "1"),
    ("-7 % 3", "2"),  # Python's % takes the sign of the divisor
    ("2**10", "1024"),
    ("-3**2", "-9"),  # ** binds tighter than unary minus: -(3**2)
    ("2**-1", "0.5"),
    ("--5", "5"),
    ("1.5*4", "6"),  # 6.0 → "6"
    ("0.1+0.2", "0.30000000000000004"),  # repr of the float, not rounded
    ("1e3", "1000"),
    ("2**99", "633825300114114700748351602688"),  # 6.3e29 < MAX_ABS = 1e30: an exact int
    ("  48 / 2  ", "24"),  # surrounding spaces are ignored (ast.parse alone raises IndentationError)
]


@pytest.mark.exercise(CALC)
@pytest.mark.parametrize(("expression", "expected"), ARITHMETIC, ids=[a for a, _ in ARITHMETIC])
async def test_calculator_arithmetic(expression, expected):
    response, reward, metrics = await _calc(expression)
    assert_equal(response.text, expected, what=f"calculator({expression!r})",
                 why="Python's semantics; a whole float prints as an int, any other float with repr()")
    assert_equal(reward, 0.0, what="step reward")
    assert_equal(metrics, {}, what="metrics")


REFUSED = [
    ("abs(-3)", "a function call"),
    ("x + 1", "a name"),
    ("'a' * 3", "a string literal"),
    ("[1, 2][0]", "a list and a subscript"),
    ("(1).real", "an attribute"),
    ("True + 1", "a bool is not a number here (type(True) is bool, a subclass of int)"),
    ("1 if 1 else 2", "a conditional expression"),
    ("1 < 2", "a comparison"),
    ("6 & 3", "a bitwise operator"),
    ("not 1", "a boolean operator"),
    ("lambda: 1", "a lambda"),
    ("2 +", "a syntax error"),
    ("", "an empty expression"),
    ("1/0", "division by zero"),
    ("5 % 0", "modulo by zero"),
    ("2**1000", "an exponent above MAX_EXPONENT = 100"),
    ("10**40", "a result above MAX_ABS = 1e30"),
    ("10**20 * 10**20", "an intermediate result above MAX_ABS"),
    ("1" * 31, "a literal above MAX_ABS"),
    ("(-8)**0.5", "a complex result"),
    ("1+" * 100 + "1", "more than MAX_EXPRESSION_CHARS = 200 characters"),
]


@pytest.mark.exercise(CALC)
@pytest.mark.parametrize(("expression", "what"), REFUSED, ids=[w for _, w in REFUSED])
async def test_calculator_refuses_with_an_error_message(expression, what):
    response, reward, _ = await _calc(expression)
    text = response.text or ""
    assert text.startswith("Error"), (
        f"calculator({expression!r}) ({what}) answered {text!r}; expected a text starting with 'Error'"
        f"\n  a tool answers a bad call with a message the model can read — never a result, never an exception"
        f"\n" + hint_line()
    )
    assert_equal(reward, 0.0, what="step reward of a refused expression")


@pytest.mark.exercise(CALC)
@pytest.mark.parametrize("parameters", [{}, {"expression": 5}, {"expression": None}, {"expr": "1+1"}],
                         ids=["missing", "int", "none", "wrong-key"])
async def test_calculator_bad_parameters_are_answered(parameters):
    tool = _calculator()
    instance_id, _ = await tool.create()
    response, _, _ = await tool.execute(instance_id, parameters)
    assert (response.text or "").startswith("Error"), (
        f"execute(parameters={parameters!r}) answered {response.text!r}; expected 'Error: ...' (expression must be "
        f"a string)\n" + hint_line()
    )


@pytest.mark.exercise(CALC)
async def test_calculator_never_runs_code(monkeypatch):
    # eval/exec would run what the model wrote. They are switched off here; the calculator must not need them.
    def forbidden(*args, **kwargs):
        raise AssertionError("the calculator called eval()/exec(): never evaluate model output as Python")

    await _calc("1 + 1")  # import and warm up first: imports (dataclasses, pydantic) may exec legitimately
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.delenv("VERLINGS_CALCULATOR_PWNED", raising=False)
    response, _, _ = await _calc("(48 + 24) / 2")
    assert_equal(response.text, "36", what="calculator('(48 + 24) / 2') without eval",
                 why="walk ast.parse(expression, mode='eval') yourself: numbers and the arithmetic operators only")
    attack = "__import__('os').environ.__setitem__('VERLINGS_CALCULATOR_PWNED', '1')"
    response, _, _ = await _calc(attack)
    assert "VERLINGS_CALCULATOR_PWNED" not in os.environ, "the calculator ran the model's code (it set an env var)"
    assert (response.text or "").startswith("Error"), f"calculator({attack!r}) answered {response.text!r}"
    response, _, _ = await _calc("__import__('os').getpid()")
    assert str(os.getpid()) not in (response.text or ""), "the calculator ran __import__('os').getpid()"


@pytest.mark.exercise(CALC)
async def test_calculator_lifecycle_and_state():
    a, b = _calculator(), _calculator()
    id1, created = await a.create()
    assert isinstance(id1, str) and id1, f"create() returned instance id {id1!r}; expected a non-empty str"
    assert type(created).__name__ == "ToolResponse", f"create() returned {created!r} second; expected a ToolResponse"
    id2, _ = await a.create(instance_id="trajectory-7")
    assert_equal(id2, "trajectory-7", what="create(instance_id='trajectory-7')",
                 why="a given instance id is used as is")
    assert_equal(len(a._instance_dict), 2, what="len(tool._instance_dict) after two creates",
                 why="keep each instance's state in self._instance_dict, keyed by instance id")
    assert_equal(len(b._instance_dict), 0, what="another CalculatorTool's _instance_dict",
                 why="two tool objects never share state: create the dict in __init__, not on the class")
    assert_equal(await a.calc_reward(id1), 0.0, what="calc_reward")
    await a.release(id1)
    await a.release(id2)
    assert_equal(a._instance_dict, {}, what="_instance_dict after releasing everything",
                 why="release forgets the instance — a long run creates millions of them")


@pytest.mark.exercise(CALC)
def test_calculator_loads_with_verls_tool_config(tmp_path):
    from verl.tools.tool_registry import initialize_tools_from_config

    cls = tools.CalculatorTool
    config = tmp_path / "tools.yaml"
    config.write_text(
        f"tools:\n  - class_name: {cls.__module__}.{cls.__qualname__}\n    config:\n      type: native\n"
        "    tool_schema: null\n"
    )
    (tool,) = initialize_tools_from_config(str(config))
    assert_equal(tool.name, "calculator", what="the tool verl built from a YAML tool config",
                 why="verl calls cls(config=..., tool_schema=None): the default schema must come from "
                     "get_openai_tool_schema()")


async def _verl_tool_agent(server, tokenizer, tool_objects, tools_kwargs, response_length=256):
    import verl.experimental.agent_loop  # registers verl's "tool_agent"

    from verlings.fixtures.agent_loops import instantiate_agent_loop, verl_tool_agent_config

    loop = instantiate_agent_loop("tool_agent", server, tokenizer, tool_objects,
                                  verl_tool_agent_config(max_turns=6, response_length=response_length))
    messages = [{"role": "user", "content": "Natalia sold 48 clips in April and half as many in May. How many?"}]
    return await loop.run({"temperature": 1.0, "logprobs": True}, raw_prompt=messages, tools_kwargs=tools_kwargs)


def _tool_text(output, tokenizer) -> str:
    return tokenizer.decode([t for t, m in zip(output.response_ids, output.response_mask) if m == 0])


@pytest.mark.exercise(CALC)
async def test_calculator_inside_verls_tool_agent_loop(tokenizer):
    from verlings.fixtures.scripted_server import ScriptedLLMServer

    script = [Completion(tool_call("calculator", {"expression": "48/2"})), Completion("#### 72")]
    output = await _verl_tool_agent(ScriptedLLMServer(tokenizer, script), tokenizer, [_calculator()], {})
    text = _tool_text(output, tokenizer)
    assert "<tool_response>\n24\n</tool_response>" in text, (
        f"verl's ToolAgentLoop called your calculator with 48/2; the tool turn reads {text!r}"
        f"\n  verl calls create(create_kwargs={{...}}), execute(instance_id, {{'expression': '48/2'}}, agent_data=...),"
        f" release(instance_id)\n" + hint_line()
    )


# --- GSM8K answer tool -----------------------------------------------------------------------


@pytest.mark.exercise(GSM)
def test_gsm8k_tool_schema():
    tool = _answer_tool()
    assert_equal(tool.name, "calc_gsm8k_reward", what="Gsm8kAnswerTool().name",
                 why="verl's GSM8K recipes and datasets use this name (tools_kwargs are keyed by it)")
    fn = tool.tool_schema.function
    assert_equal(sorted(fn.parameters.properties), ["answer"], what="schema parameters")
    assert_equal(fn.parameters.required, ["answer"], what="required parameters")


# (ground truth, submitted answers, expected (text, step reward) per submission, final calc_reward)
# Worked by hand: the stored response is "#### " + answer; verl's flexible GSM8K rule takes the last
# number in it (commas kept) and compares the string with the ground truth; the step reward is 0.0 when
# the reward beats the PREVIOUS submission's reward (stored after each submission, 0.0 before the first),
# else -0.05 — verl's original GSM8K tool. 72, 71, 72: rewards 1, 0, 1; steps 0.0 (1 > 0), -0.05 (0 > 1 is
# false), 0.0 (1 > 0, the previous reward) — a best-so-far rule would give -0.05 on the third (1 > 1 is false).
SUBMISSIONS = [
    ("72", ["72"], [("Current parsed answer='72' reward=1.0", 0.0)], 1.0),
    ("72", ["72", "72"], [("Current parsed answer='72' reward=1.0", 0.0),
                          ("Current parsed answer='72' reward=1.0", -0.05)], 1.0),  # no improvement
    ("72", ["71", "72"], [("Current parsed answer='71' reward=0.0", -0.05),
                          ("Current parsed answer='72' reward=1.0", 0.0)], 1.0),
    ("72", ["72", "71"], [("Current parsed answer='72' reward=1.0", 0.0),
                          ("Current parsed answer='71' reward=0.0", -0.05)], 0.0),  # the last answer counts
    ("72", ["72", "71", "72"], [("Current parsed answer='72' reward=1.0", 0.0),
                                ("Current parsed answer='71' reward=0.0", -0.05),
                                ("Current parsed answer='72' reward=1.0", 0.0)], 1.0),  # vs the previous, not the best
    ("72", ["#### 72"], [("Current parsed answer='#### 72' reward=1.0", 0.0)], 1.0),  # already prefixed
    ("72", [72], [("Current parsed answer='72' reward=1.0", 0.0)], 1.0),  # a number: str() first
    ("72", ["The total is 48 + 24 = 72"], [("Current parsed answer='The total is 48 + 24 = 72' reward=1.0", 0.0)],
     1.0),  # flexible: the last number
    ("72", ["72 apples, not 71"], [("Current parsed answer='72 apples, not 71' reward=0.0", -0.05)], 0.0),
    ("1200", ["1,200"], [("Current parsed answer='1,200' reward=0.0", -0.05)], 0.0),  # verl keeps the comma
]


@pytest.mark.exercise(GSM)
@pytest.mark.parametrize(("truth", "answers", "expected", "final"), SUBMISSIONS,
                         ids=[f"{t}<-{'|'.join(map(str, a))}" for t, a, _, _ in SUBMISSIONS])
async def test_gsm8k_tool_scores_submissions(truth, answers, expected, final):
    tool = _answer_tool()
    instance_id, _ = await tool.create(create_kwargs={"ground_truth": truth})  # how verl's ToolAgentLoop calls it
    try:
        for answer, (text, step) in zip(answers, expected):
            response, step_reward, metrics = await tool.execute(instance_id, {"answer": answer})
            assert_equal(response.text, text, what=f"execute(answer={answer!r}).text (ground truth {truth!r})",
                         why="f\"Current parsed {answer=} {reward=}\" after '#### ' + answer is scored")
            assert_equal(step_reward, step, what=f"step reward of answer {answer!r} after {answers}",
                         why="0.0 if this reward beats the previous submission's reward (the stored one), else -0.05")
            assert_equal(metrics, {}, what="metrics")
        assert_equal(await tool.calc_reward(instance_id), final, what=f"calc_reward after {answers}",
                     why="verl's gsm8k.compute_score(response, ground_truth, method='flexible') on the last answer")
    finally:
        await tool.release(instance_id)


@pytest.mark.exercise(GSM)
async def test_gsm8k_tool_ground_truth_as_keyword():
    tool = _answer_tool()
    instance_id, _ = await tool.create(instance_id="row-3", ground_truth="5")
    assert_equal(instance_id, "row-3", what="create(instance_id='row-3', ground_truth='5')")
    response, _, _ = await tool.execute(instance_id, {"answer": "5"})
    assert_equal(response.text, "Current parsed answer='5' reward=1.0", what="execute after create(ground_truth=...)",
                 why="the ground truth comes from the keyword or from create_kwargs['ground_truth']")


@pytest.mark.exercise(GSM)
async def test_gsm8k_tool_instances_never_share_state():
    a, b = _answer_tool(), _answer_tool()
    # Same instance id on two tool objects, and two ids on one object, each with its own ground truth.
    await a.create(instance_id="t", create_kwargs={"ground_truth": "72"})
    await b.create(instance_id="t", create_kwargs={"ground_truth": "5"})
    await a.create(instance_id="u", create_kwargs={"ground_truth": "5"})
    await a.execute("t", {"answer": "72"})
    await b.execute("t", {"answer": "72"})
    await a.execute("u", {"answer": "5"})
    seen = (await a.calc_reward("t"), await b.calc_reward("t"), await a.calc_reward("u"))
    assert_equal(seen, (1.0, 0.0, 1.0), what="calc_reward of (object a 't', object b 't', object a 'u')",
                 why="state lives in self._instance_dict (made in __init__) under the instance id — a dict on the "
                     "class would be shared by every tool object")
    for tool, instance_id in ((a, "t"), (b, "t"), (a, "u")):
        await tool.release(instance_id)
    assert_equal((a._instance_dict, b._instance_dict), ({}, {}), what="_instance_dicts after release",
                 why="release deletes the instance's state")


@pytest.mark.exercise(GSM)
async def test_gsm8k_tool_inside_verls_tool_agent_loop(tokenizer):
    from verlings.fixtures.scripted_server import ScriptedLLMServer

    script = [Completion(tool_call("calc_gsm8k_reward", {"answer": "72"})), Completion("#### 72")]
    tools_kwargs = {"calc_gsm8k_reward": {"create_kwargs": {"ground_truth": "72"}}}
    output = await _verl_tool_agent(ScriptedLLMServer(tokenizer, script), tokenizer, [_answer_tool()], tools_kwargs)
    text = _tool_text(output, tokenizer)
    assert "Current parsed answer='72' reward=1.0" in text, (
        f"verl's ToolAgentLoop created your tool with create_kwargs={{'ground_truth': '72'}} and submitted 72; the "
        f"tool turn reads {text!r}\n" + hint_line()
    )
    assert_equal(output.extra_fields["tool_rewards"], [0.0], what="verl's tool_rewards",
                 why="the step reward of a first, correct submission is 0.0")


# --- the bounds are inclusive; the schemas' types (issue 24) ---------------------------------------------

# (expression, expected) at each bound, worked by hand: the contract says "at most" / "<=".
AT_THE_BOUNDS = [
    ("1+" * 99 + "10", "109"),  # exactly MAX_EXPRESSION_CHARS = 200 characters: 99 ones + 10 = 109
    ("0.5**100", repr(0.5**100)),  # |exponent| = MAX_EXPONENT = 100 is allowed: 7.888609052210118e-31
    ("10**30", "1" + "0" * 30),  # exactly MAX_ABS = 10**30 is allowed (|x| <= MAX_ABS)
]


@pytest.mark.exercise(CALC)
@pytest.mark.parametrize(("expression", "expected"), AT_THE_BOUNDS, ids=["200-chars", "exponent-100", "max-abs"])
async def test_calculator_bounds_are_inclusive(expression, expected):
    response, _, _ = await _calc(expression)
    assert_equal(response.text, expected, what=f"calculator({expression!r})",
                 why="the bounds are inclusive: at most MAX_EXPRESSION_CHARS characters, |exponent| <= MAX_EXPONENT, "
                     "|x| <= MAX_ABS")


@pytest.mark.exercise(CALC)
async def test_calculator_refuses_an_exponent_just_past_the_bound():
    response, _, _ = await _calc("0.5**101")  # 3.9e-31 is a small number, but 101 > MAX_EXPONENT = 100
    assert (response.text or "").startswith("Error"), (
        f"calculator('0.5**101') answered {response.text!r}; |exponent| must be <= MAX_EXPONENT = 100\n" + hint_line()
    )


@pytest.mark.exercise(CALC)
def test_calculator_schema_types():
    schema = _calculator().tool_schema
    seen = (schema.type, schema.function.parameters.type)
    assert_equal(seen, ("function", "object"), what="(schema type, parameters type) of the calculator",
                 why="an OpenAI function tool: {'type': 'function', ..., 'parameters': {'type': 'object', ...}}")


@pytest.mark.exercise(GSM)
def test_gsm8k_tool_schema_types():
    schema = _answer_tool().tool_schema
    seen = (schema.type, schema.function.parameters.type, schema.function.parameters.properties["answer"].type)
    assert_equal(seen, ("function", "object", "string"), what="(schema type, parameters type, 'answer' type)",
                 why="an OpenAI function tool with one string parameter 'answer'")



# --- the answer tool's stated state and defaults (issue 24) -------------------------------------------


@pytest.mark.exercise(GSM)
async def test_gsm8k_tool_state_after_create():
    tool = _answer_tool()
    instance_id, _ = await tool.create(create_kwargs={"ground_truth": "72"})
    try:
        state = tool._instance_dict.get(instance_id, {})
        seen = {key: state.get(key, "<missing>") for key in ("response", "ground_truth", "reward")}
        assert_equal(seen, {"response": "", "ground_truth": "72", "reward": 0.0},
                     what="tool._instance_dict[instance_id] right after create(create_kwargs={'ground_truth': '72'})",
                     why="the state starts as {'response': '', 'ground_truth': ..., 'reward': 0.0}")
        # verl's flexible rule finds no number in "": 0.0 (and no KeyError before the first submission)
        assert_equal(await tool.calc_reward(instance_id), 0.0, what="calc_reward before any submission",
                     why="calc_reward of an instance with no submission: the empty response scores 0")
    finally:
        await tool.release(instance_id)


@pytest.mark.exercise(GSM)
async def test_gsm8k_tool_missing_answer_is_empty():
    tool = _answer_tool()
    instance_id, _ = await tool.create(create_kwargs={"ground_truth": "72"})
    try:
        response, step, _ = await tool.execute(instance_id, {})
    finally:
        await tool.release(instance_id)
    # answer "" → response "#### " → no number → reward 0 (verl's rule returns an int 0 when it finds no
    # number, so the text's reward= part is left to the implementation), not above the stored 0.0 → step -0.05
    seen = ((response.text or "").split(" reward=")[0], step)
    assert_equal(seen, ("Current parsed answer=''", -0.05),
                 what="(text before ' reward=', step reward) of execute(instance_id, {}) (no 'answer' key)",
                 why="a missing answer is the empty string ''")
