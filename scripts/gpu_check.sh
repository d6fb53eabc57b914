#!/usr/bin/env bash
# scripts/gpu_check.sh — everything a GPU machine should run for sseunet, in one command.
#
#   1. configures a real-CUDA Release build for the GPU present (its compute capability from
#      nvidia-smi, else CMake's "native") and builds it;
#   2. runs every test with ctest (the CUDA tests now run on the GPU instead of skipping);
#   3. runs the GPU benchmarks: bench/gpu_kernels (bandwidth-bound kernels vs a device-to-device copy),
#      bench/gpu_conv_layers (U-Net convolution layers vs cuDNN), and, when present, bench/gpu_unet
#      (training step / inference) and bench/pytorch_unet.py (when python3 can import torch);
#   4. appends a dated, commit-tagged section with their tables to bench/RESULTS.md (created with a
#      header if absent);
#   5. prints a short summary last. Exit status 0 only when every stage that ran passed.
#
# Designed to finish within about 8 minutes on an H100. Logs go to $OUT when it is set (the device
# tool brings that folder back), else to <build>/gpu_check_logs.
#
# Environment: BUILD_DIR (default build-gpu), JOBS (default nproc), CONV_SIZES (default 64,96),
#              SKIP_BUILD=1 (reuse an existing build), SKIP_TESTS=1, COMMIT (tag for a source tree
#              without .git; default: git rev-parse).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD_DIR:-$ROOT/build-gpu}"
LOGS="${OUT:-$BUILD/gpu_check_logs}"
JOBS="${JOBS:-$(nproc)}"
CONV_SIZES="${CONV_SIZES:-64,96}"
RESULTS="$ROOT/bench/RESULTS.md"
mkdir -p "$LOGS"

declare -a SUMMARY=()
STATUS=0
note() { SUMMARY+=("$1"); }
fail() { SUMMARY+=("FAIL: $1"); STATUS=1; }

# Runs "$@" with a time limit, output to $LOGS/$name.log; records the result.
stage() {
  local name="$1" limit="$2"; shift 2
  local t0=$SECONDS rc=0
  timeout "$limit" "$@" >"$LOGS/$name.log" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ]; then
    note "ok   $name ($((SECONDS - t0)) s)"
    return 0
  fi
  [ "$rc" -eq 124 ] && fail "$name timed out after $limit s (log: $LOGS/$name.log)" ||
    fail "$name exited $rc (log: $LOGS/$name.log)"
  return 1
}

gpu_arch() {
  local cap
  cap="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n1 | tr -d ' .')"
  if [[ "$cap" =~ ^[0-9]+$ ]]; then echo "$cap"; else echo native; fi
}

if ! nvidia-smi >/dev/null 2>&1; then
  echo "gpu_check: no GPU visible (nvidia-smi failed); nothing to check here" >&2
  exit 2
fi
GPU="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n1)"
COMMIT="${COMMIT:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)}"
DIRTY="$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo "+dirty" || true)"
START=$SECONDS

# ---- 1. build ----------------------------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  stage configure 120 cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSSEUNET_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES="$(gpu_arch)" -DSSEUNET_BENCH=ON || { printf '%s\n' "${SUMMARY[@]}"; exit 1; }
  stage build 300 cmake --build "$BUILD" -j "$JOBS" || { printf '%s\n' "${SUMMARY[@]}"; exit 1; }
fi

# ---- 2. tests ----------------------------------------------------------------------------------------
if [ "${SKIP_TESTS:-0}" != 1 ]; then
  if stage ctest 240 ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" --timeout 200; then :; fi
  note "     $(grep -E 'tests passed|tests failed' "$LOGS/ctest.log" | tail -n1)"
fi

# ---- 3. benchmarks -----------------------------------------------------------------------------------
TABLES=()
run_bench() {  # name limit command...: a benchmark whose stdout is Markdown (kept even when it fails)
  stage "$@" || true
  TABLES+=("$LOGS/$1.log")
}
run_bench gpu_kernels 90 "$BUILD/bench/gpu_kernels"
run_bench gpu_conv_layers 300 "$BUILD/bench/gpu_conv_layers" --sizes "$CONV_SIZES" --reps 7 --warmup 2
if [ -x "$BUILD/bench/gpu_unet" ]; then
  run_bench gpu_unet 180 "$BUILD/bench/gpu_unet"
else
  note "skip gpu_unet (not built)"
fi
if [ -f "$ROOT/bench/pytorch_unet.py" ] && python3 -c 'import torch' >/dev/null 2>&1; then
  run_bench pytorch_unet 180 python3 "$ROOT/bench/pytorch_unet.py"
else
  note "skip pytorch_unet.py (absent, or no torch)"
fi

# ---- 4. bench/RESULTS.md -------------------------------------------------------------------------------
if [ ! -f "$RESULTS" ]; then
  cat >"$RESULTS" <<'EOF'
# Benchmark results

Sections are appended by scripts/gpu_check.sh on GPU machines (and by hand for CPU runs): date,
commit and device first, then the tables the programs in bench/ print. Timings are medians of
CUDA-event timings after warm-up; every timed result was checked against a reference first.
EOF
fi
{
  echo
  echo "## $(date -u +%Y-%m-%d) — commit ${COMMIT}${DIRTY} — ${GPU}"
  echo
  for t in "${TABLES[@]}"; do
    # The programs' own "## title" lines become the section's subsections.
    sed -e 's/^## /### /' -e 's/^### \(Convolution\|Bandwidth\|Summary\)/#### \1/' "$t"
    echo
  done
} >>"$RESULTS"
cp "$RESULTS" "$LOGS/RESULTS.md" 2>/dev/null || true

# ---- 5. summary ----------------------------------------------------------------------------------------
{
  echo
  echo "gpu_check: ${GPU}, commit ${COMMIT}${DIRTY}, $((SECONDS - START)) s"
  printf '  %s\n' "${SUMMARY[@]}"
  grep -h -E '^Peak:' "$LOGS/gpu_kernels.log" 2>/dev/null | sed 's/^/  /'
  sed -n '/Summary/,$p' "$LOGS/gpu_conv_layers.log" 2>/dev/null | grep -E '^\| (SIMT|TF32|BF16|cuDNN)' | sed 's/^/  /'
  grep -h -E '^checks:' "$LOGS"/gpu_*.log 2>/dev/null | sed 's/^/  /'
  echo "  results appended to bench/RESULTS.md; logs in $LOGS"
} | tee "$LOGS/summary.txt"
exit "$STATUS"
