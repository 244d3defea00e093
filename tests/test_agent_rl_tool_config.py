"""Chapter 07's tool-config YAML: a malformed file gives one clear error naming the field, and a good
one is read exactly as verl 0.9.1's own loader reads it."""

from __future__ import annotations

import re
import textwrap

import pytest

from verlings.agent_rl.tool_config import ToolConfigError, validate_tool_config

SCHEMA = """\
    tool_schema:
      type: function
      function:
        name: calculator
        description: Evaluate an arithmetic expression
        parameters:
          type: object
          properties:
            expression: {type: string, description: "for example 123*45"}
          required: [expression]
"""
GOOD = "tools:\n  - class_name: verl.tools.base_tool.BaseTool\n    config: {type: native}\n" + SCHEMA


def _write(tmp_path, text: str):
    path = tmp_path / "tools.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_good_config_is_what_verls_loader_builds(tmp_path):
    from verl.tools.tool_registry import initialize_tools_from_config

    path = _write(tmp_path, GOOD)
    entries = validate_tool_config(path, check_import=True)
    tools = initialize_tools_from_config(str(path))
    assert [e["tool_schema"]["function"]["name"] for e in entries] == [t.name for t in tools] == ["calculator"]


BAD = [
    # (name, yaml, field named in the error, words of the problem)
    ("no_file", None, "(file)", "no such file"),
    ("syntax", "tools:\n  - class_name: a.B\n    config: {type: native\n", "line 4, column 1", "not valid YAML"),
    (
        "duplicate_key",
        "tools:\n  - class_name: a.B\n    config: {type: native}\n    config: {type: native}\n",
        "line 4, column 5",
        "duplicate key",
    ),
    ("top_level_list", "- class_name: a.B\n", "(top level)", "mapping with a 'tools' list"),
    ("no_tools_key", "tool:\n  - class_name: a.B\n", "tools", "missing"),
    ("tools_empty", "tools: []\n", "tools", "non-empty list"),
    ("entry_not_mapping", "tools:\n  - a.B\n", "tools[0]", "must be a mapping"),
    (
        "misspelt_key",
        "tools:\n  - class_name: a.B\n    config: {type: native}\n    tool_shema: {}\n",
        "tools[0].tool_shema",
        "unknown key",
    ),
    ("no_class_name", "tools:\n  - config: {type: native}\n", "tools[0].class_name", "required"),
    (
        "class_name_no_module",
        "tools:\n  - class_name: CalculatorTool\n    config: {type: native}\n",
        "tools[0].class_name",
        "'package.module.Class'",
    ),
    ("no_config", "tools:\n  - class_name: a.B\n", "tools[0].config", "required"),
    (
        "wrong_type",
        "tools:\n  - class_name: a.B\n    config: {type: mcp}\n",
        "tools[0].config.type",
        "must be one of ['native']",
    ),
    ("no_type", "tools:\n  - class_name: a.B\n    config: {timeout: 3}\n", "tools[0].config.type", "got None"),
    (
        "interpolation",
        "tools:\n  - class_name: a.B\n    config:\n      type: native\n      x: ${nope}\n",
        "tools[0].config.x",
        "cannot be resolved",
    ),
    (
        "schema_without_name",
        "tools:\n  - class_name: a.B\n    config: {type: native}\n"
        "    tool_schema: {type: function, function: {description: d}}\n",
        "tools[0].tool_schema.function.name",
        "field required",
    ),
    (
        "schema_bad_property",
        "tools:\n  - class_name: a.B\n    config: {type: native}\n"
        "    tool_schema: {type: function, function: {name: c, description: d, parameters: "
        "{type: object, properties: {x: {description: no type}}}}}\n",
        "tools[0].tool_schema.function.parameters.properties.x.type",
        "field required",
    ),
    (
        "duplicate_name",
        GOOD + "  - class_name: a.B\n    config: {type: native}\n" + SCHEMA,
        "tools[1].tool_schema.function.name",
        "duplicate tool name 'calculator' (also tools[0])",
    ),
]


@pytest.mark.parametrize(("name", "text", "field", "problem"), BAD, ids=[b[0] for b in BAD])
def test_a_malformed_config_names_its_field(tmp_path, name, text, field, problem):
    path = tmp_path / "missing.yaml" if text is None else _write(tmp_path, text)
    with pytest.raises(ToolConfigError) as info:
        validate_tool_config(path)
    err = info.value
    assert err.field == field, f"{name}: {err}"
    assert problem in err.problem, f"{name}: {err}"
    assert str(err).startswith(f"tool config {path}: {field}: "), str(err)
    assert "\n" not in str(err), f"{name}: one line, please: {err}"


def test_a_class_that_does_not_import_or_is_no_tool_names_class_name(tmp_path):
    for class_name, problem in [
        ("no_such_pkg.Tool", "cannot import module 'no_such_pkg'"),
        ("verl.tools.base_tool.NoSuchTool", "has no 'NoSuchTool'"),
        ("verl.tools.schemas.ToolResponse", "not a subclass of verl.tools.base_tool.BaseTool"),
    ]:
        path = _write(tmp_path, f"tools:\n  - class_name: {class_name}\n    config: {{type: native}}\n")
        assert validate_tool_config(path)  # without the import check the entry's shape is fine
        with pytest.raises(ToolConfigError, match=re.escape("tools[0].class_name")) as info:
            validate_tool_config(path, check_import=True)
        assert problem in info.value.problem, str(info.value)


@pytest.mark.parametrize("name", ["misspelt_key", "wrong_type", "schema_without_name"])
def test_verl_itself_misreads_what_the_check_rejects(tmp_path, name):
    """The point of the check: verl's own loader fails on these with an error that names no field
    (an AttributeError, a ValueError from the enum, a pydantic dump) — or, for a misspelt
    ``tool_schema`` and a tool that builds its own, silently drops the file's schema."""
    from verl.tools.tool_registry import initialize_tools_from_config

    text = dict((b[0], b[1]) for b in BAD)[name].replace("a.B", "verl.tools.base_tool.BaseTool")
    path = _write(tmp_path, text)
    with pytest.raises(Exception) as info:
        initialize_tools_from_config(str(path))
    assert not isinstance(info.value, ToolConfigError)


def test_the_run_stops_before_verl_starts_on_a_malformed_config(tmp_path):
    """A learner's tool_config that verl would misread stops chapter 07's launcher at once, with the
    field — not minutes later inside a Ray worker."""
    from verlings.agent_rl.launcher import GRADED, run
    from verlings.agent_rl.sick import build_target

    root = build_target(None, tmp_path / "target")
    learner = root / "07" / "agent_rl.py"
    learner.write_text(
        learner.read_text(encoding="utf-8")
        + "\n\ndef tool_config(class_name, tool_schema):\n"
        + "    entry = {'class_name': class_name, 'config': {'type': 'nativ'}, 'tool_schema': tool_schema}\n"
        + "    return {'tools': [entry]}\n",
        encoding="utf-8",
    )
    out = tmp_path / "run"
    with pytest.raises(ToolConfigError) as info:
        run(GRADED, out, model=tmp_path / "no-model", target=root, device="cpu")
    assert info.value.field == "tools[0].config.type" and "'nativ'" in info.value.problem
    assert not (out / "run.log").exists(), "verl was started anyway"
