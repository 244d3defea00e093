"""Known-wrong variants of exercises/05/agent_loop.py: each must fail at least one graded test.

Each mutant is an edit of solutions/05/agent_loop.py (``replace={reference text: wrong text}``);
two keep code appended to the reference, where the mistake is not a change of its lines (they say why).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

DELTA, RUN, REG, E2E = "05.tool_delta", "05.run_agent", "05.agent_registry", "05.gsm8k_agent"
M = "agent_loop"

PROMPT = "prompt_ids = chat_ids(tokenizer, messages, tools=schemas, add_generation_prompt=True)\n"
PARSE = "            _content, calls = await parse_tool_calls(tokenizer, output.token_ids)\n"
TOOL_MESSAGES = '[{"role": "tool", "content": t} for t, _ in results]'
STOP = "if len(response_mask) >= response_length or (max_turns and assistant_turns >= max_turns):"
BUDGET = "if len(response_mask) + len(delta) >= response_length:"
LOGPROBS_OUT = "response_logprobs=response_logprobs[:response_length]"
GATHER = "    return list(await asyncio.gather(*(_call_tool(c, tools, instances) for c in calls)))"
MAX_TURNS = "self.max_turns = self.rollout_config.multi_turn.max_assistant_turns  #"

MUTANTS = [
    # --- tool_response_delta
    Mutant("delta_without_generation_prompt", DELTA, M, replace={
        "list(tool_messages), tools=tools, add_generation_prompt=True)": "list(tool_messages), tools=tools)"}),
    Mutant("delta_includes_the_separator", DELTA, M,
           replace={"    return full[len(prefix) :]": "    return turn_separator(tokenizer) + full[len(prefix) :]"}),
    # Appended, not an edit: the mistake is in calling the delta once per message (a wrapper), not in a line of it.
    Mutant(
        "delta_one_user_turn_per_tool_message",
        DELTA,
        M,
        """
        _solution_delta = tool_response_delta

        def tool_response_delta(tokenizer, tool_messages, tools=None):
            ids = []
            for i, message in enumerate(tool_messages):
                part = _solution_delta(tokenizer, [message], tools)
                if i < len(tool_messages) - 1:
                    part = part[: -len(tokenizer.encode("<|im_start|>assistant\\n", add_special_tokens=False))]
                ids += part
            return ids
        """,
    ),
    # Appended, not an edit: hand-written markup instead of the chat template replaces the whole body.
    Mutant(
        "delta_from_text_concatenation",
        DELTA,
        M,
        """
        def tool_response_delta(tokenizer, tool_messages, tools=None):
            text = "".join(f"<|im_start|>tool\\n{m['content']}<|im_end|>\\n" for m in tool_messages)
            return tokenizer.encode(text + "<|im_start|>assistant\\n", add_special_tokens=False)
        """,
    ),
    # --- run_agent
    Mutant("tool_tokens_with_mask_1", RUN, M,
           replace={"response_mask += [0] * len(delta)": "response_mask += [1] * len(delta)"}),
    # the conversation kept as messages and templated again before every turn
    Mutant("retemplate_the_conversation_each_turn", RUN, M, replace={
        PROMPT: PROMPT + "    conversation = list(messages)\n",
        "prompt_ids=prompt_ids + response_ids": "prompt_ids=chat_ids(tokenizer, conversation, tools=schemas, "
                                                "add_generation_prompt=True)",
        PARSE: PARSE + "            conversation.append({\n"
                       '                "role": "assistant",\n'
                       '                "content": _content.replace(tokenizer.eos_token, ""),\n'
                       '                "tool_calls": [{"type": "function", "function": {"name": c["name"],\n'
                       '                                "arguments": json.loads(c["arguments"])}} for c in calls],\n'
                       "            })\n",
        f"delta = tool_response_delta(tokenizer, {TOOL_MESSAGES}, schemas)":
            f"conversation += {TOOL_MESSAGES}\n"
            f"            delta = tool_response_delta(tokenizer, {TOOL_MESSAGES}, schemas)"}),
    Mutant("reencode_the_model_text", RUN, M, replace={
        "response_ids += output.token_ids":
            "response_ids += tokenizer.encode(tokenizer.decode(output.token_ids), add_special_tokens=False)"}),
    Mutant("logprobs_missing_for_tool_tokens", RUN, M,
           replace={"            response_logprobs += [0.0] * len(delta)\n": ""}),
    Mutant("logprobs_not_truncated", RUN, M, replace={LOGPROBS_OUT: "response_logprobs=response_logprobs"}),
    Mutant("logprobs_cut_one_short", RUN, M, replace={
        LOGPROBS_OUT: "response_logprobs=response_logprobs[: min(len(response_ids), response_length) - 1]"}),
    Mutant("release_skipped_on_error", RUN, M, replace={
        "    try:\n        for name, tool": "    if True:\n        for name, tool",
        "    finally:\n        await _release_all(by_name, instances)\n":
            "    await _release_all(by_name, instances)  # only on success\n"}),
    Mutant("tools_run_one_after_another", RUN, M,
           replace={GATHER: "    return [await _call_tool(c, tools, instances) for c in calls]"}),
    Mutant("tool_results_in_completion_order", RUN, M, replace={
        GATHER: "    tasks = [asyncio.ensure_future(_call_tool(c, tools, instances)) for c in calls]\n"
                "    return [await t for t in asyncio.as_completed(tasks)]"}),
    # nothing caught: invalid JSON and a tool's exception both escape the rollout
    Mutant("tool_exception_propagates", RUN, M, replace={
        "except (json.JSONDecodeError, TypeError) as exc:": "except () as exc:",
        "except Exception as exc:  #": "except () as exc:  #"}),
    Mutant("unknown_tool_message_differs", RUN, M, replace={
        "return f\"Unknown function '{name}'. Available tools: {list(tools)}\", 0.0":
            'return f"Error: no tool named {name}", 0.0'}),
    Mutant("no_turn_separator", RUN, M, replace={"delta = turn_separator(tokenizer) + delta": "pass"}),
    Mutant("turn_separator_always", RUN, M,
           replace={"if response_ids and response_ids[-1] == tokenizer.eos_token_id:": "if True:"}),
    Mutant("tool_turn_appended_past_the_budget", RUN, M, replace={BUDGET: "if False:"}),
    Mutant("max_turns_ignored", RUN, M,
           replace={STOP: STOP.replace(" or (max_turns and assistant_turns >= max_turns)", "")}),
    Mutant("new_request_id_every_turn", RUN, M,
           replace={"request_id=request_id, prompt_ids": "request_id=uuid4().hex, prompt_ids"}),
    Mutant("calc_reward_never_called", RUN, M, replace={
        "tool_scores = {name: await by_name[name].calc_reward(iid) for name, iid in instances.items()}":
            "tool_scores = {}"}),
    Mutant("create_kwargs_not_passed", RUN, M, replace={"create_kwargs=create_kwargs)": "create_kwargs={})"}),
    Mutant("prompt_without_tool_schemas", RUN, M,
           replace={PROMPT: "prompt_ids = chat_ids(tokenizer, messages, add_generation_prompt=True)\n"}),
    # --- ToolAgentLoop
    Mutant("agent_loop_not_registered", REG, M, replace={"@register(AGENT_NAME)\n": ""}),
    Mutant("agent_loop_ignores_max_assistant_turns", REG, M,
           replace={MAX_TURNS: "self.max_turns = DEFAULT_MAX_TURNS  #"}),
    Mutant("agent_loop_response_length_from_prompt_length", REG, M, replace={
        "self.response_length = self.rollout_config.response_length":
            "self.response_length = self.rollout_config.prompt_length"}),
    Mutant("agent_loop_keeps_the_wrapper", REG, M, replace={
        "self.tools = list(tools.tools) if tools is not None else []  #":
            "self.tools = tools  # the ToolListWrap, not its list;"}),
    # --- gsm8k_episode
    Mutant("episode_reads_only_lifted_tools_kwargs", E2E, M, replace={
        'row.get("tools_kwargs") or (row.get("extra_info") or {}).get("tools_kwargs") or {}':
            'row.get("tools_kwargs") or {}'}),
    Mutant("episode_reward_from_step_rewards", E2E, M, replace={
        'float(output.extra_fields["tool_scores"].get(GSM8K_TOOL, 0.0))':
            'float(sum(output.extra_fields["tool_rewards"]))'}),
    # Budget and turn-limit edges (issue 24): caught by test_agent_loop_edges.py, run beside verl's ToolAgentLoop.
    Mutant(
        "agent_loop_null_turns_means_8",
        REG,
        M,  # the course's old convention: verl reads max_assistant_turns null as no limit
        replace={MAX_TURNS: MAX_TURNS.replace("max_assistant_turns  #", "max_assistant_turns or DEFAULT_MAX_TURNS  #")},
    ),
    Mutant(
        "run_agent_none_turns_stops_at_8",
        RUN,
        M,
        replace={"(max_turns and assistant_turns >= max_turns)": "assistant_turns >= (max_turns or DEFAULT_MAX_TURNS)"},
    ),
    Mutant(
        "run_agent_tool_turn_may_reach_budget",
        RUN,
        M,  # a tool turn ending exactly at response_length is appended; verl drops it
        replace={BUDGET: "if len(response_mask) + len(delta) > response_length:"},
    ),
    Mutant(
        "run_agent_runs_tools_at_budget",
        RUN,
        M,  # a generation that reaches response_length still has its tool calls run
        replace={
            "if len(response_mask) >= response_length or (max_turns": (
                "if len(response_mask) > response_length or (max_turns"
            )
        },
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
