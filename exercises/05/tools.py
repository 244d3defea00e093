"""Two stateful verl tools: a safe calculator and the GSM8K answer checker.

Lesson: exercises/05/README.md §2 (中文: README.zh-CN.md §2).
Mirrors verl 0.9.1 ``verl/tools/base_tool.py::BaseTool`` and verl's former
``verl/tools/gsm8k_tool.py`` (removed from verl; re-done here).

A verl tool is a ``BaseTool`` subclass with a four-step lifecycle, all ``async``::

    instance_id, _ = await tool.create(create_kwargs={...})      # per trajectory (or per call)
    response, step_reward, metrics = await tool.execute(instance_id, {"expression": "48/2"})
    reward = await tool.calc_reward(instance_id)                  # from the instance's state
    await tool.release(instance_id)                               # always, even after an error

One tool *object* serves many trajectories at once, so everything that belongs to one
trajectory lives under its ``instance_id``: in ``self._instance_dict`` (a dict created in
``__init__``, keyed by instance id, as verl's tools do). ``release`` deletes the entry;
two tool objects never share state (no class-level dict!).

``BaseTool.__init__(config, tool_schema)`` takes the schema from the tool config; when it is
``None`` it calls ``self.get_openai_tool_schema()`` — before ``self.tool_schema`` exists —
so each tool returns its own default schema there. verl builds tools from a YAML file as
``cls(config=..., tool_schema=...)``.

The model's arguments are untrusted: a tool answers a bad call with an error *message*
(the model can read it and try again); it never raises for a mistake of the model.
"""

from __future__ import annotations

from typing import Any

from verl.tools.base_tool import BaseTool
from verl.tools.schemas import OpenAIFunctionToolSchema, ToolResponse

MAX_EXPRESSION_CHARS = 200  # longer expressions are refused
MAX_EXPONENT = 100  # |exponent| of ** is at most this
MAX_ABS = 10**30  # every number (literal or intermediate result) is at most this in absolute value


def calculate(expression: Any) -> str:
    """Evaluate plain arithmetic safely; the text a calculator tool answers with.

    Allowed: int and float literals (not ``True``/``False``), ``+ - * / // % **``, unary
    minus (and plus), parentheses — Python's own precedence and semantics (``-7 // 2 == -4``,
    ``-3**2 == -9``). Walk the tree of ``ast.parse(expression, mode="eval")`` and compute
    only those nodes. **Never** ``eval``/``exec``: ``eval("__import__('os').system(...)")``
    runs whatever the model wrote.

    Bounds (the model may write ``9**9**9**9``): expression at most ``MAX_EXPRESSION_CHARS``
    characters; ``|exponent| <= MAX_EXPONENT``; every literal and intermediate result
    ``|x| <= MAX_ABS``, finite and real (``(-8)**0.5`` is complex: refused).

    Returns:
        The result as text: an int as ``str(n)``; a float that is a whole number as an int
        (``"6/3"`` → ``"2"``); any other float with ``repr`` (``"7/2"`` → ``"3.5"``).
        Anything else — not a string, syntax error, a name, a call, an attribute, a string
        literal, division by zero, out of bounds — gives a text starting with ``"Error:"``;
        this function never raises.

    Example:
        >>> calculate("(48 + 24) / 2"), calculate("2**-1"), calculate("abs(-3)")[:6]
        ('36', '0.5', 'Error:')
    """
    # TODO: your implementation (stuck? `python grader.py hint 05.calculator`).
    raise NotImplementedError("implement calculate — see exercises/05/README.md §2.2")


class CalculatorTool(BaseTool):
    """A verl tool named ``calculator`` with one string parameter ``expression``.

    * ``get_openai_tool_schema()``: ``{"type": "function", "function": {"name": "calculator",
      "description": ..., "parameters": {"type": "object", "properties": {"expression":
      {"type": "string", ...}}, "required": ["expression"]}}}`` as an
      ``OpenAIFunctionToolSchema`` (``OpenAIFunctionToolSchema.model_validate(dict)``).
    * ``create(instance_id=None, **kwargs) -> (instance_id, ToolResponse())``: a new id
      (``str(uuid4())``) when none is given; an entry in ``self._instance_dict``.
    * ``execute(instance_id, parameters, **kwargs)`` returns a ``ToolResponse`` whose text is
      :func:`calculate` of ``parameters["expression"]``, a step reward of ``0.0`` and an empty
      metrics dict; a missing or non-string expression is an ``"Error: ..."`` answer too.
    * ``calc_reward(instance_id, **kwargs) -> 0.0`` (a calculator earns nothing by itself).
    * ``release(instance_id, **kwargs) -> None``: forget the instance.

    Example:
        >>> tool = CalculatorTool(config={}, tool_schema=None)
        >>> iid, _ = await tool.create()
        >>> (await tool.execute(iid, {"expression": "48/2"}))[0].text
        '24'
    """

    def __init__(self, config: dict | None = None, tool_schema: OpenAIFunctionToolSchema | None = None) -> None:
        self._instance_dict: dict[str, dict[str, Any]] = {}  # per object, keyed by instance id
        super().__init__(config or {}, tool_schema)

    def get_openai_tool_schema(self) -> OpenAIFunctionToolSchema:
        # TODO: your implementation (stuck? `python grader.py hint 05.calculator`).
        raise NotImplementedError("implement CalculatorTool.get_openai_tool_schema — see exercises/05/README.md §2.2")

    async def create(self, instance_id: str | None = None, **kwargs: Any) -> tuple[str, ToolResponse]:
        # TODO: your implementation (stuck? `python grader.py hint 05.calculator`).
        raise NotImplementedError("implement CalculatorTool.create — see exercises/05/README.md §2.2")

    async def execute(
        self, instance_id: str, parameters: dict[str, Any], **kwargs: Any
    ) -> tuple[ToolResponse, float, dict]:
        # TODO: your implementation (stuck? `python grader.py hint 05.calculator`).
        raise NotImplementedError("implement CalculatorTool.execute — see exercises/05/README.md §2.2")

    async def calc_reward(self, instance_id: str, **kwargs: Any) -> float:
        # TODO: your implementation (stuck? `python grader.py hint 05.calculator`).
        raise NotImplementedError("implement CalculatorTool.calc_reward — see exercises/05/README.md §2.2")

    async def release(self, instance_id: str, **kwargs: Any) -> None:
        # TODO: your implementation (stuck? `python grader.py hint 05.calculator`).
        raise NotImplementedError("implement CalculatorTool.release — see exercises/05/README.md §2.2")


class Gsm8kAnswerTool(BaseTool):
    """verl's GSM8K tool, re-done: the model submits an answer, the tool scores it.

    * schema: name ``calc_gsm8k_reward``, one string parameter ``answer``, required.
    * ``create(instance_id=None, ground_truth=None, **kwargs)``: the ground truth comes from the
      ``ground_truth`` keyword or, as verl's ``ToolAgentLoop`` passes it, from
      ``kwargs["create_kwargs"]["ground_truth"]`` (the dataset row's
      ``extra_info.tools_kwargs.calc_gsm8k_reward.create_kwargs``). State:
      ``{"response": "", "ground_truth": ..., "reward": 0.0}``. Returns ``(instance_id, ToolResponse())``.
    * ``execute(instance_id, parameters)``: the answer is ``parameters["answer"]`` (``""`` when
      missing, ``str()`` of a non-string); the stored response is the answer if it starts with
      ``"#### "``, else ``"#### "`` + the answer. Its reward is :meth:`calc_reward` of the new
      response. The step reward is ``0.0`` if that reward beats the reward stored by the
      previous submission (``0.0`` before the first), else ``-0.05`` (submitting without
      improving costs a little); then the new reward is stored (the latest, not the best:
      answers 72, 5, 72 for truth 72 give steps 0.0, -0.05, 0.0). Returns a ``ToolResponse``
      with the text ``f"Current parsed {answer=} {reward=}"``, the step reward and ``{}``.
    * ``calc_reward(instance_id)``: verl's GSM8K rule on the stored response,
      ``verl.utils.reward_score.gsm8k.compute_score`` in its ``"flexible"`` mode, 1.0 for a
      right answer and 0.0 otherwise, format included (the last number in the text must equal
      the ground truth).
    * ``release(instance_id)``: forget the instance.

    Example (ground truth "72"):
        >>> iid, _ = await tool.create(create_kwargs={"ground_truth": "72"})
        >>> r, step, _ = await tool.execute(iid, {"answer": "72"}); r.text, step
        ("Current parsed answer='72' reward=1.0", 0.0)
        >>> (await tool.execute(iid, {"answer": "72"}))[1]        # no improvement
        -0.05
    """

    def __init__(self, config: dict | None = None, tool_schema: OpenAIFunctionToolSchema | None = None) -> None:
        self._instance_dict: dict[str, dict[str, Any]] = {}
        super().__init__(config or {}, tool_schema)

    def get_openai_tool_schema(self) -> OpenAIFunctionToolSchema:
        # TODO: your implementation (stuck? `python grader.py hint 05.gsm8k_tool`).
        raise NotImplementedError("implement Gsm8kAnswerTool.get_openai_tool_schema — see exercises/05/README.md §2.3")

    async def create(
        self, instance_id: str | None = None, ground_truth: str | None = None, **kwargs: Any
    ) -> tuple[str, ToolResponse]:
        # TODO: your implementation (stuck? `python grader.py hint 05.gsm8k_tool`).
        raise NotImplementedError("implement Gsm8kAnswerTool.create — see exercises/05/README.md §2.3")

    async def execute(
        self, instance_id: str, parameters: dict[str, Any], **kwargs: Any
    ) -> tuple[ToolResponse, float, dict]:
        # TODO: your implementation (stuck? `python grader.py hint 05.gsm8k_tool`).
        raise NotImplementedError("implement Gsm8kAnswerTool.execute — see exercises/05/README.md §2.3")

    async def calc_reward(self, instance_id: str, **kwargs: Any) -> float:
        # TODO: your implementation (stuck? `python grader.py hint 05.gsm8k_tool`).
        raise NotImplementedError("implement Gsm8kAnswerTool.calc_reward — see exercises/05/README.md §2.3")

    async def release(self, instance_id: str, **kwargs: Any) -> None:
        # TODO: your implementation (stuck? `python grader.py hint 05.gsm8k_tool`).
        raise NotImplementedError("implement Gsm8kAnswerTool.release — see exercises/05/README.md §2.3")
