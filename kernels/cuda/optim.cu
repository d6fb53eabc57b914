// kernels/cuda/optim.cu — fused Adam and SGD updates on the GPU (see kernels/optim.h).
//
// Adam's per-element update is the SSE_HD adam_update shared with the CPU, with the step factors
// computed on the host by adam_factors exactly as the CPU does, so both devices agree to the bit
// wherever the compilers contract the same operations.
#include "kernels/cuda/device_util.cuh"
#include "kernels/optim.h"

namespace sse::cuda {
namespace {

__global__ void adam_kernel(AdamStep a, float step_size, float bc2_sqrt, float* theta, const float* g, float* m,
                            float* v, index_t n) {
  for (index_t i = global_thread(); i < n; i += grid_threads()) {
    float th = theta[i], mi = m[i], vi = v[i];
    adam_update(a, step_size, bc2_sqrt, th, g[i], mi, vi);
    theta[i] = th;
    m[i] = mi;
    v[i] = vi;
  }
}

// Mirrors cpu::sgd_step term by term.
__global__ void sgd_kernel(SgdStep s, float* theta, const float* g, float* buf, index_t n) {
  for (index_t i = global_thread(); i < n; i += grid_threads()) {
    const float th = theta[i];
    const float gi = g[i] + s.weight_decay * th;
    const float b = s.momentum * buf[i] + gi;
    buf[i] = b;
    theta[i] = th - s.lr * b;
  }
}

}  // namespace

void adam_step(const AdamStep& a, float* theta, const float* g, float* m, float* v, index_t n, cudaStream_t st) {
  float step_size, bc2_sqrt;
  adam_factors(a, &step_size, &bc2_sqrt);
  launch(adam_kernel, dim3(grid_for(n)), dim3(kBlock), 0, st, a, step_size, bc2_sqrt, theta, g, m, v, n);
}

void sgd_step(const SgdStep& s, float* theta, const float* g, float* buf, index_t n, cudaStream_t st) {
  launch(sgd_kernel, dim3(grid_for(n)), dim3(kBlock), 0, st, s, theta, g, buf, n);
}

}  // namespace sse::cuda
