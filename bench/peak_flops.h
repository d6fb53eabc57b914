// bench/peak_flops.h — the FP32 FMA loop behind bench/peak_flops_timing.cpp (the documented peak),
// shared with the benchmarks that report a fraction of it (bench/conv_cpu_timing.cpp).
//
// The loop: 12 independent 8-wide FP32 FMA chains (vfmadd231ps ymm) over registers only — no memory
// traffic, enough independent chains to cover the FMA latency (4–5 cycles) on two FMA pipes, so it
// runs at the core's FMA throughput: 2 pipes × 8 lanes × 2 FLOPs = 32 FLOP/cycle on Zen 2/3 and
// Haswell..Alder Lake. One FMA counts as two FLOPs. Machines without AVX2+FMA run the SSE version
// (12 independent 4-wide chains, 6 of mulps and 6 of addps).
#pragma once

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <vector>

namespace sse::bench_peak {

constexpr int kChains = 12;
inline const float kA = 0.999999f, kB = 1e-7f;

// The loops are written in assembly so the compiler can neither spill the chains nor fold them.
__attribute__((target("avx2,fma"), noinline)) inline float fma_loop_avx2(std::int64_t iters) {
  float out = 0.0f;
  __asm__ volatile(
      "vbroadcastss %[a], %%ymm12\n\t"
      "vbroadcastss %[b], %%ymm13\n\t"
      "vxorps %%ymm0, %%ymm0, %%ymm0\n\t"
      "vmovaps %%ymm0, %%ymm1\n\t vmovaps %%ymm0, %%ymm2\n\t vmovaps %%ymm0, %%ymm3\n\t"
      "vmovaps %%ymm0, %%ymm4\n\t vmovaps %%ymm0, %%ymm5\n\t vmovaps %%ymm0, %%ymm6\n\t"
      "vmovaps %%ymm0, %%ymm7\n\t vmovaps %%ymm0, %%ymm8\n\t vmovaps %%ymm0, %%ymm9\n\t"
      "vmovaps %%ymm0, %%ymm10\n\t vmovaps %%ymm0, %%ymm11\n\t"
      "1:\n\t"
      "vfmadd231ps %%ymm12, %%ymm13, %%ymm0\n\t vfmadd231ps %%ymm12, %%ymm13, %%ymm1\n\t"
      "vfmadd231ps %%ymm12, %%ymm13, %%ymm2\n\t vfmadd231ps %%ymm12, %%ymm13, %%ymm3\n\t"
      "vfmadd231ps %%ymm12, %%ymm13, %%ymm4\n\t vfmadd231ps %%ymm12, %%ymm13, %%ymm5\n\t"
      "vfmadd231ps %%ymm12, %%ymm13, %%ymm6\n\t vfmadd231ps %%ymm12, %%ymm13, %%ymm7\n\t"
      "vfmadd231ps %%ymm12, %%ymm13, %%ymm8\n\t vfmadd231ps %%ymm12, %%ymm13, %%ymm9\n\t"
      "vfmadd231ps %%ymm12, %%ymm13, %%ymm10\n\t vfmadd231ps %%ymm12, %%ymm13, %%ymm11\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vaddps %%ymm0, %%ymm11, %%ymm0\n\t"
      "vmovss %%xmm0, %[out]\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(iters), [out] "=m"(out)
      : [a] "m"(kA), [b] "m"(kB)
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
        "xmm13", "cc", "memory");
  return out;
}

__attribute__((noinline)) inline float mul_add_loop_sse(std::int64_t iters) {
  float out = 0.0f;
  __asm__ volatile(
      "movss %[a], %%xmm12\n\t shufps $0, %%xmm12, %%xmm12\n\t"
      "movss %[b], %%xmm13\n\t shufps $0, %%xmm13, %%xmm13\n\t"
      "xorps %%xmm0, %%xmm0\n\t"
      "movaps %%xmm0, %%xmm1\n\t movaps %%xmm0, %%xmm2\n\t movaps %%xmm0, %%xmm3\n\t"
      "movaps %%xmm0, %%xmm4\n\t movaps %%xmm0, %%xmm5\n\t movaps %%xmm0, %%xmm6\n\t"
      "movaps %%xmm0, %%xmm7\n\t movaps %%xmm0, %%xmm8\n\t movaps %%xmm0, %%xmm9\n\t"
      "movaps %%xmm0, %%xmm10\n\t movaps %%xmm0, %%xmm11\n\t"
      "1:\n\t"
      "mulps %%xmm12, %%xmm0\n\t addps %%xmm13, %%xmm1\n\t"
      "mulps %%xmm12, %%xmm2\n\t addps %%xmm13, %%xmm3\n\t"
      "mulps %%xmm12, %%xmm4\n\t addps %%xmm13, %%xmm5\n\t"
      "mulps %%xmm12, %%xmm6\n\t addps %%xmm13, %%xmm7\n\t"
      "mulps %%xmm12, %%xmm8\n\t addps %%xmm13, %%xmm9\n\t"
      "mulps %%xmm12, %%xmm10\n\t addps %%xmm13, %%xmm11\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "addps %%xmm1, %%xmm0\n\t"
      "movss %%xmm0, %[out]\n\t"
      : [n] "+r"(iters), [out] "=m"(out)
      : [a] "m"(kA), [b] "m"(kB)
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
        "xmm13", "cc", "memory");
  return out;
}

inline const bool kAvx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
// FLOPs of one iteration: 12 FMAs × 8 lanes × 2 with AVX2; 12 SSE instructions (mulps or addps) × 4 lanes.
inline const double kFlopsPerIter = kAvx2 ? kChains * 8 * 2 : kChains * 4;

inline float loop(std::int64_t iters) { return kAvx2 ? fma_loop_avx2(iters) : mul_add_loop_sse(iters); }

inline double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// GFLOP/s of `threads` threads each running `iters` iterations (threads = 1: one core).
inline double measure(int threads, std::int64_t iters) {
  std::vector<double> secs(static_cast<std::size_t>(threads));
  volatile float sink = 0.0f;
#pragma omp parallel num_threads(threads)
  {
#pragma omp barrier
    const auto t0 = std::chrono::steady_clock::now();
    const float r = loop(iters);
    secs[static_cast<std::size_t>(omp_get_thread_num())] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r == 12345.0f) sink = r;
  }
  (void)sink;
  return kFlopsPerIter * static_cast<double>(iters) * threads / *std::max_element(secs.begin(), secs.end()) / 1e9;
}


// Iterations of the loop that take about `seconds` on one core.
inline std::int64_t calibrate(double seconds) {
  std::int64_t iters = 1 << 20;
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    loop(iters);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > 0.05) return static_cast<std::int64_t>(static_cast<double>(iters) * seconds / s);
    iters *= 4;
  }
}

// Best GFLOP/s over `rounds` runs of `threads` threads (the least disturbed run).
inline double best_gflops(int threads, int rounds = 5, double seconds = 0.2) {
  const std::int64_t iters = calibrate(seconds);
  double best = 0.0;
  for (int r = 0; r < rounds; ++r) best = std::max(best, measure(threads, iters));
  return best;
}

// Best GFLOP/s of one thread per second of its own CPU time: the core's rate while it runs, which
// other processes on a shared machine cannot dilute.
inline double best_gflops_per_cpu_second(int rounds = 5, double seconds = 0.2) {
  const std::int64_t iters = calibrate(seconds);
  double best = 0.0;
  for (int r = 0; r < rounds; ++r) {
    const double c0 = thread_cpu_seconds();
    loop(iters);
    best = std::max(best, kFlopsPerIter * static_cast<double>(iters) / (thread_cpu_seconds() - c0) / 1e9);
  }
  return best;
}

}  // namespace sse::bench_peak
