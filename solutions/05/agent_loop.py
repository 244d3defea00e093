"""A token-based multi-turn tool agent loop (reference solution).

Mirrors verl 0.9.1 ``verl/experimental/agent_loop/tool_agent_loop.py::ToolAgentLoop`` with
the Qwen Continuous Token builder (``verl/utils/tokenizer/continuous_token.py``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any
from uuid import uuid4

from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopOutput, register
from verl.experimental.agent_loop.tool_parser import HermesToolParser

AGENT_NAME = "verlings_tool_agent"
DEFAULT_MAX_TURNS = 8
GSM8K_TOOL = "calc_gsm8k_reward"

# Any conversation that ends with an assistant tool call: the tool turn's tokens do not depend on it.
_DELTA_BASE = [
    {"role": "user", "content": "continuous token synthetic user"},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"type": "function", "function": {"name": "continuous_token_tool", "arguments": {}}}],
    },
]


def chat_ids(
    tokenizer: Any, messages: Sequence[dict], *, tools: list[dict] | None = None, add_generation_prompt: bool = False
) -> list[int]:
    ids = tokenizer.apply_chat_template(
        list(messages), tools=tools or None, add_generation_prompt=add_generation_prompt, tokenize=True
    )
    if hasattr(ids, "keys") and "input_ids" in ids:  # transformers 5 returns a BatchEncoding
        ids = ids["input_ids"]
    return [int(t) for t in ids]


async def parse_tool_calls(tokenizer: Any, token_ids: list[int]) -> tuple[str, list[dict[str, str]]]:
    content, calls = await HermesToolParser(tokenizer).extract_tool_calls(list(token_ids))
    return content, [{"name": c.name, "arguments": c.arguments} for c in calls]


def tool_response_delta(tokenizer: Any, tool_messages: list[dict], tools: list[dict] | None = None) -> list[int]:
    # Render a conversation with and without the tool messages and keep the token suffix —
    # the same suffix diff as verl's ContinuousTokenBuilder.render_delta_token_id.
    prefix = chat_ids(tokenizer, _DELTA_BASE, tools=tools)
    full = chat_ids(tokenizer, _DELTA_BASE + list(tool_messages), tools=tools, add_generation_prompt=True)
    if full[: len(prefix)] != prefix:
        raise ValueError("the chat template does not render tool messages as an append-only suffix")
    return full[len(prefix) :]


def turn_separator(tokenizer: Any) -> list[int]:
    # The template writes "<|im_end|>\n"; the model stops at <|im_end|>: the "\n" is ours to add.
    return list(tokenizer.encode("\n", add_special_tokens=False))


async def _call_tool(call: dict[str, str], tools: dict[str, Any], instances: dict[str, str]) -> tuple[str, float]:
    name = call["name"]
    if name not in tools:
        return f"Unknown function '{name}'. Available tools: {list(tools)}", 0.0
    try:
        arguments = json.loads(call["arguments"])
    except (json.JSONDecodeError, TypeError) as exc:
        return f"Invalid JSON in arguments for '{name}': {exc}", 0.0
    try:
        response, reward, _metrics = await tools[name].execute(instances[name], arguments)
    except Exception as exc:  # the model sees the failure and may recover; the rollout goes on
        return f"Error executing tool '{name}': {exc}", 0.0
    return response.text or "", reward


async def _run_tools(
    calls: list[dict[str, str]], tools: dict[str, Any], instances: dict[str, str]
) -> list[tuple[str, float]]:
    # Independent calls run concurrently; gather keeps the results in call order.
    return list(await asyncio.gather(*(_call_tool(c, tools, instances) for c in calls)))


async def _release_all(tools: dict[str, Any], instances: dict[str, str]) -> None:
    await asyncio.gather(*(tools[name].release(iid) for name, iid in instances.items()), return_exceptions=True)


async def run_agent(
    server: Any,
    tokenizer: Any,
    messages: list[dict],
    tools: Sequence[Any],
    sampling_params: dict[str, Any],
    max_turns: int,
    response_length: int,
    *,
    tools_kwargs: dict[str, dict] | None = None,
) -> AgentLoopOutput:
    by_name = {tool.name: tool for tool in tools}
    schemas = [tool.tool_schema.model_dump(exclude_unset=True, exclude_none=True) for tool in tools]
    tools_kwargs = tools_kwargs or {}
    request_id = uuid4().hex  # one id for every turn: the server keeps the prefix's KV cache
    # Templated once. From here on the context only grows by tokens: never re-templated.
    prompt_ids = chat_ids(tokenizer, messages, tools=schemas, add_generation_prompt=True)
    response_ids: list[int] = []
    response_mask: list[int] = []
    response_logprobs: list[float] = []
    tool_rewards: list[float] = []
    assistant_turns = tool_turns = 0
    instances: dict[str, str] = {}
    try:
        for name, tool in by_name.items():
            create_kwargs = tools_kwargs.get(name, {}).get("create_kwargs", {})
            instances[name], _ = await tool.create(create_kwargs=create_kwargs)
        while True:
            output = await server.generate(
                request_id=request_id, prompt_ids=prompt_ids + response_ids, sampling_params=sampling_params
            )
            assistant_turns += 1
            # The sampled ids themselves (never decode → re-encode), mask 1, the engine's log-probs.
            response_ids += output.token_ids
            response_mask += [1] * len(output.token_ids)
            response_logprobs += list(output.log_probs)
            # max_turns None (verl's max_assistant_turns: null, its default) or 0: no limit, as in verl.
            if len(response_mask) >= response_length or (max_turns and assistant_turns >= max_turns):
                break
            _content, calls = await parse_tool_calls(tokenizer, output.token_ids)
            if not calls:
                break
            results = await _run_tools(calls, by_name, instances)
            tool_rewards += [reward for _text, reward in results if reward is not None]
            delta = tool_response_delta(tokenizer, [{"role": "tool", "content": t} for t, _ in results], schemas)
            if response_ids and response_ids[-1] == tokenizer.eos_token_id:
                delta = turn_separator(tokenizer) + delta
            if len(response_mask) + len(delta) >= response_length:
                break  # as verl: a tool answer the model could never read is not appended
            # Tool answers and template tokens: in the context, never trained on.
            response_ids += delta
            response_mask += [0] * len(delta)
            response_logprobs += [0.0] * len(delta)
            tool_turns += 1
        tool_scores = {name: await by_name[name].calc_reward(iid) for name, iid in instances.items()}
    finally:
        await _release_all(by_name, instances)
    return AgentLoopOutput(
        prompt_ids=prompt_ids,
        # One cut for all three lists: position i of each describes the same token.
        response_ids=response_ids[:response_length],
        response_mask=response_mask[:response_length],
        response_logprobs=response_logprobs[:response_length],
        num_turns=assistant_turns + tool_turns + 1,
        metrics={},
        extra_fields={"turn_scores": [], "tool_rewards": tool_rewards, "tool_scores": tool_scores},
    )


@register(AGENT_NAME)
class ToolAgentLoop(AgentLoopBase):
    def __init__(self, *args: Any, tools: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tools = list(tools.tools) if tools is not None else []  # verl passes a ToolListWrap
        self.max_turns = self.rollout_config.multi_turn.max_assistant_turns  # None: no limit, as in verl
        self.response_length = self.rollout_config.response_length

    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput:
        return await run_agent(
            self.server_manager,
            self.tokenizer,
            list(kwargs["raw_prompt"]),
            self.tools,
            sampling_params,
            self.max_turns,
            self.response_length,
            tools_kwargs=kwargs.get("tools_kwargs") or {},
        )


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
    # RLHFDataset lifts extra_info.tools_kwargs to the row; a raw parquet row keeps it in extra_info.
    tools_kwargs = row.get("tools_kwargs") or (row.get("extra_info") or {}).get("tools_kwargs") or {}
    output = await run_agent(
        server,
        tokenizer,
        list(row["prompt"]),
        tools,
        sampling_params or {"temperature": 1.0, "logprobs": True},
        max_turns,
        response_length,
        tools_kwargs=tools_kwargs,
    )
    output.reward_score = float(output.extra_fields["tool_scores"].get(GSM8K_TOOL, 0.0))
    return output
