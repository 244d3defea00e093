"""Guard every tool of chapter 07's run (loaded in every verl process, like the plug-in).

verl's ``AgentLoopWorker`` builds its tools with ``load_all_tools(tool_config_path, ...)``, a name
it imports into ``verl.experimental.agent_loop.agent_loop``. Once that module is imported, this
hook replaces the name with one that returns the same tools wrapped in
:class:`verlings.agent_rl.guard.GuardedTool`: a call that hangs past ``$VERLINGS_TOOL_TIMEOUT_S``
seconds (default :data:`~verlings.agent_rl.guard.DEFAULT_TIMEOUT_S`) or returns non-text raises
inside ``execute``, where the learner's loop turns it into a tool error the model reads. Each
failure is appended to ``$VERLINGS_AGENT_DIR/tool_errors.jsonl``. Inert without
``$VERLINGS_AGENT_DIR`` (the same switch as the plug-in).
"""

from __future__ import annotations

import functools
import json
import os
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from verlings.capstone.hooks import after_import

ENV_DIR = "VERLINGS_AGENT_DIR"  # verlings.agent_rl.plugin.ENV_DIR, not imported: it imports verl's pieces
ENV_TIMEOUT = "VERLINGS_TOOL_TIMEOUT_S"
TOOL_ERRORS = "tool_errors.jsonl"


def _record(name: str, kind: str, message: str) -> None:
    out = os.environ.get(ENV_DIR)
    if not out:
        return
    line = json.dumps({"tool": name, "kind": kind, "message": message, "pid": os.getpid(), "time": time.time()})
    with open(Path(out) / TOOL_ERRORS, "a", encoding="utf-8") as f:  # short appends: atomic
        f.write(line + "\n")


def install(agent_loop: ModuleType) -> None:
    """Make ``agent_loop.load_all_tools`` return guarded tools (idempotent)."""
    from verlings.agent_rl.guard import DEFAULT_TIMEOUT_S, guard_tools

    original = agent_loop.load_all_tools
    if getattr(original, "__verlings_guarded__", False):
        return
    timeout_s = float(os.environ.get(ENV_TIMEOUT) or DEFAULT_TIMEOUT_S)

    @functools.wraps(original)
    def load_all_tools(*args: Any, **kwargs: Any) -> list:
        return guard_tools(original(*args, **kwargs), timeout_s=timeout_s, on_error=_record)

    load_all_tools.__verlings_guarded__ = True  # type: ignore[attr-defined]
    agent_loop.load_all_tools = load_all_tools


if os.environ.get(ENV_DIR):
    after_import("verl.experimental.agent_loop.agent_loop", install)
