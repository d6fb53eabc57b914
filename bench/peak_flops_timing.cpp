// bench/peak_flops_timing.cpp — the machine's measured FP32 peak, the yardstick of the CPU GFLOP/s
// tables (bench/conv_cpu_timing.cpp, bench/RESULTS.md). The loop is in bench/peak_flops.h:
// 12 independent 8-wide FMA chains in registers (32 FLOP/cycle/core on two FMA pipes).
//
//   peak_flops_timing [--threads N] [--seconds 0.3] [--rounds 7]
//
// Per core: one thread; all cores: one thread per OpenMP thread, each running the same loop, FLOPs
// summed over threads and divided by the slowest thread's time. Prints the best of `rounds` (the
// least disturbed) and the median, as JSON. On a machine shared with other work, the per-core figure
// is also given per second of the thread's own CPU time (CLOCK_THREAD_CPUTIME_ID), which time slices
// lost to other processes do not dilute.
#include <CLI/CLI.hpp>

#include <iostream>
#include <nlohmann/json.hpp>

#include "bench/peak_flops.h"

using namespace sse::bench_peak;


int main(int argc, char** argv) {
  CLI::App app{"FP32 peak of this machine: an FMA loop per core and on all cores"};
  int threads = omp_get_max_threads(), rounds = 7;
  double seconds = 0.3;
  app.add_option("--threads", threads, "threads of the all-core run (default: all)");
  app.add_option("--rounds", rounds);
  app.add_option("--seconds", seconds, "approximate length of one timed run");
  CLI11_PARSE(app, argc, argv);
  const std::int64_t iters = calibrate(seconds);
  auto best_and_median = [&](int t) {
    std::vector<double> g;
    for (int r = 0; r < rounds; ++r) g.push_back(measure(t, iters));
    std::sort(g.begin(), g.end());
    return std::pair<double, double>{g.back(), g[g.size() / 2]};
  };
  const auto one = best_and_median(1);
  std::vector<double> cpu;
  for (int r = 0; r < rounds; ++r) {
    const double c0 = thread_cpu_seconds();
    loop(iters);
    cpu.push_back(kFlopsPerIter * static_cast<double>(iters) / (thread_cpu_seconds() - c0) / 1e9);
  }
  std::sort(cpu.begin(), cpu.end());
  const auto all = best_and_median(threads);
  const nlohmann::json out{{"isa", kAvx2 ? "avx2+fma (8-wide FMA)" : "sse (4-wide mul+add)"},
                           {"flops_per_iteration", kFlopsPerIter},
                           {"per_core_gflops_best", one.first},
                           {"per_core_gflops_median", one.second},
                           {"per_core_gflops_per_cpu_second_median", cpu[cpu.size() / 2]},
                           {"threads", threads},
                           {"all_cores_gflops_best", all.first},
                           {"all_cores_gflops_median", all.second}};
  std::cout << out.dump() << std::endl;
  return 0;
}
