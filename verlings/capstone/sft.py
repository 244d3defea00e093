"""The warm start: verl's own SFT trainer teaches the tiny Qwen2 the task before GRPO.

``python -m torch.distributed.run -m verl.trainer.sft_trainer`` (the engine-based trainer of
verl 0.9.1) runs on the CPU through the same platform plug-in as the GRPO run. It reads
``messages`` rows (``[{"role": "user", ...}, {"role": "assistant", ...}]``) with verl's
``MultiTurnSFTDataset``, which puts the loss on the assistant's tokens only, and saves a
Hugging Face checkpoint (``checkpoint.save_contents`` includes ``hf_model``).

The result is cached under ``.verlings/cache/capstone/sft-<key>/`` where ``key`` hashes the
:class:`Recipe` (model, task, steps, lr, batch, verl version): a learner pays for it once, and
a cached warm start made by another recipe is never picked up (its folder has another name,
and ``recipe.json`` inside it is compared field by field before it is used)::

    >>> from verlings.capstone.sft import Recipe
    >>> Recipe().key() == Recipe().key() != Recipe(steps=1).key()
    True
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from verlings.capstone.data import ADD, TASK, TASKS, sft_rows
from verlings.capstone.model import VERSION as MODEL_VERSION
from verlings.capstone.model import model_path
from verlings.fixtures.tokenizer import cache_root

REBUILD_HINT = "python grader.py capstone --rebuild-warm-start"
# verl's FSDP mixed-precision policy with every dtype fp32 (the engine then skips autocast)
FP32_PRECISION = "{param_dtype:fp32,reduce_dtype:fp32,buffer_dtype:fp32}"


class WarmStartError(RuntimeError):
    """The warm start could not be made or a cached one is unusable (the message says what to do)."""


@dataclass(frozen=True)
class Recipe:
    """Everything that decides the warm start's weights; its hash names the cache folder."""

    steps: int = 120  # optimizer steps of SFT
    batch_size: int = 32  # conversations per step
    lr: float = 3e-3  # a random 0.5 M-parameter model: a large step
    n_rows: int = 4096  # SFT conversations written (drawn from the training pairs only)
    seed: int = 1
    max_length: int = 64  # tokens: system + question + answer fit in ~40
    task: str = ADD.name  # the former default, kept so that existing recipes keep their keys
    model: str = MODEL_VERSION
    # verl's default packs a micro-batch's conversations into one row (``use_remove_padding``) and
    # relies on flash-attn's varlen kernels to keep them apart. The course runs PyTorch's attention
    # (sdpa), which gets no mask for the packed row: every conversation then attends to the ones
    # packed before it, and the model learns in a context it never has at generation time
    # (measured: tests/test_capstone_pipeline.py). False: padded rows with an attention mask.
    remove_padding: bool = True
    # verl's FSDP engine computes in bf16 by default (``engine.mixed_precision`` unset: param_dtype
    # bf16). True: fp32 throughout. Chapter 07's model learns to copy digits in fp32 and hardly at all
    # in bf16 (ch07 §5.1: expression copied 0.91 vs 0.03 of 32 after 500 steps of its recipe, seed 1).
    fp32: bool = False

    def record(self) -> dict:
        """The fields that name the weights; ``remove_padding`` and ``fp32`` only when they are not
        verl's default, so warm starts cached before the fields existed keep their key and ``recipe.json``."""
        fields = asdict(self)
        if fields["remove_padding"]:
            del fields["remove_padding"]
        if not fields["fp32"]:
            del fields["fp32"]
        return fields

    def key(self) -> str:
        import verl

        blob = json.dumps({**self.record(), "verl": verl.__version__}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    def overrides(self, model: Path, train_file: Path, out_dir: Path) -> list[str]:
        return [
            f"model.path={model}",
            "+model.override_config.attn_implementation=sdpa",
            "model.enable_gradient_checkpointing=False",
            f"model.use_remove_padding={self.remove_padding}",
            "engine.strategy=fsdp2",
            "engine.use_torch_compile=False",
            f"engine.seed={self.seed}",
            f"data.train_files={train_file}",
            "data.val_files=null",
            "data.messages_key=messages",
            "data.pad_mode=no_padding",
            f"data.max_length={self.max_length}",
            f"data.train_batch_size={self.batch_size}",
            f"data.micro_batch_size_per_gpu={self.batch_size}",
            "data.use_dynamic_bsz=False",
            "data.num_workers=0",
            f"optim.lr={self.lr}",
            "optim.weight_decay=0.0",
            f"trainer.total_training_steps={self.steps}",
            "trainer.total_epochs=1000",
            f"trainer.seed={self.seed}",
            "trainer.logger=[console]",
            "trainer.project_name=verlings",
            "trainer.experiment_name=warm-start",
            f"trainer.default_local_dir={out_dir / 'checkpoints'}",
            "trainer.resume_mode=disable",
            "trainer.device=cpu",
            "checkpoint.save_contents=[model,hf_model]",
            *([f"+engine.mixed_precision={FP32_PRECISION}"] if self.fp32 else []),
        ]


# The capstone demo's warm start (ch06 §5.1): conversations kept apart in attention; the demo's
# task; 40 steps, chosen by accuracy on the *training* pairs (19 % at step 40, 46 % at step 50, 81 %
# at step 80 in verl, seed 1): short enough to leave GRPO room, long enough that right answers are sampled.
DEMO_RECIPE = Recipe(remove_padding=False, task=TASK.name, steps=40)


def cache_dir(recipe: Recipe) -> Path:
    return cache_root() / "capstone" / f"sft-{recipe.key()}"


def check_checkpoint(folder: Path, recipe: Recipe | None = None) -> Path:
    """``folder/hf`` when it is a loadable warm start made by ``recipe``, else :class:`WarmStartError`."""
    hf = Path(folder) / "hf"
    if not hf.is_dir():
        raise WarmStartError(f"no warm start in {folder} (missing {hf.name}/) — make it with: {REBUILD_HINT}")
    if recipe is not None:
        stored = folder / "recipe.json"
        try:
            seen = json.loads(stored.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            seen = None
        if seen != recipe.record():
            raise WarmStartError(
                f"the warm start in {folder} was made by another recipe ({stored}: {seen}); "
                f"it is not reused — remake it with: {REBUILD_HINT}"
            )
    weights = sorted(hf.glob("*.safetensors"))
    if not (hf / "config.json").is_file() or not weights:
        raise WarmStartError(f"the warm start in {hf} is incomplete (config.json or *.safetensors missing) — "
                             f"remake it with: {REBUILD_HINT}")
    try:
        from safetensors import safe_open

        for w in weights:
            with safe_open(str(w), framework="pt") as f:
                f.keys()
        json.loads((hf / "config.json").read_text(encoding="utf-8"))
    except Exception as exc:  # a truncated or garbled file: safetensors raises its own error types
        raise WarmStartError(f"the warm start in {hf} is corrupt ({type(exc).__name__}: {exc}) — "
                             f"remake it with: {REBUILD_HINT}") from None
    return hf


def command(recipe: Recipe, work: Path, python: str | None = None) -> tuple[list[str], dict[str, str]]:
    """verl's SFT trainer under ``torch.distributed.run`` (one process), CPU platform plug-in on."""
    from verlings.capstone.launcher import CPU_ENV, CPU_MODULES
    from verlings.paths import ROOT

    env = dict(os.environ)
    env.update({k: v for k, v in CPU_ENV.items() if k.startswith("VERL_")})
    env.update({
        "VERL_USE_EXTERNAL_MODULES": ",".join(CPU_MODULES),
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
        "PYTHONUNBUFFERED": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "OMP_NUM_THREADS": env.get("OMP_NUM_THREADS", "2"),
    })
    train = work / "data" / "sft_train.parquet"
    cmd = [python or sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=1",
           "-m", "verl.trainer.sft_trainer", *recipe.overrides(model_path(), train, work)]
    return cmd, env


# Task name -> SFT row maker ``(n, seed) -> rows``. Chapter 07 registers its tool-using
# multiplication conversations here (verlings.agent_rl.task): one pipeline, several tasks.
ROW_MAKERS: dict[str, Callable[[int, int], list[dict]]] = {
    name: (lambda n, seed, task=task: sft_rows(n, seed=seed, task=task)) for name, task in TASKS.items()
}


def write_data(recipe: Recipe, folder: Path) -> Path:
    import pandas as pd

    maker = ROW_MAKERS.get(recipe.task)
    if maker is None:
        raise WarmStartError(f"no SFT data for task {recipe.task!r} (known: {sorted(ROW_MAKERS)})")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sft_train.parquet"
    pd.DataFrame(maker(recipe.n_rows, recipe.seed)).to_parquet(path, index=False)
    return path


def warm_start(
    recipe: Recipe | None = None, *, rebuild: bool = False, log=print, timeout_s: float | None = None
) -> Path:
    """The warm start's Hugging Face folder: from the cache, else trained now (and cached).

    ``timeout_s`` (default ``600 + 30 * steps``): a shared 2-core machine was measured at 6.5-12 s a
    step (ch06 §5.1); a fixed 20 minutes would stop a 200-step warm start there.

    Processes that need the same recipe at once (two pytest-xdist workers, a demo beside the
    grader) make it once: the others wait on a lock and then take it from the cache. Two trainings
    side by side on two cores each run about 4.7 times slower (measured: 2.2 s a step instead of
    0.47 s), so making it twice would cost both of them, not only the machine."""
    recipe = recipe or DEMO_RECIPE
    folder = cache_dir(recipe)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(folder.with_name(f".{folder.name}.lock"), log, folder):
        if rebuild:
            shutil.rmtree(folder, ignore_errors=True)
        if folder.exists():
            return check_checkpoint(folder, recipe)  # never silently remade or replaced: the error says how
        return _train(recipe, folder, log, timeout_s if timeout_s is not None else 600 + 30 * recipe.steps)


@contextmanager
def _exclusive(lock_path: Path, log, folder: Path):
    """Hold an exclusive lock on ``lock_path`` (released when the process dies, however it dies)."""
    try:
        import fcntl
    except ImportError:  # not a POSIX system: no lock, as before (a second process trains too)
        yield
        return
    with open(lock_path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"warm start: another process is making it ({folder.name}); waiting for it")
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _train(recipe: Recipe, folder: Path, log, timeout_s: float) -> Path:
    work = folder.with_name(f".{folder.name}-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    write_data(recipe, work / "data")
    cmd, env = command(recipe, work)
    log(f"warm start: verl's SFT trainer, {recipe.steps} steps of {recipe.batch_size} conversations "
        f"(once; cached in {folder})")
    start = time.monotonic()
    with open(work / "sft.log", "w", encoding="utf-8") as out:
        try:
            code = subprocess.run(cmd, env=env, cwd=work, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=timeout_s).returncode
        except subprocess.TimeoutExpired:
            code = -1
    tail = "\n".join((work / "sft.log").read_text(encoding="utf-8", errors="replace").splitlines()[-20:])
    if code != 0:
        raise WarmStartError(f"verl's SFT trainer failed (exit {code}) — log: {work / 'sft.log'}\n{tail}")
    hf = work / "checkpoints" / f"global_step_{recipe.steps}" / "huggingface"
    if not (hf / "config.json").is_file():
        raise WarmStartError(f"verl's SFT trainer wrote no Hugging Face checkpoint at {hf}\n{tail}")
    shutil.move(str(hf), str(work / "hf"))
    shutil.rmtree(work / "checkpoints", ignore_errors=True)
    (work / "recipe.json").write_text(json.dumps(recipe.record(), indent=1) + "\n", encoding="utf-8")
    (work / "sft_seconds.txt").write_text(f"{time.monotonic() - start:.1f}\n", encoding="utf-8")
    try:
        work.rename(folder)  # under the lock nobody else made it meanwhile
    except OSError:  # without a lock (not POSIX) another process may have finished the same recipe first
        shutil.rmtree(work, ignore_errors=True)
    log(f"warm start ready in {time.monotonic() - start:.0f} s")
    return check_checkpoint(folder, recipe)
