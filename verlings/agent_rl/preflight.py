"""Before chapter 07's run: are the chapter 05 and 03 functions it runs still stubs?

A run of minutes (and, the first time, minutes of warm start before it) that reaches a stub fails
deep inside verl: its v1 sampler drops the failed trajectories and reports "no materializable
trajectories" instead of the stub's ``NotImplementedError``. Read from the files (no import, no
call), a stub is a function whose body, past its docstring, is only ``raise NotImplementedError``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from verlings.chapters import load_chapter
from verlings.paths import display

# What ``python -m verl.trainer.main_ppo`` runs of the learner's code besides chapter 07's own:
# the parser, the calculator tool and the agent loop of chapter 05, the GRPO estimator of chapter 03.
RUN_USES: dict[tuple[str, str], tuple[str, ...]] = {
    ("05", "tool_parser"): ("parse_hermes",),
    ("05", "tools"): ("calculate", "CalculatorTool"),
    ("05", "agent_loop"): ("tool_response_delta", "run_agent", "ToolAgentLoop"),
    ("03", "advantages"): ("compute_grpo_outcome_advantage",),
}


def _stub_message(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The stub's NotImplementedError message ("" without one) when ``node`` is a stub, else None."""
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]  # the docstring
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return None
    exc = body[0].exc
    call = exc if isinstance(exc, ast.Call) else None
    name = call.func if call is not None else exc
    if not (isinstance(name, ast.Name) and name.id == "NotImplementedError"):
        return None
    first = call.args[0] if call is not None and call.args else None
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""


def stubbed(path: Path, names: tuple[str, ...]) -> list[tuple[str, str]]:
    """(function or Class.method, its stub message) for each of ``names`` in ``path`` still a stub."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []  # missing or broken: the run's own error (or chapter 05's tests) says which
    found = []
    for node in tree.body:
        if getattr(node, "name", None) not in names:
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            candidates = [(node.name, node)]
        elif isinstance(node, ast.ClassDef):
            candidates = [(f"{node.name}.{m.name}", m) for m in node.body
                          if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)]
        else:
            continue
        for label, fn in candidates:
            message = _stub_message(fn)
            if message is not None:
                found.append((label, message))
    return found


def _exercise_of(chapter: str, module: str, name: str) -> str | None:
    top = name.split(".")[0]
    for exercise in load_chapter(chapter).exercises:
        if exercise.module == module and top in exercise.functions:
            return exercise.id
    return None


def stubs_the_run_needs(root: Path) -> str | None:
    """``None`` when every function in :data:`RUN_USES` is implemented in ``root``; else one
    message listing each stub with its exercise and lesson section."""
    found, chapters = [], []
    for (chapter, module), names in RUN_USES.items():
        path = Path(root) / chapter / f"{module}.py"
        for label, message in stubbed(path, names):
            exercise = _exercise_of(chapter, module, label)
            found.append((f"{display(path)}: {label}" + (f" ({exercise})" if exercise else ""), message))
            if chapter not in chapters:
                chapters.append(chapter)
    if not found:
        return None
    chapters.sort()
    # the first line is what the grader's table shows: it names the first stub
    return (f"this run trains with your chapter {' and '.join(chapters)} code, and {len(found)} function(s) "
            f"there are still stubs, first {found[0][0]}:\n"
            + "\n".join(f"  {where}" + (f" — {message}" if message else "") for where, message in found)
            + "\n  pass them first: python grader.py " + " ".join(chapters))
