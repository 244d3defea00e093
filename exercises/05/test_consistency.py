"""Graded tests for exercises/05/consistency.py.

Each trajectory here is built by hand from the course tokenizer (a clean one, then one defect
at a time), plus verl's own trajectories from the agent goldens, which are clean by
construction except the scenario whose model sampled non-canonical ids.
"""

import json
import math
import re
from dataclasses import dataclass, replace

import pytest

from verlings import learner_module
from verlings.fixtures.scenarios import SCENARIOS
from verlings.fixtures.scripted_server import char_split_ids
from verlings.testing import golden, hint_line

consistency = learner_module("05", "consistency")
EX = "05.consistency"
TAGS = ("length", "mask", "logprob", "prompt", "drift")

CALCULATOR = {
    "type": "function",
    "function": {
        "name": "calculator",
        "description": "Evaluate an arithmetic expression",
        "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]},
    },
}
MESSAGES = [{"role": "user", "content": "What is 6*7?"}]


@dataclass(frozen=True)
class Trajectory:
    """The four lists of verl's AgentLoopOutput that check_trajectory reads."""

    prompt_ids: list
    response_ids: list
    response_mask: list
    response_logprobs: list | None


def _encode(tokenizer, text: str) -> list[int]:
    return list(tokenizer.encode(text, add_special_tokens=False))


def _prompt(tokenizer, messages=MESSAGES, tools=(CALCULATOR,)) -> list[int]:
    ids = tokenizer.apply_chat_template(messages, tools=list(tools) or None, add_generation_prompt=True, tokenize=True)
    return list(ids["input_ids"] if hasattr(ids, "keys") else ids)


def _pieces(tokenizer):
    """(model turn 1, tool turn, model turn 2) ids of a clean trajectory."""
    turn1 = _encode(tokenizer, '<tool_call>\n{"name": "calculator", "arguments": {"expression": "6*7"}}\n</tool_call>')
    turn1 += [tokenizer.eos_token_id]
    tool = _encode(tokenizer, "\n<|im_start|>user\n<tool_response>\n42\n</tool_response><|im_end|>\n"
                              "<|im_start|>assistant\n")
    turn2 = [*_encode(tokenizer, "The answer is 42."), tokenizer.eos_token_id]
    return turn1, tool, turn2


def _clean(tokenizer) -> Trajectory:
    turn1, tool, turn2 = _pieces(tokenizer)
    ids = turn1 + tool + turn2
    mask = [1] * len(turn1) + [0] * len(tool) + [1] * len(turn2)
    logprobs = [-0.25 - 0.01 * i if m else 0.0 for i, m in enumerate(mask)]
    return Trajectory(_prompt(tokenizer), ids, mask, logprobs)


def _tags(problems) -> set[str]:
    assert isinstance(problems, list) and all(isinstance(p, str) for p in problems), (
        f"check_trajectory returned {problems!r}; expected a list of strings"
    )
    tags = set()
    for p in problems:
        tag = p.split(":", 1)[0].strip()
        assert tag in TAGS, f"problem {p!r} does not start with one of the tags {TAGS} and a colon"
        tags.add(tag)
    return tags


def _check(tokenizer, trajectory, expected: set[str], why: str, messages=MESSAGES, tools=(CALCULATOR,)):
    problems = consistency.check_trajectory(output=trajectory, tokenizer=tokenizer, messages=messages,
                                            tools=list(tools) or None)
    tags = _tags(problems)
    if tags != expected:
        raise AssertionError(
            f"check_trajectory found {sorted(tags) or 'nothing'}; expected {sorted(expected) or 'nothing'}\n"
            f"  its problems: {problems!r}\n  {why}\n" + hint_line()
        )
    return problems


@pytest.mark.exercise(EX)
def test_check_trajectory_clean_is_empty(tokenizer):
    _check(tokenizer, _clean(tokenizer), set(), "this trajectory is consistent: no problem to report")


@pytest.mark.exercise(EX)
def test_check_trajectory_logprobs_one_short(tokenizer):
    t = _clean(tokenizer)
    problems = _check(tokenizer, replace(t, response_logprobs=t.response_logprobs[:-1]), {"length"},
                      "response_logprobs has one entry fewer than response_ids: 'length' (and nothing else — the other "
                      "checks look at the first min(lengths) positions)")
    assert len(problems) == 1, f"one problem expected, got {problems!r}"


@pytest.mark.exercise(EX)
def test_check_trajectory_mask_one_long(tokenizer):
    t = _clean(tokenizer)
    _check(tokenizer, replace(t, response_mask=[*t.response_mask, 0]), {"length"},
           "response_mask has one entry more than response_ids")


@pytest.mark.exercise(EX)
def test_check_trajectory_logprobs_none_is_allowed(tokenizer):
    _check(tokenizer, replace(_clean(tokenizer), response_logprobs=None), set(),
           "response_logprobs=None (the engine reported none): nothing to check there")


@pytest.mark.exercise(EX)
def test_check_trajectory_tool_turn_marked_as_model(tokenizer):
    t = _clean(tokenizer)
    problems = _check(tokenizer, replace(t, response_mask=[1] * len(t.response_ids)), {"mask"},
                      "the tool turn has mask 1: <|im_start|>, <tool_response> and everything after the model's "
                      "<|im_end|> inside a run of 1s were not sampled by the model")
    assert len(problems) == 1, f"one 'mask' problem for the one run of 1s, got {problems!r}"


@pytest.mark.exercise(EX)
def test_check_trajectory_separator_marked_as_model(tokenizer):
    # Only the "\n" after the model's <|im_end|> is marked 1 — the subtlest version of the bug.
    turn1, _, _ = _pieces(tokenizer)
    t = _clean(tokenizer)
    mask = list(t.response_mask)
    mask[len(turn1)] = 1
    _check(tokenizer, replace(t, response_mask=mask), {"mask"},
           "a token after the model's EOS in the same run of 1s: the turn separator is the template's, not the model's")


@pytest.mark.exercise(EX)
def test_check_trajectory_mask_values(tokenizer):
    t = _clean(tokenizer)
    mask = list(t.response_mask)
    mask[-1] = 2  # the final <|im_end|>
    _check(tokenizer, replace(t, response_mask=mask), {"mask"}, "a mask value other than 0 and 1")


@pytest.mark.exercise(EX)
def test_check_trajectory_tool_logprob_not_zero(tokenizer):
    turn1, _, _ = _pieces(tokenizer)
    t = _clean(tokenizer)
    logprobs = list(t.response_logprobs)
    logprobs[len(turn1) + 3] = -1.5
    _check(tokenizer, replace(t, response_logprobs=logprobs), {"logprob"},
           "a tool token (mask 0) with a non-zero log-prob: nothing was sampled there")


@pytest.mark.exercise(EX)
@pytest.mark.parametrize("value", [0.5, math.nan, -math.inf], ids=["positive", "nan", "-inf"])
def test_check_trajectory_model_logprob_invalid(value, tokenizer):
    t = _clean(tokenizer)
    logprobs = list(t.response_logprobs)
    logprobs[2] = value
    _check(tokenizer, replace(t, response_logprobs=logprobs), {"logprob"},
           f"a model token with log-prob {value}: a log-probability is finite and <= 0")


@pytest.mark.exercise(EX)
def test_check_trajectory_prompt_without_tools(tokenizer):
    t = replace(_clean(tokenizer), prompt_ids=_prompt(tokenizer, tools=()))
    _check(tokenizer, t, {"prompt"}, "the prompt was templated without the tool schemas the messages were sent with")


@pytest.mark.exercise(EX)
def test_check_trajectory_prompt_of_other_messages(tokenizer):
    t = _clean(tokenizer)
    other = [{"role": "user", "content": "What is 6*8?"}]
    _check(tokenizer, t, {"prompt"}, "prompt_ids are not the template of these messages", messages=other)


@pytest.mark.exercise(EX)
def test_check_trajectory_drift(tokenizer):
    turn1, tool, _ = _pieces(tokenizer)
    turn2 = [*char_split_ids(tokenizer, "The answer is 42."), tokenizer.eos_token_id]  # valid, non-canonical
    ids = turn1 + tool + turn2
    mask = [1] * len(turn1) + [0] * len(tool) + [1] * len(turn2)
    t = Trajectory(_prompt(tokenizer), ids, mask, [-0.5 if m else 0.0 for m in mask])
    problems = _check(tokenizer, t, {"drift"},
                      "the 2nd model turn decodes to 'The answer is 42.<|im_end|>' but re-encodes to fewer, other ids")
    assert len(problems) == 1, f"one 'drift' problem (only the 2nd model run drifts), got {problems!r}"


@pytest.mark.exercise(EX)
def test_check_trajectory_drift_only_matters_where_the_model_speaks(tokenizer):
    # The tool turn's "42" tokenised one character at a time: those ids are never trained on (mask 0).
    turn1, _, turn2 = _pieces(tokenizer)
    tool = (_encode(tokenizer, "\n<|im_start|>user\n<tool_response>\n") + char_split_ids(tokenizer, "42 apples")
            + _encode(tokenizer, "\n</tool_response><|im_end|>\n<|im_start|>assistant\n"))
    ids = turn1 + tool + turn2
    mask = [1] * len(turn1) + [0] * len(tool) + [1] * len(turn2)
    t = Trajectory(_prompt(tokenizer), ids, mask, [-0.5 if m else 0.0 for m in mask])
    _check(tokenizer, t, set(), "drift is checked per model run (mask 1): a non-canonical tool turn is not trained on")


@pytest.mark.exercise(EX)
def test_check_trajectory_reports_every_kind_at_once(tokenizer):
    t = _clean(tokenizer)
    logprobs = list(t.response_logprobs)[:-1]
    logprobs[2] = 1.0
    t = replace(t, response_mask=[1] * len(t.response_ids), response_logprobs=logprobs,
                prompt_ids=_prompt(tokenizer, tools=()))
    _check(tokenizer, t, {"length", "mask", "logprob", "prompt"}, "four independent defects: report each of them")


def _scenario_names() -> list[str]:
    return list(SCENARIOS)


@pytest.mark.exercise(EX)
@pytest.mark.parametrize("name", _scenario_names())
def test_check_trajectory_on_verls_trajectories(name, tokenizer):
    g = golden("05", "agent_trajectories")
    p = f"{name}__"
    t = Trajectory(g[p + "prompt_ids"].tolist(), g[p + "response_ids"].tolist(), g[p + "response_mask"].tolist(),
                   g[p + "response_logprobs"].tolist())
    tools = json.loads(str(g["tool_schemas_json"]))
    # verl's ToolAgentLoop keeps the sampled ids: only the scenario that sampled non-canonical ids drifts.
    expected = {"drift"} if name == "noncanonical" else set()
    _check(tokenizer, t, expected, f"verl's trajectory for scenario {name!r} ({SCENARIOS[name].about})",
           messages=list(SCENARIOS[name].messages), tools=tools)


# --- where: each message names the positions it is about (the contract's "what is wrong and where") ----


def _numbers(text: str) -> set[int]:
    """Every whole number written in ``text`` (a sign included: "-3" is -3, not 3)."""
    return {int(n) for n in re.findall(r"(?<!\w)-?\d+(?!\w)", text)}


def _one(problems: list[str], tag: str) -> str:
    found = [p for p in problems if p.startswith(tag + ":")]
    assert len(found) == 1, f"expected one {tag!r} problem, got {problems!r}"
    return found[0]


@pytest.mark.exercise(EX)
def test_check_trajectory_mask_message_names_the_first_and_last_position(tokenizer):
    # Everything marked 1: the one run of 1s holds the model's <|im_end|> at len(turn1) - 1; the tokens
    # from len(turn1) (the separator) to the last position are not the model's.
    turn1, _, _ = _pieces(tokenizer)
    t = _clean(tokenizer)
    t = replace(t, response_mask=[1] * len(t.response_ids))
    problems = consistency.check_trajectory(output=t, tokenizer=tokenizer, messages=MESSAGES, tools=[CALCULATOR])
    message = _one(problems, "mask")
    first, last = len(turn1), len(t.response_ids) - 1
    assert {first, last} <= _numbers(message), (
        f"the 'mask' problem is {message!r}; it should name the first and last offending response positions, "
        f"{first} (the token after the model's EOS) and {last}\n" + hint_line()
    )
    assert not any(n < 0 for n in _numbers(message)), f"{message!r} names a negative position\n" + hint_line()


@pytest.mark.exercise(EX)
def test_check_trajectory_prompt_message_names_the_first_difference(tokenizer):
    # "What is 6*7?" against "What is 6*8?": the two templates agree up to the token of 7 / 8.
    other = [{"role": "user", "content": "What is 6*8?"}]
    t = _clean(tokenizer)
    expected = _prompt(tokenizer, other)
    at = next(i for i, (a, b) in enumerate(zip(t.prompt_ids, expected)) if a != b)
    problems = consistency.check_trajectory(output=t, tokenizer=tokenizer, messages=other, tools=[CALCULATOR])
    message = _one(problems, "prompt")
    assert at in _numbers(message), (
        f"the 'prompt' problem is {message!r}; it should name position {at}, the first token where prompt_ids "
        "and the template differ\n" + hint_line()
    )


@pytest.mark.exercise(EX)
def test_check_trajectory_drift_message_names_the_run(tokenizer):
    # The 2nd model run spans positions len(turn1) + len(tool) .. len(ids) - 1.
    turn1, tool, _ = _pieces(tokenizer)
    turn2 = [*char_split_ids(tokenizer, "The answer is 42."), tokenizer.eos_token_id]
    ids = turn1 + tool + turn2
    mask = [1] * len(turn1) + [0] * len(tool) + [1] * len(turn2)
    t = Trajectory(_prompt(tokenizer), ids, mask, [-0.5 if m else 0.0 for m in mask])
    problems = consistency.check_trajectory(output=t, tokenizer=tokenizer, messages=MESSAGES, tools=[CALCULATOR])
    message = _one(problems, "drift")
    start, end = len(turn1) + len(tool), len(ids) - 1
    assert {start, end} <= _numbers(message), (
        f"the 'drift' problem is {message!r}; it should name the drifting run's first and last response "
        f"positions, {start} and {end}\n" + hint_line()
    )


# --- the template's own tokens are caught by name, not only after an EOS (issue 24) ---------------------


# The contract's NON_MODEL_TOKENS, copied here (the test must not import your module to be collected).
NON_MODEL_TOKENS = ("<|im_start|>", "<tool_response>", "</tool_response>")


@pytest.mark.exercise(EX)
@pytest.mark.parametrize("token", NON_MODEL_TOKENS)
def test_check_trajectory_a_lone_template_token_marked_as_model(token, tokenizer):
    # One token of the tool turn marked 1 on its own: a run of length one with no EOS in it, so only the
    # NON_MODEL_TOKENS rule can see it (the EOS rule needs an EOS before the run's last token).
    t = _clean(tokenizer)
    turn1, _, _ = _pieces(tokenizer)
    at = t.response_ids.index(tokenizer.convert_tokens_to_ids(token), len(turn1))
    mask = list(t.response_mask)
    mask[at] = 1
    problems = _check(tokenizer, replace(t, response_mask=mask), {"mask"},
                      f"{token!r} at response position {at} has mask 1: only the chat template or a tool writes it "
                      "(a token of NON_MODEL_TOKENS in a model run), even with no EOS before it")
    assert at in _numbers(_one(problems, "mask")), (
        f"the 'mask' problem is {_one(problems, 'mask')!r}; it should name position {at}\n" + hint_line()
    )


@pytest.mark.exercise(EX)
def test_check_trajectory_mask_message_counts_template_tokens_before_the_eos(tokenizer):
    # The model's turn is right (1s, then the "\n" separator 0); everything from the tool turn's <|im_start|>
    # to the end is marked 1: one run holding <|im_start|>, <tool_response>, </tool_response> BEFORE the tool
    # turn's <|im_end|> (an EOS), and template tokens after it. Both rules fire in the one run: the first
    # offending position is the <|im_start|>, the last is the last response token.
    t = _clean(tokenizer)
    turn1, _, _ = _pieces(tokenizer)
    first = t.response_ids.index(tokenizer.convert_tokens_to_ids("<|im_start|>"), len(turn1))
    mask = [1] * len(turn1) + [0] * (first - len(turn1)) + [1] * (len(t.response_ids) - first)
    problems = consistency.check_trajectory(output=replace(t, response_mask=mask), tokenizer=tokenizer,
                                            messages=MESSAGES, tools=[CALCULATOR])
    message = _one(problems, "mask")
    last = len(t.response_ids) - 1
    assert {first, last} <= _numbers(message), (
        f"the 'mask' problem is {message!r}; it should name the run's first and last offending positions, {first} "
        f"(<|im_start|>, a NON_MODEL_TOKENS token before the tool's <|im_end|>) and {last}: a run's offending tokens "
        "are those of both rules together\n" + hint_line()
    )
