"""The grader's eyes inside verl: registers the learner's estimator and counts real calls.

The launcher loads this module in every verl process, on the CPU and the GPU path alike,
with ``VERL_USE_EXTERNAL_MODULES`` — the same switch a verl user sets to bring their own
estimators into Ray workers. Here it:

1. runs the learner's ``register_estimator(name)`` (``<target>/06/capstone.py``) as soon as
   verl's ``core_algos`` is imported, in the process that computes advantages;
2. wraps what got registered, and the reward function verl loads from
   ``reward.custom_reward_function``, so that each call appends one JSON line to
   ``$VERLINGS_CAPSTONE_DIR/calls.jsonl`` (Ray actors are separate processes: a file is the
   simplest shared counter; short appends are atomic);
3. writes the learner's traceback to ``$VERLINGS_CAPSTONE_DIR/learner_error.txt`` when their
   code raises inside verl, so the grader can show it first instead of pages of Ray logs.

Nothing here changes what the learner's code computes.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from verlings.capstone.hooks import after_import

ENV_DIR = "VERLINGS_CAPSTONE_DIR"
ENV_ESTIMATOR = "VERLINGS_CAPSTONE_ESTIMATOR"
CALLS = "calls.jsonl"
ERROR = "learner_error.txt"


def _out_dir() -> Path | None:
    value = os.environ.get(ENV_DIR)
    return Path(value) if value else None


def record(event: dict) -> None:
    out = _out_dir()
    if out is None:
        return
    line = json.dumps({**event, "pid": os.getpid(), "time": time.time()}) + "\n"
    with open(out / CALLS, "a", encoding="utf-8") as f:
        f.write(line)


def record_error(where: str, exc: BaseException) -> None:
    """Keep the first learner error (later ones are usually consequences)."""
    out = _out_dir()
    if out is None:
        return
    path = out / ERROR
    here = Path(__file__).resolve()  # the probe's own frames are noise to the learner
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() != here]
    text = "".join([f"{where}\n", "Traceback (most recent call last):\n", *traceback.format_list(frames),
                    *traceback.format_exception_only(type(exc), exc)])
    try:
        with open(path, "x", encoding="utf-8") as f:
            f.write(text)
    except FileExistsError:
        pass


def _summary(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if isinstance(v, int | float | bool | str)}
    return value if isinstance(value, int | float | bool) else repr(value)[:200]


def estimator_problem(result: Any, token_level_rewards: Any) -> str | None:
    """Why an estimator's output cannot be trained on (with the fix), or ``None`` when it can:
    a pair of tensors shaped like ``token_level_rewards``, finite everywhere."""
    import torch

    if not (isinstance(result, tuple) and len(result) == 2 and all(isinstance(t, torch.Tensor) for t in result)):
        return (f"expected a tuple (advantages, returns) of two tensors, got {type(result).__name__} — "
                "return what chapter 03's compute_grpo_outcome_advantage returns (06.estimator, §2.1)")
    shape = tuple(token_level_rewards.shape) if token_level_rewards is not None else None
    for name, t in zip(("advantages", "returns"), result):
        if shape is not None and tuple(t.shape) != shape:
            return (f"{name} has shape {tuple(t.shape)}, token_level_rewards has {shape} — one value per "
                    "response token (06.estimator, §2.1; chapter 03 §2)")
        if not torch.isfinite(t).all():
            bad = int((~torch.isfinite(t)).sum())
            return (f"{name} has {bad} NaN/inf value(s) — a zero std without epsilon, or a singleton group? "
                    "(chapter 03 §2, 06.estimator)")
    return None


def counted(fn: Callable, what: str) -> Callable:
    """``fn`` that also records each call (and any exception) for the grader."""
    if getattr(fn, "__verlings_counted__", False):
        return fn

    def done(kwargs: dict, result: Any) -> Any:
        if what == "estimator":
            rewards = kwargs.get("token_level_rewards")
            problem = estimator_problem(result, rewards)
            if problem:  # stop here, named, instead of a NaN loss or a shape error deep in verl
                exc = ValueError(problem)
                record_error("your estimator returned something verl cannot train on:", exc)
                raise exc
            record({"fn": what, "batch": int(rewards.shape[0]) if rewards is not None else None})
        else:
            record({"fn": what, "result": _summary(result)})
        return result

    if inspect.iscoroutinefunction(fn):  # an async reward function stays async for verl

        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                record_error(f"your {what} raised inside verl:", exc)
                raise
            return done(kwargs, result)

    else:

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                record_error(f"your {what} raised inside verl:", exc)
                raise
            return done(kwargs, result)

    wrapper.__verlings_counted__ = True  # type: ignore[attr-defined]
    return wrapper


def _register_learner_estimator(core_algos: ModuleType) -> None:
    name = os.environ.get(ENV_ESTIMATOR)
    if not name:
        return
    from verlings.target import load_module

    try:
        capstone = load_module("06", "capstone")
        capstone.register_estimator(name)
    except BaseException as exc:
        record_error(f"calling your register_estimator({name!r}) failed:", exc)
        raise
    fn = core_algos.ADV_ESTIMATOR_REGISTRY.get(name)
    if fn is None:
        record_error(
            f"register_estimator({name!r}) returned, but verl has no estimator named {name!r} "
            f"(registered: {sorted(core_algos.ADV_ESTIMATOR_REGISTRY)})",
            LookupError(name),
        )
        return
    core_algos.ADV_ESTIMATOR_REGISTRY[name] = counted(fn, "estimator")


def _count_reward_fn(reward_module: ModuleType) -> None:
    original = reward_module.get_custom_reward_fn

    @functools.wraps(original)
    def get_custom_reward_fn(config: Any) -> Any:
        try:
            fn = original(config)
        except BaseException as exc:
            record_error("verl could not load your reward function (reward.custom_reward_function):", exc)
            raise
        return None if fn is None else counted(fn, "reward")

    reward_module.get_custom_reward_fn = get_custom_reward_fn


if _out_dir() is not None:
    after_import("verl.trainer.ppo.core_algos", _register_learner_estimator)
    after_import("verl.trainer.ppo.reward", _count_reward_fn)
