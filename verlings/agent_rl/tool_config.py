"""Check a tool-config YAML before verl reads it: one clear error that names the field.

verl 0.9.1 reads ``actor_rollout_ref.rollout.multi_turn.tool_config_path`` in every
``AgentLoopWorker`` (``verl/tools/tool_registry.py::initialize_tools_from_config``):

.. code-block:: yaml

    tools:
      - class_name: my_pkg.tools.CalculatorTool   # imported by the worker
        config: {type: native}                     # passed to the tool as ``config``
        tool_schema:                               # optional: the tool builds its own when absent
          type: function
          function: {name: calculator, description: ..., parameters: {...}}

A mistake there surfaces minutes later, inside a Ray worker, as an ``AttributeError`` on a
``DictConfig`` or a pydantic dump — or not at all: verl ignores unknown keys, so a misspelt
``tool_shema`` silently drops the schema. ``validate_tool_config`` reads the file the way
verl does (``OmegaConf.load``, ``resolve=True``) and stops at the first problem with its
field path (``tools[0].config.type``) and what verl expects there.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

TOOL_KEYS = ("class_name", "config", "tool_schema")  # what verl's loader reads from an entry
TOOL_TYPES = ("native",)  # verl 0.9.1's ToolType (MCP tools were removed)


class ToolConfigError(ValueError):
    """A tool-config YAML verl would reject or misread; ``field`` is the dotted path of the problem."""

    def __init__(self, path: Path | str, field: str, problem: str) -> None:
        self.path = str(path)
        self.field = field
        self.problem = problem
        super().__init__(f"tool config {self.path}: {field}: {problem}")


def _load(path: Path) -> Any:
    import yaml
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    if not path.is_file():
        raise ToolConfigError(path, "(file)", "no such file")
    try:
        loaded = OmegaConf.load(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(yaml)"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ToolConfigError(path, where, f"not valid YAML: {problem}") from None
    except (OmegaConfBaseException, UnicodeDecodeError) as exc:
        raise ToolConfigError(path, "(file)", f"OmegaConf cannot read it: {exc}") from None
    try:
        # verl resolves ${...} interpolations when it builds each tool: resolve them now.
        return OmegaConf.to_container(loaded, resolve=True)
    except OmegaConfBaseException as exc:
        field = getattr(exc, "full_key", None) or "(interpolation)"
        raise ToolConfigError(path, str(field), f"cannot be resolved: {str(exc).splitlines()[0]}") from None


def _schema_field(prefix: str, loc: tuple) -> str:
    parts = [prefix]
    for item in loc:
        parts.append(f"[{item}]" if isinstance(item, int) else f".{item}")
    return "".join(parts)


def _check_schema(path: Path, where: str, schema: Any) -> str:
    from pydantic import ValidationError
    from verl.tools.schemas import OpenAIFunctionToolSchema

    if not isinstance(schema, dict):
        raise ToolConfigError(
            path, where, f"must be a mapping (an OpenAI function schema), got {type(schema).__name__}"
        )
    try:
        parsed = OpenAIFunctionToolSchema.model_validate(schema)
    except ValidationError as exc:
        error = exc.errors()[0]  # one error: the first is the one to fix first
        raise ToolConfigError(path, _schema_field(where, error["loc"]), error["msg"].lower()) from None
    return parsed.function.name


def _check_import(path: Path, where: str, class_name: str) -> None:
    from verl.tools.base_tool import BaseTool

    module_name, _, attr = class_name.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any import failure is this field's problem
        raise ToolConfigError(
            path, where, f"cannot import module {module_name!r}: {type(exc).__name__}: {exc}"
        ) from None
    cls = getattr(module, attr, None)
    if cls is None:
        raise ToolConfigError(path, where, f"module {module_name!r} has no {attr!r}")
    if not (isinstance(cls, type) and issubclass(cls, BaseTool)):
        raise ToolConfigError(path, where, f"{class_name!r} is not a subclass of verl.tools.base_tool.BaseTool")


def validate_tool_config(path: Path | str, *, check_import: bool = False) -> list[dict[str, Any]]:
    """Check a tool-config YAML as verl 0.9.1 reads it; return its tool entries.

    Args:
        path: the file ``multi_turn.tool_config_path`` points at.
        check_import: also import each ``class_name`` (in this process) and check it is a
            ``BaseTool`` subclass. The workers import it on their own ``sys.path``: only set this
            where that path is the same.

    Returns:
        The ``tools`` entries as plain dicts (interpolations resolved).

    Raises:
        ToolConfigError: at the first problem, with its field path (``tools[1].config.type``) —
            a YAML syntax error names the line and column instead.
    """
    path = Path(path)
    data = _load(path)
    if not isinstance(data, dict):
        raise ToolConfigError(path, "(top level)", f"must be a mapping with a 'tools' list, got {type(data).__name__}")
    if "tools" not in data:
        raise ToolConfigError(path, "tools", "missing: verl reads the list of tools from the top-level key 'tools'")
    tools = data["tools"]
    if not isinstance(tools, list) or not tools:
        raise ToolConfigError(path, "tools", f"must be a non-empty list of tool entries, got {tools!r}")
    names: dict[str, str] = {}
    for i, entry in enumerate(tools):
        where = f"tools[{i}]"
        if not isinstance(entry, dict):
            raise ToolConfigError(path, where, f"must be a mapping with {list(TOOL_KEYS)}, got {entry!r}")
        for key in entry:
            if key not in TOOL_KEYS:
                raise ToolConfigError(
                    path,
                    f"{where}.{key}",
                    f"unknown key: verl reads only {list(TOOL_KEYS)} and would silently ignore it",
                )
        class_name = entry.get("class_name")
        if not isinstance(class_name, str) or "." not in class_name.strip(".") or " " in class_name:
            raise ToolConfigError(
                path, f"{where}.class_name", f"required: the tool class as 'package.module.Class', got {class_name!r}"
            )
        config = entry.get("config")
        if not isinstance(config, dict):
            raise ToolConfigError(path, f"{where}.config", f"required: a mapping with at least 'type', got {config!r}")
        if config.get("type") not in TOOL_TYPES:
            raise ToolConfigError(
                path,
                f"{where}.config.type",
                f"must be one of {list(TOOL_TYPES)} (verl 0.9.1's ToolType), got {config.get('type')!r}",
            )
        if entry.get("tool_schema") is not None:
            name = _check_schema(path, f"{where}.tool_schema", entry["tool_schema"])
            if name in names:
                raise ToolConfigError(
                    path,
                    f"{where}.tool_schema.function.name",
                    f"duplicate tool name {name!r} (also {names[name]}): the model could not tell the tools apart",
                )
            names[name] = where
        if check_import:
            _check_import(path, f"{where}.class_name", class_name)
    return tools
