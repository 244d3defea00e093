"""verl 0.9.1's own code, run without importing the ``verl`` package (seconds of CPU a chapter
does not pay): a whole pure-Python file (:func:`verl_source_module`), named top-level functions and
classes compiled from their source (:func:`verl_functions`), one method of a class
(:func:`verl_method`), and the bundles graded tests compare with (``verl_torch_functional``,
``verl_core_algos``, ``verl_hermes_parser``). The code that runs is verl's, byte for byte, and
tracebacks point at verl's own file and lines.

Graded tests import these from :mod:`verlings.differential`, which compares them with the learner's.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, Optional


def verl_source_module(relative: str) -> ModuleType:
    """verl's file ``verl/<relative>`` executed on its own, without importing the ``verl`` package.

    Only for files that import nothing from verl (``utils/reward_score/gsm8k.py``): the code
    that runs is verl 0.9.1's, byte for byte, and the chapter does not pay verl's import time.
    """
    name = "verlings_verl_src_" + relative.replace("/", "_").removesuffix(".py")
    if name in sys.modules:
        return sys.modules[name]
    path = _verl_root() / relative
    file_spec = importlib.util.spec_from_file_location(name, path)
    assert file_spec is not None and file_spec.loader is not None, path
    module = importlib.util.module_from_spec(file_spec)
    file_spec.loader.exec_module(module)
    sys.modules[name] = module
    return module


def verl_functions(relative: str, names: tuple[str, ...], namespace: Mapping[str, Any]) -> SimpleNamespace:
    """Top-level functions and classes ``names`` of verl's file ``verl/<relative>``, compiled from its source.

    For files that import half of verl (``trainer/ppo/core_algos.py`` pulls in configs, Ray
    helpers, transformers: seconds of CPU): only the named ``def``/``class`` blocks are taken,
    byte for byte, in the file's order, with their decorators left out (registries, tracing;
    ``property``/``classmethod``/``staticmethod``/``abstractmethod`` stay), and run against
    ``namespace`` (the modules and verl helpers their bodies use). Tracebacks point at verl's
    own file and lines.
    """
    key = (relative, names)
    if key in _FUNCTIONS:
        return _FUNCTIONS[key]
    path = _verl_root() / relative
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    wanted: dict[str, ast.stmt | None] = {name: None for name in names}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name in wanted:
            node.decorator_list = []
            for inner in ast.walk(node):
                if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef) and inner is not node:
                    inner.decorator_list = [d for d in inner.decorator_list if _builtin_decorator(d)]
            wanted[node.name] = node
    missing = [name for name, node in wanted.items() if node is None]
    if missing:
        raise LookupError(f"verl/{relative} has no function {', '.join(missing)} (the course needs verl 0.9.1)")
    in_file_order = sorted((node for node in wanted.values() if node is not None), key=lambda node: node.lineno)
    module = ast.Module(body=in_file_order, type_ignores=[])
    # A real module in sys.modules: pydantic resolves a model's annotations through it.
    compiled = ModuleType(f"verlings_verl_src_{relative.replace('/', '_').removesuffix('.py')}_{len(_FUNCTIONS)}")
    compiled.__dict__.update(namespace)
    sys.modules[compiled.__name__] = compiled
    exec(compile(module, str(path), "exec"), compiled.__dict__)  # verl's installed source, not input
    _FUNCTIONS[key] = SimpleNamespace(**{name: getattr(compiled, name) for name in names})
    return _FUNCTIONS[key]


_FUNCTIONS: dict[tuple[str, tuple[str, ...]], SimpleNamespace] = {}
_BUILTIN_DECORATORS = {"property", "classmethod", "staticmethod", "abstractmethod"}


def _builtin_decorator(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in _BUILTIN_DECORATORS


def _verl_root() -> Path:
    spec = importlib.util.find_spec("verl")  # a top-level find_spec runs nothing
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("verl is not installed in this environment (the course needs verl 0.9.1)")
    return Path(next(iter(spec.submodule_search_locations)))


def verl_torch_functional() -> SimpleNamespace:
    """verl's ``utils/torch_functional.py`` maths (masks, masked statistics, log-probs, entropy).

    ``logprobs_from_logits`` takes the branch verl takes on a CPU without flash-attn or an NPU.
    """
    import os

    import torch
    import torch.nn.functional as F

    return verl_functions(
        "utils/torch_functional.py",
        (
            "gather_from_labels",
            "logprobs_from_logits",
            "logprobs_from_logits_v2",
            "clip_by_value",
            "entropy_from_logits",
            "masked_sum",
            "masked_mean",
            "masked_var",
            "masked_whiten",
            "get_response_mask",
        ),
        {
            "torch": torch,
            "F": F,
            "os": os,
            "Optional": Optional,
            "FLAH_ATTN_CROSS_ENTROPY_LOSS_AVAILABLE": False,
            "NPU_CROSS_ENTROPY_LOSS_AVAILABLE": False,
        },
    )


def verl_core_algos() -> SimpleNamespace:
    """verl's ``trainer/ppo/core_algos.py`` estimators, loss aggregation, value/entropy losses and KL."""
    from collections import defaultdict

    import numpy as np
    import torch

    return verl_functions(
        "trainer/ppo/core_algos.py",
        (
            "compute_gae_advantage_return",
            "compute_grpo_outcome_advantage",
            "compute_rloo_outcome_advantage",
            "compute_reinforce_plus_plus_outcome_advantage",
            "agg_loss",
            "compute_entropy_loss",
            "compute_value_loss",
            "kl_penalty",
            "kl_penalty_forward",
        ),
        {
            "torch": torch,
            "np": np,
            "defaultdict": defaultdict,
            "Optional": Optional,
            "Any": Any,
            "Callable": Callable,
            "AlgoConfig": Any,
            "ActorConfig": Any,
            "DictConfig": Any,
            "verl_F": verl_torch_functional(),
        },
    )


def verl_hermes_parser() -> Any:
    """verl's ``HermesToolParser`` (``experimental/agent_loop/tool_parser.py``) working on text.

    Its ``extract_tool_calls`` decodes the ids with ``self.tokenizer.decode``; here the
    "tokenizer" hands the text back as it is, so verl's own regex, ``json.loads`` and
    ``FunctionCall`` run on exactly the text the learner's ``parse_hermes`` gets.
    """
    import asyncio
    import json
    import logging
    from abc import ABC, abstractmethod

    import regex
    from pydantic import BaseModel

    ray_utils = verl_functions("utils/ray_utils.py", ("get_event_loop",), {"asyncio": asyncio})
    source = verl_functions(
        "experimental/agent_loop/tool_parser.py",
        ("FunctionCall", "ToolParser", "HermesToolParser"),
        {
            "json": json,
            "regex": regex,
            "logger": logging.getLogger("verlings.verl_hermes_parser"),
            "BaseModel": BaseModel,
            "Optional": Optional,
            "Any": Any,
            "ABC": ABC,
            "abstractmethod": abstractmethod,
            "OpenAIFunctionToolSchema": Any,
            "get_event_loop": ray_utils.get_event_loop,
        },
    )
    return source.HermesToolParser(SimpleNamespace(decode=lambda text: text))


def verl_method(relative: str, class_name: str, method: str, namespace: Mapping[str, Any]) -> Callable[..., Any]:
    """The method ``class_name.method`` of verl's file ``verl/<relative>``, compiled as a plain function.

    For a method whose class cannot be built without half of verl (``DataProto.repeat`` in
    ``protocol.py``): its ``def`` block alone, byte for byte, run against ``namespace``; call it
    with any object that has the attributes the body reads as ``self``.
    """
    key = (relative, (f"{class_name}.{method}",))
    if key in _FUNCTIONS:
        return _FUNCTIONS[key].function
    path = _verl_root() / relative
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = [
        inner
        for node in tree.body
        if isinstance(node, ast.ClassDef) and node.name == class_name
        for inner in node.body
        if isinstance(inner, ast.FunctionDef) and inner.name == method
    ]
    if not found:
        raise LookupError(f"verl/{relative} has no method {class_name}.{method} (the course needs verl 0.9.1)")
    found[0].decorator_list = []
    compiled = ModuleType(f"verlings_verl_src_{relative.replace('/', '_').removesuffix('.py')}_{len(_FUNCTIONS)}")
    compiled.__dict__.update(namespace)
    exec(compile(ast.Module(body=[found[0]], type_ignores=[]), str(path), "exec"), compiled.__dict__)
    _FUNCTIONS[key] = SimpleNamespace(function=getattr(compiled, method))
    return _FUNCTIONS[key].function
