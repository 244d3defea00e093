"""The grader's eyes inside chapter 07's verl run (loaded in every verl process).

The launcher names this module in ``VERL_USE_EXTERNAL_MODULES`` (with chapter 06's probe,
which counts the reward calls and keeps the learner's traceback). It is inert unless
``$VERLINGS_AGENT_DIR`` is set. Then, without changing what the learner's code computes:

1. **The learner's agent loop is registered** in the process that runs agent loops: once verl's
   ``agent_loop`` module is imported, the learner's ``05/agent_loop.py`` is loaded, so its own
   ``@register("verlings_tool_agent")`` fills verl's registry, and the run's
   ``rollout.agent.default_agent_loop`` picks it.
2. **The learner's parser parses**: chapter 05 gives ``parse_tool_calls`` as plumbing that calls
   verl's ``HermesToolParser``; here the loop module's ``parse_tool_calls`` is replaced by one that
   decodes the turn (as verl's parser does) and calls the learner's ``05/tool_parser.py::parse_hermes``.
   verl's ``HermesToolParser.extract_tool_calls`` is wrapped to record any call to it (there
   must be none: the tests check ``verl_parser_calls.jsonl`` stays empty).
3. **Each trajectory is recorded** to ``trajectories.jsonl``: the loop class that ran it (module,
   class, file), the parser function and every turn it parsed, and the ids, mask and turn count the
   loop returned (the tests match the trained batch's rows to these).
4. **The learner's chapter-03 estimator** is registered under :data:`ESTIMATOR` (verl calls it with
   keywords; it reads ``norm_adv_by_std_in_grpo`` from the algorithm config).
5. **The batch the trainer received** is dumped at each training step, right before verl computes
   the advantages: ``batch_step<N>.json`` with, per row (unpadded, as the v1 trainer stores it),
   ``prompts``, ``responses``, ``response_mask``, ``rm_scores`` (verl's ``token_level_scores``)
   and ``input_ids``.
6. **Weight versions**: verl 0.9.1's v1 trainer needs ``extra_fields["min_global_steps"]`` and
   ``["max_global_steps"]`` on every trajectory (the LLM server puts them on each ``generate``
   output; verl's ToolAgentLoop copies them). When the learner's loop returns none, they are added
   from the turns the loop sampled — bookkeeping, not read by the loss or the graded checks.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import json
import os
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from verlings.capstone.hooks import after_import
from verlings.capstone.probe import record_error

ENV_DIR = "VERLINGS_AGENT_DIR"
ENV_DUMP_STEPS = "VERLINGS_AGENT_DUMP_STEPS"  # how many training steps to dump (default 2)
ESTIMATOR = "verlings_agent_grpo"
TRAJECTORIES = "trajectories.jsonl"
VERL_PARSER_CALLS = "verl_parser_calls.jsonl"
ESTIMATOR_CALLS = "estimator_calls.jsonl"
# verl 0.9.1's v1 trainer keeps each row unpadded (nested tensors): there is no attention_mask to store
BATCH_FIELDS = ("prompts", "responses", "response_mask", "rm_scores", "input_ids")

_turns: contextvars.ContextVar[list | None] = contextvars.ContextVar("verlings_turns", default=None)


def _out_dir() -> Path | None:
    value = os.environ.get(ENV_DIR)
    return Path(value) if value else None


def _append(name: str, event: dict) -> None:
    out = _out_dir()
    if out is None:
        return
    line = json.dumps({**event, "pid": os.getpid(), "time": time.time()}) + "\n"
    with open(out / name, "a", encoding="utf-8") as f:  # short appends from many processes: atomic
        f.write(line)


def _where(fn: Any) -> dict[str, str]:
    fn = inspect.unwrap(fn)
    return {
        "module": getattr(fn, "__module__", "?"),
        "name": getattr(fn, "__qualname__", repr(fn)),
        "file": str(inspect.getsourcefile(fn) or "?"),
    }


# --- 1-3: the learner's loop and parser --------------------------------------------------------


def _learner_parse(parse_hermes: Any) -> Any:
    async def parse_tool_calls(tokenizer: Any, token_ids: list[int]) -> tuple[str, list[dict[str, str]]]:
        text = tokenizer.decode(list(token_ids))  # verl's HermesToolParser decodes the same way
        try:
            content, calls = parse_hermes(text)
        except BaseException as exc:
            record_error("your parse_hermes (05/tool_parser.py) raised inside the run:", exc)
            raise
        turns = _turns.get()
        if turns is not None:
            turns.append({"text": text, "calls": [dict(c) for c in calls]})
        return content, calls

    parse_tool_calls.__verlings_parser__ = _where(parse_hermes)  # type: ignore[attr-defined]
    return parse_tool_calls


class _RecordingServer:
    """The loop's LLM server client, unchanged, except that it keeps the ids each ``generate`` sampled
    (the ground truth of "model tokens": what the tests compare the trained mask and ids with)."""

    def __init__(self, inner: Any, generated: list[list[int]]) -> None:
        self._inner, self._generated = inner, generated
        self.versions: list[dict] = []  # each turn's weight versions (the engine's extra_fields)

    async def generate(self, *args: Any, **kwargs: Any) -> Any:
        output = await self._inner.generate(*args, **kwargs)
        self._generated.append([int(t) for t in output.token_ids])
        extra = getattr(output, "extra_fields", None) or {}
        self.versions.append({k: extra.get(k) for k in VERSION_KEYS})
        return output


# verl 0.9.1's v1 trainer reads, for every trajectory, the weight versions its turns were sampled
# with (``extra_fields["min_global_steps"/"max_global_steps"]``, set by the LLM server on each
# ``generate`` output): ``PPOTrainer._compute_metrics`` makes ``int`` of them and fails on None.
# verl's ToolAgentLoop copies them from the first turn and updates the max on later turns; the
# chapter-05 loop returns its own extra_fields. The run adds the two keys the same way when the
# learner's output lacks them — bookkeeping about weights, nothing the loss or the tests read.
VERSION_KEYS = ("min_global_steps", "max_global_steps")


def _add_versions(output: Any, versions: list[dict]) -> None:
    extra = getattr(output, "extra_fields", None)
    if extra is None or not versions:
        return
    firsts = [v["min_global_steps"] for v in versions if v.get("min_global_steps") is not None]
    lasts = [v["max_global_steps"] for v in versions if v.get("max_global_steps") is not None]
    if extra.get("min_global_steps") is None and firsts:
        extra["min_global_steps"] = firsts[0]
    if extra.get("max_global_steps") is None and lasts:
        extra["max_global_steps"] = max(lasts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _record_run(cls: type) -> None:
    original = cls.run
    if getattr(original, "__verlings_recorded__", False):
        return

    @functools.wraps(original)
    async def run(self: Any, sampling_params: dict[str, Any], **kwargs: Any) -> Any:
        turns: list = []
        generated: list[list[int]] = []
        server = self.server_manager
        recording = _RecordingServer(server, generated)
        self.server_manager = recording
        token = _turns.set(turns)
        try:
            output = await original(self, sampling_params, **kwargs)
        except BaseException as exc:
            record_error(f"your agent loop {cls.__qualname__}.run raised inside the run:", exc)
            raise
        finally:
            _turns.reset(token)
            self.server_manager = server
        _add_versions(output, recording.versions)
        module = inspect.getmodule(cls)
        parser = getattr(module, "parse_tool_calls", None)
        extra = kwargs.get("extra_info")
        _append(
            TRAJECTORIES,
            {
                "loop": {
                    "module": cls.__module__,
                    "class": cls.__qualname__,
                    "type": type(self).__qualname__,
                    "file": str(inspect.getsourcefile(cls)),
                },
                "parser": getattr(parser, "__verlings_parser__", _where(parser) if parser else None),
                "turns": turns,
                "generated": generated,
                "global_steps": _plain(kwargs.get("global_steps")),
                "split": (extra or {}).get("split") if isinstance(extra, dict) else None,
                "ground_truth": _plain((kwargs.get("reward_model") or {}).get("ground_truth")),
                "prompt_ids": [int(t) for t in output.prompt_ids],
                "response_ids": [int(t) for t in output.response_ids],
                "response_mask": [int(t) for t in output.response_mask],
                "num_turns": output.num_turns,
            },
        )
        return output

    run.__verlings_recorded__ = True  # type: ignore[attr-defined]
    cls.run = run


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return value if isinstance(value, int | float | str | bool | type(None)) else str(value)


def _install_loop(agent_loop: ModuleType) -> None:
    from verlings.target import load_module

    try:
        loop_module = load_module("05", "agent_loop")
        parser_module = load_module("05", "tool_parser")
    except BaseException as exc:
        record_error("loading your chapter-05 agent loop or parser failed:", exc)
        raise
    name = getattr(loop_module, "AGENT_NAME", "verlings_tool_agent")
    entry = agent_loop._agent_loop_registry.get(name)
    if entry is None:
        record_error(
            f"your 05/agent_loop.py did not register an agent loop named {name!r} "
            f"(registered: {sorted(agent_loop._agent_loop_registry)}) — 05.agent_registry, §3.4",
            LookupError(name),
        )
        return
    loop_module.parse_tool_calls = _learner_parse(parser_module.parse_hermes)
    target = entry["_target_"] if isinstance(entry, dict) else entry.get("_target_")
    cls = getattr(loop_module, target.rsplit(".", 1)[-1], None) if target else None
    if isinstance(cls, type):
        _record_run(cls)


def _watch_verl_parser(tool_parser: ModuleType) -> None:
    cls = tool_parser.HermesToolParser
    original = cls.extract_tool_calls

    @functools.wraps(original)
    async def extract_tool_calls(self: Any, *args: Any, **kwargs: Any) -> Any:
        _append(VERL_PARSER_CALLS, {"fn": "HermesToolParser.extract_tool_calls"})
        return await original(self, *args, **kwargs)

    cls.extract_tool_calls = extract_tool_calls


# --- 4: the learner's chapter-03 estimator ------------------------------------------------------


def _register_estimator(core_algos: ModuleType) -> None:
    from verlings.target import load_module

    def verlings_agent_grpo(
        token_level_rewards: Any, response_mask: Any, index: Any, config: Any = None, **_: Any
    ) -> Any:
        try:
            advantages = load_module("03", "advantages")
            norm = config.get("norm_adv_by_std_in_grpo", True) if config is not None else True
            out = advantages.compute_grpo_outcome_advantage(
                token_level_rewards=token_level_rewards,
                response_mask=response_mask,
                index=index,
                norm_adv_by_std_in_grpo=norm,
            )
        except BaseException as exc:
            record_error("your compute_grpo_outcome_advantage (03/advantages.py) raised inside the run:", exc)
            raise
        _append(
            ESTIMATOR_CALLS,
            {
                "fn": "estimator",
                "batch": int(token_level_rewards.shape[0]),
                "where": _where(advantages.compute_grpo_outcome_advantage),
            },
        )
        return out

    if ESTIMATOR not in core_algos.ADV_ESTIMATOR_REGISTRY:
        core_algos.register_adv_est(ESTIMATOR)(verlings_agent_grpo)


# --- 5: the batch the trainer received -----------------------------------------------------------


def _rows(value: Any) -> list[list]:
    if getattr(value, "is_nested", False):
        return [t.tolist() for t in value.unbind(0)]
    return [t.tolist() for t in value]


def _dump_batch(trainer: Any, batch: Any) -> None:
    import transfer_queue as tq

    step = int(getattr(trainer, "global_steps", 0))
    if step > int(os.environ.get(ENV_DUMP_STEPS, "2")):
        return
    data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=list(BATCH_FIELDS))
    out = {"step": step, "keys": list(batch.keys), "fields": {name: _rows(data[name]) for name in BATCH_FIELDS}}
    path = _out_dir() / f"batch_step{step}.json"  # type: ignore[operator]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out), encoding="utf-8")
    tmp.replace(path)


def _install_capture(trainer_base: ModuleType) -> None:
    cls = trainer_base.PPOTrainer
    original = cls._compute_advantage

    @functools.wraps(original)
    def _compute_advantage(self: Any, batch: Any, metrics: dict) -> Any:
        try:
            _dump_batch(self, batch)
        except Exception as exc:  # the grader's capture must never stop a learner's run
            _append(TRAJECTORIES + ".errors", {"fn": "dump_batch", "error": f"{type(exc).__name__}: {exc}"})
        return original(self, batch, metrics)

    cls._compute_advantage = _compute_advantage


if _out_dir() is not None:
    after_import("verl.experimental.agent_loop.agent_loop", _install_loop)
    after_import("verl.experimental.agent_loop.tool_parser", _watch_verl_parser)
    after_import("verl.trainer.ppo.core_algos", _register_estimator)
    after_import("verl.trainer.ppo.v1.trainer_base", _install_capture)
