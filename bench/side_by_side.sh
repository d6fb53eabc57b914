#!/usr/bin/env bash
# Runs sseunet's U-Net (build/bench/unet_timing) and PyTorch's (bench/pytorch_unet.py, Debian's
# python3-torch) on the same shapes, alternating A/B/A/B so machine noise hits both alike, and prints
# a Markdown table of medians and the ratio sseunet / PyTorch (< 1: sseunet faster): wall time, and
# on the CPU also process CPU time (all threads), which on a machine shared with other work measures
# the work each side did rather than the time slices the others took.
#
#   bench/side_by_side.sh [--device cpu|cuda] [--threads N] [--rounds 3] [--build build]
#                         [--precision fp32|tf32|bf16] [--cases infer88,train64,train64w16,train96] [--no-peer]
# Cases: inference of the EMD-35448 box (87×91×90 zero-padded to 88×92×92) at width 64 (infer88); one
# FCE_DL training step on a 64³ patch at width 64 (train64); the same at width 16 (train64w16); on
# CUDA also a 96³ step at width 64 (train96). All by default; --cases picks some.
# On CUDA both sides compute in strict fp32 by default (PyTorch with TF32 off, sseunet's SIMT
# convolution); --precision tf32 (or --tf32) lets both use TF32 tensor cores (PyTorch's default,
# sseunet --precision tf32); --precision bf16 runs PyTorch's forward under torch.autocast(bfloat16)
# and sseunet with --precision bf16 (weights, loss and optimizer fp32 on both sides). --no-peer times
# sseunet alone (a machine without PyTorch): the PyTorch columns read "—".
set -euo pipefail
cd "$(dirname "$0")/.."
device=cpu threads=$(nproc) rounds=3 build=build precision=fp32 cases=infer88,train64,train64w16,train96 peer=1
python=${PYTHON:-/usr/bin/python3}
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --tf32) precision=tf32; shift ;;
    --precision) precision=$2; shift 2 ;;
    --cases) cases=$2; shift 2 ;;
    --no-peer) peer=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
case "$precision" in fp32|tf32|bf16) ;; *) echo "--precision: fp32, tf32 or bf16" >&2; exit 2 ;; esac
want() { [[ ",$cases," == *",$1,"* ]]; }
[ -x "$build/bench/unet_timing" ] || { echo "build $build/bench/unet_timing first (-DSSEUNET_BENCH=ON)" >&2; exit 1; }
[ "$peer" = 0 ] || "$python" -c 'import torch' 2>/dev/null || { echo "no PyTorch for $python (--no-peer: sseunet alone)" >&2; exit 1; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { "$python" -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- 2>/dev/null || commit="$commit+dirty"
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
torch_version=$([ "$peer" = 1 ] && "$python" -c 'import torch; print("PyTorch", torch.__version__)' || echo "no PyTorch")
echo "$(date -u +%Y-%m-%d) — commit $commit — $cpu_model, $(nproc) cores — $torch_version"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $rounds alternating rounds, each the median of its repeats"
echo
echo "| case | device | threads | sseunet ms | PyTorch ms | ratio | sseunet CPU ms | PyTorch CPU ms | CPU ratio |  (precision: $precision)"
echo "|---|---|---|---|---|---|---|---|---|"
run_case() {  # name mode width d h w repeat
  local name=$1 mode=$2 width=$3 d=$4 h=$5 w=$6 repeat=$7 ours=() theirs=() ours_cpu=() theirs_cpu=()
  local args=(--mode "$mode" --width "$width" --size "$d" "$h" "$w" --device "$device" --threads "$threads" --repeat "$repeat")
  local mine=(--precision "$precision") peer_args=()
  [ "$device" = cpu ] && mine=()  # the CPU computes in fp32
  [ "$precision" = tf32 ] && peer_args=(--tf32)
  [ "$precision" = bf16 ] && peer_args=(--bf16)
  local out
  for _ in $(seq "$rounds"); do
    out=$("$build/bench/unet_timing" "${args[@]}" "${mine[@]}")
    ours+=("$(field median_ms <<<"$out")")
    ours_cpu+=("$(field median_cpu_ms <<<"$out")")
    if [ "$peer" = 1 ]; then
      out=$("$python" bench/pytorch_unet.py "${args[@]}" "${peer_args[@]}")
      theirs+=("$(field median_ms <<<"$out")")
      theirs_cpu+=("$(field median_cpu_ms <<<"$out")")
    fi
  done
  if [ "$peer" = 0 ]; then
    printf '| %s | %s | %s | %.1f | — | — | %.1f | — | — |\n' "$name" "$device" "$threads" \
      "$(printf '%s\n' "${ours[@]}" | median)" "$(printf '%s\n' "${ours_cpu[@]}" | median)"
    return
  fi
  local a b ac bc
  a=$(printf '%s\n' "${ours[@]}" | median)
  b=$(printf '%s\n' "${theirs[@]}" | median)
  ac=$(printf '%s\n' "${ours_cpu[@]}" | median)
  bc=$(printf '%s\n' "${theirs_cpu[@]}" | median)
  printf '| %s | %s | %s | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f |\n' "$name" "$device" "$threads" "$a" "$b" \
    "$("$python" -c "print($a / $b)")" "$ac" "$bc" "$("$python" -c "print($ac / $bc)")"
}
want infer88 && run_case "inference 88×92×92, width 64" infer 64 88 92 92 3
want train64 && run_case "train step 64³, width 64" train 64 64 64 64 3
want train64w16 && run_case "train step 64³, width 16" train 16 64 64 64 3
if [ "$device" != cpu ] && want train96; then
  run_case "train step 96³, width 64" train 64 96 96 96 3
fi
true
