"""Launch a real verl GRPO run on the tiny model, with the learner's code plugged in.

``python -m verl.trainer.main_ppo`` runs in a subprocess (its own Ray cluster, cleaned up
when it exits), with the rollout engine's Python (``.verlings/engine``) when that exists.
The command is the same on both paths; the **CPU path** adds a platform plug-in and a few
environment variables (``VERL_ON_CPU``), the **GPU path** adds nothing CPU-specific::

    >>> from verlings.capstone.launcher import RunConfig, plan
    >>> p = plan(RunConfig(steps=2), out_dir="/tmp/run", device="cpu")
    >>> p.command[1:3]
    ['-m', 'verl.trainer.main_ppo']

:func:`run` starts it and returns a :class:`RunResult`: exit code, the log, the calls the
probe counted, the learner's error (first, when there is one) and the metrics summary.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verlings.capstone import probe
from verlings.capstone.learner_checks import learner_error
from verlings.capstone.sessions import execute
from verlings.engine_imports import engine_python
from verlings.paths import ROOT

DEVICE_ENV = "VERLINGS_CAPSTONE_DEVICE"
INSTALL_HINT = "bash scripts/install_rollout_engine.sh"

# verl's device layer on a CPU (measured: VERL_ON_CPU.md). VERL_ENGINE_DEVICE=cuda picks the
# FSDP engine class registered for "cuda"; the platform plug-in makes it run on the CPU.
CPU_ENV = {
    "VERL_PLATFORM": "cpu",
    "VERL_ENGINE_DEVICE": "cuda",
    "VLLM_TARGET_DEVICE": "cpu",
    "VLLM_CPU_KVCACHE_SPACE": "1",  # GiB of KV cache: plenty for 32-token answers
    "VLLM_CPU_OMP_THREADS_BIND": "nobind",  # share the cores with Ray and the trainer
}
CPU_MODULES = ["verlings.capstone.cpu_platform"]
PROBE_MODULE = "verlings.capstone.probe"
RAY_START_TIMEOUT = "The current node timed out during startup"
RAY_START_RETRIES = 2


@dataclass
class RunConfig:
    """The knobs of one run; :meth:`overrides` turns them into verl's Hydra overrides."""

    steps: int = 2
    train_batch_size: int = 4  # prompts per step
    rollout_n: int = 2  # answers per prompt (the GRPO group)
    mini_batch_size: int = 4  # prompts per optimizer step
    micro_batch_size: int = 2  # sequences per forward/backward
    lr: float = 1e-3  # a random 0.5 M-parameter model needs a large step to learn in minutes
    max_prompt_length: int = 64
    max_response_length: int = 32
    temperature: float = 1.0
    n_train: int = 256
    seed: int = 1  # data order and vLLM's sampling
    n_val: int = 16  # held-out prompts (never trained on) for verl's validation
    val_before_train: bool = False  # verl's validation before step 1 (the warm start's accuracy)
    test_freq: int = -1  # validate every N steps (and after the last); -1: never
    save_final: bool = False  # save the actor at the last step (for verl's model merger)
    use_v1: bool = True  # verl 0.9.1's default trainer (TransferQueue); False: the deprecated legacy one
    vllm_sleep: bool = False  # GPU only: vLLM sleep mode between steps (CPU never sleeps)
    ray_address: str | None = None  # an existing Ray cluster (auto or HOST:PORT); None: one of its own
    # verl packs a micro-batch into one row and needs flash-attn's varlen kernels to keep the
    # sequences apart; under PyTorch's sdpa (the course's attention) they attend to each other.
    # False: padded rows with an attention mask (the demo; sft.Recipe.remove_padding says more).
    use_remove_padding: bool = True
    extra: list[str] = field(default_factory=list)

    def overrides(self, model_path: Path, train_file: Path, val_file: Path, out_dir: Path) -> list[str]:
        r = "actor_rollout_ref.rollout"
        return [
            # what to train on
            f"actor_rollout_ref.model.path={model_path}",
            f"data.train_files={train_file}",
            f"data.val_files={val_file}",
            f"data.train_batch_size={self.train_batch_size}",
            f"data.max_prompt_length={self.max_prompt_length}",
            f"data.max_response_length={self.max_response_length}",
            "data.dataloader_num_workers=0",
            f"data.seed={self.seed}",
            f"actor_rollout_ref.rollout.seed={self.seed}",
            # the algorithm: GRPO (the learner's overrides replace the estimator by theirs)
            "algorithm.adv_estimator=grpo",
            "algorithm.use_kl_in_reward=False",
            "actor_rollout_ref.actor.use_kl_loss=False",
            f"actor_rollout_ref.actor.optim.lr={self.lr}",
            f"actor_rollout_ref.actor.ppo_mini_batch_size={self.mini_batch_size}",
            f"actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu={self.micro_batch_size}",
            f"actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu={self.micro_batch_size}",
            f"actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu={self.micro_batch_size}",
            # engines: FSDP2 for training (fp32 weights, bf16 compute: verl's default mixed
            # precision), vLLM for rollout (dtype per device), PyTorch's own attention (no flash-attn)
            "actor_rollout_ref.actor.strategy=fsdp2",
            "actor_rollout_ref.ref.strategy=fsdp2",
            "+actor_rollout_ref.model.override_config.attn_implementation=sdpa",
            "actor_rollout_ref.actor.use_torch_compile=False",
            "actor_rollout_ref.ref.use_torch_compile=False",
            f"{r}.name=vllm",
            f"{r}.n={self.rollout_n}",
            f"{r}.temperature={self.temperature}",
            f"{r}.tensor_model_parallel_size=1",
            f"{r}.enforce_eager=True",
            f"{r}.agent.num_workers=1",
            f"{r}.max_num_seqs={max(self.train_batch_size * self.rollout_n, 8)}",
            "reward.num_workers=1",
            # the run: a few steps, one node with one device, metrics, nothing else
            f"trainer.total_training_steps={self.steps}",
            "trainer.total_epochs=1000",
            "trainer.nnodes=1",
            "trainer.n_gpus_per_node=1",
            "trainer.logger=[console,tensorboard]",
            "trainer.project_name=verlings",
            "trainer.experiment_name=capstone",
            f"trainer.val_before_train={self.val_before_train}",
            f"trainer.test_freq={self.test_freq}",
            f"trainer.save_freq={self.steps if self.save_final else -1}",
            # greedy validation, one answer per held-out prompt: exact-match accuracy
            f"{r}.val_kwargs.do_sample=False",
            f"{r}.val_kwargs.n=1",
            f"trainer.default_local_dir={out_dir / 'checkpoints'}",
            f"trainer.use_v1={self.use_v1}",
            "+ray_kwargs.ray_init.include_dashboard=False",  # one process less to start
            *([] if self.use_remove_padding else ["actor_rollout_ref.model.use_remove_padding=False"]),
            *self.extra,
        ]


def sleep_overrides(on: bool) -> list[str]:
    """vLLM's sleep mode (free the KV cache and weights between rollouts) on or off."""
    r = "actor_rollout_ref.rollout"
    return [f"{r}.free_cache_engine={on}", f"+{r}.enable_sleep_mode={on}"]


def cpu_overrides(use_v1: bool = True) -> list[str]:
    """What only the CPU path adds: a logical Ray "GPU", fp32 rollout, no CUDA-only vLLM features."""
    return [
        "+ray_kwargs.ray_init.num_gpus=1",
        # v1 starts more Ray actors (TransferQueue controller and storage): more logical CPUs
        f"+ray_kwargs.ray_init.num_cpus={32 if use_v1 else 8}",
        "actor_rollout_ref.rollout.dtype=float32",  # vLLM's CPU backend: fp32 is its fast path here
        *sleep_overrides(False),  # sleep mode is CUDA memory management
    ]


def gpu_overrides(vllm_sleep: bool = False) -> list[str]:
    """What only the GPU path adds: bf16 rollout (vLLM's FlashAttention path, as verl's examples),
    a modest KV-cache share (the model is tiny), and the sleep-mode choice (default off: at this
    size there is no memory to win, and the first GPU run should not also be the first test of
    sleep level 2 with vLLM 0.32 and verl 0.9.1)."""
    return [
        "actor_rollout_ref.rollout.dtype=bfloat16",
        "actor_rollout_ref.rollout.gpu_memory_utilization=0.3",
        *sleep_overrides(vllm_sleep),
    ]


def choose_device(
    cuda_available: bool | None = None, environ: Mapping[str, str] | None = None, **probes: Any
) -> str:
    """The path :func:`verlings.device.detect` chooses — the installer's and the doctor's answer
    too: ``"gpu"`` only when a GPU is listed, torch is a CUDA build and (when known) torch sees
    it; ``VERLINGS_DEVICE`` (or the older ``VERLINGS_CAPSTONE_DEVICE``) forces one. ``probes``
    (``gpus``, ``torch``, ``engine``) replace the machine's facts in tests."""
    from verlings import device as device_mod

    if cuda_available is None and device_mod.forced_device(environ) is None and device_mod.nvidia_gpus():
        import torch  # only worth its seconds when a GPU is there to be seen

        cuda_available = torch.cuda.is_available()
    return device_mod.detect(environ, cuda_available=cuda_available, **probes).device


def engine_missing(python: str | None = None, device: str | None = None) -> str | None:
    """``None`` when the engine fits: ``python`` can import vLLM (checked without importing it)
    and, for the course's own engine, its build is the one of ``device``'s path (a CPU vLLM on
    the GPU path is never used silently); else why not, with the fix."""
    if python is None and device is not None:
        from verlings import device as device_mod

        engine = device_mod.engine_build(device_mod.engine_dir())
        if engine.kind is not None and engine.kind != device:
            return (f"the rollout engine is {engine.describe()}, but this run takes the {device.upper()} "
                    f"path — run: {INSTALL_HINT} (it replaces the engine)")
    python = python or engine_python()
    code = "import importlib.util,sys; sys.exit(importlib.util.find_spec('vllm') is None)"
    try:
        ok = subprocess.run([python, "-c", code], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run {python}: {exc}"
    if ok:
        return None
    return f"the rollout engine (vLLM) is not installed for {python} — run: {INSTALL_HINT}"


# What the run's Ray workers must see. A cluster the run starts itself inherits the driver's
# environment; an existing cluster's workers get only what runtime_env carries.
WORKER_ENV = (*CPU_ENV, "VERL_USE_EXTERNAL_MODULES", "PYTHONPATH", "TOKENIZERS_PARALLELISM", "TENSORBOARD_DIR",
              probe.ENV_DIR, probe.ENV_ESTIMATOR, "VERLINGS_TARGET")


def existing_cluster(overrides: list[str], address: str, env: Mapping[str, str], python: str) -> list[str]:
    """The run's overrides for an existing Ray cluster (verl passes ``ray_kwargs.ray_init`` to
    ``ray.init``): its address, no ``num_cpus``/``num_gpus`` (Ray refuses them when joining; the
    cluster's ``ray start`` sets them), and the workers' environment and Python through runtime_env.
    Paths in it (model, data, output) must be the same on every node: one machine, or a shared disk."""
    kept = [o for o in overrides if not o.startswith(("+ray_kwargs.ray_init.num_cpus=",
                                                      "+ray_kwargs.ray_init.num_gpus="))]
    rt = "ray_kwargs.ray_init.runtime_env"
    forwarded = [f"+{rt}.env_vars.{k}='{env[k]}'" for k in WORKER_ENV if env.get(k) and "'" not in env[k]]
    return [*kept, f"+ray_kwargs.ray_init.address={address}", f"{rt}.py_executable={python}", *forwarded]


@dataclass
class Plan:
    command: list[str]
    env: dict[str, str]
    cwd: Path
    device: str

    def shell(self) -> str:
        """The same run as one copy-pasteable shell line (environment, then the command)."""
        keys = sorted(k for k in self.env if k not in os.environ or os.environ[k] != self.env[k])
        return " ".join([*(f"{k}={shlex.quote(self.env[k])}" for k in keys), *map(shlex.quote, self.command)])


def plan(
    config: RunConfig,
    out_dir: str | Path,
    device: str,
    *,
    learner_overrides: list[str] | None = None,
    target: Path | None = None,
    python: str | None = None,
    model: Path | None = None,
    train_file: Path | None = None,
    val_file: Path | None = None,
    modules: list[str] | None = None,
) -> Plan:
    """The command, environment and working folder of a run (nothing is started or written).

    ``modules``: more plug-in modules for ``VERL_USE_EXTERNAL_MODULES`` (chapter 07 adds its own)."""
    out_dir = Path(out_dir).resolve()
    model = model or out_dir / "model"
    train_file = train_file or out_dir / "data" / "train.parquet"
    val_file = val_file or out_dir / "data" / "val.parquet"
    learner_overrides = list(learner_overrides or [])
    overrides = config.overrides(model, train_file, val_file, out_dir)
    overrides += cpu_overrides(config.use_v1) if device == "cpu" else gpu_overrides(config.vllm_sleep)
    if not config.ray_address and not any(o.startswith("+ray_kwargs.ray_init.address=")
                                          for o in overrides + learner_overrides):
        # A cluster of the run's own: plain ray.init() joins any cluster already running on this
        # machine (another job's `ray start`) and then refuses num_cpus; "local" never joins.
        overrides.append("+ray_kwargs.ray_init.address=local")
    overrides += learner_overrides  # last: the learner's estimator and reward win
    modules = (CPU_MODULES if device == "cpu" else []) + [PROBE_MODULE] + list(modules or [])
    env = dict(os.environ)
    for key in (*CPU_ENV, "VERL_USE_EXTERNAL_MODULES"):  # never leak a CPU setting into a GPU run
        env.pop(key, None)
    if device == "cpu":
        env.update(CPU_ENV)
    pythonpath = env.get("PYTHONPATH", "")
    estimator = next((o.split("=", 1)[1] for o in learner_overrides if o.startswith("algorithm.adv_estimator=")), "")
    env.update({
        "VERL_USE_EXTERNAL_MODULES": ",".join(modules),
        "PYTHONPATH": os.pathsep.join(dict.fromkeys(p for p in (str(ROOT), *pythonpath.split(os.pathsep)) if p)),
        "PYTHONUNBUFFERED": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "RAY_DEDUP_LOGS": "0",
        "RAY_USAGE_STATS_ENABLED": "0",
        "TENSORBOARD_DIR": str(out_dir / "tensorboard"),
        probe.ENV_DIR: str(out_dir),
        probe.ENV_ESTIMATOR: estimator,
    })
    if target is not None:
        env["VERLINGS_TARGET"] = str(Path(target).resolve())
    if config.ray_address:
        overrides = existing_cluster(overrides, config.ray_address, env, python or engine_python())
    command = [python or engine_python(), "-m", "verl.trainer.main_ppo", *overrides]
    return Plan(command=command, env=env, cwd=out_dir, device=device)


# --- running and reading the results -----------------------------------------------------


@dataclass
class RunResult:
    returncode: int
    wall_s: float
    out_dir: Path
    log: str
    device: str
    timed_out: bool = False
    calls: dict[str, int] = field(default_factory=dict)
    learner_error: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def failure(self) -> str:
        """What went wrong, the learner's part first, then the end of the log."""
        lines = []
        if self.timed_out:
            lines.append(f"the run did not finish within its time limit ({self.wall_s:.0f} s)")
        elif self.returncode != 0:
            lines.append(f"the run failed (exit code {self.returncode}) after {self.wall_s:.0f} s")
        if self.learner_error:
            lines += ["", "── your code ──", self.learner_error.rstrip()]
        tail = "\n".join(self.log.rstrip().splitlines()[-25:])
        lines += ["", f"── end of the log ({self.out_dir / 'run.log'}) ──", tail]
        return "\n".join(lines)


def count_calls(out_dir: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    path = Path(out_dir) / probe.CALLS
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                fn = json.loads(line)["fn"]
            except (ValueError, KeyError):
                continue
            counts[fn] = counts.get(fn, 0) + 1
    return counts


def run(
    config: RunConfig,
    out_dir: str | Path,
    *,
    target: Path | None = None,
    device: str | None = None,
    timeout_s: float = 900,
    on_line: Callable[[str], None] | None = None,
    model: Path | None = None,
    python: str | None = None,
) -> RunResult:
    """Make the model and data, plug in the learner's code and run verl; see :class:`RunResult`.

    ``model``: the Hugging Face folder to start from (default: the tiny random Qwen2)."""
    from verlings import target as target_mod
    from verlings.capstone.data import write_task
    from verlings.capstone.model import model_path
    from verlings.capstone.summary import summarize

    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in (probe.CALLS, probe.ERROR):
        (out_dir / stale).unlink(missing_ok=True)
    device = device or choose_device()
    root = Path(target).resolve() if target is not None else target_mod.active()
    capstone_file = root / "06" / "capstone.py"
    learner = target_mod.load_module("06", "capstone", root=root)
    overrides = learner.plug_in_overrides(str(capstone_file))
    train, val = write_task(out_dir / "data", n_train=config.n_train, n_val=config.n_val, seed=config.seed)
    p = plan(config, out_dir, device, learner_overrides=list(overrides), target=root,
             model=model or model_path(), train_file=train, val_file=val, python=python)
    code, timed_out, wall = execute(p, timeout_s, on_line)
    log = (out_dir / "run.log").read_text(encoding="utf-8", errors="replace")
    for _ in range(RAY_START_RETRIES):
        if code == 0 or timed_out or RAY_START_TIMEOUT not in log:
            break
        # Ray's own start-up deadline (30 s, fixed in Ray), hit on an overloaded machine before verl
        # did anything: wait a little and start again
        if on_line is not None:
            on_line("(Ray timed out while starting — the machine is busy; starting it again)")
        time.sleep(10)
        code, timed_out, more = execute(p, max(timeout_s - wall, 60), on_line)
        wall += more + 10
        log = (out_dir / "run.log").read_text(encoding="utf-8", errors="replace")
    learner_files = [capstone_file, root / "03" / "advantages.py", root / "04" / "rule_rewards.py"]
    result = RunResult(
        returncode=code, wall_s=wall, out_dir=out_dir, log=log, device=device, timed_out=timed_out,
        calls=count_calls(out_dir),
        learner_error=None if code == 0 and not timed_out else learner_error(out_dir, log, learner_files),
    )
    result.summary = summarize(out_dir, wall_s=wall, device=device, calls=result.calls, config=config)
    return result
