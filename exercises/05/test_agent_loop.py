"""Graded tests for exercises/05/agent_loop.py.

The scripted LLM server (verlings/fixtures/scripted_server.py) replays the same completions
to your loop as it did to verl's own ToolAgentLoop when the goldens were made
(verlings/goldens/ch05_agent.py), so the two trajectories must agree token for token.
"""

import asyncio
import json
import re

import numpy as np
import pytest

from verlings import learner_module
from verlings.fixtures.probe_tools import ToolEvents, probe_tools
from verlings.fixtures.scenarios import SCENARIOS
from verlings.fixtures.scripted_server import Completion, ScriptedLLMServer, ScriptedServerError, tool_call
from verlings.testing import assert_close, assert_equal, golden, hint_line

agent = learner_module("05", "agent_loop")
DELTA, RUN, REG, E2E = "05.tool_delta", "05.run_agent", "05.agent_registry", "05.gsm8k_agent"

# The first test to touch verl pays its import (several seconds, more on a busy machine).
pytestmark = pytest.mark.timeout(240)


def _fingerprint_note(g, tokenizer) -> str:
    from verlings.goldens.ch05_agent import tokenizer_fingerprint

    if str(g["tokenizer"]) != tokenizer_fingerprint(tokenizer):
        return ("\n  NOTE: the goldens were made with another version of the course tokenizer — regenerate them: "
                "python -m verlings.goldens 05")
    return ""


def _word_start(text: str, start: int, limit: int) -> int:
    """Move a cut forward to just after a space, so no word is cut in half (not past ``limit``)."""
    if start <= 0:
        return 0
    space = next((k for k in range(start, limit) if text[k - 1].isspace()), None)
    return start if space is None else space


def _word_end(text: str, stop: int) -> int:
    """Move a cut forward to the end of the word it falls in (at most 25 characters further)."""
    if stop >= len(text):
        return len(text)
    space = next((k for k in range(stop, min(len(text), stop + 25)) if text[k].isspace()), None)
    return stop if space is None else space


def _snippets(tokenizer, expected_ids, seen_ids, i, context: int = 40) -> tuple[str, str]:
    """The expected and seen texts around their first difference, cut by characters at the same place.

    Ids before token ``i`` agree, so both texts share ``decode(ids[:i])``; the window is ``context``
    characters either side of the first differing character (the first ``2 * context`` characters
    after token ``i`` when the texts are equal and only the ids differ), widened to whole words.
    """
    head = tokenizer.decode([int(t) for t in expected_ids[:i]])
    exp = head + tokenizer.decode([int(t) for t in expected_ids[i:]])
    seen = head + tokenizer.decode([int(t) for t in seen_ids[i:]])
    c = next((k for k, (a, b) in enumerate(zip(exp, seen)) if a != b), min(len(exp), len(seen)))
    if exp == seen:  # same text, different ids: show the text from token i on
        c = len(head) + context
    start = _word_start(exp, c - context, c)

    def cut(text: str) -> str:
        stop = _word_end(text, c + context)
        return ("…" if start > 0 else "") + repr(text[start:stop]) + ("…" if stop < len(text) else "")

    return cut(exp), cut(seen)


def _expected_seen(tokenizer, expected_ids, seen_ids, i) -> str:
    exp, seen = _snippets(tokenizer, expected_ids, seen_ids, i)
    return f"  expected: {exp}\n  seen:     {seen}\n"


# --- tool_response_delta ---------------------------------------------------------------------


def _delta_labels() -> list[str]:
    from verlings.testing import snapshot_path

    path = snapshot_path("05", "tool_delta")
    if not path.is_file():
        return ["golden-missing"]
    with np.load(path, allow_pickle=False) as data:
        return [str(x) for x in data["labels"]]


@pytest.mark.exercise(DELTA)
@pytest.mark.parametrize("label", _delta_labels())
def test_tool_response_delta_matches_verl(label, tokenizer):
    g = golden("05", "tool_delta")
    i = [str(x) for x in g["labels"]].index(label)
    case = json.loads(str(g["cases_json"][i]))
    tools = json.loads(str(g["tool_schemas_json"])) if case["with_tools"] else None
    expected = g["ids"][g["offsets"][i] : g["offsets"][i + 1]].tolist()
    seen = agent.tool_response_delta(tokenizer=tokenizer, tool_messages=case["tool_messages"], tools=tools)
    if list(seen) != expected:
        raise AssertionError(
            f"tool_response_delta({case['tool_messages']!r}, tools={'schemas' if tools else None}):\n"
            f"  expected (verl's Continuous Token builder): {tokenizer.decode(expected)!r}\n"
            f"  seen:                                       {tokenizer.decode(list(seen))!r}\n"
            "  the tool turn (consecutive tool messages share one user turn) plus the next '<|im_start|>assistant\\n'; "
            "it starts at <|im_start|>: the '\\n' after the model's <|im_end|> is not part of it"
            + _fingerprint_note(g, tokenizer) + "\n" + hint_line()
        )


@pytest.mark.exercise(DELTA)
def test_tool_response_delta_hand_worked(tokenizer):
    # Read off the course's ChatML template: a tool message renders inside a user turn as
    # "\n<tool_response>\n" + content + "\n</tool_response>", the turn closes with "<|im_end|>\n",
    # and the generation prompt is "<|im_start|>assistant\n".
    seen = agent.tool_response_delta(tokenizer=tokenizer, tool_messages=[{"role": "tool", "content": "42"}], tools=None)
    assert_equal(
        tokenizer.decode(list(seen)),
        "<|im_start|>user\n<tool_response>\n42\n</tool_response><|im_end|>\n<|im_start|>assistant\n",
        what="decode(tool_response_delta([tool '42']))",
        why="render a conversation with and without the tool message and keep the token suffix",
    )
    expected_ids = tokenizer.encode(
        "<|im_start|>user\n<tool_response>\n42\n</tool_response><|im_end|>\n<|im_start|>assistant\n",
        add_special_tokens=False,
    )
    assert_equal(list(seen), list(expected_ids), what="tool_response_delta ids")


# --- run_agent -------------------------------------------------------------------------------


async def _run(name, tokenizer, *, server=None, tools=None, **kwargs):
    sc = SCENARIOS[name]
    server = server if server is not None else sc.server(tokenizer)
    tools = tools if tools is not None else probe_tools(sc.tools)
    output = await agent.run_agent(
        server=server, tokenizer=tokenizer, messages=list(sc.messages), tools=tools,
        sampling_params=sc.sampling_params, max_turns=sc.max_turns, response_length=sc.response_length, **kwargs,
    )
    return output, server, tools


def _ids_explanation(tokenizer, exp_ids, exp_mask, seen_ids, i) -> str:
    newline = tokenizer.encode("\n", add_special_tokens=False)
    if i > 0 and exp_ids[i - 1] == tokenizer.eos_token_id and exp_ids[i : i + len(newline)] == newline:
        return ("after the model's <|im_end|>, the template has a '\\n' before the next turn: verl's Qwen builder "
                "puts turn_separator(tokenizer) in front of the tool turn (mask 0) when the response ends with EOS")
    if i >= len(seen_ids):
        return ("your trajectory stops early: stop only when the response reached response_length, after max_turns "
                "generations, or on a turn without a tool call; and append a tool turn unless it would reach "
                "response_length")
    if i >= len(exp_ids):
        return ("your trajectory goes on after verl's stopped: stop on a turn without tool calls, after max_turns "
                "generations, when the response reaches response_length — and don't append a tool turn that would "
                "reach response_length (verl drops it); then cut at response_length")
    if exp_mask[i] == 1:
        j = next((k for k in range(i, len(exp_ids)) if exp_mask[k] != 1), len(exp_ids))
        if tokenizer.decode(exp_ids[i:j]) == tokenizer.decode(seen_ids[i : i + (j - i) * 4])[: len(
                tokenizer.decode(exp_ids[i:j]))]:
            return ("same text, different ids: append out.token_ids exactly as sampled — never decode and "
                    "re-encode the model's turn")
        return "a model turn differs: each generate call gets prompt_ids + response_ids so far"
    return ("the tool turn differs: tool_response_delta of the tool messages in call order; the texts are the tool's "
            "response.text, or \"Unknown function '<name>'. Available tools: [...]\", or "
            "\"Error executing tool '<name>': <exception>\"")


def _assert_matches_verl(seen, server, name, tokenizer):
    g = golden("05", "agent_trajectories")
    sc = SCENARIOS[name]
    p = f"{name}__"
    where = f"scenario {name!r} ({sc.about})"
    note = _fingerprint_note(g, tokenizer) + "\n" + hint_line()
    if type(seen).__name__ != "AgentLoopOutput":
        raise AssertionError(f"{where}: got a {type(seen).__name__}; expected verl's AgentLoopOutput{note}")
    exp_prompt = g[p + "prompt_ids"].tolist()
    prompt = [int(t) for t in seen.prompt_ids]
    if prompt != exp_prompt:
        i = next((k for k, (a, b) in enumerate(zip(prompt, exp_prompt)) if a != b), min(len(prompt), len(exp_prompt)))
        raise AssertionError(
            f"{where}: prompt_ids differ from verl's from token {i}\n"
            f"{_expected_seen(tokenizer, exp_prompt, prompt, i)}"
            "  the prompt is chat_ids(tokenizer, messages, tools=schemas, add_generation_prompt=True) with "
            "schemas = [t.tool_schema.model_dump(exclude_unset=True, exclude_none=True) for t in tools]" + note
        )
    exp_ids = g[p + "response_ids"].tolist()
    exp_mask = g[p + "response_mask"].tolist()
    exp_lp = g[p + "response_logprobs"]
    ids, mask = [int(t) for t in seen.response_ids], [int(m) for m in seen.response_mask]
    lp = seen.response_logprobs
    lengths = (len(ids), len(mask), None if lp is None else len(lp))
    if ids != exp_ids:
        i = next((k for k, (a, b) in enumerate(zip(ids, exp_ids)) if a != b), min(len(ids), len(exp_ids)))
        raise AssertionError(
            f"{where}: response_ids differ from verl's ToolAgentLoop from token {i} "
            f"(lengths: yours {len(ids)}, verl {len(exp_ids)}; generate calls: yours {len(server.calls)}, "
            f"verl {int(g[p + 'generate_calls'])})\n"
            f"{_expected_seen(tokenizer, exp_ids, ids, i)}"
            f"  {_ids_explanation(tokenizer, exp_ids, exp_mask, ids, i)}" + note
        )
    if lengths != (len(exp_ids),) * 3:
        raise AssertionError(
            f"{where}: response_ids, response_mask, response_logprobs have lengths {lengths}; all three must be "
            f"{len(exp_ids)} — every list gets an entry for every token, and one cut [:response_length] for all" + note
        )
    if mask != exp_mask:
        wrong_tool = [k for k in range(len(mask)) if exp_mask[k] == 0 and mask[k] != 0]
        why = ("tool answers and template tokens (the whole tool turn, its '\\n' separator included) have mask 0"
               if wrong_tool else "the model's sampled tokens have mask 1")
        assert_close(np.array(mask), np.array(exp_mask), what=f"{where}: response_mask", why=why)
    assert_close(np.array(lp, dtype=np.float64), exp_lp, what=f"{where}: response_logprobs",
                 mask=np.array(exp_mask),
                 why="the engine's out.log_probs on the model's tokens (in order), 0.0 on tool/template tokens")
    assert_equal(int(seen.num_turns), int(g[p + "num_turns"]), what=f"{where}: num_turns",
                 why="generations + appended tool turns + 1 (the prompt), as verl counts")
    assert_equal([float(x) for x in seen.extra_fields.get("tool_rewards", [])], g[p + "tool_rewards"].tolist(),
                 what=f"{where}: extra_fields['tool_rewards']",
                 why="one step reward per executed call, in call order (0.0 for unknown tools and tools that raised)")


@pytest.mark.exercise(RUN)
@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_run_agent_matches_verls_tool_agent_loop(name, tokenizer):
    output, server, _ = await _run(name, tokenizer)
    _assert_matches_verl(output, server, name, tokenizer)


@pytest.mark.exercise(RUN)
@pytest.mark.parametrize("name", ["one_call", "two_turns", "noncanonical"])
async def test_run_agent_templates_the_prompt_once_then_only_appends(name, tokenizer):
    output, server, _ = await _run(name, tokenizer)
    calls = server.calls
    g = golden("05", "agent_trajectories")
    assert_equal(len(calls), int(g[f"{name}__generate_calls"]), what=f"generate calls in scenario {name!r}")
    assert_equal(calls[0].prompt_ids, [int(t) for t in output.prompt_ids], what="prompt of the 1st generate call",
                 why="the first generation sees exactly prompt_ids")
    for k in range(1, len(calls)):
        before = calls[k - 1].prompt_ids + calls[k - 1].token_ids
        if calls[k].prompt_ids[: len(before)] != before:
            i = next((j for j, (a, b) in enumerate(zip(calls[k].prompt_ids, before)) if a != b), len(before))
            raise AssertionError(
                f"generate call {k + 1} got a prompt that does not extend call {k}'s prompt + completion "
                f"(first difference at token {i}):\n"
                f"{_expected_seen(tokenizer, before, calls[k].prompt_ids, i)}"
                "  never re-template the conversation: the context is prompt_ids + response_ids, grown by the "
                "sampled ids and the tool turns' tokens\n"
                + hint_line()
            )
    assert_equal(calls[-1].prompt_ids + calls[-1].token_ids,
                 [int(t) for t in output.prompt_ids] + [int(t) for t in output.response_ids],
                 what="last call's prompt + completion vs prompt_ids + response_ids")


@pytest.mark.exercise(RUN)
async def test_run_agent_keeps_the_sampled_ids(tokenizer):
    # The scripted model samples a valid but non-canonical tokenisation (one id per character).
    output, server, _ = await _run("noncanonical", tokenizer)
    sampled = server.calls[0].token_ids
    ids = [int(t) for t in output.response_ids]
    # Your first model turn: the ids up to the first <|im_end|> (the model's EOS ends its turn).
    turn = ids[: next((k + 1 for k, t in enumerate(ids) if t == tokenizer.eos_token_id), len(ids))]
    if turn != sampled:
        k = next((j for j, (a, b) in enumerate(zip(turn, sampled)) if a != b), min(len(turn), len(sampled)))
        canonical = len(tokenizer.encode(tokenizer.decode(sampled), add_special_tokens=False))
        raise AssertionError(
            "the first model turn in response_ids (the ids up to the first <|im_end|>):\n"
            f"  expected: the {len(sampled)} ids the model sampled, {sampled[:8]}… = {tokenizer.decode(sampled)!r}\n"
            f"  seen:     {len(turn)} ids, {turn[:8]}… = {tokenizer.decode(turn)!r}\n"
            f"  first different id at position {k}\n"
            "  train on the ids the model sampled (out.token_ids) — decode→encode of the same text gives other ids "
            f"(here {canonical} instead of {len(sampled)}), and their log-probs would belong to tokens never sampled\n"
            + hint_line()
        )


@pytest.mark.exercise(RUN)
async def test_run_agent_one_request_id_per_trajectory(tokenizer):
    sc = SCENARIOS["two_turns"]
    server = sc.server(tokenizer)
    await asyncio.gather(_run("two_turns", tokenizer, server=server), _run("two_turns", tokenizer, server=server))
    ids = server.request_ids
    assert_equal(len(ids), 2, what="distinct request ids for two trajectories of 3 turns each",
                 why="one request_id per trajectory, kept for all its turns (sticky session), a new one per trajectory")
    for rid in ids:
        assert_equal(len(server.calls_of(rid)), 3, what=f"generate calls with request_id {rid!r}")


@pytest.mark.exercise(RUN)
async def test_run_agent_passes_sampling_params_unchanged(tokenizer):
    sc = SCENARIOS["one_call"]
    _, server, _ = await _run("one_call", tokenizer)
    for call in server.calls:
        assert_equal(call.sampling_params, sc.sampling_params, what="sampling_params of a generate call")


@pytest.mark.exercise(RUN)
async def test_run_agent_runs_independent_calls_concurrently(tokenizer):
    # Scenario 'parallel': sleep(0.4), sleep(0.05) and echo in one turn.
    _, _, tools = await _run("parallel", tokenizer)
    events = tools[0].events
    slow, fast = sorted(events.of("execute", "sleep"), key=lambda e: -e.parameters["seconds"])
    echo = events.of("execute", "echo")[0]
    overlap = fast.started < slow.finished and echo.started < slow.finished
    assert overlap, (
        f"the calls of one turn ran one after another (sleep 0.4 s ran {slow.started:.3f}–{slow.finished:.3f}, "
        f"sleep 0.05 s started at {fast.started:.3f}, echo at {echo.started:.3f}): run independent calls "
        f"concurrently with asyncio.gather — the results come back in call order anyway\n"
        + hint_line()
    )


@pytest.mark.exercise(RUN)
async def test_run_agent_tool_lifecycle(tokenizer):
    output, _, tools = await _run("two_turns", tokenizer, tools_kwargs={"echo": {"create_kwargs": {"secret": 7}}})
    events: ToolEvents = tools[0].events
    for tool in tools:
        created = events.of("create", tool.name)
        assert_equal(len(created), 1, what=f"create() calls of tool {tool.name!r}",
                     why="one instance per tool per trajectory, created before the first generation")
        want = {"create_kwargs": {"secret": 7}} if tool.name == "echo" else {"create_kwargs": {}}
        assert_equal(created[0].parameters, want, what=f"keywords of {tool.name}.create()",
                     why="create(create_kwargs=tools_kwargs.get(name, {}).get('create_kwargs', {})), as verl calls it")
        iid = created[0].instance_id
        executes = events.of("execute", tool.name)
        assert all(e.instance_id == iid for e in executes), f"{tool.name}.execute got another instance id than create"
        rewards, released = events.of("calc_reward", tool.name), events.of("release", tool.name)
        assert_equal([(e.instance_id) for e in released], [iid], what=f"{tool.name}.release() calls",
                     why="every created instance is released exactly once")
        assert_equal([(e.instance_id) for e in rewards], [iid], what=f"{tool.name}.calc_reward() calls",
                     why="calc_reward once per instance after the last turn, before release")
        assert rewards[0].finished <= released[0].started, f"{tool.name}: calc_reward must come before release"
        assert all(e.finished <= released[0].started for e in executes), f"{tool.name}: executed after release"
    assert_equal(output.extra_fields.get("tool_scores"), {"echo": 2.0, "sleep": 0.0, "explode": 0.0},
                 what="extra_fields['tool_scores']",
                 why="{name: await tool.calc_reward(instance_id)} (the probe tools score their number of executes)")


@pytest.mark.exercise(RUN)
async def test_run_agent_releases_when_the_server_fails(tokenizer):
    tools = probe_tools()
    script = [Completion(tool_call("echo", {"text": "x"})), Completion(error="engine died")]
    server = ScriptedLLMServer(tokenizer, script)
    with pytest.raises(ScriptedServerError):
        await agent.run_agent(server=server, tokenizer=tokenizer, messages=[{"role": "user", "content": "Hi"}],
                              tools=tools, sampling_params={}, max_turns=4, response_length=256)
    live = tools[0].events.live_instances()
    assert not live, (
        f"the engine failed in turn 2 and these tool instances were never released: {sorted(live)}\n"
        "  create inside try, release in finally: a sandbox or a database connection leaks otherwise\n"
        + hint_line()
    )


@pytest.mark.exercise(RUN)
async def test_run_agent_survives_a_raising_tool(tokenizer):
    output, _, tools = await _run("tool_raises", tokenizer)
    text = tokenizer.decode([t for t, m in zip(output.response_ids, output.response_mask) if m == 0])
    assert "Error executing tool 'explode': boom" in text, (
        f"the tool raised RuntimeError('boom'); the tool turn reads {text!r}: the error becomes the tool's answer "
        f"and the rollout goes on\n" + hint_line()
    )
    assert not tools[0].events.live_instances(), "instances left unreleased after a tool raised"


@pytest.mark.exercise(RUN)
@pytest.mark.parametrize("name", ["overlong", "truncated_answer", "budget_in_tool_turn", "max_turns"])
async def test_run_agent_lists_stay_aligned(name, tokenizer):
    output, _, _ = await _run(name, tokenizer)
    lengths = (len(output.response_ids), len(output.response_mask), len(output.response_logprobs or []))
    assert len(set(lengths)) == 1 and lengths[0] <= SCENARIOS[name].response_length, (
        f"scenario {name!r}: response_ids/mask/logprobs have lengths {lengths} (response_length "
        f"{SCENARIOS[name].response_length}): position i of each list must describe the same token — cut all three "
        f"together\n" + hint_line()
    )


# --- ToolAgentLoop in verl's registry --------------------------------------------------------


@pytest.mark.exercise(REG)
async def test_tool_agent_loop_is_registered_and_built_like_verl(tokenizer, agent_loop_registry):
    from verl.experimental.agent_loop.agent_loop import AgentLoopBase, DictConfigWrap, ToolListWrap
    from verl.utils.dataset.rl_dataset import RLHFDataset

    from verlings.fixtures.agent_loops import instantiate_agent_loop, verl_tool_agent_config

    cls = agent.ToolAgentLoop
    module = __import__("sys").modules[cls.__module__]
    module.__spec__.loader.exec_module(module)  # registration happens at import: redo it inside this test
    cls = module.ToolAgentLoop
    assert isinstance(cls, type) and issubclass(cls, AgentLoopBase), "ToolAgentLoop must subclass verl's AgentLoopBase"
    sc = SCENARIOS["one_call"]
    config = verl_tool_agent_config(max_turns=sc.max_turns, response_length=sc.response_length)
    cls(trainer_config=DictConfigWrap(config), server_manager=sc.server(tokenizer), tokenizer=tokenizer,
        processor=None, dataset_cls=RLHFDataset, data_config=DictConfigWrap(config.data), hf_model_type="qwen2",
        tools=ToolListWrap(probe_tools()))
    name = module.AGENT_NAME
    assert_equal(agent_loop_registry.get(name), {"_target_": f"{cls.__module__}.{cls.__qualname__}"},
                 what=f"verl's agent-loop registry entry {name!r}",
                 why=f"decorate the class with verl's @register({name!r})")
    for scenario in ("one_call", "max_turns", "overlong"):
        sc = SCENARIOS[scenario]
        server = sc.server(tokenizer)
        config = verl_tool_agent_config(max_turns=sc.max_turns, response_length=sc.response_length)
        loop = instantiate_agent_loop(name, server, tokenizer, probe_tools(sc.tools), config)
        # verl passes the dataset row's fields as keywords (agent_name is taken out before).
        output = await loop.run(sc.sampling_params, raw_prompt=list(sc.messages), tools_kwargs={}, index=0,
                                extra_info={"index": 0}, data_source="openai/gsm8k")
        _assert_matches_verl(output, server, scenario, tokenizer)


# --- GSM8K end to end ------------------------------------------------------------------------

SYSTEM_PROMPT_TOOL = (
    "You are a math expert. You are given a question and you need to solve it step by step. "
    "Reasoning step by step before any tool call. You should use the `calc_gsm8k_reward` tool after step by step "
    "solving the question, before generate final answer at least once and refine your answer if necessary. "
    "Put your final answer in the format of `#### <answer>`."
)


def _tool_row(problem: dict, index: int) -> dict:
    """A verl GSM8K row in the `tool` style of chapter 02 (verl's gsm8k_tool_agent_loop.py preprocessing)."""
    truth = problem["answer"].split("####")[-1].strip().replace(",", "")
    question = problem["question"] + " Let's think step by step and output the final answer after `####`."
    return {
        "data_source": "openai/gsm8k",
        "agent_name": "tool_agent",
        "prompt": [{"role": "system", "content": SYSTEM_PROMPT_TOOL}, {"role": "user", "content": question}],
        "ability": "math",
        "reward_model": {"style": "rule", "ground_truth": truth},
        "extra_info": {"split": "train", "index": index, "need_tools_kwargs": True,
                       "tools_kwargs": {"calc_gsm8k_reward": {"create_kwargs": {"ground_truth": truth}}}},
    }


def _solver_script(problem: dict, submit: str | None) -> list[Completion]:
    """A scripted model that calls the calculator for every <<expr=value>> step, then submits, then answers."""
    steps = re.findall(r"<<([^=<>]+)=([^<>]+)>>", problem["answer"])
    script = [Completion(f"Step {k + 1}: {expr}.\n" + tool_call("calculator", {"expression": expr}))
              for k, (expr, _) in enumerate(steps)]
    if submit is not None:
        script.append(Completion(tool_call("calc_gsm8k_reward", {"answer": submit})))
    script.append(Completion(f"#### {submit}"))
    return script


def _tools():
    tools = learner_module("05", "tools")
    return [tools.CalculatorTool(config={}, tool_schema=None), tools.Gsm8kAnswerTool(config={}, tool_schema=None)]


def _tool_answers(output, tokenizer) -> list[str]:
    text = tokenizer.decode([t for t, m in zip(output.response_ids, output.response_mask) if m == 0])
    return re.findall(r"<tool_response>\n(.*?)\n</tool_response>", text, re.DOTALL)


@pytest.mark.exercise(E2E)
@pytest.mark.parametrize("seed", [0, 1, 2])
async def test_gsm8k_episode_solves_problems_with_tools(seed, tokenizer):
    from verlings.fixtures.gsm8k import generate

    problem = generate(1, seed=seed)[0]
    row = _tool_row(problem, seed)
    truth = row["reward_model"]["ground_truth"]
    server = ScriptedLLMServer(tokenizer, _solver_script(problem, submit=truth))
    output = await agent.gsm8k_episode(server=server, tokenizer=tokenizer, row=row, tools=_tools(),
                                       max_turns=len(server.script), response_length=2048)
    assert_equal(output.reward_score, 1.0, what=f"reward_score of a correct episode (ground truth {truth})",
                 why="reward_score = the calc_gsm8k_reward tool's calc_reward after the episode; the "
                 "tool's ground truth comes from row['extra_info']['tools_kwargs'] (this test runs your run_agent "
                 "and tools: 05.run_agent, 05.calculator and 05.gsm8k_tool first)")
    answers = _tool_answers(output, tokenizer)
    steps = re.findall(r"<<([^=<>]+)=([^<>]+)>>", problem["answer"])
    assert_equal(len(answers), len(steps) + 1, what="tool answers in the trajectory")
    for (expr, value), answer in zip(steps, answers):
        # The worked answer rounds some quotients (8.66667): compare as numbers.
        assert abs(float(answer) - float(value)) <= 1e-4 * max(1.0, abs(float(value))), (
            f"calculator({expr!r}) answered {answer!r} in the episode; the worked solution says {value}"
        )
    assert_equal(answers[-1], f"Current parsed answer='{truth}' reward=1.0", what="the answer tool's reply")


@pytest.mark.exercise(E2E)
async def test_gsm8k_episode_wrong_or_missing_answer_scores_zero(tokenizer):
    from verlings.fixtures.gsm8k import generate

    problem = generate(1, seed=3)[0]
    row = _tool_row(problem, 3)
    truth = row["reward_model"]["ground_truth"]
    wrong = str(int(float(truth)) + 1)
    server = ScriptedLLMServer(tokenizer, _solver_script(problem, submit=wrong))
    output = await agent.gsm8k_episode(server=server, tokenizer=tokenizer, row=row, tools=_tools(),
                                       max_turns=len(server.script), response_length=2048)
    assert_equal(output.reward_score, 0.0, what=f"reward_score after submitting {wrong} (truth {truth})")
    # The dataset loader lifts extra_info.tools_kwargs to row["tools_kwargs"]: both places work.
    lifted = {k: v for k, v in row.items() if k != "extra_info"} | {"tools_kwargs": row["extra_info"]["tools_kwargs"]}
    server = ScriptedLLMServer(tokenizer, [Completion("#### " + truth)])  # never calls the answer tool
    output = await agent.gsm8k_episode(server=server, tokenizer=tokenizer, row=lifted, tools=_tools())
    assert_equal(output.reward_score, 0.0, what="reward_score when the answer tool was never called",
                 why="calc_reward of an instance with no submission: the empty response scores 0")
    assert isinstance(output.reward_score, float), f"reward_score {output.reward_score!r} must be a float"
