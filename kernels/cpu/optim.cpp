#include "kernels/optim.h"

#include "kernels/cpu/parallel.h"

namespace sse::cpu {

void adam_step(const AdamStep& a, float* theta, const float* g, float* m, float* v, index_t n) {
  float step_size, bc2_sqrt;
  adam_factors(a, &step_size, &bc2_sqrt);
#pragma omp parallel for if (n > kParallelGrain)
  for (index_t i = 0; i < n; ++i) adam_update(a, step_size, bc2_sqrt, theta[i], g[i], m[i], v[i]);
}

void sgd_step(const SgdStep& s, float* theta, const float* g, float* buf, index_t n) {
#pragma omp parallel for if (n > kParallelGrain)
  for (index_t i = 0; i < n; ++i) {
    const float gi = g[i] + s.weight_decay * theta[i];
    buf[i] = s.momentum * buf[i] + gi;
    theta[i] -= s.lr * buf[i];
  }
}

}  // namespace sse::cpu
