#include "kernels/elementwise.h"

#include "kernels/cpu/parallel.h"

namespace sse::cpu {

void fill(float* y, index_t n, float v) {
#pragma omp parallel for if (n > kParallelGrain)
  for (index_t i = 0; i < n; ++i) y[i] = v;
}

void unary(Unary op, const float* x, float* y, index_t n, float alpha) {
#pragma omp parallel for if (n > kParallelGrain)
  for (index_t i = 0; i < n; ++i) y[i] = apply_unary(op, x[i], alpha);
}

void binary(Binary op, const float* a, const float* b, float* y, index_t n) {
#pragma omp parallel for if (n > kParallelGrain)
  for (index_t i = 0; i < n; ++i) y[i] = apply_binary(op, a[i], b[i]);
}

void axpby(float alpha, const float* x, float beta, float* y, index_t n) {
#pragma omp parallel for if (n > kParallelGrain)
  for (index_t i = 0; i < n; ++i) y[i] = alpha * x[i] + beta * y[i];
}

void cast(const float* x, bf16_t* y, index_t n) {
#pragma omp parallel for if (n > kParallelGrain)
  for (index_t i = 0; i < n; ++i) y[i] = from_f32<bf16_t>(x[i]);
}

void cast(const bf16_t* x, float* y, index_t n) {
#pragma omp parallel for if (n > kParallelGrain)
  for (index_t i = 0; i < n; ++i) y[i] = to_f32(x[i]);
}

}  // namespace sse::cpu
