"""Reference tools agree with Python's arithmetic and verl 0.9.1's GSM8K rule on seeded random inputs."""

import asyncio
import math
import random

import pytest

from verlings.paths import SOLUTIONS
from verlings.target import load_module

ref = load_module("05", "tools", root=SOLUTIONS)
from verl.utils.reward_score import gsm8k  # noqa: E402 - verl is required for meta-tests


def _random_expression(rng: random.Random, depth: int = 0) -> str:
    if depth > 3 or rng.random() < 0.3:
        return rng.choice([str(rng.randint(0, 99)), f"{rng.uniform(0, 50):.2f}", str(rng.randint(1, 9))])
    op = rng.choice(["+", "-", "*", "/", "//", "%", "**"])
    left, right = _random_expression(rng, depth + 1), _random_expression(rng, depth + 1)
    if op == "**":
        right = str(rng.randint(-3, 4))
    text = f"{left} {op} {right}"
    return f"-({text})" if rng.random() < 0.2 else f"({text})"


def _expected(expression: str) -> str:
    # The meta-test may use eval: the expressions are generated here, not written by a model.
    try:
        value = eval(expression, {"__builtins__": {}}, {})
    except ZeroDivisionError:
        return "Error"
    if isinstance(value, complex) or (isinstance(value, float) and not math.isfinite(value)):
        return "Error"
    if abs(value) > ref.MAX_ABS:
        return "Error"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


@pytest.mark.parametrize("seed", range(6))
def test_calculate_agrees_with_python_arithmetic(seed):
    rng = random.Random(seed)
    for _ in range(300):
        expression = _random_expression(rng)
        expected, seen = _expected(expression), ref.calculate(expression)
        if expected == "Error":
            assert seen.startswith("Error"), (expression, seen)
        else:
            assert seen == expected, expression


@pytest.mark.parametrize("seed", range(4))
def test_answer_tool_reward_is_verls_gsm8k_rule(seed):
    from verlings.fixtures.gsm8k import noisy_completions

    async def run():
        tool = ref.Gsm8kAnswerTool()
        for case in noisy_completions(80, seed=seed):
            iid, _ = await tool.create(create_kwargs={"ground_truth": case["ground_truth"]})
            answer = case["solution_str"]
            await tool.execute(iid, {"answer": answer})
            response = answer if answer.startswith("#### ") else "#### " + answer
            expected = gsm8k.compute_score(response, case["ground_truth"], method="flexible", format_score=0.0)
            assert await tool.calc_reward(iid) == expected, (answer[-80:], case["ground_truth"])
            await tool.release(iid)
        assert tool._instance_dict == {}

    asyncio.run(run())
