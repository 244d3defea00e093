#!/usr/bin/env bash
# One-step smoke test of chapter 06's GPU path, for a person with an NVIDIA GPU.
#
#   bash scripts/gpu_smoke.sh            # install the CUDA engine, graded run, demo, evaluation
#   bash scripts/gpu_smoke.sh --no-install
#
# It runs what the course never ran on its CPU-only test machines: the CUDA build of vLLM with
# verl 0.9.1's v1 trainer, bf16 rollout and actor, then the demo (SFT warm start, GRPO with
# held-out validation, verl's model merger, greedy evaluation). Everything is logged under
# .verlings/gpu_smoke/; the last lines printed are a short report to paste into an issue.
# Sleep mode stays off (the course's default); add VLLM_SLEEP=on to try vLLM's sleep mode too.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=.verlings/gpu_smoke
mkdir -p "$OUT"
PY=${PYTHON:-python}
SLEEP=${VLLM_SLEEP:-off}
report=()
step() {  # step NAME COMMAND... : run, log, remember pass/fail and seconds
    local name=$1; shift
    local t0=$(date +%s)
    echo "== $name: $*"
    if "$@" >"$OUT/$name.log" 2>&1; then status=ok; else status="FAILED (exit $?)"; fi
    report+=("$name: $status in $(( $(date +%s) - t0 )) s  ($OUT/$name.log)")
    tail -n 5 "$OUT/$name.log"
}

if [[ "${1:-}" != "--no-install" ]]; then
    step install env VERLINGS_DEVICE=gpu bash scripts/install_rollout_engine.sh
fi
step device "$PY" -m verlings.device check
step graded env VERLINGS_DEVICE=gpu "$PY" grader.py capstone --solutions --device gpu --vllm-sleep "$SLEEP"
step demo env VERLINGS_DEVICE=gpu "$PY" grader.py capstone --solutions --device gpu --vllm-sleep "$SLEEP" --plot --eval

echo
echo "---- paste from here ----"
echo "verlings GPU smoke, $(date -u +%Y-%m-%dT%H:%MZ), git $(git rev-parse --short HEAD 2>/dev/null)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/gpu: /'
"$PY" - <<'EOF' 2>/dev/null
import importlib.metadata as md
print("versions:", ", ".join(f"{p} {md.version(p)}" for p in ("verl", "torch", "transformers", "TransferQueue")))
EOF
[[ -x .verlings/engine/bin/python ]] && .verlings/engine/bin/python -c \
    "import vllm, transformers; print('engine: vllm', vllm.__version__, '| transformers', transformers.__version__)" 2>/dev/null
printf '%s\n' "${report[@]}"
grep -h -E "finished|held-out accuracy|greedy exact-match|verl's validation at step|total wall time" \
    "$OUT/graded.log" "$OUT/demo.log" 2>/dev/null
grep -h -E "Error|error:" "$OUT"/*.log 2>/dev/null | head -n 5
echo "---- to here ----"
