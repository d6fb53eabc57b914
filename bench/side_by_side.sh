#!/usr/bin/env bash
# Runs sseunet's U-Net (build/bench/unet_timing) and PyTorch's (bench/pytorch_unet.py, Debian's
# python3-torch) on the same shapes, alternating A/B/A/B so machine noise hits both alike, and prints
# a Markdown table of medians and the ratio sseunet / PyTorch (< 1: sseunet faster).
#
#   bench/side_by_side.sh [--device cpu|cuda] [--threads N] [--rounds 3] [--build build] [--tf32]
# Cases: inference of the EMD-35448 box (87×91×90 zero-padded to 88×92×92) at width 64; one FCE_DL
# training step on a 64³ patch at width 64; the same at width 16; on CUDA also a 96³ step at width 64.
# On CUDA both sides compute in strict fp32 by default (PyTorch with TF32 off, sseunet's SIMT
# convolution); --tf32 lets both use TF32 tensor cores (PyTorch's default, sseunet --precision tf32).
set -euo pipefail
cd "$(dirname "$0")/.."
device=cpu threads=$(nproc) rounds=3 build=build tf32=0
python=${PYTHON:-/usr/bin/python3}
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --tf32) tf32=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$build/bench/unet_timing" ] || { echo "build $build/bench/unet_timing first (-DSSEUNET_BENCH=ON)" >&2; exit 1; }
"$python" -c 'import torch' 2>/dev/null || { echo "no PyTorch for $python" >&2; exit 1; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { "$python" -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }

echo "| case | device | threads | sseunet ms | PyTorch ms | ratio |  (tf32: $tf32)"
echo "|---|---|---|---|---|---|"
run_case() {  # name mode width d h w repeat
  local name=$1 mode=$2 width=$3 d=$4 h=$5 w=$6 repeat=$7 ours=() theirs=()
  local args=(--mode "$mode" --width "$width" --size "$d" "$h" "$w" --device "$device" --threads "$threads" --repeat "$repeat")
  local mine=() peer=()
  [ "$tf32" = 1 ] && mine=(--precision tf32) && peer=(--tf32)
  for _ in $(seq "$rounds"); do
    ours+=("$("$build/bench/unet_timing" "${args[@]}" "${mine[@]}" | field median_ms)")
    theirs+=("$("$python" bench/pytorch_unet.py "${args[@]}" "${peer[@]}" | field median_ms)")
  done
  local a b
  a=$(printf '%s\n' "${ours[@]}" | median)
  b=$(printf '%s\n' "${theirs[@]}" | median)
  printf '| %s | %s | %s | %.1f | %.1f | %.2f |\n' "$name" "$device" "$threads" "$a" "$b" \
    "$("$python" -c "print($a / $b)")"
}
run_case "inference 88×92×92, width 64" infer 64 88 92 92 3
run_case "train step 64³, width 64" train 64 64 64 64 3
run_case "train step 64³, width 16" train 16 64 64 64 3
if [ "$device" != cpu ]; then
  run_case "train step 96³, width 64" train 64 96 96 96 3
fi
