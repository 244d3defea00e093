# Helpers shared by install.sh and scripts/install_rollout_engine.sh (sourced, not run).
#
# Installing goes through uv when it can (it resolves and installs verl's and vLLM's trees many
# times faster than pip) and through pip otherwise: VERLINGS_INSTALLER=pip forces pip.

# say/die print one prefixed line; the caller sets TAG.
say() { printf '[%s] %s\n' "${TAG:-install}" "$*"; }
die() { printf '[%s] ERROR: %s\n' "${TAG:-install}" "$*" >&2; exit 1; }

# The one-line reason a failed install step gives: the registry it could not reach, or "see above".
registry_hint() {
    local url
    url=$("$PYTHON" - <<'PY' 2>/dev/null
import os, subprocess, sys
url = os.environ.get("UV_INDEX_URL") or os.environ.get("PIP_INDEX_URL")
if not url:
    try:
        out = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.index-url"],
                             capture_output=True, text=True, timeout=20).stdout.strip()
        url = out.strip("'\"") or None
    except Exception:
        url = None
print(url or "https://pypi.org/simple/")
PY
)
    url=${url:-https://pypi.org/simple/}
    if "$PYTHON" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10)" "$url" >/dev/null 2>&1; then
        echo "see the installer's output above"
    else
        echo "the package registry $url is not reachable — check the network or proxy, then run the same command again"
    fi
}

# run_step "what" command...: runs it; on failure one line names the step, the exit code and why.
run_step() {
    local what=$1 rc=0
    shift
    "$@" || rc=$?
    if [[ $rc -ne 0 ]]; then
        die "$what failed (exit $rc): $(registry_hint)"
    fi
}

# UV: the uv command line, empty when uv is not available (then pip is used).
find_uv() {
    UV=()
    [[ "${VERLINGS_INSTALLER:-}" == pip ]] && return 0
    if command -v uv >/dev/null 2>&1; then
        UV=(uv)
    elif "$PYTHON" -m uv --version >/dev/null 2>&1; then
        UV=("$PYTHON" -m uv)
    fi
}

# pip's settings as `pip config list` prints them (a uv venv has no pip: ask the one on PATH).
pip_config_list() {
    "$PYTHON" -m pip config list 2>/dev/null && return 0
    local other
    for other in pip3 pip; do
        command -v "$other" >/dev/null 2>&1 && "$other" config list 2>/dev/null && return 0
    done
    # no pip anywhere: its environment variables still say where packages are
    local var name
    for var in FIND_LINKS INDEX_URL EXTRA_INDEX_URL; do
        name=PIP_$var
        if [[ -n "${!name:-}" ]]; then echo ":env:.$(tr 'A-Z_' 'a-z-' <<<"$var")=${!name}"; fi
    done
    return 0
}

# UV_SOURCES: pip's own package sources (pip.conf, PIP_* variables) passed to uv, which does not
# read them: a machine whose pip finds torch in a local folder or a mirror gives uv the same.
uv_sources() {
    UV_SOURCES=()
    local line key value
    while IFS= read -r line; do
        key=${line%%=*}
        value=${line#*=}
        value=${value#\'}
        value=${value%\'}
        for item in $value; do
            case "$key" in
                *.find-links)
                    [[ -e "${item#file://}" || "$item" == http* ]] && UV_SOURCES+=(--find-links "$item") ;;
                *.extra-index-url)
                    # a file:// index that is not there would make uv stop; pip only warns
                    if [[ "$item" != file://* || -d "${item#file://}" ]]; then
                        UV_SOURCES+=(--extra-index-url "$item")
                    fi ;;
                *.index-url)
                    UV_SOURCES+=(--index-url "$item") ;;
            esac
        done
    done < <(pip_config_list)
    return 0
}

# compile_bytecode PY [PATH...]: write the .pyc files of PY's site-packages (and PATHs).
# uv installs no .pyc files, and where PYTHONDONTWRITEBYTECODE is set (Docker images, CI,
# Gradescope) Python never writes them either: every process then compiles torch, verl and
# transformers from source again — about 7 s of each `import verl` on 2 cores (measured: chapter
# 03's tests 23.4 s -> 12.4 s). Once here; a second run only compares dates (about 7 s).
# compileall exits 1 when a file does not compile (packages ship Python-2 templates): not an error.
compile_bytecode() {
    local py=$1 site t0 rc=0
    shift
    site=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    t0=$(date +%s)
    "$py" -m compileall -q -j 0 "$site" "$@" >/dev/null 2>&1 || rc=$?
    if [[ $rc -gt 1 ]]; then
        say "compiling bytecode in $site failed (exit $rc); imports still work, only slower"
    else
        say "bytecode compiled in $(( $(date +%s) - t0 )) s ($site)"
    fi
}
