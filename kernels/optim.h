// kernels/optim.h — fused optimizer updates over one parameter tensor of n floats.
//
// Adam (Kingma & Ba) with bias correction at step t ≥ 1. weight_decay:
//   coupled (the released DeepSSETracer code, torch.optim.Adam):  g ← g + wd·θ before the moments;
//   decoupled (AdamW):                                             θ ← θ·(1 − lr·wd) before the step.
// SGD with momentum (PyTorch form): buf ← μ·buf + g (+ wd·θ in g); θ ← θ − lr·buf.
#pragma once

#include <cmath>

#include "kernels/common.h"

namespace sse {

struct AdamStep {
  float lr, beta1, beta2, eps, weight_decay;
  bool decoupled;
  long long t;  // 1-based step count (after increment)
};

// step_size = lr / (1 − β1^t), bc2_sqrt = sqrt(1 − β2^t), computed by the caller in double. The
// update is written in torch.optim.Adam's order of operations so results match it to the last bits
// that float reassociation allows.
SSE_HD inline void adam_update(const AdamStep& a, float step_size, float bc2_sqrt, float& theta, float g,
                               float& m, float& v) {
  if (a.decoupled) {
    theta *= 1.0f - a.lr * a.weight_decay;
  } else {
    g += a.weight_decay * theta;
  }
  m = a.beta1 * m + (1.0f - a.beta1) * g;
  v = a.beta2 * v + (1.0f - a.beta2) * g * g;
  theta -= step_size * (m / (sqrtf(v) / bc2_sqrt + a.eps));
}

// The two step-dependent factors of adam_update, in double as torch.optim.Adam computes them.
inline void adam_factors(const AdamStep& a, float* step_size, float* bc2_sqrt) {
  *step_size = static_cast<float>(a.lr / (1.0 - std::pow(static_cast<double>(a.beta1), static_cast<double>(a.t))));
  *bc2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(static_cast<double>(a.beta2), static_cast<double>(a.t))));
}

struct SgdStep {
  float lr, momentum, weight_decay;
};

namespace cpu {
void adam_step(const AdamStep& a, float* theta, const float* g, float* m, float* v, index_t n);
void sgd_step(const SgdStep& s, float* theta, const float* g, float* buf, index_t n);
}  // namespace cpu

namespace cuda {
void adam_step(const AdamStep& a, float* theta, const float* g, float* m, float* v, index_t n, cudaStream_t st);
void sgd_step(const SgdStep& s, float* theta, const float* g, float* buf, index_t n, cudaStream_t st);
}  // namespace cuda

}  // namespace sse
