#include "kernels/dropout.h"

#include "kernels/cpu/parallel.h"

namespace sse::cpu {

namespace {
// Both directions are the same masked scaling: backward re-derives the forward mask from Philox.
void masked_scale(const DropoutParams& d, const float* in, float* out, index_t n) {
  const float scale = 1.0f / (1.0f - d.p);
#pragma omp parallel for if (n > kParallelGrain)
  for (index_t i = 0; i < n; ++i)
    out[i] = dropout_keep(d.seed, d.offset, static_cast<std::uint64_t>(i), d.p) ? in[i] * scale : 0.0f;
}
}  // namespace

void dropout_forward(const DropoutParams& d, const float* x, float* y, index_t n) { masked_scale(d, x, y, n); }
void dropout_backward(const DropoutParams& d, const float* dy, float* dx, index_t n) { masked_scale(d, dy, dx, n); }

}  // namespace sse::cpu
