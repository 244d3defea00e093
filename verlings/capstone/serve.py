"""``python grader.py serve [RUN_DIR]``: the trained model behind vLLM's OpenAI-compatible server.

    python grader.py serve                       the demo run (.verlings/capstone/demo), port 8000
    python grader.py serve RUN_DIR --port 8011   another run, another port

1. verl's model merger turns the run's last checkpoint into a Hugging Face folder (``RUN/hf``,
   :func:`verlings.capstone.evaluate.export`). A LoRA run's merge holds the base weights plus
   ``lora_adapter/`` in peft's format; ``serve`` folds the adapter into the weights with peft
   (``merge_and_unload``) into ``RUN/served`` — one plain model, served like any other. Both
   folders are stamped with the checkpoint they came from (``.verlings_source.json``): serving
   the same checkpoint again reuses them instead of merging again.
2. ``python -m vllm.entrypoints.openai.api_server`` starts from the engine environment
   (``.verlings/engine``) on 127.0.0.1 only, in a session of its own; its log is ``RUN/serve.log``.
   On the CPU it starts lean (:func:`server_command`, :func:`server_env`): the model runs in
   the engine-core process, and the KV cache is sized to the model instead of 1 GiB.
3. When ``GET /v1/models`` answers, the URL and one example request are printed. Ctrl-C stops
   the server and every process it started.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from verlings.paths import STATE_DIR, display

HOST = "127.0.0.1"
MODEL_NAME = "verlings"
DEFAULT_PORT = 8000
MAX_MODEL_LEN = 512
MAX_NUM_SEQS = 64  # every held-out prompt in one batch (capstone --eval --endpoint: 32 of them)
STAMP = ".verlings_source.json"


class ServeError(RuntimeError):
    """The model cannot be served (the message is one line saying what to do)."""


def port_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def fold_lora(hf: Path, out: Path) -> Path:
    """Base weights + ``lora_adapter/`` (verl's merger output) → one model folder, with peft."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(str(hf), torch_dtype=torch.float32)
    merged = PeftModel.from_pretrained(base, str(hf / "lora_adapter")).merge_and_unload()
    merged.save_pretrained(str(out))
    AutoTokenizer.from_pretrained(str(hf)).save_pretrained(str(out))
    return out


def checkpoint_source(actor: Path) -> dict:
    """What a merged folder was made from: the actor folder and its weight files' sizes and mtimes
    (a re-saved or retrained checkpoint changes them, like ``make`` would see)."""
    files = sorted(p for p in actor.glob("model_world_size_*.pt") if p.is_file())
    return {
        "checkpoint": str(actor.resolve()),
        "weights": [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in files],
    }


def is_current(folder: Path, source: dict) -> bool:
    """``folder`` holds a model made from ``source`` (its stamp says so and it has a config)."""
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return stamp == source and (folder / "config.json").is_file()


def _stamp(folder: Path, source: dict) -> None:
    (folder / STAMP).write_text(json.dumps(source) + "\n", encoding="utf-8")


def _unstamp(folder: Path) -> None:
    # before rewriting a folder: a merge that fails half-way must not look current next time
    (folder / STAMP).unlink(missing_ok=True)


def model_to_serve(run_dir: Path, python: str | None = None) -> Path:
    """The folder vLLM loads: the merged checkpoint, with a LoRA adapter folded in."""
    from verlings.capstone.evaluate import ExportError, export, latest_actor_checkpoint

    if not run_dir.is_dir():
        raise ServeError(f"no run folder {display(run_dir)} — train first: python grader.py capstone --plot")
    try:
        actor = latest_actor_checkpoint(run_dir)
    except ExportError as exc:
        raise ServeError(str(exc)) from None
    if not any(actor.glob("model_world_size_*_rank_0.pt")):
        raise ServeError(f"corrupt checkpoint: no model_world_size_*_rank_0.pt in {display(actor)}")
    if not (actor / "huggingface" / "config.json").is_file():
        raise ServeError(f"corrupt checkpoint: no huggingface/config.json in {display(actor)}")
    source = checkpoint_source(actor)
    hf = run_dir / "hf"
    if not is_current(hf, source):  # verl's merger costs a Python start with verl and torch: once per checkpoint
        _unstamp(hf)
        try:
            hf = export(run_dir, python=python)
        except ExportError as exc:
            first = str(exc).splitlines()[0]
            log = display(run_dir / "merge.log")
            raise ServeError(f"corrupt checkpoint in {display(actor)}: {first} (log: {log})") from None
        _stamp(hf, source)
    if not (hf / "lora_adapter" / "adapter_config.json").is_file():
        return hf
    served_dir = run_dir / "served"
    if not is_current(served_dir, source):
        _unstamp(served_dir)
        fold_lora(hf, served_dir)
        _stamp(served_dir, source)
    return served_dir


def kv_cache_bytes(model: Path, max_model_len: int = MAX_MODEL_LEN, max_num_seqs: int = MAX_NUM_SEQS) -> int | None:
    """KV cache for ``max_num_seqs`` full-length sequences of ``model`` in float32, from its
    config.json (``None`` when the config does not say: vLLM's CPU default, 1 GiB, then applies).

    Per token and layer the cache holds a key and a value per KV head: ``2 * kv_heads * head_dim``
    floats. The course's tiny model needs 1 KiB a token, 32 MiB in all; vLLM's CPU default of
    1 GiB costs seconds of page faults at start-up for nothing."""
    try:
        cfg = json.loads((model / "config.json").read_text(encoding="utf-8"))
        cfg = cfg.get("text_config", cfg)
        heads = int(cfg["num_attention_heads"])
        kv_heads = int(cfg.get("num_key_value_heads") or heads)
        head_dim = int(cfg.get("head_dim") or int(cfg["hidden_size"]) // heads)
        per_token = 2 * int(cfg["num_hidden_layers"]) * kv_heads * head_dim * 4
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return max(per_token * max_model_len * max_num_seqs, 16 * 2**20)


def server_command(
    model: Path, port: int, python: str, max_model_len: int = MAX_MODEL_LEN, device: str = "gpu"
) -> list[str]:
    """vLLM's OpenAI server, greedy-ready: float32 as verl trained, eager (no compile/graph capture:
    nothing to gain for a model this small, seconds to lose at start-up); on the CPU also at most
    ``MAX_NUM_SEQS`` sequences and a KV cache sized for them (:func:`kv_cache_bytes`)."""
    cpu = []
    kv = kv_cache_bytes(Path(model), max_model_len) if device == "cpu" else None
    if device == "cpu":
        cpu = ["--max-num-seqs", str(MAX_NUM_SEQS)] + (["--kv-cache-memory-bytes", str(kv)] if kv else [])
    return [
        python,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model),
        "--served-model-name",
        MODEL_NAME,
        "--host",
        HOST,
        "--port",
        str(port),
        "--dtype",
        "float32",
        "--enforce-eager",
        "--max-model-len",
        str(max_model_len),
        "--generation-config",
        "vllm",  # vLLM's sampling defaults: a request's settings are what it says
        *cpu,
    ]


def server_env(device: str, kv_from_flag: bool = True) -> dict[str, str]:
    """The server's environment. On the CPU: the rollout's vLLM settings (threads not bound, so
    the cores stay shared) and ``VLLM_ENABLE_V1_MULTIPROCESSING=0``, with which vLLM's CPU
    platform keeps its one-process executor: the model runs inside the engine-core process
    instead of a third process that imports torch and vLLM again (the API server and the engine
    core stay two processes: vLLM's OpenAI server always runs them apart)."""
    from verlings.capstone.launcher import CPU_ENV

    env = dict(os.environ)
    if device == "cpu":
        env.update({k: v for k, v in CPU_ENV.items() if k.startswith("VLLM_")})
        env["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
        if kv_from_flag:  # vLLM's CPU platform lets this variable override --kv-cache-memory-bytes
            env.pop("VLLM_CPU_KVCACHE_SPACE", None)
    env.update({"PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false", "VLLM_NO_USAGE_STATS": "1"})
    return env


def _tail(path: Path, n: int = 20) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def served(
    run_dir: str | Path,
    port: int = DEFAULT_PORT,
    timeout_s: float = 300,
    device: str | None = None,
    python: str | None = None,
) -> Iterator[str]:
    """Serve the run's model for the ``with`` block; yields the base URL (``http://127.0.0.1:P/v1``).

    Raises :class:`ServeError` (port in use, no or corrupt checkpoint, a server that does not
    answer within ``timeout_s``: the last lines of its log and the command). On exit the server's
    whole session is stopped."""
    run_dir = Path(run_dir).resolve()
    if not port_free(port):
        raise ServeError(f"port {port} on {HOST} is in use — pick another with --port N")
    with serve_folder(model_to_serve(run_dir), run_dir / "serve.log", port, timeout_s, device, python) as url:
        yield url


@contextlib.contextmanager
def serve_folder(
    model: Path,
    log_path: Path,
    port: int = DEFAULT_PORT,
    timeout_s: float = 300,
    device: str | None = None,
    python: str | None = None,
) -> Iterator[str]:
    """vLLM's OpenAI-compatible server on a Hugging Face folder, for the ``with`` block."""
    from verlings.capstone.launcher import choose_device
    from verlings.capstone.sessions import stop_session
    from verlings.engine_imports import engine_python

    if not port_free(port):
        raise ServeError(f"port {port} on {HOST} is in use — pick another with --port N")
    python = python or engine_python()
    device = device or choose_device()
    cmd = server_command(model, port, python, device=device)
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            cmd,
            env=server_env(device, kv_from_flag="--kv-cache-memory-bytes" in cmd),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        _wait_until_up(proc, port, timeout_s, log_path, cmd)
        yield f"http://{HOST}:{port}/v1"
    finally:
        stop_session(proc, grace_s=10)


def _wait_until_up(proc: subprocess.Popen, port: int, timeout_s: float, log_path: Path, cmd: list[str]) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            why = f"the server exited with code {proc.returncode}"
            break
        try:
            if httpx.get(f"http://{HOST}:{port}/v1/models", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            why = f"the server did not answer within {timeout_s:.0f} s"
            break
        time.sleep(0.5)
    raise ServeError(f"{why}; last lines of {display(log_path)}:\n{_tail(log_path)}\nreproduce with: {' '.join(cmd)}")


def example_request(url: str) -> str:
    return (
        f"curl -s {url}/chat/completions -H 'Content-Type: application/json' -d "
        f'\'{{"model": "{MODEL_NAME}", "messages": [{{"role": "user", "content": "What is 2 + 3?"}}], '
        f'"temperature": 0, "max_tokens": 16}}\''
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python grader.py serve", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "run_dir",
        nargs="?",
        default=str(STATE_DIR / "capstone" / "demo"),
        help="a capstone run folder with checkpoints/ (default: the --plot demo)",
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on {HOST} (default {DEFAULT_PORT})")
    p.add_argument("--timeout", type=float, default=300, help="seconds to wait for the server (default 300)")
    p.add_argument("--device", choices=("cpu", "gpu"), default=None, help="default: gpu when CUDA is available")
    p.add_argument(
        "--hf",
        metavar="DIR",
        default=None,
        help="serve this Hugging Face folder as it is (no checkpoint, no merge); the log goes to DIR",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # a parent that ignores SIGINT (a background job, pytest-xdist's workers) hands that on, and Python
    # then installs no KeyboardInterrupt handler: Ctrl-C / kill -INT would never stop the server
    signal.signal(signal.SIGINT, signal.default_int_handler)
    start = time.monotonic()
    try:
        if args.hf:
            hf = Path(args.hf).resolve()
            if not (hf / "config.json").is_file():
                raise ServeError(f"no config.json in {display(hf)}: not a Hugging Face model folder")
            where, ctx = hf, serve_folder(hf, hf / "serve.log", args.port, args.timeout, args.device)
        else:
            where, ctx = (
                Path(args.run_dir),
                served(args.run_dir, port=args.port, timeout_s=args.timeout, device=args.device),
            )
        with ctx as url:
            print(
                f"serving {display(where)} as {MODEL_NAME!r} at {url} "
                f"(up after {time.monotonic() - start:.0f} s; log: {display(where / 'serve.log')})"
            )
            print(f"try:  {example_request(url)}")
            print(f"evaluate:  python grader.py capstone --eval --endpoint {url}")
            print("Ctrl-C stops the server", flush=True)
            while True:
                time.sleep(3600)
    except ServeError as exc:
        print(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        print("\nserver stopped")
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
