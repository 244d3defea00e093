"""``python grader.py serve [RUN_DIR]``: the trained model behind vLLM's OpenAI-compatible server.

    python grader.py serve                       the demo run (.verlings/capstone/demo), port 8000
    python grader.py serve RUN_DIR --port 8011   another run, another port

1. verl's model merger turns the run's last checkpoint into a Hugging Face folder (``RUN/hf``,
   :func:`verlings.capstone.evaluate.export`). A LoRA run's merge holds the base weights plus
   ``lora_adapter/`` in peft's format; ``serve`` folds the adapter into the weights with peft
   (``merge_and_unload``) into ``RUN/served`` — one plain model, served like any other.
2. ``python -m vllm.entrypoints.openai.api_server`` starts from the engine environment
   (``.verlings/engine``) on 127.0.0.1 only, in a session of its own; its log is ``RUN/serve.log``.
3. When ``GET /v1/models`` answers, the URL and one example request are printed. Ctrl-C stops
   the server and every process it started.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from verlings.paths import STATE_DIR, display

HOST = "127.0.0.1"
MODEL_NAME = "verlings"
DEFAULT_PORT = 8000


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
    try:
        hf = export(run_dir, python=python)
    except ExportError as exc:
        first = str(exc).splitlines()[0]
        log = display(run_dir / "merge.log")
        raise ServeError(f"corrupt checkpoint in {display(actor)}: {first} (log: {log})") from None
    if (hf / "lora_adapter" / "adapter_config.json").is_file():
        return fold_lora(hf, run_dir / "served")
    return hf


def server_command(model: Path, port: int, python: str, max_model_len: int = 512) -> list[str]:
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
        "vllm",
    ]  # vLLM's sampling defaults: a request's settings are what it says


def server_env(device: str) -> dict[str, str]:
    from verlings.capstone.launcher import CPU_ENV

    env = dict(os.environ)
    if device == "cpu":
        env.update({k: v for k, v in CPU_ENV.items() if k.startswith("VLLM_")})
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
    from verlings.capstone.launcher import _stop_session, choose_device, engine_python

    if not port_free(port):
        raise ServeError(f"port {port} on {HOST} is in use — pick another with --port N")
    python = python or engine_python()
    cmd = server_command(model, port, python)
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            cmd,
            env=server_env(device or choose_device()),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        _wait_until_up(proc, port, timeout_s, log_path, cmd)
        yield f"http://{HOST}:{port}/v1"
    finally:
        _stop_session(proc, grace_s=10)


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
