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
#              without .git; default: git rev-parse),
#              BENCHES (default "kernels conv loss unet"; empty: no benchmarks, no RESULTS.md section),
#              UNET_ROUNDS (default 2).
# To fit a 10-minute limit per command, run it in parts on one warm machine, e.g.
#   BENCHES= scripts/gpu_check.sh;  SKIP_BUILD=1 SKIP_TESTS=1 BENCHES="kernels conv loss" ...;
#   SKIP_BUILD=1 SKIP_TESTS=1 BENCHES=unet ... — each later part's section quotes the test summary.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD_DIR:-$ROOT/build-gpu}"
LOGS="$BUILD/gpu_check_logs"   # kept in the build dir so a later call (SKIP_BUILD=1) can see earlier logs
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
# A machine without the Debian packages builds from the bundle scripts/gpu_deps.sh made (.deps/usr)
# and with the project's own GEMM (no BLAS there).
EXTRA=()
if [ -d "$ROOT/.deps/usr" ]; then
  EXTRA+=(-DCMAKE_PREFIX_PATH="$ROOT/.deps/usr" -DGTEST_ROOT="$ROOT/.deps/usr" -DZLIB_ROOT="$ROOT/.deps/usr")
  [ -f /usr/include/cblas.h ] || [ -d /usr/include/x86_64-linux-gnu/openblas-pthread ] || EXTRA+=(-DSSEUNET_BLAS=none)
  note "     using the dependency bundle .deps/usr"
  # Cairo's shared libraries and font from the bundle (the binaries and tests load them at run time).
  export LD_LIBRARY_PATH="$ROOT/.deps/usr/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export FONTCONFIG_FILE="$ROOT/.deps/usr/etc/fonts/fonts.conf"
fi
command -v nvcc >/dev/null 2>&1 || EXTRA+=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
command -v ninja >/dev/null 2>&1 && GEN=(-G Ninja) || GEN=()
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  stage configure 120 cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DSSEUNET_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES="$(gpu_arch)" -DSSEUNET_BENCH=ON -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON "${EXTRA[@]}" || { cat "$LOGS/configure.log"; printf '%s\n' "${SUMMARY[@]}"; exit 1; }
  stage build 300 cmake --build "$BUILD" -j "$JOBS" || { tail -40 "$LOGS/build.log"; printf '%s\n' "${SUMMARY[@]}"; exit 1; }
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
BENCHES="${BENCHES-kernels conv loss unet}"
want() { [[ " $BENCHES " == *" $1 "* ]]; }
want kernels && run_bench gpu_kernels 90 "$BUILD/bench/gpu_kernels"
want conv && run_bench gpu_conv_layers 300 "$BUILD/bench/gpu_conv_layers" --sizes "$CONV_SIZES" --reps 7 --warmup 2
want loss && [ -f "$BUILD/bench/gpu_focal_dice_bench" ] && run_bench gpu_focal_dice 90 "$BUILD/bench/gpu_focal_dice_bench"
# The whole U-Net against PyTorch + cuDNN on this GPU (bench/side_by_side.sh), strict fp32 and TF32.
if want unet; then
  if python3 -c 'import torch; assert torch.cuda.is_available()' >/dev/null 2>&1; then
    run_bench unet_vs_pytorch_fp32 280 env PYTHON=python3 "$ROOT/bench/side_by_side.sh" --device cuda --rounds "${UNET_ROUNDS:-2}" --build "$BUILD"
    run_bench unet_vs_pytorch_tf32 280 env PYTHON=python3 "$ROOT/bench/side_by_side.sh" --device cuda --rounds "${UNET_ROUNDS:-2}" --build "$BUILD" --tf32
  else
    note "skip the U-Net side-by-side (no PyTorch with CUDA here)"
  fi
fi
if [ ${#TABLES[@]} -eq 0 ]; then
  printf '%s\n' "gpu_check: ${GPU}, commit ${COMMIT}${DIRTY}, $((SECONDS - START)) s" "${SUMMARY[@]}" | tee "$LOGS/summary.txt"
  [ -n "${OUT:-}" ] && cp -r "$LOGS" "$OUT/"
  exit "$STATUS"
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
  [ -f "$LOGS/ctest.log" ] && echo "ctest on this GPU: $(grep -E 'tests passed|tests failed' "$LOGS/ctest.log" | tail -n1)" && echo
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
[ -n "${OUT:-}" ] && cp -r "$LOGS" "$OUT/"
exit "$STATUS"
