#!/usr/bin/env bash
# Set up verlings on a fresh machine: a pinned torch, verl 0.9.1, the course and its test tools.
#
#   bash install.sh               # everything, including chapter 06's rollout engine (vLLM, ~1.5 GB venv)
#   bash install.sh --no-engine   # chapters 01–05 only; add the engine later with
#                                 #   bash scripts/install_rollout_engine.sh  (python grader.py doctor names it)
#
# torch is installed first and pinned, so that nothing later pulls an unpinned (CUDA) torch.
# On a CPU-only machine outside a prepared workplace, point pip at PyTorch's CPU wheels:
#   VERLINGS_TORCH_INDEX=https://download.pytorch.org/whl/cpu bash install.sh
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
TORCH_VERSION=2.13.0
WITH_ENGINE=1
for arg in "$@"; do
    case "$arg" in
        --no-engine) WITH_ENGINE=0 ;;
        *) echo "usage: bash install.sh [--no-engine]" >&2; exit 2 ;;
    esac
done

"$PYTHON" -m pip install --upgrade-strategy only-if-needed "torch==${TORCH_VERSION}" \
    ${VERLINGS_TORCH_INDEX:+--index-url "$VERLINGS_TORCH_INDEX" --extra-index-url https://pypi.org/simple}
"$PYTHON" -m pip install -e ".[dev]"
if [ "$WITH_ENGINE" = 1 ]; then
    PYTHON="$PYTHON" bash scripts/install_rollout_engine.sh
fi
"$PYTHON" - <<'PY'
import importlib.metadata as md
print("verlings ready:", ", ".join(f"{p} {md.version(p)}" for p in ("torch", "verl", "ray", "pytest")))
PY
