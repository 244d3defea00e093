#!/usr/bin/env bash
# Gradescope autograder set-up. Zip this course folder (with classroom/gradescope/setup.sh and
# run_autograder at the top of the zip, as Gradescope wants: `bash classroom/gradescope/make_zip.sh`)
# and upload it as the autograder. Runs once when Gradescope builds the image.
#
#   AUTOGRADER_ROOT   where Gradescope's folders are (default /autograder: source/, submission/, results/)
#   VERLINGS_WITH_ENGINE=0   leave out chapter 06's rollout engine (set it when chapter 06 is not assigned)
#   VERLINGS_AUTOGRADER_VENV=DIR   use an existing course environment instead of installing one
#                                  (the course's own tests use this; Gradescope never sets it)
set -euo pipefail
AG=${AUTOGRADER_ROOT:-/autograder}
cd "$AG/source"
if [[ -n "${VERLINGS_AUTOGRADER_VENV:-}" ]]; then
    "$VERLINGS_AUTOGRADER_VENV/bin/python" -c 'import verl, torch' \
        || { echo "setup.sh: $VERLINGS_AUTOGRADER_VENV has no course environment (verl, torch)" >&2; exit 1; }
    rm -rf "$AG/venv"
    ln -s "$VERLINGS_AUTOGRADER_VENV" "$AG/venv"
    echo "setup.sh: using the existing environment $VERLINGS_AUTOGRADER_VENV"
    exit 0
fi
if ! command -v python3.11 >/dev/null 2>&1; then
    apt-get update -y
    apt-get install -y --no-install-recommends python3.11 python3.11-venv python3.11-dev git
fi
[[ -x "$AG/venv/bin/python" ]] || python3.11 -m venv "$AG/venv"
# Gradescope graders have no GPU: the CPU build of torch (VERLINGS_DEVICE=cpu), from PyTorch's index.
engine_flag=()
[[ "${VERLINGS_WITH_ENGINE:-1}" == 0 ]] && engine_flag=(--no-engine)
PYTHON="$AG/venv/bin/python" VERLINGS_DEVICE=cpu \
    VERLINGS_TORCH_INDEX=${VERLINGS_TORCH_INDEX:-https://download.pytorch.org/whl/cpu} bash install.sh "${engine_flag[@]}"
