#!/usr/bin/env bash
# bench/step_profile.sh — where the time of a CUDA training step goes, per --precision: runs
# build/bench/unet_timing --profile (per-op CUDA events; every op is synchronized, so the profiled
# step is slower than an unprofiled one — the shares are what this measures) and prints a Markdown
# table of the shares of the weight gradient, backward data and forward of conv3d, the transposed
# convolutions, the fused loss and everything else. Each precision also runs with every 3×3×3 pass on
# the generic implicit GEMM (--wgrad igemm --wx igemm: the kernels before the brick kernels), and bf16
# once more with float32 activations (--bf16-activations off: the same values, twice the bytes).
# The last column is the peak of live device memory over the profiled steps.
#
#   bench/step_profile.sh [--build build] [--size 64] [--width 64] [--precisions "fp32 tf32 bf16"]
set -euo pipefail
cd "$(dirname "$0")/.."
build=build size=64 width=64 precisions="fp32 tf32 bf16"
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --width) width=$2; shift 2 ;;
    --precisions) precisions=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$build/bench/unet_timing" ] || { echo "build $build/bench/unet_timing first (-DSSEUNET_BENCH=ON)" >&2; exit 1; }

echo "### Where the U-Net step's time goes (unet_timing --profile, ${size}³, width $width, 3 steps)"
echo
echo "| precision | conv kernels | profiled step ms | conv3d bwd-weight | conv3d bwd-data | conv3d fwd |" \
     "convT (all) | loss | everything else | peak MiB |"
echo "|---|---|---|---|---|---|---|---|---|---|"
runs() {  # precision → "impl activations" lines
  echo "auto on"; echo "igemm on"
  [ "$1" = bf16 ] && echo "auto off"
  return 0
}
for p in $precisions; do
  runs "$p" | while read -r impl act; do
    label="$impl"
    [ "$act" = off ] && label="$impl, fp32 activations"
    "$build/bench/unet_timing" --mode train --size "$size" "$size" "$size" --width "$width" --device cuda \
        --repeat 3 --precision "$p" --wgrad "$impl" --wx "$impl" --bf16-activations "$act" --profile 2>&1 |
      awk -v p="$p" -v impl="$label" '
        /^\{/ { if (match($0, /"median_ms":[0-9.eE+-]+/)) step = substr($0, RSTART + 12, RLENGTH - 12)
                if (match($0, /"peak_mib":[0-9.eE+-]+/)) peak = substr($0, RSTART + 11, RLENGTH - 11) }
        $2 ~ /^cuda/ && NF == 6 { ms = $4; total += ms
          if ($1 == "conv3d_backward_weight") wg += ms; else if ($1 == "conv3d_backward_data") bd += ms
          else if ($1 == "conv3d_forward") fw += ms; else if ($1 ~ /^conv_transpose3d/) ct += ms
          else if ($1 ~ /^focal_dice/) lo += ms; else other += ms }
        END { if (total <= 0) { print "no profile for " p " " impl > "/dev/stderr"; exit 1 }
          printf "| %s | %s | %.1f | %.1f %% | %.1f %% | %.1f %% | %.1f %% | %.1f %% | %.1f %% | %.0f |\n", p, impl,
                 step, 100 * wg / total, 100 * bd / total, 100 * fw / total, 100 * ct / total, 100 * lo / total,
                 100 * other / total, peak }'
  done
done
