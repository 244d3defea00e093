"""The learner's chapter-05 tools under an import path verl's workers can use.

verl's ``get_tool_class("pkg.module.Class")`` imports a module by name, and a learner's
``05/tools.py`` lives in a target folder, not on ``sys.path``. This module is that name: it
loads ``<target>/05/tools.py`` (the target in force: ``$VERLINGS_TARGET`` in a Ray worker)
and re-exports its classes unchanged — ``CalculatorTool is load_module("05", "tools").CalculatorTool``.
"""

from __future__ import annotations

from typing import Any

from verlings.target import load_module

EXPORTED = ("CalculatorTool", "Gsm8kAnswerTool")


def __getattr__(name: str) -> Any:
    if name in EXPORTED:
        return getattr(load_module("05", "tools"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
