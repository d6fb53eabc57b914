#include "kernels/reduce.h"

#include <vector>

#include "kernels/cpu/parallel.h"

namespace sse::cpu {

namespace {
double sum_range(const float* x, index_t n) {
  double s = 0.0;
  for (index_t i = 0; i < n; ++i) s += x[i];
  return s;
}
}  // namespace

void sum_all(const float* x, index_t n, float* out) {
  // Fixed chunking: the partial sums and their order do not depend on the thread count.
  constexpr index_t kChunk = 1 << 14;
  const index_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> part(static_cast<std::size_t>(chunks));
#pragma omp parallel for if (n > kParallelGrain)
  for (index_t c = 0; c < chunks; ++c) {
    const index_t b = c * kChunk;
    part[static_cast<std::size_t>(c)] = sum_range(x + b, std::min(kChunk, n - b));
  }
  double s = 0.0;
  for (double p : part) s += p;
  out[0] = static_cast<float>(s);
}

void sum_rows(const float* x, index_t rows, index_t cols, float* out) {
#pragma omp parallel for if (rows * cols > kParallelGrain && rows > 1)
  for (index_t r = 0; r < rows; ++r) out[r] = static_cast<float>(sum_range(x + r * cols, cols));
}

void broadcast_rows(const float* v, index_t rows, index_t cols, float alpha, float* y) {
#pragma omp parallel for if (rows * cols > kParallelGrain)
  for (index_t r = 0; r < rows; ++r)
    for (index_t c = 0; c < cols; ++c) y[r * cols + c] = alpha * v[r];
}

void sum_mid(const float* x, index_t outer, index_t mid, index_t inner, float* out) {
#pragma omp parallel for if (outer * mid * inner > kParallelGrain)
  for (index_t m = 0; m < mid; ++m) {
    double s = 0.0;
    for (index_t o = 0; o < outer; ++o) s += sum_range(x + (o * mid + m) * inner, inner);
    out[m] = static_cast<float>(s);
  }
}

}  // namespace sse::cpu
