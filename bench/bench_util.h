// bench/bench_util.h — helpers the CPU convolution benchmarks share (bench/conv_cpu_timing.cpp,
// bench/conv_winograd_timing.cpp): process CPU time, reproducible pseudo-random data, and the largest
// difference between two results relative to the largest reference value.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace sse::bench {

// User + system CPU seconds of the process (all threads).
inline double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

// n values uniform in [−0.5, 0.5) from a linear congruential generator seeded by `seed`.
inline std::vector<float> random_vector(std::size_t n, std::uint32_t seed) {
  std::vector<float> v(n);
  std::uint32_t st = seed * 2654435761u + 1;
  for (auto& x : v) {
    st = st * 1664525u + 1013904223u;
    x = static_cast<float>(st >> 8) / static_cast<float>(1 << 24) - 0.5f;
  }
  return v;
}

// max |a − ref| / max |ref|.
inline double max_rel_diff(const std::vector<float>& a, const std::vector<float>& ref) {
  double scale = 0.0, diff = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    scale = std::max(scale, static_cast<double>(std::fabs(ref[i])));
    diff = std::max(diff, static_cast<double>(std::fabs(a[i] - ref[i])));
  }
  return diff / std::max(scale, 1e-30);
}

}  // namespace sse::bench
