"""Graded tests for exercises/05/agent_loop.py at the budget's and the turn limit's edges, each run
side by side with verl 0.9.1's own ToolAgentLoop (registered as ``tool_agent``) on the same scripted
model: a model turn that ends exactly at ``response_length``, a tool turn that would reach it exactly,
one that stops one token short, and ``max_assistant_turns: null`` (verl's default: no limit).
"""

import dataclasses

import pytest

from verlings import learner_module
from verlings.fixtures.agent_loops import instantiate_agent_loop, verl_tool_agent_config
from verlings.fixtures.probe_tools import probe_tools
from verlings.fixtures.scenarios import SCENARIOS, Scenario
from verlings.fixtures.scripted_server import Completion, tool_call
from verlings.testing import assert_equal

agent = learner_module("05", "agent_loop")
RUN, REG = "05.run_agent", "05.agent_registry"

# Ten tool turns, then an answer: more than the 8 the course once put in for max_assistant_turns=null.
MANY_TURNS = Scenario(
    "many_turns",
    ({"role": "user", "content": "Use the tools, then answer."},),
    (*(Completion(tool_call("echo", {"text": f"again {i}"})) for i in range(10)), Completion("Done.")),
    max_turns=None,
    response_length=4096,
    about="eleven generations with max_assistant_turns null: verl reads null as no limit",
)


async def _verl(sc: Scenario, tokenizer):
    import verl.experimental.agent_loop  # registers verl's "tool_agent"

    server = sc.server(tokenizer)
    config = verl_tool_agent_config(sc.max_turns, sc.response_length)
    loop = instantiate_agent_loop("tool_agent", server, tokenizer, probe_tools(sc.tools), config)
    output = await loop.run(sc.sampling_params, raw_prompt=list(sc.messages), tools_kwargs={})
    return output, len(server.calls)


async def _yours(sc: Scenario, tokenizer):
    server = sc.server(tokenizer)
    output = await agent.run_agent(
        server=server,
        tokenizer=tokenizer,
        messages=list(sc.messages),
        tools=probe_tools(sc.tools),
        sampling_params=sc.sampling_params,
        max_turns=sc.max_turns,
        response_length=sc.response_length,
    )
    return output, len(server.calls)


def _assert_same(seen, seen_calls: int, expected, expected_calls: int, sc: Scenario) -> None:
    where = f"scenario {sc.name!r} (response_length {sc.response_length}, max_turns {sc.max_turns}: {sc.about})"
    assert_equal(
        seen_calls,
        expected_calls,
        what=f"{where}: generate calls",
        why="stop right after a generation that reaches response_length (its tool calls are not run) "
        "or after max_turns generations — None means no limit, as verl reads max_assistant_turns null",
    )
    mask, exp_mask = [int(m) for m in seen.response_mask], [int(m) for m in expected.response_mask]
    assert_equal(
        len(mask),
        len(exp_mask),
        what=f"{where}: length of response_mask",
        why="a tool turn that would make the response reach response_length (>=) is not appended; "
        "everything is cut at response_length",
    )
    assert_equal(
        [int(t) for t in seen.response_ids],
        [int(t) for t in expected.response_ids],
        what=f"{where}: response_ids",
        why="the same tokens as verl's ToolAgentLoop",
    )
    assert_equal(mask, exp_mask, what=f"{where}: response_mask", why="model tokens 1, tool turns 0")
    assert_equal(
        len(seen.response_logprobs),
        len(expected.response_logprobs),
        what=f"{where}: length of response_logprobs",
        why="one cut for ids, mask and log-probs",
    )
    assert_equal(
        int(seen.num_turns),
        int(expected.num_turns),
        what=f"{where}: num_turns",
        why="generations + appended tool turns + 1, as verl counts",
    )
    assert_equal(
        [float(x) for x in seen.extra_fields.get("tool_rewards", [])],
        [float(x) for x in expected.extra_fields.get("tool_rewards", [])],
        what=f"{where}: extra_fields['tool_rewards']",
        why="a generation that reaches response_length ends the trajectory before its tool calls run",
    )


async def _turn_lengths(tokenizer) -> tuple[int, int]:
    """(tokens of one_call's first model turn, tokens of its tool turn), read off verl's own run."""
    output, _ = await _verl(SCENARIOS["one_call"], tokenizer)
    mask = list(output.response_mask)
    model = mask.index(0)
    return model, mask[model:].index(1)


@pytest.mark.exercise(RUN)
@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("model_turn_ends_at_budget", None),  # response_length = the first model turn: stop, no tool call run
        ("tool_turn_reaches_budget", 0),  # model + tool turn == response_length: the tool turn is dropped
        ("tool_turn_one_short", 1),  # model + tool turn == response_length - 1: appended, then cut
    ],
)
async def test_run_agent_budget_edges_match_verl(name, extra, tokenizer):
    model, tool = await _turn_lengths(tokenizer)
    budget = model if extra is None else model + tool + extra
    sc = dataclasses.replace(SCENARIOS["one_call"], name=name, response_length=budget, about=name.replace("_", " "))
    expected, expected_calls = await _verl(sc, tokenizer)
    seen, seen_calls = await _yours(sc, tokenizer)
    _assert_same(seen, seen_calls, expected, expected_calls, sc)


@pytest.mark.exercise(RUN)
async def test_run_agent_max_turns_none_is_no_limit(tokenizer):
    expected, expected_calls = await _verl(MANY_TURNS, tokenizer)
    assert expected_calls == 11  # the scenario's own check: verl ran every scripted turn
    seen, seen_calls = await _yours(MANY_TURNS, tokenizer)
    _assert_same(seen, seen_calls, expected, expected_calls, MANY_TURNS)


@pytest.mark.exercise(REG)
async def test_tool_agent_loop_reads_null_max_assistant_turns_as_no_limit(tokenizer, agent_loop_registry):
    cls = agent.ToolAgentLoop
    module = __import__("sys").modules[cls.__module__]
    module.__spec__.loader.exec_module(module)  # registration happens at import: redo it inside this test
    expected, expected_calls = await _verl(MANY_TURNS, tokenizer)
    server = MANY_TURNS.server(tokenizer)
    config = verl_tool_agent_config(max_turns=None, response_length=MANY_TURNS.response_length)
    if module.AGENT_NAME not in agent_loop_registry:  # the stub registers nothing: its __init__ says what to do
        from verl.experimental.agent_loop.agent_loop import DictConfigWrap, ToolListWrap
        from verl.utils.dataset.rl_dataset import RLHFDataset

        module.ToolAgentLoop(trainer_config=DictConfigWrap(config), server_manager=server, tokenizer=tokenizer,
                             processor=None, dataset_cls=RLHFDataset, data_config=DictConfigWrap(config.data),
                             hf_model_type="qwen2", tools=ToolListWrap(probe_tools(MANY_TURNS.tools)))
    loop = instantiate_agent_loop(module.AGENT_NAME, server, tokenizer, probe_tools(MANY_TURNS.tools), config)
    seen = await loop.run(MANY_TURNS.sampling_params, raw_prompt=list(MANY_TURNS.messages), tools_kwargs={}, index=0)
    _assert_same(seen, len(server.calls), expected, expected_calls, MANY_TURNS)
