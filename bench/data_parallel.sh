#!/usr/bin/env bash
# bench/data_parallel.sh — data-parallel training steps on this machine's CPU cores: the same global
# batch by 1 rank × 1 thread, 1 rank × all cores' threads, and N ranks × 1 thread (N = the cores),
# in alternating rounds; prints each run's JSON line (bench/data_parallel_timing.cpp) and a table.
#
#   bench/data_parallel.sh [--build build-bench] [--rounds 2] [--steps 4]
# Needs a build with MPI and -DSSEUNET_BENCH=ON (target data_parallel_timing). As root, Open MPI
# wants the OMPI_ALLOW_RUN_AS_ROOT variables, set here.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-bench rounds=2 steps=4
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--rounds N] [--steps N]" >&2; exit 2 ;;
  esac
done
prog=$build/bench/data_parallel_timing
[ -x "$prog" ] || { echo "missing $prog (cmake -DSSEUNET_BENCH=ON, target data_parallel_timing)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
cores=$(nproc)
echo "$(date -u +%F) — commit $(git rev-parse --short HEAD) — $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $cores cores — $(mpirun --version | head -1)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
results=$(mktemp)
for config in "--width 16 --patch 64 --batch 2" "--width 64 --patch 32 --batch 2"; do
  for round in $(seq "$rounds"); do
    OMP_NUM_THREADS=1 "$prog" $config --threads 1 --steps "$steps" | tee -a "$results"
    OMP_NUM_THREADS=$cores "$prog" $config --threads "$cores" --steps "$steps" | tee -a "$results"
    # one core per rank (Open MPI's default binding for 2 ranks, said explicitly)
    OMP_NUM_THREADS=1 mpirun -np "$cores" --bind-to core "$prog" $config --threads 1 --steps "$steps" | tee -a "$results"
  done
done
python3 - "$results" <<'PY'
import json, sys, statistics
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    j = json.loads(line)
    runs[(j["width"], j["patch"], j["batch"], j["ranks"], j["threads_per_rank"])].append(j)
print("\n| width, patch, batch | ranks × threads | step ms | rank 0 CPU ms | comm ms (small + grad) | comm share |")
print("|---|---|---|---|---|---|")
best, cpu_of = {}, {}
for k in sorted(runs):
    v = runs[k]
    step = statistics.median(r["step_ms"] for r in v)
    small = statistics.median(r["small_collectives_ms"] for r in v)
    grad = statistics.median(r["grad_allreduce_ms"] for r in v)
    cpu = statistics.median(r["rank0_cpu_ms"] for r in v)
    best[k], cpu_of[k] = step, cpu
    print(f"| {k[0]}, {k[1]}³, {k[2]} | {k[3]} × {k[4]} | {step:.0f} | {cpu:.0f} | {small + grad:.0f} ({small:.0f} + {grad:.0f}) | {(small + grad) / step:.1%} |")
print("\n| width, patch, batch | efficiency T(1×1) / (N·T(N×1)), wall | the same in CPU time | speed-up of N×1 over 1×N threads |")
print("|---|---|---|---|")
for (w, p, b, r, t), step in sorted(best.items()):
    if r == 1: continue
    one = best.get((w, p, b, 1, 1)); threads = best.get((w, p, b, 1, r))
    if one and threads:
        cpu = cpu_of[(w, p, b, 1, 1)] / (r * cpu_of[(w, p, b, r, t)])
        print(f"| {w}, {p}³, {b} | {one / (r * step):.2f} | {cpu:.2f} | {threads / step:.2f} |")
PY
rm -f "$results"
