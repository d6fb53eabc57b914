// bench/gpu/gpu_bench.h — what the CUDA-event benchmark programs (bench/gpu/*.cpp) share: timing,
// result checks and Markdown output.
//
// Timing contract: every measured call runs `warmup` times first (clocks up, caches and algorithm
// choices settled), then `reps` times, each bracketed by its own pair of CUDA events on the default
// stream; the reported time is the median of the reps. Outputs are poisoned and checked against a
// reference before anything is timed, so a benchmark never reports the speed of a wrong answer.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "kernels/cuda/device_array.cuh"

namespace sse::bench {

struct Timing {
  int warmup = 3;
  int reps = 10;
};

// Median milliseconds of `f` (which enqueues work on the default stream).
inline double median_ms(const std::function<void()>& f, const Timing& t) {
  for (int i = 0; i < t.warmup; ++i) f();
  cudaEvent_t a, b;
  SSE_CUDA_CHECK(cudaEventCreate(&a));
  SSE_CUDA_CHECK(cudaEventCreate(&b));
  std::vector<float> ms(static_cast<std::size_t>(t.reps));
  for (float& m : ms) {
    SSE_CUDA_CHECK(cudaEventRecord(a, nullptr));
    f();
    SSE_CUDA_CHECK(cudaEventRecord(b, nullptr));
    SSE_CUDA_CHECK(cudaEventSynchronize(b));
    SSE_CUDA_CHECK(cudaEventElapsedTime(&m, a, b));
  }
  SSE_CUDA_CHECK(cudaEventDestroy(a));
  SSE_CUDA_CHECK(cudaEventDestroy(b));
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

// Worst |got − ref| / max(|ref|, floor) (NaN counts as infinitely wrong).
inline double worst_error(const std::vector<float>& got, const std::vector<float>& ref, double floor) {
  if (got.size() != ref.size()) return INFINITY;
  double worst = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double e = std::fabs(static_cast<double>(got[i]) - ref[i]) / std::max<double>(std::fabs(ref[i]), floor);
    if (!(e <= worst)) worst = std::isnan(e) ? INFINITY : e;
  }
  return worst;
}

inline double rms(const std::vector<float>& v) {
  double s = 0.0;
  for (float x : v) s += static_cast<double>(x) * x;
  return v.empty() ? 0.0 : std::sqrt(s / static_cast<double>(v.size()));
}

// Deterministic pseudo-random floats in [lo, hi) (a fast LCG: benchmarks need values, not statistics).
inline std::vector<float> random_floats(std::size_t n, unsigned seed, float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> v(n);
  std::uint64_t s = 0x9E3779B97F4A7C15ull * (seed + 1);
  for (float& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = lo + (hi - lo) * static_cast<float>(s >> 40) * (1.0f / 16777216.0f);
  }
  return v;
}

inline std::string device_description() {
  int dev = 0;
  cudaDeviceProp p{};
  SSE_CUDA_CHECK(cudaGetDevice(&dev));
  SSE_CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
  return std::string(p.name) + ", " + std::to_string(p.multiProcessorCount) + " SMs, sm_" + std::to_string(p.major) +
         std::to_string(p.minor);
}

inline std::string today() {
  char buf[32];
  const std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&t));
  return buf;
}

// A Markdown table printed row by row as results arrive (so a run cut short still shows its rows).
class Table {
 public:
  explicit Table(std::vector<std::string> header) : cols_(header.size()) { row(header, true); }
  void row(const std::vector<std::string>& cells, bool header = false) const {
    std::string line = "|";
    for (std::size_t i = 0; i < cols_; ++i) line += " " + (i < cells.size() ? cells[i] : std::string()) + " |";
    std::printf("%s\n", line.c_str());
    if (header) {
      std::string rule = "|";
      for (std::size_t i = 0; i < cols_; ++i) rule += " --- |";
      std::printf("%s\n", rule.c_str());
    }
    std::fflush(stdout);
  }

 private:
  std::size_t cols_;
};

inline std::string fmt(double v, int digits = 2) {
  if (std::isnan(v)) return "—";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace sse::bench
