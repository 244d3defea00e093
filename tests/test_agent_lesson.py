"""Chapter 07's lesson shows what the course really does (both languages).

* the tool-config YAML it shows is one verl 0.9.1 loads (through the course's check and verl's own
  loader), declaring the learner's calculator with the schema the run uses;
* the one-line error it shows is the check's own message for that YAML with ``type: nativ``;
* the ``solution_str`` it shows is what verl's reward manager decodes for a solved trajectory;
* every ``python grader.py agent ...``, ``scripts/record_agent_failures.py`` and
  ``benchmarks/bench_07_agent.py`` line parses with that program's own argument parser;
* both languages have the same sections.

The lesson's ``python -m verl.trainer.main_ppo`` lines are composed with verl's config by
``tests/test_capstone_lesson_commands.py``, which reads every lesson.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from verlings.dev.scripts import load_script
from verlings.paths import EXERCISES, ROOT, SOLUTIONS

LESSONS = [EXERCISES / "07" / "README.md", EXERCISES / "07" / "README.zh-CN.md"]
IDS = [p.name for p in LESSONS]


def _blocks(path: Path, lang: str) -> list[str]:
    return [
        body
        for kind, body in re.findall(r"^ *```(\w*)\n(.*?)^ *```", path.read_text(encoding="utf-8"), flags=re.M | re.S)
        if kind == lang
    ]


def _dedent_block(body: str) -> str:
    lines = body.splitlines()
    indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
    return "\n".join(line[indent:] for line in lines) + "\n"


def _tool_config_yaml(path: Path) -> str:
    blocks = [b for b in _blocks(path, "yaml") if "class_name:" in b]
    assert len(blocks) == 1, f"{path.name}: expected one tool-config YAML block, found {len(blocks)}"
    return _dedent_block(blocks[0])


@pytest.fixture
def solutions_target():
    from verlings import target as target_mod

    saved = target_mod.active()
    target_mod.set_active(SOLUTIONS)
    try:
        yield SOLUTIONS
    finally:
        target_mod.set_active(saved)


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_the_tool_config_shown_is_what_verl_loads(lesson, tmp_path, solutions_target):
    from verl.tools.tool_registry import initialize_tools_from_config

    from verlings.agent_rl.task import TOOL_SCHEMA
    from verlings.agent_rl.tool_config import validate_tool_config
    from verlings.target import load_module

    path = tmp_path / "tool_config.yaml"
    path.write_text(_tool_config_yaml(lesson), encoding="utf-8")
    entries = validate_tool_config(path, check_import=True)
    tools = initialize_tools_from_config(str(path))
    assert len(entries) == len(tools) == 1
    assert type(tools[0]) is load_module("05", "tools").CalculatorTool, "the YAML must declare the learner's calculator"
    shown = tools[0].tool_schema.model_dump(exclude_unset=True, exclude_none=True)
    assert shown == TOOL_SCHEMA, f"the lesson's schema differs from the one the run declares:\n{shown}\n{TOOL_SCHEMA}"


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_the_error_line_shown_is_the_checks_own(lesson, tmp_path, monkeypatch):
    from verlings.agent_rl.tool_config import ToolConfigError, validate_tool_config

    text = lesson.read_text(encoding="utf-8")
    shown = re.search(r"^ *(tool config run/tool_config\.yaml: .*)$", text, flags=re.M)
    assert shown, f"{lesson.name}: the example error line is gone"
    (tmp_path / "run").mkdir()
    broken = _tool_config_yaml(lesson).replace("type: native", "type: nativ", 1)
    assert broken != _tool_config_yaml(lesson)
    (tmp_path / "run" / "tool_config.yaml").write_text(broken, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ToolConfigError) as info:
        validate_tool_config(Path("run/tool_config.yaml"))
    assert str(info.value) == shown.group(1).strip()


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_the_solution_str_shown_is_how_verl_decodes_a_solved_trajectory(lesson):
    from verlings.agent_rl.task import TOOL_SCHEMA, conversation
    from verlings.fixtures.tokenizer import local_tokenizer

    tok = local_tokenizer()
    messages = conversation(347, 29)

    def ids(ms: list[dict], gen: bool) -> list[int]:
        out = tok.apply_chat_template(ms, tools=[TOOL_SCHEMA], add_generation_prompt=gen, tokenize=True)
        return list(out["input_ids"] if hasattr(out, "keys") else out)

    prompt = ids(messages[:1], True)
    full = ids(messages, False)
    # the model stops at <|im_end|>: the template's trailing "\n" after the last turn is never sampled
    response = full[len(prompt) :]
    decoded = tok.decode(response, skip_special_tokens=True).rstrip("\n")  # as verl's NaiveRewardManager
    shown = [b for b in _blocks(lesson, "text") if b.startswith("<tool_call>")]
    assert len(shown) == 1, f"{lesson.name}: expected one decoded trajectory block"
    assert shown[0].rstrip("\n") == decoded, f"lesson:\n{shown[0]!r}\nverl decodes:\n{decoded!r}"


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_the_trajectory_and_mask_shown_are_the_reference_loops(lesson):
    """§4's picture: the reference run_agent on the warm start's typical answer, padded as verl pads it."""
    import asyncio

    from verl.tools.schemas import OpenAIFunctionToolSchema

    from verlings.agent_rl.launcher import GRADED
    from verlings.agent_rl.task import TOOL_SCHEMA, conversation
    from verlings.fixtures.scripted_server import ScriptedLLMServer, tool_call
    from verlings.fixtures.tokenizer import local_tokenizer
    from verlings.fixtures.trajectory import render_trajectory
    from verlings.target import load_module

    tok = local_tokenizer()
    loop = load_module("05", "agent_loop", root=SOLUTIONS)
    calc = load_module("05", "tools", root=SOLUTIONS).CalculatorTool(
        config={"type": "native"}, tool_schema=OpenAIFunctionToolSchema.model_validate(TOOL_SCHEMA)
    )
    server = ScriptedLLMServer(tok, [tool_call("calculator", {"expression": "347 * 29"}), "10063"])
    length = GRADED.max_response_length
    out = asyncio.run(loop.run_agent(server, tok, conversation(347, 29)[:1], [calc], {}, 2, length))
    picture = render_trajectory(out, tok).split("\n\n")[0]  # the diff block, without its mask line
    text = lesson.read_text(encoding="utf-8")
    assert picture in text, f"{lesson.name}: §4's picture is not the reference loop's:\n{picture}"
    padded = out.response_mask + [0] * (length - len(out.response_mask))
    assert "`" + "".join("█" if m else "·" for m in padded) + "`" in text
    assert f"{len(out.prompt_ids)} " in text and f"{len(out.response_ids)} " in text
    assert f"{len(out.response_ids) - 1}" in text and out.num_turns == 4


def _lines(program: str) -> list[tuple[str, list[str]]]:
    found = []
    for lesson in LESSONS:
        for body in _blocks(lesson, "bash"):
            for line in body.splitlines():
                if program not in line or not line.lstrip().startswith("python"):
                    continue
                tokens = shlex.split(line.split(" #", 1)[0])
                if program in tokens and (program != "agent" or tokens[1:2] == ["grader.py"]):
                    found.append((f"{lesson.name}: {line.strip()[:70]}", tokens[tokens.index(program) + 1 :]))
    return found


def _script_parser(path: Path):
    return load_script(path).build_parser()


SCRIPT_LINES = [
    (label, args, script)
    for script in (
        "scripts/record_agent_failures.py",
        "benchmarks/bench_07_agent.py",
        "benchmarks/bench_07_warm_start_copy.py",
    )
    for label, args in _lines(script)
]


@pytest.mark.parametrize(("label", "args", "script"), SCRIPT_LINES, ids=[c[0] for c in SCRIPT_LINES])
def test_script_lines_parse(label, args, script):
    try:
        _script_parser(ROOT / script).parse_args(args)
    except SystemExit:
        raise AssertionError(f"{label}\n`python {script} {' '.join(args)}` is rejected by its parser") from None


AGENT_LINES = _lines("agent")


def test_the_lessons_show_the_agent_command():
    assert {label.split(":")[0] for label, _ in AGENT_LINES} == set(IDS)


@pytest.mark.parametrize(("label", "args"), AGENT_LINES, ids=[c[0] for c in AGENT_LINES])
def test_grader_agent_lines_parse(label, args):
    from verlings.agent_rl.cli import build_parser

    try:
        build_parser().parse_args(args)
    except SystemExit:
        raise AssertionError(f"{label}\n`python grader.py agent {' '.join(args)}` is rejected by its parser") from None


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_the_failure_table_is_the_recorded_runs(lesson):
    """§6's numbers come from scripts/record_agent_failures.py's record, never typed by hand."""
    import json

    script = ROOT / "scripts" / "record_agent_failures.py"
    module = load_script(script)
    text = lesson.read_text(encoding="utf-8")
    marker = "<!-- agent_failures table -->"
    assert marker in text, f"{lesson.name}: §6's table marker is gone"
    after = text.split(marker, 1)[1].lstrip("\n").splitlines()
    shown = "\n".join(line for line in after[: next(i for i, ln in enumerate(after) if not ln.startswith("|"))])
    record = json.loads(module.OUT.read_text(encoding="utf-8")) if module.OUT.is_file() else {}
    assert shown == module.table(record), f"{lesson.name}: rerun `python {script.relative_to(ROOT)} --table`"


def _sections(path: Path) -> list[str]:
    return re.findall(r"^#{2,3} (§[\d.]+)", path.read_text(encoding="utf-8"), flags=re.M)


def test_both_languages_have_the_same_sections():
    en, zh = (_sections(p) for p in LESSONS)
    assert en == zh, f"en {en}\nzh {zh}"
    assert {"§2.1", "§2.2", "§2.3", "§3"} <= set(en)  # the sections chapter.toml points the exercises at
