#!/usr/bin/env bash
# scripts/gpu_check.sh — everything a GPU machine should run for sseunet, in one command:
#
#   bash scripts/gpu_check.sh [--budget SECONDS] [--dry-run]
#
# --budget (or TIME_BUDGET) bounds the whole run; --dry-run prints the stages it would run, with their
# time limits and commands, and runs nothing (no GPU needed). On a lent machine without the Debian
# packages: `scripts/gpu_deps.sh` here first (writes .deps/, 14 MB), then the device tool's run with
# command "bash scripts/gpu_check.sh --budget 480", carry [".deps"], timeout_s 540.
#
#   1. configures a real-CUDA Release build for the GPU present (its compute capability from
#      nvidia-smi, else CMake's "native") and builds it;
#   2. runs the tests that exercise CUDA with ctest (labels kernels, losses, engine, net, train: the
#      CUDA tests run on the GPU instead of skipping; GPU_TEST_LABELS changes the set, "" runs all).
#      Only those layers' test programs and the benchmarks are built (everything when the set is "");
#   3. runs the GPU benchmarks, most valuable (and cheapest) first:
#        loss     bench/gpu_focal_dice_bench: the fused loss's bandwidth as a share of a
#                 device-to-device copy measured in the same run;
#        unet     bench/side_by_side.sh: inference of the 88×92×92 box and a 64³ width-64 training
#                 step vs PyTorch + cuDNN, in fp32, bf16 (PyTorch autocast) and tf32 — or sseunet
#                 alone (bench/unet_timing) when python3 cannot import torch with CUDA;
#        conv     bench/gpu_conv_layers: the U-Net's 13 convolution layers × 3 passes vs cuDNN (fp32
#                 and TF32 peers), weight gradients also on the old implicit GEMM;
#        profile  where the 64³ width-64 training step's time goes, per precision (unet_timing --profile);
#        kernels  bench/gpu_kernels: bandwidth-bound kernels vs a copy (not in the default set);
#   4. appends a dated section with the commit, the GPU, the PyTorch version and the tables to
#      bench/RESULTS.md (created with a header if absent), and writes the section alone to
#      results_section.md in the logs (the device tool brings back only $OUT, not the tree);
#   5. prints a short summary last. Exit status 0 only when every stage that ran passed.
#
# A time budget (TIME_BUDGET, default 540 s) bounds the whole run: each stage gets at most its own
# limit and what is left of the budget, and a stage that would start with less than 20 s left is
# skipped (and said so), so one call fits a 10-minute device limit and still writes RESULTS.md.
# Expected on an H100 (not yet measured): build 2–3 min, tests 1–2 min, benchmarks 3–4 min.
# Logs are written to <build>/gpu_check_logs and, when $OUT is set (the device tool brings that folder
# back), copied to $OUT/gpu_check_logs after every stage, so a run killed from outside still returns
# what it finished.
#
# Environment: BUILD_DIR (default build-gpu), JOBS (default nproc), CONV_SIZES (default 64),
#              SKIP_BUILD=1 (reuse an existing build), SKIP_TESTS=1, GPU_TEST_LABELS (ctest -L regex,
#              default "kernels|losses|engine|net|train"), COMMIT (tag for a source tree without .git;
#              default: git rev-parse), BENCHES (default "conv unet loss profile"; empty: no benchmarks,
#              no RESULTS.md section), UNET_ROUNDS (default 1), UNET_CASES (default infer88,train64),
#              UNET_PRECISIONS (default "fp32 bf16 tf32"), TIME_BUDGET (seconds, default 540; --budget wins).
# To split over several calls on one warm machine: BENCHES= scripts/gpu_check.sh; then
#   SKIP_BUILD=1 SKIP_TESTS=1 BENCHES="conv loss" ...; each later part's section quotes the test summary.
set -uo pipefail

usage() { sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
DRY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --budget)
      [[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "gpu_check: --budget needs a number of seconds" >&2; exit 2; }
      TIME_BUDGET=$2; shift 2 ;;
    --dry-run) DRY=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu_check: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ "${TIME_BUDGET:-540}" =~ ^[0-9]+$ ]] || { echo "gpu_check: TIME_BUDGET must be a number of seconds" >&2; exit 2; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD_DIR:-$ROOT/build-gpu}"
LOGS="$BUILD/gpu_check_logs"   # kept in the build dir so a later call (SKIP_BUILD=1) can see earlier logs
[ "$DRY" = 1 ] && LOGS="$(mktemp -d)"  # a dry run leaves nothing in the tree
JOBS="${JOBS:-$(nproc)}"
CONV_SIZES="${CONV_SIZES:-64}"
BUDGET="${TIME_BUDGET:-540}"
RESULTS="$ROOT/bench/RESULTS.md"
mkdir -p "$LOGS"

declare -a SUMMARY=()
STATUS=0
note() { SUMMARY+=("$1"); }
fail() { SUMMARY+=("FAIL: $1"); STATUS=1; }
save_logs() { [ -n "${OUT:-}" ] && [ "$DRY" = 0 ] && mkdir -p "$OUT" && cp -r "$LOGS" "$OUT/"; return 0; }

# Runs "$@" with a time limit (its own, cut to what is left of the budget), output to
# $LOGS/$name.log; records the result. Skipped, and noted, when under 20 s of the budget are left.
stage() {
  local name="$1" limit="$2"; shift 2
  local left=$((BUDGET - (SECONDS - START)))
  if [ "$left" -lt 20 ]; then
    fail "$name skipped: the time budget ($BUDGET s) is spent"
    return 1
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  if [ "$DRY" = 1 ]; then
    note "would run $name (limit $limit s): $*"
    return 0
  fi
  local t0=$SECONDS rc=0
  timeout "$limit" "$@" >"$LOGS/$name.log" 2>&1 || rc=$?
  save_logs
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

if [ "$DRY" = 1 ]; then
  GPU="(dry run: no GPU used)"
elif ! nvidia-smi >/dev/null 2>&1; then
  echo "gpu_check: no GPU visible (nvidia-smi failed); nothing to check here (--dry-run shows the plan)" >&2
  exit 2
else
  GPU="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n1)"
fi
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
# The test programs of the labels ctest runs (a layer's label is its test program's name) and the
# benchmarks; everything when GPU_TEST_LABELS is "".
LABELS="${GPU_TEST_LABELS-kernels|losses|engine|net|train}"
TARGETS=()
if [ -n "$LABELS" ]; then
  TARGETS=(--target unet_timing gpu_conv_layers gpu_focal_dice_bench gpu_kernels)
  for l in ${LABELS//|/ }; do TARGETS+=("sse_${l}_tests"); done
fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  stage configure 120 cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DSSEUNET_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES="$(gpu_arch)" -DSSEUNET_BENCH=ON -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON "${EXTRA[@]}" || { cat "$LOGS/configure.log"; printf '%s\n' "${SUMMARY[@]}"; exit 1; }
  stage build 300 cmake --build "$BUILD" -j "$JOBS" "${TARGETS[@]}" || { tail -40 "$LOGS/build.log"; printf '%s\n' "${SUMMARY[@]}"; exit 1; }
fi

# ---- 2. tests ----------------------------------------------------------------------------------------
if [ "${SKIP_TESTS:-0}" != 1 ]; then
  LABEL_ARGS=()
  [ -n "$LABELS" ] && LABEL_ARGS=(-L "$LABELS")
  if stage ctest 200 ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" --timeout 150 "${LABEL_ARGS[@]}"; then :; fi
  [ -f "$LOGS/ctest.log" ] && note "     $(grep -E 'tests passed|tests failed' "$LOGS/ctest.log" | tail -n1)"
fi

# ---- 3. benchmarks -----------------------------------------------------------------------------------
TABLES=()
run_bench() {  # name limit command...: a benchmark whose stdout is Markdown (kept even when it fails)
  stage "$@" || true
  [ -f "$LOGS/$1.log" ] && TABLES+=("$LOGS/$1.log")
  return 0
}
BENCHES="${BENCHES-conv unet loss profile}"
want() { [[ " $BENCHES " == *" $1 "* ]]; }
HAVE_TORCH=0
python3 -c 'import torch; assert torch.cuda.is_available()' >/dev/null 2>&1 && HAVE_TORCH=1
TORCH_VERSION="$([ "$HAVE_TORCH" = 1 ] && python3 -c 'import torch; print(torch.__version__)' || echo "not available")"

want loss && run_bench gpu_focal_dice 60 "$BUILD/bench/gpu_focal_dice_bench" 100
if want unet; then
  PEER=()
  [ "$HAVE_TORCH" = 1 ] || { PEER=(--no-peer); note "     no PyTorch with CUDA here: the U-Net timed without its peer"; }
  for P in ${UNET_PRECISIONS:-fp32 bf16 tf32}; do
    run_bench "unet_vs_pytorch_$P" 100 env PYTHON=python3 "$ROOT/bench/side_by_side.sh" --device cuda \
      --rounds "${UNET_ROUNDS:-1}" --build "$BUILD" --precision "$P" --cases "${UNET_CASES:-infer88,train64}" "${PEER[@]}"
  done
fi
want conv && run_bench gpu_conv_layers 150 "$BUILD/bench/gpu_conv_layers" --sizes "$CONV_SIZES" --reps 7 --warmup 2
want profile && run_bench step_profile 80 "$ROOT/bench/step_profile.sh" --build "$BUILD"
want kernels && run_bench gpu_kernels 60 "$BUILD/bench/gpu_kernels"
section_heading() { echo "## $(date -u +%Y-%m-%d) — commit ${COMMIT}${DIRTY} — ${GPU} — PyTorch ${TORCH_VERSION} (scripts/gpu_check.sh)"; }
if [ ${#TABLES[@]} -eq 0 ]; then
  printf '%s\n' "gpu_check: ${GPU}, commit ${COMMIT}${DIRTY}, $((SECONDS - START)) s" "${SUMMARY[@]}" | tee "$LOGS/summary.txt"
  [ "$DRY" = 1 ] && echo "section heading it would write: $(section_heading)"
  save_logs
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
  section_heading
  echo
  [ -f "$LOGS/ctest.log" ] && echo "ctest on this GPU: $(grep -E 'tests passed|tests failed' "$LOGS/ctest.log" | tail -n1)" && echo
  for t in "${TABLES[@]}"; do
    # The programs' own "## title" lines become the section's subsections.
    sed -e 's/^## /### /' -e 's/^### \(Convolution\|Bandwidth\|Summary\)/#### \1/' "$t"
    echo
  done
} >"$LOGS/results_section.md"
cat "$LOGS/results_section.md" >>"$RESULTS"
cp "$RESULTS" "$LOGS/RESULTS.md" 2>/dev/null || true

# ---- 5. summary ----------------------------------------------------------------------------------------
{
  echo
  echo "gpu_check: ${GPU}, commit ${COMMIT}${DIRTY}, $((SECONDS - START)) s"
  printf '  %s\n' "${SUMMARY[@]}"
  grep -h -E '^Peak:' "$LOGS/gpu_kernels.log" 2>/dev/null | sed 's/^/  /'
  sed -n '/Summary/,$p' "$LOGS/gpu_conv_layers.log" 2>/dev/null | grep -E '^\| (SIMT|TF32|BF16|cuDNN|bwd-weight)' | sed 's/^/  /'
  grep -h -E '^\| (inference|train step)' "$LOGS"/unet_vs_pytorch_*.log 2>/dev/null | sed 's/^/  /'
  grep -h -E '^\| [0-9]+×3×' "$LOGS/gpu_focal_dice.log" 2>/dev/null | sed 's/^/  loss /'
  grep -h -E '^\| (fp32|tf32|bf16) ' "$LOGS/step_profile.log" 2>/dev/null | sed 's/^/  profile /'
  grep -h -E '^checks:|ALL OK|SOME CHECKS FAILED' "$LOGS"/gpu_*.log 2>/dev/null | sed 's/^/  /'
  echo "  results appended to bench/RESULTS.md (the section alone: results_section.md); logs in $LOGS"
} | tee "$LOGS/summary.txt"
save_logs
exit "$STATUS"
