"""Known-wrong variants of exercises/05/agent_loop.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

DELTA, RUN, REG, E2E = "05.tool_delta", "05.run_agent", "05.agent_registry", "05.gsm8k_agent"

# run_agent with one marked change; the rest is the reference solution's.
_RUN_AGENT = '''
async def run_agent(server, tokenizer, messages, tools, sampling_params, max_turns, response_length, *,
                    tools_kwargs=None):
    by_name = {tool.name: tool for tool in tools}
    schemas = [tool.tool_schema.model_dump(exclude_unset=True, exclude_none=True) for tool in tools]
    tools_kwargs = tools_kwargs or {}
    request_id = uuid4().hex
    prompt_ids = chat_ids(tokenizer, messages, tools=schemas, add_generation_prompt=True)
    conversation = list(messages)
    response_ids, response_mask, response_logprobs, tool_rewards = [], [], [], []
    assistant_turns = tool_turns = 0
    instances = {}
    {setup}
        for name, tool in by_name.items():
            instances[name], _ = await tool.create(create_kwargs=tools_kwargs.get(name, {}).get("create_kwargs", {}))
        while True:
            context = {context}
            output = await server.generate(request_id=request_id, prompt_ids=context, sampling_params=sampling_params)
            assistant_turns += 1
            response_ids += {model_ids}
            response_mask += [1] * len(output.token_ids)
            response_logprobs += list(output.log_probs)
            if len(response_mask) >= response_length or (max_turns and assistant_turns >= max_turns):
                break
            content, calls = await parse_tool_calls(tokenizer, output.token_ids)
            conversation.append({
                "role": "assistant",
                "content": content.replace(tokenizer.eos_token, ""),
                "tool_calls": [{"type": "function", "function": {"name": c["name"],
                                                                 "arguments": json.loads(c["arguments"])}}
                               for c in calls],
            })
            if not calls:
                break
            results = await _run_tools(calls, by_name, instances)
            tool_rewards += [reward for _text, reward in results if reward is not None]
            tool_messages = [{"role": "tool", "content": t} for t, _ in results]
            conversation += tool_messages
            delta = tool_response_delta(tokenizer, tool_messages, schemas)
            if response_ids and response_ids[-1] == tokenizer.eos_token_id:
                delta = turn_separator(tokenizer) + delta
            if len(response_mask) + len(delta) >= response_length:
                break
            response_ids += delta
            response_mask += [0] * len(delta)
            response_logprobs += [0.0] * len(delta)
            tool_turns += 1
        tool_scores = {name: await by_name[name].calc_reward(iid) for name, iid in instances.items()}
    {teardown}
    return AgentLoopOutput(
        prompt_ids=prompt_ids,
        response_ids=response_ids[:response_length],
        response_mask=response_mask[:response_length],
        response_logprobs=response_logprobs[:response_length],
        num_turns=assistant_turns + tool_turns + 1,
        metrics={},
        extra_fields={"turn_scores": [], "tool_rewards": tool_rewards, "tool_scores": tool_scores},
    )
'''
_FINALLY = {"setup": "try:", "teardown": "finally:\n        await _release_all(by_name, instances)"}


def _run_agent(context="prompt_ids + response_ids", model_ids="output.token_ids", **parts):
    # str.format would trip on the dict braces of the template: replace the markers one by one.
    code = _RUN_AGENT
    for key, value in {**_FINALLY, "context": context, "model_ids": model_ids, **parts}.items():
        code = code.replace("{" + key + "}", value)
    return code


MUTANTS = [
    # --- tool_response_delta
    Mutant(
        "delta_without_generation_prompt",
        DELTA,
        "agent_loop",
        """
        def tool_response_delta(tokenizer, tool_messages, tools=None):
            prefix = chat_ids(tokenizer, _DELTA_BASE, tools=tools)
            full = chat_ids(tokenizer, _DELTA_BASE + list(tool_messages), tools=tools)  # no next assistant prompt
            return full[len(prefix):]
        """,
    ),
    Mutant(
        "delta_includes_the_separator",
        DELTA,
        "agent_loop",
        """
        _solution_delta = tool_response_delta

        def tool_response_delta(tokenizer, tool_messages, tools=None):
            return turn_separator(tokenizer) + _solution_delta(tokenizer, tool_messages, tools)
        """,
    ),
    Mutant(
        "delta_one_user_turn_per_tool_message",
        DELTA,
        "agent_loop",
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
    Mutant(
        "delta_from_text_concatenation",
        DELTA,
        "agent_loop",
        """
        def tool_response_delta(tokenizer, tool_messages, tools=None):
            text = "".join(f"<|im_start|>tool\\n{m['content']}<|im_end|>\\n" for m in tool_messages)
            return tokenizer.encode(text + "<|im_start|>assistant\\n", add_special_tokens=False)
        """,
    ),
    # --- run_agent
    Mutant("tool_tokens_with_mask_1", RUN, "agent_loop",
           _run_agent().replace("response_mask += [0] * len(delta)", "response_mask += [1] * len(delta)")),
    Mutant("retemplate_the_conversation_each_turn", RUN, "agent_loop",
           _run_agent(context="chat_ids(tokenizer, conversation, tools=schemas, add_generation_prompt=True)")),
    Mutant("reencode_the_model_text", RUN, "agent_loop",
           _run_agent(model_ids="tokenizer.encode(tokenizer.decode(output.token_ids), add_special_tokens=False)")),
    Mutant("logprobs_missing_for_tool_tokens", RUN, "agent_loop",
           _run_agent().replace("response_logprobs += [0.0] * len(delta)", "pass")),
    Mutant("logprobs_not_truncated", RUN, "agent_loop",
           _run_agent().replace("response_logprobs=response_logprobs[:response_length]",
                                "response_logprobs=response_logprobs")),
    Mutant("logprobs_cut_one_short", RUN, "agent_loop",
           _run_agent().replace("response_logprobs=response_logprobs[:response_length]",
                                "response_logprobs=response_logprobs[: min(len(response_ids), response_length) - 1]")),
    Mutant("release_skipped_on_error", RUN, "agent_loop",
           _run_agent(setup="if True:", teardown="await _release_all(by_name, instances)  # only on success")),
    Mutant(
        "tools_run_one_after_another",
        RUN,
        "agent_loop",
        """
        async def _run_tools(calls, tools, instances):
            return [await _call_tool(c, tools, instances) for c in calls]
        """,
    ),
    Mutant(
        "tool_results_in_completion_order",
        RUN,
        "agent_loop",
        """
        async def _run_tools(calls, tools, instances):
            tasks = [asyncio.ensure_future(_call_tool(c, tools, instances)) for c in calls]
            return [await t for t in asyncio.as_completed(tasks)]
        """,
    ),
    Mutant(
        "tool_exception_propagates",
        RUN,
        "agent_loop",
        """
        async def _call_tool(call, tools, instances):
            name = call["name"]
            if name not in tools:
                return f"Unknown function '{name}'. Available tools: {list(tools)}", 0.0
            response, reward, _ = await tools[name].execute(instances[name], json.loads(call["arguments"]))
            return response.text or "", reward
        """,
    ),
    Mutant(
        "unknown_tool_message_differs",
        RUN,
        "agent_loop",
        """
        _solution_call_tool = _call_tool

        async def _call_tool(call, tools, instances):
            if call["name"] not in tools:
                return f"Error: no tool named {call['name']}", 0.0
            return await _solution_call_tool(call, tools, instances)
        """,
    ),
    Mutant("no_turn_separator", RUN, "agent_loop",
           _run_agent().replace("delta = turn_separator(tokenizer) + delta", "pass")),
    Mutant("turn_separator_always", RUN, "agent_loop",
           _run_agent().replace("if response_ids and response_ids[-1] == tokenizer.eos_token_id:", "if True:")),
    Mutant("tool_turn_appended_past_the_budget", RUN, "agent_loop",
           _run_agent().replace("if len(response_mask) + len(delta) >= response_length:", "if False:")),
    Mutant("max_turns_ignored", RUN, "agent_loop",
           _run_agent().replace(" or (max_turns and assistant_turns >= max_turns)", "")),
    Mutant("new_request_id_every_turn", RUN, "agent_loop",
           _run_agent().replace("output = await server.generate(request_id=request_id,",
                                "output = await server.generate(request_id=uuid4().hex,")),
    Mutant("calc_reward_never_called", RUN, "agent_loop",
           _run_agent().replace("tool_scores = {name: await by_name[name].calc_reward(iid) for name, iid in "
                                "instances.items()}", "tool_scores = {}")),
    Mutant("create_kwargs_not_passed", RUN, "agent_loop",
           _run_agent().replace('create_kwargs=tools_kwargs.get(name, {}).get("create_kwargs", {})',
                                "create_kwargs={}")),
    Mutant("prompt_without_tool_schemas", RUN, "agent_loop",
           _run_agent().replace("prompt_ids = chat_ids(tokenizer, messages, tools=schemas, add_generation_prompt=True)",
                                "prompt_ids = chat_ids(tokenizer, messages, add_generation_prompt=True)")),
    # --- ToolAgentLoop
    Mutant(
        "agent_loop_not_registered",
        REG,
        "agent_loop",
        """
        from verl.experimental.agent_loop.agent_loop import _agent_loop_registry

        _agent_loop_registry.pop(AGENT_NAME, None)  # as if @register(AGENT_NAME) were missing
        """,
    ),
    Mutant(
        "agent_loop_ignores_max_assistant_turns",
        REG,
        "agent_loop",
        """
        _solution_init = ToolAgentLoop.__init__

        def _init(self, *args, tools=None, **kwargs):
            _solution_init(self, *args, tools=tools, **kwargs)
            self.max_turns = DEFAULT_MAX_TURNS

        ToolAgentLoop.__init__ = _init
        """,
    ),
    Mutant(
        "agent_loop_response_length_from_prompt_length",
        REG,
        "agent_loop",
        """
        _solution_init = ToolAgentLoop.__init__

        def _init(self, *args, tools=None, **kwargs):
            _solution_init(self, *args, tools=tools, **kwargs)
            self.response_length = self.rollout_config.prompt_length

        ToolAgentLoop.__init__ = _init
        """,
    ),
    Mutant(
        "agent_loop_keeps_the_wrapper",
        REG,
        "agent_loop",
        """
        _solution_init = ToolAgentLoop.__init__

        def _init(self, *args, tools=None, **kwargs):
            _solution_init(self, *args, tools=tools, **kwargs)
            self.tools = tools  # the ToolListWrap, not its list

        ToolAgentLoop.__init__ = _init
        """,
    ),
    # --- gsm8k_episode
    Mutant(
        "episode_reads_only_lifted_tools_kwargs",
        E2E,
        "agent_loop",
        """
        _solution_episode = gsm8k_episode

        async def gsm8k_episode(server, tokenizer, row, tools, **kwargs):
            row = {k: v for k, v in row.items() if k != "extra_info"}
            return await _solution_episode(server, tokenizer, row, tools, **kwargs)
        """,
    ),
    Mutant(
        "episode_reward_from_step_rewards",
        E2E,
        "agent_loop",
        """
        _solution_episode = gsm8k_episode

        async def gsm8k_episode(server, tokenizer, row, tools, **kwargs):
            output = await _solution_episode(server, tokenizer, row, tools, **kwargs)
            output.reward_score = float(sum(output.extra_fields["tool_rewards"]))
            return output
        """,
    ),
    # Budget and turn-limit edges (issue 24): caught by test_agent_loop_edges.py, run beside verl's ToolAgentLoop.
    Mutant(
        "agent_loop_null_turns_means_8",
        REG,
        "agent_loop",  # the course's old convention: verl reads max_assistant_turns null as no limit
        replace={
            "self.max_turns = self.rollout_config.multi_turn.max_assistant_turns  #": (
                "self.max_turns = self.rollout_config.multi_turn.max_assistant_turns or DEFAULT_MAX_TURNS  #"
            )
        },
    ),
    Mutant(
        "run_agent_none_turns_stops_at_8",
        RUN,
        "agent_loop",
        replace={"(max_turns and assistant_turns >= max_turns)": "assistant_turns >= (max_turns or DEFAULT_MAX_TURNS)"},
    ),
    Mutant(
        "run_agent_tool_turn_may_reach_budget",
        RUN,
        "agent_loop",  # a tool turn ending exactly at response_length is appended; verl drops it
        replace={"if len(response_mask) + len(delta) >= response_length:": (
            "if len(response_mask) + len(delta) > response_length:"
        )},
    ),
    Mutant(
        "run_agent_runs_tools_at_budget",
        RUN,
        "agent_loop",  # a generation that reaches response_length still has its tool calls run
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


def test_the_run_agent_template_is_the_reference():
    # The run_agent mutants are this template with one change: unchanged, it must pass every graded test,
    # and each mutant must really differ from it.
    assert not caught(Mutant("run_agent_template", RUN, "agent_loop", _run_agent()))
    base = _run_agent()
    for mutant in MUTANTS:
        assert mutant.code != base, f"{mutant.name}: its replacement did not change the template"
