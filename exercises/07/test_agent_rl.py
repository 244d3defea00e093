"""Graded tests for exercises/07/agent_rl.py — your agent inside a real verl multi-turn GRPO run.

The first three exercises take seconds: verl's own tool loader reads your tool config, verl's
Hydra config composes your overrides, and your reward scores hand-made trajectories.
``07.training`` then runs ``python -m verl.trainer.main_ppo`` (multi-turn, your chapter-05 loop,
parser and calculator, from the SFT warm start) for two GRPO steps and checks **the batch the
trainer received** (``batch_step1.json``, dumped right before verl computed the advantages) and
the trajectories your loop produced (``trajectories.jsonl``).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from verlings import learner_module
from verlings.testing import assert_equal, hint_line

agent = learner_module("07", "agent_rl")

CALC_CLASS = "verlings.agent_rl.learner_tools.CalculatorTool"
GSM8K_CLASS = "verlings.agent_rl.learner_tools.Gsm8kAnswerTool"


def _schema(name: str = "calculator", description: str = "Evaluate an arithmetic expression") -> dict:
    return {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]},
    }}


def _load_with_verl(content: object, tmp_path: Path) -> list:
    import yaml
    from verl.tools.tool_registry import initialize_tools_from_config

    path = tmp_path / "tool_config.yaml"
    path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    try:
        return initialize_tools_from_config(str(path))
    except Exception as exc:
        raise AssertionError(
            f"verl's initialize_tools_from_config could not read your tool config {content!r}: "
            f"{type(exc).__name__}: {exc}\n{hint_line()}") from None


# --- 07.tool_config ------------------------------------------------------------------------------


@pytest.mark.exercise("07.tool_config")
def test_tool_config_loads_your_calculator_with_verls_loader(tmp_path):
    from verlings.target import load_module

    schema = _schema()
    tools = _load_with_verl(agent.tool_config(CALC_CLASS, schema), tmp_path)
    assert len(tools) == 1, f"verl made {len(tools)} tool(s) from your config, expected 1"
    mine = load_module("05", "tools").CalculatorTool
    assert type(tools[0]) is mine, (
        f"verl built a {type(tools[0]).__module__}.{type(tools[0]).__qualname__}, expected your chapter-05 "
        f"CalculatorTool — is class_name the argument, unchanged?")
    assert_equal(tools[0].tool_schema.model_dump(exclude_unset=True, exclude_none=True), schema,
                 what="the schema verl gave the tool",
                 why="verl passes the entry's tool_schema to the tool's constructor; without it the tool uses its own")


@pytest.mark.exercise("07.tool_config")
def test_tool_config_uses_its_arguments(tmp_path):
    schema = {"type": "function", "function": {
        "name": "calc_gsm8k_reward", "description": "Check an answer (a description only this test uses)",
        "parameters": {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}}}
    tools = _load_with_verl(agent.tool_config(GSM8K_CLASS, schema), tmp_path)
    assert len(tools) == 1 and type(tools[0]).__name__ == "Gsm8kAnswerTool", (
        f"with class_name={GSM8K_CLASS!r} verl built {[type(t).__name__ for t in tools]}: "
        "class_name and tool_schema are arguments, not constants")
    assert tools[0].tool_schema.function.description == schema["function"]["description"], (
        "the tool did not get the schema passed to tool_config")


@pytest.mark.exercise("07.tool_config")
def test_tool_config_is_plain_yaml_data():
    import yaml

    content = agent.tool_config(CALC_CLASS, _schema())
    assert isinstance(content, dict) and set(content) == {"tools"}, (
        f"tool_config should return {{'tools': [...]}} (the YAML's top level), got {content!r}")
    assert yaml.safe_load(yaml.safe_dump(content)) == content, "tool_config must return plain dicts/lists/strings"
    entry = content["tools"][0]
    assert entry.get("config", {}).get("type") == "native", (
        f"config.type is {entry.get('config', {}).get('type')!r}: verl 0.9.1 knows one tool type, 'native' "
        "(verl/tools/tool_registry.py::ToolType)")


# --- 07.overrides --------------------------------------------------------------------------------


def _compose(overrides: list[str]):
    import importlib.util

    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    spec = importlib.util.find_spec("verl")
    config_dir = Path(next(iter(spec.submodule_search_locations))) / "trainer" / "config"
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dir), version_base=None):
            return compose(config_name="ppo_trainer", overrides=list(overrides))
    finally:
        GlobalHydra.instance().clear()


@pytest.mark.exercise("07.overrides")
def test_agent_overrides_are_accepted_by_verl(tmp_path):
    path = str(tmp_path / "tools.yaml")
    overrides = agent.agent_overrides(path, "my_agent", 3)
    assert isinstance(overrides, list) and all(isinstance(o, str) for o in overrides), (
        f"agent_overrides should return a list of 'key=value' strings, got {overrides!r}")
    try:
        cfg = _compose(overrides)
    except Exception as exc:
        raise AssertionError(f"verl's Hydra config rejected {overrides}: {type(exc).__name__}: {exc}\n"
                             f"{hint_line()}") from None
    r = cfg.actor_rollout_ref.rollout
    assert_equal(r.multi_turn.enable, True, what="actor_rollout_ref.rollout.multi_turn.enable")
    assert_equal(r.multi_turn.tool_config_path, path, what="actor_rollout_ref.rollout.multi_turn.tool_config_path",
                 why="verl's AgentLoopWorker loads the tools from this file")
    assert_equal(r.multi_turn.max_assistant_turns, 3, what="actor_rollout_ref.rollout.multi_turn.max_assistant_turns")
    assert_equal(r.agent.default_agent_loop, "my_agent", what="actor_rollout_ref.rollout.agent.default_agent_loop",
                 why="a row without an agent_name column runs this loop; verl's default, single_turn_agent, "
                     "has no tools")


@pytest.mark.exercise("07.overrides")
def test_agent_overrides_use_their_arguments():
    a = agent.agent_overrides("/a/tools.yaml", "loop_a", 2)
    b = agent.agent_overrides("/b/tools.yaml", "loop_b", 5)
    for value in ("/a/tools.yaml", "loop_a", "=2"):
        assert any(value in o for o in a), f"{value!r} is in none of {a}"
    for value in ("/b/tools.yaml", "loop_b", "=5"):
        assert any(value in o for o in b), f"{value!r} is in none of {b}"


# --- 07.reward -----------------------------------------------------------------------------------

CALL = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "347 * 29"}}\n</tool_call>'
TOOL = "\nuser\n<tool_response>\n10063\n</tool_response>\nassistant\n"  # as verl decodes it (special tokens skipped)

F = 0.1  # FORMAT_SCORE: a final answer, but the wrong number
REWARD_CASES = [
    # (solution_str as verl decodes it, ground truth, expected score, expected acc, what it shows)
    (CALL + TOOL + "10063", "10063", 1.0, 1.0, "call, tool answer, the right final answer"),
    (CALL + TOOL + "10036", "10063", F, 0.0, "the tool was right, the model copied it wrong"),
    (CALL + TOOL, "10063", 0.0, 0.0, "the tool answered, the model said nothing: the tool's number is not an answer"),
    (CALL + TOOL + "The answer is 10063.", "10063", 1.0, 1.0, "words around the answer"),
    (CALL + TOOL + "10063 or 12", "10063", F, 0.0, "the last number the model wrote counts"),
    ("10063", "10063", 1.0, 1.0, "no tool: the whole text is the final turn"),
    ("9999", "10063", F, 0.0, "no tool, wrong"),
    ('<tool_call>\n{"name": "calculator", "arguments": {"expression": "10063"}}\n</tool_call>', "10063", 0.0, 0.0,
     "a call's arguments are not an answer (trajectory cut after the call)"),
    (CALL + TOOL + CALL.replace("347 * 29", "10063"), "10063", 0.0, 0.0, "a second call, never answered"),
    (CALL + TOOL + CALL + "\nuser\n<tool_response>\n10063\n</tool_response>\nassistant\n10063", "10063", 1.0, 1.0,
     "two tool turns: the answer after the last one"),
    ("", "10063", 0.0, 0.0, "empty response"),
    (CALL + TOOL + "-5", "-5", 1.0, 1.0, "a negative answer"),
    (CALL + TOOL + "010063", "10063", 1.0, 1.0, "compared as integers"),
]


@pytest.mark.exercise("07.reward")
@pytest.mark.parametrize(("solution", "truth", "score", "acc", "why"), REWARD_CASES,
                         ids=[c[4] for c in REWARD_CASES])
def test_compute_score_hand_worked(solution, truth, score, acc, why):
    out = agent.compute_score(data_source="verlings/mul", solution_str=solution, ground_truth=truth, extra_info={})
    assert isinstance(out, dict) and "score" in out and "acc" in out, (
        f"compute_score should return {{'score': ..., 'acc': ...}}, got {out!r}")
    assert_equal(float(out["score"]), score, what=f"score for {solution!r} (truth {truth}) — {why}")
    assert_equal(float(out["acc"]), acc, what=f"acc for {solution!r} (verl's validation reports it as accuracy)")


@pytest.mark.exercise("07.reward")
def test_compute_score_on_a_trajectory_decoded_as_verl_decodes_it():
    """The ids of a real two-turn trajectory, decoded the way verl's reward manager does."""
    from verlings.agent_rl.task import TOOL_SCHEMA, conversation
    from verlings.fixtures.tokenizer import local_tokenizer

    tok = local_tokenizer()
    messages = conversation(347, 29)
    prompt = tok.apply_chat_template(messages[:1], tools=[TOOL_SCHEMA], add_generation_prompt=True, tokenize=True)
    full = tok.apply_chat_template(messages, tools=[TOOL_SCHEMA], tokenize=True)
    prompt, full = (list(x["input_ids"]) if hasattr(x, "keys") else list(x) for x in (prompt, full))
    response = full[len(prompt):]
    text = tok.decode(response, skip_special_tokens=True)
    out = agent.compute_score(data_source="verlings/mul", solution_str=text, ground_truth="10063", extra_info=None)
    assert_equal(float(out["score"]), 1.0, what=f"score of {text!r}")
    wrong = text.rsplit("10063", 1)[0] + "1006"
    out = agent.compute_score(data_source="verlings/mul", solution_str=wrong, ground_truth="10063", extra_info=None)
    assert_equal(float(out["acc"]), 0.0, what=f"acc of {wrong!r}",
                 why="the tool wrote 10063; the model's own answer is 1006")


@pytest.mark.exercise("07.reward")
def test_compute_score_loads_with_verls_loader():
    from omegaconf import OmegaConf
    from verl.trainer.ppo.reward import get_custom_reward_fn

    from verlings import target as target_mod

    path = str(Path(target_mod.load_module("07", "agent_rl").__file__))
    fn = get_custom_reward_fn(OmegaConf.create({"reward": {"custom_reward_function": {"path": path,
                                                                                       "name": "compute_score"}}}))
    out = fn(data_source="verlings/mul", solution_str="42", ground_truth="42", extra_info={"num_turns": 2})
    assert float(out["score"]) == 1.0, f"through verl's loader compute_score returned {out!r}"


# --- 07.training: one real run for every check below --------------------------------------------

STEPS = 2


def _call_each_function_once(tmp: Path) -> None:
    """Milliseconds before minutes: a stub or a crash shows up here with its own message."""
    agent.tool_config(CALC_CLASS, _schema())
    agent.agent_overrides(str(tmp / "tools.yaml"), "verlings_tool_agent", 2)
    agent.compute_score(data_source="verlings/mul", solution_str="1", ground_truth="1", extra_info={})


def _no_stub_in_what_the_run_uses() -> None:
    """The run also trains with chapter 05's parser, tool and loop and chapter 03's estimator:
    a stub there is named now, not after minutes of warm start and a failed verl run."""
    from verlings import target
    from verlings.agent_rl.preflight import stubs_the_run_needs

    problem = stubs_the_run_needs(target.active())
    if problem:
        raise target.StubsNeeded(problem)


@pytest.fixture(scope="module")
def agent_run(tmp_path_factory):
    """One real run (warm start cached under .verlings/cache) for all training checks."""
    from verlings.agent_rl.launcher import GRADED, run
    from verlings.agent_rl.warm_start import warm_start
    from verlings.capstone.launcher import engine_missing

    tmp = tmp_path_factory.mktemp("agent-run")
    _call_each_function_once(tmp)
    _no_stub_in_what_the_run_uses()
    missing = engine_missing()
    if missing:
        pytest.skip(missing)
    model = warm_start(log=lambda *_: None)
    return run(GRADED, tmp, model=model, timeout_s=1500)


def _ok(result) -> None:
    assert result.ok, result.run.failure()


def _trajectories(result) -> list[dict]:
    path = result.out_dir / "trajectories.jsonl"
    assert path.is_file(), (f"no trajectory was recorded ({path} missing): verl never ran your agent loop — "
                            "does agent_overrides name it as the default agent loop? (07.overrides)")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _batch(result, step: int = 1) -> dict:
    path = result.out_dir / f"batch_step{step}.json"
    assert path.is_file(), f"the trainer's batch of step {step} was not captured ({path} missing)"
    return json.loads(path.read_text(encoding="utf-8"))


def _rows(result, step: int = 1) -> list[dict]:
    """The trained rows. verl 0.9.1's v1 trainer stores each row unpadded (nested tensors)."""
    b = _batch(result, step)["fields"]
    rows = []
    for i in range(len(b["responses"])):
        prompt, response = b["prompts"][i], b["responses"][i]
        assert b["input_ids"][i] == prompt + response, f"row {i}: input_ids is not prompts + responses"
        rows.append({"prompt": prompt, "response": response, "mask": b["response_mask"][i],
                     "scores": b["rm_scores"][i]})
    return rows


def _matched(result, step: int = 1) -> list[tuple[dict, dict]]:
    """Each row of the trained batch with the trajectory your loop recorded for it (same ids)."""
    by_ids = {}
    for t in _trajectories(result):
        if t.get("split") == "train":
            by_ids[(tuple(t["prompt_ids"]), tuple(t["response_ids"]))] = t
    pairs, unmatched = [], 0
    for row in _rows(result, step):
        t = by_ids.get((tuple(row["prompt"]), tuple(row["response"])))
        if t is None:
            unmatched += 1
        else:
            pairs.append((row, t))
    assert not unmatched, (f"{unmatched} row(s) of the trained batch match no trajectory your agent loop returned: "
                           "did another loop (verl's single_turn_agent or ToolAgentLoop) produce them? (07.overrides)")
    return pairs


def _tokenizer():
    from verlings.fixtures.tokenizer import local_tokenizer

    return local_tokenizer()


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.exercise("07.training")
def test_agent_run_finishes_its_steps(agent_run):
    _ok(agent_run)
    assert agent_run.run.summary["steps"] == STEPS, (
        f"verl logged {agent_run.run.summary['steps']} step(s), expected {STEPS} — see {agent_run.out_dir / 'run.log'}")
    for tag in ("actor/pg_loss", "actor/grad_norm"):
        values = [v for _, v in agent_run.run.summary["series"].get(tag, [])]
        assert values and all(math.isfinite(v) for v in values), f"{tag} is missing or not finite: {values}"


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.exercise("07.training")
def test_rollout_ran_your_loop_and_your_parser_never_verls(agent_run):
    from verlings import target as target_mod

    _ok(agent_run)
    root = target_mod.active()
    loop_file = (root / "05" / "agent_loop.py").resolve()
    parser_file = (root / "05" / "tool_parser.py").resolve()
    trajectories = _trajectories(agent_run)
    train = [t for t in trajectories if t.get("split") == "train"]
    assert len(train) >= STEPS * 4 * 4, f"{len(train)} training trajectories recorded, expected {STEPS * 16}"
    for t in trajectories:
        assert Path(t["loop"]["file"]).resolve() == loop_file, (
            f"a trajectory was produced by {t['loop']} — expected your loop in {loop_file}")
        assert t["parser"] and Path(t["parser"]["file"]).resolve() == parser_file, (
            f"tool calls were parsed by {t['parser']} — expected your parse_hermes in {parser_file}")
    verl_calls = agent_run.out_dir / "verl_parser_calls.jsonl"
    assert not verl_calls.is_file() or not verl_calls.read_text().strip(), (
        f"verl's HermesToolParser was called during the run ({verl_calls}): the rollout fell back to verl's parser")
    _matched(agent_run)  # every trained row is one of these trajectories


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.exercise("07.training")
def test_tool_calls_in_the_batch_were_parsed_by_your_parser(agent_run):
    from verlings import target as target_mod

    _ok(agent_run)
    parse_hermes = target_mod.load_module("05", "tool_parser").parse_hermes
    pairs = _matched(agent_run)
    turns = [turn for _, t in pairs for turn in t["turns"]]
    calls = [c for turn in turns for c in turn["calls"]]
    assert calls, (
        f"no tool call was parsed in the {len(pairs)} trained trajectories ({len(turns)} model turns parsed), e.g. "
        f"{turns[0]['text'][:160]!r} — the warm start writes <tool_call> blocks: does your parse_hermes find them? "
        "(chapter 05 §1.2)" if turns else f"no model turn was ever parsed in {len(pairs)} trajectories")
    for turn in turns[:50]:
        _content, expected = parse_hermes(turn["text"])
        assert turn["calls"] == expected, (
            f"the loop used the calls {turn['calls']}, your parse_hermes gives {expected} for {turn['text']!r}")
    names = {c["name"] for c in calls}
    assert "calculator" in names, f"the model called {names}, never the calculator"
    with_tool = [t for _, t in pairs if any(turn["calls"] for turn in t["turns"])]
    assert any(len(t["generated"]) >= 2 for t in with_tool), (
        "no trajectory with a tool call got a second model turn: the tool's answer never reached the model")


def _model_spans(response: list[int], generated: list[list[int]], header: list[int]) -> list[int] | None:
    """The mask verl must train with, from the ids the engine sampled: 1 on each generated run,
    0 on everything between (the tool turn and the template's headers). ``None`` if the generated
    runs are not found in order (the loop changed what the model wrote)."""
    expected = [0] * len(response)
    pos = 0
    for i, run in enumerate(generated):
        if i:
            # the tool turn ends with the next assistant turn's header; the model's next run starts after it
            found = next((j + len(header) for j in range(pos, len(response) - len(header) + 1)
                          if response[j:j + len(header)] == header), None)
            if found is None:
                return None
            pos = found
        piece = response[pos:pos + len(run)]
        if piece != run[:len(piece)]:
            return None
        expected[pos:pos + len(piece)] = [1] * len(piece)
        pos += len(piece)
    return expected


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.exercise("07.training")
def test_response_mask_is_1_on_model_tokens_and_0_on_tool_tokens(agent_run):
    _ok(agent_run)
    tok = _tokenizer()
    header = list(tok.encode("<|im_start|>assistant\n", add_special_tokens=False))
    tool_ids = {tok.convert_tokens_to_ids(t) for t in ("<tool_response>", "</tool_response>", "<|im_start|>")}
    multi = 0
    for row, t in _matched(agent_run):
        expected = _model_spans(row["response"], t["generated"], header)
        assert expected is not None, (
            "the trained response does not contain the ids the model sampled, in order: the loop re-tokenised or "
            f"re-templated the model's turns (chapter 05 §3.1). sampled: {t['generated']}, trained: {row['response']}")
        if len(t["generated"]) >= 2:
            multi += 1
        bad = [i for i, (m, e) in enumerate(zip(row["mask"], expected)) if m != e]
        if bad:
            i = bad[0]
            kind = "a tool/template token" if expected[i] == 0 else "a token the model sampled"
            raise AssertionError(
                f"response_mask[{i}] is {row['mask'][i]} on {kind} ({tok.decode(row['response'][i:i + 1])!r}); "
                f"{len(bad)} wrong position(s) in a response of {len(row['response'])}. Tool answers and the "
                "template's headers are context (mask 0); the model's sampled ids are trained on (mask 1). "
                "(chapter 05 §3.3)")
        leaked = [i for i, m in enumerate(row["mask"]) if m == 1 and row["response"][i] in tool_ids]
        assert not leaked, f"mask 1 on tool markup at positions {leaked}"
    assert multi, "no trained trajectory had a tool turn: the mask of a tool answer was never checked"


def _delta(tok, tool_texts: list[str], tools: list[dict]) -> list[int]:
    """The lesson's tool-turn delta (chapter 05 §3.2): template with and without the tool messages."""
    base = [{"role": "user", "content": "u"},
            {"role": "assistant", "content": "", "tool_calls": [{"type": "function",
                                                                 "function": {"name": "t", "arguments": {}}}]}]

    def ids(messages: list[dict], gen: bool) -> list[int]:
        out = tok.apply_chat_template(messages, tools=tools, add_generation_prompt=gen, tokenize=True)
        return list(out["input_ids"] if hasattr(out, "keys") else out)

    prefix = ids(base, False)
    return ids(base + [{"role": "tool", "content": text} for text in tool_texts], True)[len(prefix):]


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.exercise("07.training")
def test_token_sequence_equals_the_template_where_the_lesson_says(agent_run):
    """prompt = template(messages, tools) + generation prompt; each tool turn = the template's delta;
    each model turn = the ids as sampled (never re-tokenised)."""
    from verlings.agent_rl.task import TOOL_SCHEMA, question

    _ok(agent_run)
    tok = _tokenizer()
    sep = list(tok.encode("\n", add_special_tokens=False))
    tool_answer = re.compile(r"<tool_response>\n(.*?)\n</tool_response>", re.DOTALL)
    checked_tool_turns = 0
    for row, t in _matched(agent_run):
        a, b = (int(x) for x in re.findall(r"\d+", tok.decode(row["prompt"]).rsplit("user\n", 1)[-1])[:2])
        messages = [{"role": "user", "content": question(a, b)}]
        want = tok.apply_chat_template(messages, tools=[TOOL_SCHEMA], add_generation_prompt=True, tokenize=True)
        want = list(want["input_ids"] if hasattr(want, "keys") else want)
        assert row["prompt"] == want, (
            "the trained prompt is not the chat template of the question with the tool schema "
            f"(+ generation prompt): {tok.decode(row['prompt'])!r} vs {tok.decode(want)!r} (chapter 05 §3.3)")
        expected: list[int] = []
        texts = tool_answer.findall(tok.decode(row["response"]))
        used = 0
        for i, run in enumerate(t["generated"]):
            if i:
                k = max(1, len(t["turns"][i - 1]["calls"]) if i - 1 < len(t["turns"]) else 1)
                answers, used = texts[used:used + k], used + k  # one tool message per parsed call
                if expected and expected[-1] == tok.eos_token_id:
                    expected += sep
                expected += _delta(tok, answers, [TOOL_SCHEMA])
                checked_tool_turns += 1
            expected += run
        expected = expected[:len(row["response"])]
        assert row["response"] == expected, (
            "the trained response is not [model ids as sampled] + [\\n + template delta of the tool answer] + ...: "
            f"\n  trained : {tok.decode(row['response'])!r}\n  expected: {tok.decode(expected)!r} (chapter 05 §3.2)")
    assert checked_tool_turns, "no tool turn was in the trained batch to check"


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.exercise("07.training")
def test_reward_reached_the_last_model_token(agent_run):
    _ok(agent_run)
    tok = _tokenizer()
    rewarded = 0
    for row, t in _matched(agent_run):
        scores, mask = row["scores"], row["mask"]
        last = len(row["response"]) - 1
        off = [i for i, s in enumerate(scores) if s != 0 and i != last]
        assert not off, f"token-level scores sit at positions {off}, expected only on the last token ({last})"
        assert mask[last] == 1, (
            "the response ends with a token of mask 0 — verl puts the reward on the last token, which must be "
            "one the model wrote (a tool turn is never the last thing appended; chapter 05 §3.3)")
        text = tok.decode(row["response"], skip_special_tokens=True)
        want = agent.compute_score(data_source="verlings/mul", solution_str=text,
                                   ground_truth=str(t["ground_truth"]), extra_info={})["score"]
        assert math.isclose(scores[last], float(want), abs_tol=1e-6), (
            f"the trainer's score {scores[last]} differs from your compute_score {want} for {text!r}")
        rewarded += scores[last] != 0
    assert rewarded, (
        "every trained trajectory scored 0: reward flat at 0 is the signature of calls that are never parsed, "
        "or a reward that misreads the final answer (07.reward)")
