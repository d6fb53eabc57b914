#!/usr/bin/env bash
# Runs every test the way CI does, on a fresh Debian machine:
#   1. installs the dependencies (scripts/setup.sh),
#   2. builds in Release with the CUDA kernels compiled for the CPU emulator (SSEUNET_CUDA_SIM=ON),
#      so the CPU reference, the engine, and every custom CUDA kernel run under ctest; with MPI
#      (scripts/setup.sh installs Open MPI), tests/mpi starts `mpirun -np 2 --oversubscribe sseunet
#      train` itself (as root too: it sets OMPI_ALLOW_RUN_AS_ROOT and its confirmation),
#   3. builds the CPU tests again with AddressSanitizer + UBSan and runs them (SSE_TEST_ASAN=0 skips),
#      without MPI: the build that has none (data-parallel code still runs there, ranks as threads),
#      and Open MPI's own allocations stay out of the leak checker's report,
#   4. when nvcc is present, checks that the CUDA kernels and engine compile with nvcc for sm_90
#      (SSE_TEST_NVCC=0 skips; the tests themselves run on a GPU through scripts/gpu_check.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
scripts/setup.sh

echo "== Release build with emulated CUDA; all tests"
cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=Release -DSSEUNET_CUDA_SIM=ON -DSSEUNET_BENCH=OFF >/dev/null
cmake --build build-test -j"$jobs"
ctest --test-dir build-test -j"$jobs" --output-on-failure --timeout 600

if [ "${SSE_TEST_ASAN:-1}" != 0 ]; then
  echo "== AddressSanitizer + UBSan, CPU tests"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSSEUNET_CUDA=OFF -DSSEUNET_SANITIZE=ON \
        -DSSEUNET_MPI=OFF -DSSEUNET_BENCH=OFF >/dev/null
  cmake --build build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan -j"$jobs" --output-on-failure --timeout 900 -LE slow
fi

nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
if [ "${SSE_TEST_NVCC:-1}" != 0 ] && [ -x "$nvcc" ]; then
  echo "== CUDA kernels and engine compile with nvcc (sm_90)"
  cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DSSEUNET_CUDA=ON \
        -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES=90 -DSSEUNET_TESTS=OFF -DSSEUNET_BENCH=OFF >/dev/null
  cmake --build build-cuda -j"$jobs" --target sse_kernels sse_engine
fi
echo "== all tests passed"
