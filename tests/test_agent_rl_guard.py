"""Chapter 07's bad tools: a tool that raises, hangs past its timeout or returns non-text becomes a
tool error in the trajectory, and the agent loop goes on to the next model turn.

The loop is chapter 05's reference ``run_agent`` (the learner's loop has the same contract,
graded in chapter 05: a raising tool → ``"Error executing tool '<name>': <exc>"``); the model is
the scripted server: turn 1 calls the bad tool, turn 2 answers.
"""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from verlings.agent_rl.guard import GuardedTool, ToolOutputError, ToolTimeout, check_tool_result, guard_tools
from verlings.fixtures.scripted_server import ScriptedLLMServer, tool_call
from verlings.paths import SOLUTIONS
from verlings.target import load_module

ref = load_module("05", "agent_loop", root=SOLUTIONS)

from verl.tools.base_tool import BaseTool  # noqa: E402 - after the course's loader, as in the other ch05 tests
from verl.tools.schemas import OpenAIFunctionToolSchema, ToolResponse  # noqa: E402


@pytest.fixture(scope="module")
def tokenizer():
    from verlings.fixtures.tokenizer import local_tokenizer

    return local_tokenizer()


def _schema(name: str) -> OpenAIFunctionToolSchema:
    return OpenAIFunctionToolSchema.model_validate(
        {
            "type": "function",
            "function": {
                "name": name,
                "description": f"a {name} tool",
                "parameters": {"type": "object", "properties": {}},
            },
        }
    )


class BadTool(BaseTool):
    """``behaviour`` picks the failure; ``released`` counts releases."""

    def __init__(self, name: str, behaviour):
        self.config, self.tool_schema, self.name = {"type": "native"}, _schema(name), name
        self.behaviour = behaviour
        self.released = 0

    async def execute(self, instance_id, parameters, **kwargs):
        return await self.behaviour()

    async def release(self, instance_id, **kwargs):
        self.released += 1


async def _raise():
    raise RuntimeError("boom")


async def _hang():
    await asyncio.sleep(3600)


async def _number():
    return 42


async def _bare_text():
    return "42"


async def _no_text():
    return ToolResponse(image=["a picture"]), 0.0, {}


async def _text_none():
    return ToolResponse(), 0.0, {}


async def _fine():
    return ToolResponse(text="7"), 0.0, {}


BAD = {
    # behaviour: (kind reported to on_error, what the trajectory's tool turn says)
    "raise": (_raise, "raised", "Error executing tool 'bad': boom"),
    "hang": (_hang, "timeout", "Error executing tool 'bad': the call of tool 'bad' timed out after 0.3 s"),
    "number": (_number, "not_text", "Error executing tool 'bad': tool 'bad' returned 42; execute must return"),
    "bare_text": (_bare_text, "not_text", "Error executing tool 'bad': tool 'bad' returned '42'; execute must"),
    "image_only": (_no_text, "not_text", "returned a ToolResponse without text (only image)"),
    "text_none": (_text_none, "not_text", "returned a ToolResponse without text: the model reads text only"),
}


def _play(tokenizer, tool):
    errors = []
    guarded = guard_tools([tool], timeout_s=0.3, on_error=lambda *e: errors.append(e))
    server = ScriptedLLMServer(tokenizer, [tool_call("bad", {}), "#### 7"])
    started = time.perf_counter()
    out = asyncio.run(
        ref.run_agent(server, tokenizer, [{"role": "user", "content": "go"}], guarded, {"temperature": 1.0}, 4, 400)
    )
    return out, errors, time.perf_counter() - started


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_tool_becomes_a_tool_error_and_the_loop_goes_on(tokenizer, case):
    behaviour, kind, says = BAD[case]
    tool = BadTool("bad", behaviour)
    out, errors, wall = _play(tokenizer, tool)
    tool_turn = tokenizer.decode([t for t, m in zip(out.response_ids, out.response_mask) if m == 0])
    model_turns = tokenizer.decode([t for t, m in zip(out.response_ids, out.response_mask) if m == 1])
    assert says in tool_turn, f"{case}: the tool turn reads {tool_turn!r}"
    assert model_turns.endswith("#### 7<|im_end|>"), f"{case}: the loop did not go on to the answer: {model_turns!r}"
    assert out.num_turns == 4  # 2 generations, 1 tool turn, the prompt
    assert [(e[0], e[1]) for e in errors] == [("bad", kind)], errors
    assert tool.released == 1
    assert wall < 30, f"{case}: {wall:.1f} s — the hang was not cut at its timeout"


def test_a_good_tool_is_unchanged(tokenizer):
    tool = BadTool("bad", _fine)
    out, errors, _ = _play(tokenizer, tool)
    tool_turn = tokenizer.decode([t for t, m in zip(out.response_ids, out.response_mask) if m == 0])
    assert "<tool_response>\n7\n</tool_response>" in tool_turn and "Error" not in tool_turn
    assert errors == []


def test_the_guard_keeps_the_tools_face():
    inner = BadTool("calculator", _fine)
    guarded = GuardedTool(inner, timeout_s=1)
    assert isinstance(guarded, BaseTool)
    assert guarded.name == "calculator" and guarded.tool_schema is inner.tool_schema
    assert guard_tools([guarded]) == [guarded]  # not wrapped twice
    with pytest.raises(ValueError, match="timeout_s"):
        GuardedTool(inner, timeout_s=0)


def test_calc_reward_failures_score_zero_and_are_reported():
    class BadReward(BadTool):
        async def calc_reward(self, instance_id, **kwargs):
            return await self.behaviour()

    errors = []
    for behaviour, kind in [(_raise, "raised"), (_hang, "timeout"), (_bare_text, "not_text")]:
        errors.clear()
        guarded = GuardedTool(BadReward("bad", behaviour), timeout_s=0.2, on_error=lambda *e: errors.append(e))
        assert asyncio.run(guarded.calc_reward("id")) == 0.0
        assert [e[1] for e in errors] == [kind]


def test_a_hanging_create_or_release_is_cut():
    class SlowLifecycle(BadTool):
        async def create(self, instance_id=None, **kwargs):
            await _hang()

    guarded = GuardedTool(SlowLifecycle("bad", _fine), timeout_s=0.2)
    with pytest.raises(ToolTimeout, match=re.escape("create of tool 'bad' timed out after 0.2 s")):
        asyncio.run(guarded.create())


def test_check_tool_result_names_what_is_wrong():
    assert check_tool_result("t", (ToolResponse(text="ok"), 1, {}))[1] == 1.0
    with pytest.raises(ToolOutputError, match="step reward True, not a number"):
        check_tool_result("t", (ToolResponse(text="ok"), True, {}))
    with pytest.raises(ToolOutputError, match="returned None"):
        check_tool_result("t", None)
    with pytest.raises(ToolOutputError, match="'x' where a ToolResponse belongs"):
        check_tool_result("t", ("x", 0.0, {}))


def test_the_hook_guards_the_tools_verls_worker_loads(tmp_path, monkeypatch):
    """verlings.agent_rl.guard_hook replaces the name verl's AgentLoopWorker calls to build its tools."""
    import json

    import verl.experimental.agent_loop.agent_loop as agent_loop

    from verlings.agent_rl import guard_hook

    monkeypatch.setenv(guard_hook.ENV_DIR, str(tmp_path))
    monkeypatch.setenv(guard_hook.ENV_TIMEOUT, "0.2")
    monkeypatch.setattr(agent_loop, "load_all_tools", lambda **kw: [BadTool("bad", _hang)])  # restored after
    guard_hook.install(agent_loop)
    guard_hook.install(agent_loop)  # idempotent: one guard, not two
    (tool,) = agent_loop.load_all_tools(tool_config_path="x.yaml", function_tool_path=None)
    assert isinstance(tool, GuardedTool) and not isinstance(tool.inner, GuardedTool)
    with pytest.raises(ToolTimeout):
        asyncio.run(tool.execute("id", {}))
    (record,) = [json.loads(line) for line in (tmp_path / guard_hook.TOOL_ERRORS).read_text().splitlines()]
    assert (record["tool"], record["kind"]) == ("bad", "timeout")
