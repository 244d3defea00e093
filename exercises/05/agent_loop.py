"""A token-based multi-turn tool agent — verl's ToolAgentLoop, rebuilt.

Lesson: exercises/05/README.md §3 (中文: README.zh-CN.md §3).
Mirrors verl 0.9.1 ``verl/experimental/agent_loop/tool_agent_loop.py::ToolAgentLoop`` and
the Qwen Continuous Token builder of ``verl/utils/tokenizer/continuous_token.py``.

The loop never sends text to the rollout engine and never re-tokenises what the model
wrote. It keeps one growing list of token ids::

    prompt_ids   = chat template of the messages (with the tools), rendered ONCE
    response     = [model turn 1 | tool turn 1 | model turn 2 | tool turn 2 | model turn 3]
    response_mask=  1 1 ... 1     0 0 ... 0     1 1 ... 1     0 0 ... 0     1 ... 1
    logprobs     =  engine's      0.0 ...       engine's      0.0 ...       engine's

Each generation gets ``prompt_ids + response`` so far. The model is trained on exactly the
ids it sampled (mask 1, with the log-probs the engine reported); tool answers and template
tokens are context only (mask 0, log-prob 0).

Shapes here are Python lists: ``response_length`` is the budget of the whole response
(model and tool tokens together), not of one turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopOutput, register
from verl.experimental.agent_loop.tool_parser import HermesToolParser

AGENT_NAME = "verlings_tool_agent"  # the course's name in verl's agent-loop registry
DEFAULT_MAX_TURNS = 8  # gsm8k_episode's default; in training max_assistant_turns null means no limit
GSM8K_TOOL = "calc_gsm8k_reward"


# --- given: plumbing, not the lesson ---------------------------------------------------------


def chat_ids(
    tokenizer: Any, messages: Sequence[dict], *, tools: list[dict] | None = None, add_generation_prompt: bool = False
) -> list[int]:
    """``tokenizer.apply_chat_template(..., tokenize=True)`` as a plain ``list[int]``.

    transformers 5 returns a ``BatchEncoding`` from ``apply_chat_template(tokenize=True)``;
    this unwraps it (what verl's ``normalize_token_ids`` does).
    """
    ids = tokenizer.apply_chat_template(
        list(messages), tools=tools or None, add_generation_prompt=add_generation_prompt, tokenize=True
    )
    if hasattr(ids, "keys") and "input_ids" in ids:
        ids = ids["input_ids"]
    return [int(t) for t in ids]


async def parse_tool_calls(tokenizer: Any, token_ids: list[int]) -> tuple[str, list[dict[str, str]]]:
    """verl's Hermes parser on one model turn: ``(content, [{"name": str, "arguments": json_str}, ...])``.

    The same results as your ``parse_hermes(tokenizer.decode(token_ids))`` from §1.2.
    """
    content, calls = await HermesToolParser(tokenizer).extract_tool_calls(list(token_ids))
    return content, [{"name": c.name, "arguments": c.arguments} for c in calls]


def turn_separator(tokenizer: Any) -> list[int]:
    """The ids of ``"\\n"``: the template writes ``<|im_end|>\\n`` after a turn, the model stops at ``<|im_end|>``."""
    return list(tokenizer.encode("\n", add_special_tokens=False))


# --- exercises -------------------------------------------------------------------------------


def tool_response_delta(tokenizer: Any, tool_messages: list[dict], tools: list[dict] | None = None) -> list[int]:
    """The token ids a tool turn appends to a running trajectory (verl's "delta").

    After the model's tool-calling turn, the tool answers come back as ``{"role": "tool",
    "content": text}`` messages. Their tokens, plus the generation prompt of the next
    assistant turn, are what the chat template would add to the conversation — computed
    without re-rendering the conversation itself (the model's own tokens must stay exactly as
    sampled). This is verl's ``ContinuousTokenBuilder.render_delta_token_id``.

    Args:
        tokenizer: the course tokenizer (ChatML template).
        tool_messages: one or more ``{"role": "tool", "content": str}``, in call order.
        tools: the tool schemas (OpenAI dicts) the prompt was rendered with, or ``None``.

    Returns:
        ``list[int]``; with the course template, for ``[{"role": "tool", "content": "42"}]`` the ids of
        ``"<|im_start|>user\\n<tool_response>\\n42\\n</tool_response><|im_end|>\\n<|im_start|>assistant\\n"``.
        Consecutive tool messages share one ``user`` turn. The ``"\\n"`` that follows the
        model's own ``<|im_end|>`` is *not* part of it (see ``run_agent``).
    """
    # TODO: your implementation (stuck? `python grader.py hint 05.tool_delta`).
    raise NotImplementedError("implement tool_response_delta — see exercises/05/README.md §3.2")


async def run_agent(
    server: Any,
    tokenizer: Any,
    messages: list[dict],
    tools: Sequence[Any],
    sampling_params: dict[str, Any],
    max_turns: int | None,
    response_length: int,
    *,
    tools_kwargs: dict[str, dict] | None = None,
) -> AgentLoopOutput:
    """Roll out one multi-turn tool-calling trajectory on token ids, the way verl's ToolAgentLoop does.

    Args:
        server: anything with verl's server-client method ``await server.generate(request_id=...,
            prompt_ids=list[int], sampling_params=dict)`` returning a ``TokenOutput`` (``.token_ids``,
            ``.log_probs``) — in training ``LLMServerClient``, in the tests a scripted server.
        tokenizer: the course tokenizer (``tokenizer.eos_token_id`` is ``<|im_end|>``).
        messages: the chat so far (system/user), e.g. a dataset row's ``prompt``.
        tools: verl ``BaseTool`` objects (``.name``, ``.tool_schema``, async lifecycle methods).
        sampling_params: passed to every ``generate`` call unchanged.
        max_turns: the most model generations (verl's ``max_assistant_turns``); ``None`` (verl's
            default, ``max_assistant_turns: null``) or 0 means no limit, as in verl.
        response_length: the budget of the whole response (model + tool tokens).
        tools_kwargs: ``{tool_name: {"create_kwargs": {...}}}`` from the dataset row; a tool with
            no entry gets ``create_kwargs={}``.

    Returns:
        ``AgentLoopOutput`` with

        * ``prompt_ids``: the chat template of ``messages`` with the tool schemas
          (``tool_schema.model_dump(exclude_unset=True, exclude_none=True)`` of each tool, in
          order) and the generation prompt — the only time anything is templated from messages;
        * ``response_ids`` / ``response_mask`` / ``response_logprobs``: the model's tokens exactly
          as generated (mask 1, the server's log-probs), and between them the tool turns (mask 0,
          log-prob 0.0); the three lists are cut together at ``response_length``;
        * ``num_turns``: the number of model generations plus the number of tool turns
          appended, plus one; ``metrics={}``;
        * ``extra_fields``: ``"turn_scores": []``, ``"tool_rewards"`` (every call's step reward,
          in order) and ``"tool_scores"`` (``{tool name: calc_reward(...)}`` at the end).

    Conventions (verl's ToolAgentLoop):

    * one ``request_id`` for every ``generate`` call of the trajectory (the server keeps the
      KV cache of the shared prefix); each call's prompt is ``prompt_ids`` + the response so
      far; ``sampling_params`` unchanged;
    * one instance per tool, created with its ``create_kwargs``; every created instance is
      released at the end — also when the server or a tool raised (a server error propagates);
    * the loop stops after ``max_turns`` generations (never, when ``max_turns`` is ``None``),
      when the response has reached ``response_length`` (``len(response) >= response_length``
      right after a generation: its tool calls are not run), when a model turn has no tool
      call (``parse_tool_calls``), or when the next tool turn would not fit
      (``len(response) + len(turn) >= response_length``: it is not appended — a tool answer
      the model could never read);
    * the calls of one turn run **concurrently**, results in call order. Arguments are the
      call's JSON-decoded ``"arguments"``. Unknown name → text
      ``f"Unknown function '{name}'. Available tools: {names}"`` (the list of tool names, in
      ``tools`` order); a tool that raises → ``f"Error executing tool '{name}': {exc}"``; both
      with reward 0.0. Otherwise the response's text (``""`` when ``None``) and its reward;
    * a tool turn is :func:`tool_response_delta` of the turn's tool messages, preceded by
      :func:`turn_separator` when the response so far ends with ``tokenizer.eos_token_id``
      (verl's Qwen builder: the template has ``<|im_end|>\n``).

    Example (one tool call, then an answer: 30 + 15 + 8 tokens):
        response_mask = [1] * 30 + [0] * 15 + [1] * 8
        # model:  'Let me check.\\n<tool_call>\\n{"name": "echo", ...}\\n</tool_call><|im_end|>'
        # tool:   '\\n<|im_start|>user\\n<tool_response>\\n42\\n</tool_response><|im_end|>\\n<|im_start|>assistant\\n'
        # model:  'The answer is 42.<|im_end|>'
    """
    # TODO: your implementation (stuck? `python grader.py hint 05.run_agent`).
    raise NotImplementedError("implement run_agent — see exercises/05/README.md §3.3")


class ToolAgentLoop(AgentLoopBase):
    """The course's agent loop inside verl: ``AgentLoopBase`` subclass registered as ``AGENT_NAME``.

    verl's ``AgentLoopWorker`` builds it from the registry with
    ``hydra.utils.instantiate({"_target_": "<module>.ToolAgentLoop"}, trainer_config=DictConfigWrap(config),
    server_manager=..., tokenizer=..., processor=..., hf_model_type=..., dataset_cls=..., data_config=...,
    tools=ToolListWrap(tools))`` and awaits ``run(sampling_params, raw_prompt=..., tools_kwargs=..., ...)``
    with the dataset row's fields as keywords.

    * Register it: decorate the class with ``@register(AGENT_NAME)`` (verl's decorator: it
      stores ``{"_target_": "<module>.<class>"}`` under that name).
    * ``__init__(self, *args, tools=None, **kwargs)``: ``super().__init__(*args, **kwargs)`` (it sets
      ``self.server_manager``, ``self.tokenizer``, ``self.rollout_config`` = ``config.actor_rollout_ref.rollout``);
      keep ``tools.tools`` (a ``ToolListWrap``; ``[]`` when ``None``);
      ``max_turns = rollout_config.multi_turn.max_assistant_turns`` (``None``, verl's default:
      no limit, as in verl's ToolAgentLoop);
      ``response_length = rollout_config.response_length``.
    * ``async run(self, sampling_params, **kwargs) -> AgentLoopOutput``: ``run_agent`` on the
      row's ``raw_prompt`` (as a list) with the row's ``tools_kwargs`` (``{}`` when missing or ``None``).
    """

    def __init__(self, *args: Any, tools: Any = None, **kwargs: Any) -> None:
        # TODO: your implementation (stuck? `python grader.py hint 05.agent_registry`).
        raise NotImplementedError("implement ToolAgentLoop.__init__ — see exercises/05/README.md §3.4")

    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput:
        # TODO: your implementation (stuck? `python grader.py hint 05.agent_registry`).
        raise NotImplementedError("implement ToolAgentLoop.run — see exercises/05/README.md §3.4")


async def gsm8k_episode(
    server: Any,
    tokenizer: Any,
    row: dict,
    tools: Sequence[Any],
    *,
    sampling_params: dict[str, Any] | None = None,
    max_turns: int = DEFAULT_MAX_TURNS,
    response_length: int = 1024,
) -> AgentLoopOutput:
    """One GSM8K tool-agent trajectory from a verl dataset row, scored by the answer tool.

    Args:
        row: a ``tool``-style GSM8K row (chapter 02): ``row["prompt"]`` (messages) and the tools'
            kwargs in ``row["tools_kwargs"]`` (as ``RLHFDataset`` lifts them) or else in
            ``row["extra_info"]["tools_kwargs"]`` (as stored in the parquet file), e.g.
            ``{"calc_gsm8k_reward": {"create_kwargs": {"ground_truth": "72"}}}``.
        tools: e.g. ``[CalculatorTool(...), Gsm8kAnswerTool(...)]``.
        sampling_params: ``None`` means ``{"temperature": 1.0, "logprobs": True}``.

    Returns:
        ``run_agent``'s output with ``reward_score`` set to the answer tool's ``calc_reward``
        (``extra_fields["tool_scores"]["calc_gsm8k_reward"]`` as a float; 0.0 without that tool).
        verl turns ``reward_score`` into ``rm_scores`` on the last response token.
    """
    # TODO: your implementation (stuck? `python grader.py hint 05.gsm8k_agent`).
    raise NotImplementedError("implement gsm8k_episode — see exercises/05/README.md §5.1")
