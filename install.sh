#!/usr/bin/env bash
# Set up verlings on a fresh machine: a pinned torch, verl 0.9.1, the course and its test tools.
#
#   bash install.sh
#
# torch is installed first and pinned, so that nothing later pulls an unpinned (CUDA) torch.
# On a CPU-only machine outside a prepared workplace, point pip at PyTorch's CPU wheels:
#   VERLINGS_TORCH_INDEX=https://download.pytorch.org/whl/cpu bash install.sh
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
TORCH_VERSION=2.13.0

"$PYTHON" -m pip install --upgrade-strategy only-if-needed "torch==${TORCH_VERSION}" \
    ${VERLINGS_TORCH_INDEX:+--index-url "$VERLINGS_TORCH_INDEX" --extra-index-url https://pypi.org/simple}
"$PYTHON" -m pip install -e ".[dev]"
"$PYTHON" - <<'PY'
import importlib.metadata as md
print("verlings ready:", ", ".join(f"{p} {md.version(p)}" for p in ("torch", "verl", "ray", "pytest")))
PY
