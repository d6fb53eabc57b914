#include "kernels/batchnorm.h"

#include <cmath>

#include "kernels/cpu/parallel.h"

namespace sse::cpu {
namespace {

// Calls f(first element of channel c in image n) for each image: a channel is n runs of s floats.
template <typename F> void for_channel(const BatchNormShape& sh, index_t c, F&& f) {
  for (index_t n = 0; n < sh.n; ++n) f(n * sh.c * sh.s + c * sh.s);
}

}  // namespace

void batchnorm_forward_train(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                             const float* gamma, const float* beta, float* running_mean, float* running_var,
                             float* y, float* save_mean, float* save_invstd) {
  const double m = static_cast<double>(sh.n * sh.s);
  kernel_check(m > 1, "batchnorm_forward_train", "needs more than one value per channel in training");
#pragma omp parallel for if (sh.n * sh.c * sh.s > kParallelGrain)
  for (index_t c = 0; c < sh.c; ++c) {
    double sum = 0.0, sq = 0.0;
    for_channel(sh, c, [&](index_t o) { for (index_t i = 0; i < sh.s; ++i) sum += x[o + i]; });
    const double mean = sum / m;
    // Second pass on centred values: exact enough in double even for large offsets.
    for_channel(sh, c, [&](index_t o) {
      for (index_t i = 0; i < sh.s; ++i) { const double d = x[o + i] - mean; sq += d * d; }
    });
    const double var = sq / m;
    const float invstd = static_cast<float>(1.0 / std::sqrt(var + p.eps));
    const float meanf = static_cast<float>(mean), g = gamma[c], b = beta[c];
    for_channel(sh, c, [&](index_t o) {
      for (index_t i = 0; i < sh.s; ++i) y[o + i] = (x[o + i] - meanf) * invstd * g + b;
    });
    save_mean[c] = meanf;
    save_invstd[c] = invstd;
    running_mean[c] = (1.0f - p.momentum) * running_mean[c] + p.momentum * meanf;
    running_var[c] = (1.0f - p.momentum) * running_var[c] + p.momentum * static_cast<float>(var * m / (m - 1));
  }
}

void batchnorm_forward_eval(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                            const float* gamma, const float* beta, const float* running_mean,
                            const float* running_var, bool relu, float* y) {
#pragma omp parallel for collapse(2) if (sh.n * sh.c * sh.s > kParallelGrain)
  for (index_t n = 0; n < sh.n; ++n) {
    for (index_t c = 0; c < sh.c; ++c) {
      const float scale = gamma[c] / std::sqrt(running_var[c] + p.eps);
      const float shift = beta[c] - running_mean[c] * scale;
      const index_t o = (n * sh.c + c) * sh.s;
      for (index_t i = 0; i < sh.s; ++i) {
        const float v = x[o + i] * scale + shift;
        y[o + i] = relu && v < 0.0f ? 0.0f : v;
      }
    }
  }
}

void batchnorm_backward_train(const BatchNormShape& sh, const float* x, const float* dy, const float* gamma,
                              const float* save_mean, const float* save_invstd, float* dx, float* dgamma,
                              float* dbeta) {
  const double m = static_cast<double>(sh.n * sh.s);
#pragma omp parallel for if (sh.n * sh.c * sh.s > kParallelGrain)
  for (index_t c = 0; c < sh.c; ++c) {
    const float mean = save_mean[c], invstd = save_invstd[c];
    double sdy = 0.0, sdyx = 0.0;
    for_channel(sh, c, [&](index_t o) {
      for (index_t i = 0; i < sh.s; ++i) {
        sdy += dy[o + i];
        sdyx += static_cast<double>(dy[o + i]) * ((x[o + i] - mean) * invstd);
      }
    });
    dbeta[c] = static_cast<float>(sdy);
    dgamma[c] = static_cast<float>(sdyx);
    // dx = γ·invstd/M · (M·dy − Σdy − x̂·Σ(dy·x̂))
    const float k = static_cast<float>(gamma[c] * invstd / m);
    const float a = static_cast<float>(sdy), bsum = static_cast<float>(sdyx), mf = static_cast<float>(m);
    for_channel(sh, c, [&](index_t o) {
      for (index_t i = 0; i < sh.s; ++i) {
        const float xhat = (x[o + i] - mean) * invstd;
        dx[o + i] = k * (mf * dy[o + i] - a - xhat * bsum);
      }
    });
  }
}

}  // namespace sse::cpu
