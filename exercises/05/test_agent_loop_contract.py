"""Graded tests for exercises/05/agent_loop.py: conventions the docstrings state that the scenario tests
do not reach (issue 24's mutation triage) — gsm8k_episode's defaults and where it finds the row's
tools_kwargs, ToolAgentLoop.run passing tools_kwargs on, a tool answer without text, tool schemas with
explicit nulls, and extra_fields' turn_scores. Where verl has the behaviour, your run_agent runs beside
verl 0.9.1's own ToolAgentLoop (registered as ``tool_agent``) on the same scripted model.
"""

from typing import ClassVar

import pytest

from verlings import learner_module
from verlings.fixtures.agent_loops import instantiate_agent_loop, verl_tool_agent_config
from verlings.fixtures.probe_tools import ToolEvents, probe_tool_classes, probe_tools
from verlings.fixtures.scripted_server import Completion, ScriptedLLMServer, tool_call
from verlings.testing import assert_equal

agent = learner_module("05", "agent_loop")
RUN, REG, E2E = "05.run_agent", "05.agent_registry", "05.gsm8k_agent"
MESSAGES = ({"role": "user", "content": "Use the tools, then answer."},)
SAMPLING = {"temperature": 1.0, "logprobs": True}

# The first test to touch verl pays its import (several seconds, more on a busy machine).
pytestmark = pytest.mark.timeout(240)


def _echo_like(name: str, *, properties: dict | None = None, no_text: bool = False) -> type:
    """A probe ``echo`` tool under another name: its own parameter schema, or answering ToolResponse(text=None)."""
    from verl.tools.schemas import ToolResponse

    echo = probe_tool_classes()["echo"]

    class EchoLike(echo):
        NAME = name
        PROPERTIES: ClassVar[dict[str, dict]] = properties or echo.PROPERTIES

        async def _run(self, parameters):
            return ToolResponse() if no_text else await super()._run(parameters)

    return EchoLike


async def _side_by_side(tokenizer, make_tools, script, response_length: int = 512):
    """(verl's ToolAgentLoop output, your run_agent output) on the same script and fresh tools."""
    import verl.experimental.agent_loop  # registers verl's "tool_agent"

    server = ScriptedLLMServer(tokenizer, script)
    config = verl_tool_agent_config(max_turns=4, response_length=response_length)
    loop = instantiate_agent_loop("tool_agent", server, tokenizer, make_tools(), config)
    expected = await loop.run(dict(SAMPLING), raw_prompt=list(MESSAGES), tools_kwargs={})
    seen = await agent.run_agent(server=ScriptedLLMServer(tokenizer, script), tokenizer=tokenizer,
                                 messages=list(MESSAGES), tools=make_tools(), sampling_params=dict(SAMPLING),
                                 max_turns=4, response_length=response_length)
    return expected, seen


# --- run_agent beside verl ----------------------------------------------------------------------------


@pytest.mark.exercise(RUN)
async def test_run_agent_tool_answer_without_text_matches_verl(tokenizer):
    silent = _echo_like("silent", no_text=True)
    script = [Completion(tool_call("silent", {"text": "hello"})), Completion("Done.")]
    expected, seen = await _side_by_side(tokenizer, lambda: [silent()], script)
    assert_equal([int(t) for t in seen.response_ids], [int(t) for t in expected.response_ids],
                 what="response_ids after a tool that answered ToolResponse(text=None)",
                 why="a tool response whose text is None is the empty text '' in the tool message, as verl's "
                     "ToolAgentLoop writes it")


@pytest.mark.exercise(RUN)
async def test_run_agent_schema_with_explicit_nulls_matches_verl(tokenizer):
    # The parameter's description and enum are given as None: model_dump(exclude_unset=True) keeps them (they
    # were set) and the template would show "description": null; exclude_none=True drops them, as verl does.
    nulls = _echo_like("nulls", properties={"text": {"type": "string", "description": None, "enum": None}})
    expected, seen = await _side_by_side(tokenizer, lambda: [nulls()], [Completion("Done.")])
    assert_equal([int(t) for t in seen.prompt_ids], [int(t) for t in expected.prompt_ids],
                 what="prompt_ids with a tool whose schema sets description=None and enum=None",
                 why="the schemas are tool_schema.model_dump(exclude_unset=True, exclude_none=True), as verl's "
                     "ToolAgentLoop dumps them")
    assert_equal(seen.extra_fields.get("turn_scores", "<missing>"), [], what="extra_fields['turn_scores']",
                 why="extra_fields holds 'turn_scores': [] beside tool_rewards and tool_scores")


# --- ToolAgentLoop.run -----------------------------------------------------------------------------------


@pytest.mark.exercise(REG)
async def test_tool_agent_loop_run_passes_the_rows_tools_kwargs(tokenizer, agent_loop_registry):
    cls = agent.ToolAgentLoop
    module = __import__("sys").modules[cls.__module__]
    module.__spec__.loader.exec_module(module)  # registration happens at import: redo it inside this test
    config = verl_tool_agent_config(max_turns=4, response_length=512)
    created = []
    for tools_kwargs in ({"echo": {"create_kwargs": {"tag": "row-7"}}}, None):
        events = ToolEvents()
        server = ScriptedLLMServer(tokenizer, [Completion("Done.")])
        if module.AGENT_NAME not in agent_loop_registry:  # the stub registers nothing: its __init__ says what to do
            from verl.experimental.agent_loop.agent_loop import DictConfigWrap, ToolListWrap
            from verl.utils.dataset.rl_dataset import RLHFDataset

            module.ToolAgentLoop(trainer_config=DictConfigWrap(config), server_manager=server, tokenizer=tokenizer,
                                 processor=None, dataset_cls=RLHFDataset, data_config=DictConfigWrap(config.data),
                                 hf_model_type="qwen2", tools=ToolListWrap(probe_tools(("echo",), events)))
        loop = instantiate_agent_loop(module.AGENT_NAME, server, tokenizer, probe_tools(("echo",), events), config)
        await loop.run(dict(SAMPLING), raw_prompt=list(MESSAGES), tools_kwargs=tools_kwargs, index=0)
        created += [(e.parameters or {}).get("create_kwargs") for e in events.of("create")]
    assert_equal(created, [{"tag": "row-7"}, {}],
                 what="create_kwargs the echo tool got from run(..., tools_kwargs={'echo': {'create_kwargs': "
                      "{'tag': 'row-7'}}}) and then from run(..., tools_kwargs=None)",
                 why="run passes the row's tools_kwargs on to run_agent ({} when missing or None)")


# --- gsm8k_episode's defaults ------------------------------------------------------------------------------


@pytest.mark.exercise(E2E)
async def test_gsm8k_episode_defaults(tokenizer):
    # The model calls a tool every turn (ten times, then answers): the default max_turns, DEFAULT_MAX_TURNS = 8
    # in the stub, ends the episode after 8 generations. No calc_gsm8k_reward tool: reward_score 0.0.
    script = [*(Completion(tool_call("echo", {"text": f"again {i}"})) for i in range(10)), Completion("Done.")]
    server = ScriptedLLMServer(tokenizer, script)
    output = await agent.gsm8k_episode(server=server, tokenizer=tokenizer, row={"prompt": list(MESSAGES)},
                                       tools=probe_tools(("echo",)))
    assert_equal(len(server.calls), 8, what="generate calls of gsm8k_episode without max_turns (a tool call "
                 "every turn)", why="max_turns defaults to DEFAULT_MAX_TURNS = 8")
    assert_equal([c.sampling_params for c in server.calls], [SAMPLING] * 8,
                 what="sampling_params of each generate call of gsm8k_episode without sampling_params",
                 why="sampling_params=None means {'temperature': 1.0, 'logprobs': True}")
    assert_equal(output.reward_score, 0.0, what="reward_score of an episode without the calc_gsm8k_reward tool",
                 why="reward_score is the answer tool's calc_reward; 0.0 without that tool (other tools' scores "
                     "do not count)")


@pytest.mark.exercise(E2E)
async def test_gsm8k_episode_default_response_length(tokenizer):
    # One model turn longer than 1024 tokens, no tool call: the default budget cuts the response at 1024.
    text = " ".join(f"step {i}," for i in range(2000))
    assert len(tokenizer.encode(text, add_special_tokens=False)) > 1100  # the fixture's own check
    server = ScriptedLLMServer(tokenizer, [Completion(text)])
    output = await agent.gsm8k_episode(server=server, tokenizer=tokenizer, row={"prompt": list(MESSAGES)},
                                       tools=probe_tools(("echo",)))
    assert_equal(len(output.response_ids), 1024, what="len(response_ids) of gsm8k_episode without response_length "
                 "(one model turn of more than 1024 tokens)", why="response_length defaults to 1024")


@pytest.mark.exercise(E2E)
async def test_gsm8k_episode_finds_tools_kwargs_where_the_dataset_puts_them(tokenizer):
    events = ToolEvents()
    rows = (
        {"prompt": list(MESSAGES), "tools_kwargs": {"echo": {"create_kwargs": {"tag": "lifted"}}},
         "extra_info": {"index": 0}},  # as RLHFDataset hands a row to the agent loop
        {"prompt": list(MESSAGES), "extra_info": {"tools_kwargs": {"echo": {"create_kwargs": {"tag": "stored"}}}}},
    )
    for row in rows:
        server = ScriptedLLMServer(tokenizer, [Completion("Done.")])
        await agent.gsm8k_episode(server=server, tokenizer=tokenizer, row=row, tools=probe_tools(("echo",), events))
    created = [(e.parameters or {}).get("create_kwargs") for e in events.of("create")]
    assert_equal(created, [{"tag": "lifted"}, {"tag": "stored"}],
                 what="create_kwargs of the echo tool for a row with tools_kwargs lifted to the top, then one with "
                      "them in extra_info",
                 why="the tools' kwargs come from row['tools_kwargs'] (as RLHFDataset lifts them) or else from "
                     "row['extra_info']['tools_kwargs'] (as stored in the parquet file)")
