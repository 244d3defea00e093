"""Launch chapter 07's run: verl multi-turn GRPO with the learner's agent loop, parser and tools.

Chapter 06's launcher does the heavy lifting (the command, the CPU platform plug-in, Ray's
retries, the run's own session); this module adds what is particular to agent RL:

* the multiplication task's parquet files (:mod:`verlings.agent_rl.task`);
* the tool-config YAML, written by the learner's ``tool_config`` with the learner's chapter-05
  calculator (class path :data:`TOOL_CLASS`) — read by verl's ``initialize_tools_from_config``;
* the learner's ``agent_overrides`` (multi-turn on, ``tool_config_path``, turn limit, their
  agent loop's name) and their ``compute_score`` as ``reward.custom_reward_function``;
* the learner's chapter-03 estimator (``algorithm.adv_estimator=verlings_agent_grpo``);
* :mod:`verlings.agent_rl.plugin` in every verl process (records trajectories, dumps the batch).

The graded run (:data:`GRADED`) starts from the SFT warm start (:mod:`verlings.agent_rl.warm_start`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from verlings.agent_rl import plugin
from verlings.agent_rl.guard_hook import TOOL_ERRORS
from verlings.agent_rl.tool_config import validate_tool_config
from verlings.capstone import probe
from verlings.capstone.launcher import RAY_START_RETRIES, RAY_START_TIMEOUT, RunConfig, RunResult, choose_device

TOOL_CLASS = "verlings.agent_rl.learner_tools.CalculatorTool"
PLUGIN_MODULE = "verlings.agent_rl.plugin"
GUARD_MODULE = "verlings.agent_rl.guard_hook"  # a hanging or non-text tool becomes a tool error, not a stuck run
MAX_TURNS = 2  # call the calculator, then answer
EXPERIMENT = "agent"

# The graded run: two steps of 4 prompts × 4 answers. The prompt carries the tool schema
# (~185 tokens); a trajectory is call (~27) + tool turn (~12) + answer (~7) tokens.
GRADED = RunConfig(steps=2, train_batch_size=4, rollout_n=4, mini_batch_size=4, micro_batch_size=8, lr=1e-4,
                   max_prompt_length=200, max_response_length=64, n_train=256, n_val=16)


@dataclass
class AgentResult:
    run: RunResult
    tool_config: Path
    overrides: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.run.ok

    @property
    def out_dir(self) -> Path:
        return self.run.out_dir


def write_tool_config(learner: Any, folder: Path) -> Path:
    """The learner's ``tool_config`` for the calculator, as a YAML file verl reads."""
    import yaml

    from verlings.agent_rl.task import TOOL_SCHEMA

    content = learner.tool_config(TOOL_CLASS, json.loads(json.dumps(TOOL_SCHEMA)))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tool_config.yaml"
    path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return path


def learner_overrides(learner: Any, agent_file: Path, tool_config: Path, max_turns: int = MAX_TURNS) -> list[str]:
    loop = _agent_name()
    return [
        *learner.agent_overrides(str(tool_config), loop, max_turns),
        f"reward.custom_reward_function.path={agent_file}",
        "reward.custom_reward_function.name=compute_score",
        f"algorithm.adv_estimator={plugin.ESTIMATOR}",
        f"trainer.experiment_name={EXPERIMENT}",
    ]


def _agent_name() -> str:
    from verlings.target import load_module

    return getattr(load_module("05", "agent_loop"), "AGENT_NAME", "verlings_tool_agent")


def run(
    config: RunConfig,
    out_dir: str | Path,
    *,
    model: Path,
    target: Path | None = None,
    device: str | None = None,
    timeout_s: float = 900,
    on_line: Callable[[str], None] | None = None,
    max_turns: int = MAX_TURNS,
    dump_steps: int = 2,
) -> AgentResult:
    """Write task + tool config, run verl from ``model`` (the warm start) and summarise."""
    from verlings import target as target_mod
    from verlings.agent_rl.task import write_task
    from verlings.capstone.launcher import count_calls, execute, learner_error, plan
    from verlings.capstone.summary import summarize

    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in (probe.CALLS, probe.ERROR, plugin.TRAJECTORIES, plugin.VERL_PARSER_CALLS, plugin.ESTIMATOR_CALLS,
                  TOOL_ERRORS):
        (out_dir / stale).unlink(missing_ok=True)
    for stale in out_dir.glob("batch_step*.json"):
        stale.unlink()
    device = device or choose_device()
    root = Path(target).resolve() if target is not None else target_mod.active()
    saved = target_mod.active()
    target_mod.set_active(root)
    try:
        agent_file = root / "07" / "agent_rl.py"
        learner = target_mod.load_module("07", "agent_rl", root=root)
        tool_config = write_tool_config(learner, out_dir)
        # before minutes of start-up: one line naming the field verl would reject or silently ignore
        validate_tool_config(tool_config, check_import=True)
        overrides = learner_overrides(learner, agent_file, tool_config, max_turns)
    finally:
        target_mod.set_active(saved)
    train, val = write_task(out_dir / "data", n_train=config.n_train, n_val=config.n_val, seed=config.seed)
    p = plan(config, out_dir, device, learner_overrides=overrides, target=root, model=model,
             train_file=train, val_file=val, modules=[PLUGIN_MODULE, GUARD_MODULE])
    p.env[plugin.ENV_DIR] = str(out_dir)
    p.env[probe.ENV_ESTIMATOR] = ""  # chapter 06's estimator stays out: the plug-in registers chapter 03's
    p.env[plugin.ENV_DUMP_STEPS] = str(dump_steps)
    if config.ray_address:  # an existing cluster's workers get only what runtime_env carries
        rt = "+ray_kwargs.ray_init.runtime_env.env_vars"
        p.command = [c for c in p.command if not c.startswith(f"{rt}.{probe.ENV_ESTIMATOR}=")]
        p.command += [f"{rt}.{k}='{p.env[k]}'" for k in (plugin.ENV_DIR, plugin.ENV_DUMP_STEPS)]
    code, timed_out, wall = execute(p, timeout_s, on_line)
    log = (out_dir / "run.log").read_text(encoding="utf-8", errors="replace")
    for _ in range(RAY_START_RETRIES + 2):  # two more than chapter 06: several verl runs may share the machine
        if code == 0 or timed_out or RAY_START_TIMEOUT not in log:
            break
        if on_line is not None:
            on_line("(Ray timed out while starting — the machine is busy; starting it again)")
        time.sleep(10)
        code, timed_out, more = execute(p, max(timeout_s - wall, 60), on_line)
        wall += more + 10
        log = (out_dir / "run.log").read_text(encoding="utf-8", errors="replace")
    learner_files = [agent_file, root / "05" / "agent_loop.py", root / "05" / "tool_parser.py",
                     root / "05" / "tools.py", root / "03" / "advantages.py"]
    result = RunResult(
        returncode=code, wall_s=wall, out_dir=out_dir, log=log, device=device, timed_out=timed_out,
        calls=count_calls(out_dir),
        learner_error=None if code == 0 and not timed_out else learner_error(out_dir, log, learner_files),
    )
    result.summary = summarize(out_dir, wall_s=wall, device=device, calls=result.calls,
                               config=replace(config, extra=[*config.extra, *overrides]))
    return AgentResult(run=result, tool_config=tool_config, overrides=overrides)
