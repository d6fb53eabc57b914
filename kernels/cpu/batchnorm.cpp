// CPU batch normalization (contract in kernels/batchnorm.h). Per-channel pieces, composed channel by
// channel for one process (a channel's data is read while it is in cache) and one piece at a time
// for the synchronized form.
#include "kernels/batchnorm.h"

#include <cmath>

#include "kernels/cpu/parallel.h"

namespace sse::cpu {
namespace {

// Calls f(first element of channel c in image n) for each image: a channel is n runs of s floats.
template <typename F> void for_channel(const BatchNormShape& sh, index_t c, F&& f) {
  for (index_t n = 0; n < sh.n; ++n) f(n * sh.c * sh.s + c * sh.s);
}

bool parallel(const BatchNormShape& sh) { return sh.n * sh.c * sh.s > kParallelGrain; }

BnMoments<double> channel_moments(const BatchNormShape& sh, const float* x, index_t c) {
  const double m = static_cast<double>(sh.n * sh.s);
  double sum = 0.0, sq = 0.0;
  for_channel(sh, c, [&](index_t o) { for (index_t i = 0; i < sh.s; ++i) sum += x[o + i]; });
  const double mean = sum / m;
  // Second pass on centred values: exact enough in double even for large offsets.
  for_channel(sh, c, [&](index_t o) {
    for (index_t i = 0; i < sh.s; ++i) { const double d = x[o + i] - mean; sq += d * d; }
  });
  return {m, mean, sq};
}

template <class T> void normalize_channel(const BatchNormShape& sh, const float* x, const BnTrainMap& f, T* y, index_t c) {
  for_channel(sh, c, [&](index_t o) {
    for (index_t i = 0; i < sh.s; ++i) y[o + i] = from_f32<T>(f.forward(x[o + i]));
  });
}

// {Σdz, Σdz·x̂} of channel c, dz = f.grad(x, dy) (dy itself without the ReLU).
std::pair<double, double> channel_grad_sums(const BatchNormShape& sh, const float* x, const float* dy,
                                            const BnTrainMap& f, index_t c) {
  double sdy = 0.0, sdyx = 0.0;
  for_channel(sh, c, [&](index_t o) {
    for (index_t i = 0; i < sh.s; ++i) {
      const float dz = f.grad(x[o + i], dy[o + i]);
      sdy += dz;
      sdyx += static_cast<double>(dz) * f.xhat(x[o + i]);
    }
  });
  return {sdy, sdyx};
}

// dx = γ·invstd/M · (M·dz − Σdz − x̂·Σ(dz·x̂)) over the M values of the whole batch.
void channel_grad_input(const BatchNormShape& sh, double m, const float* x, const float* dy, const BnTrainMap& f,
                        float a, float bsum, float* dx, index_t c) {
  const float k = static_cast<float>(f.gamma * f.invstd / m), mf = static_cast<float>(m);
  for_channel(sh, c, [&](index_t o) {
    for (index_t i = 0; i < sh.s; ++i) {
      dx[o + i] = k * (mf * f.grad(x[o + i], dy[o + i]) - a - f.xhat(x[o + i]) * bsum);
    }
  });
}

template <class T>
void forward_train(const BatchNormShape& sh, const BatchNormParams& p, const float* x, const float* gamma,
                   const float* beta, float* running_mean, float* running_var, bool relu, T* y, float* save_mean,
                   float* save_invstd) {
  kernel_check(sh.n * sh.s > 1, "batchnorm_forward_train", "needs more than one value per channel in training");
#pragma omp parallel for if (parallel(sh))
  for (index_t c = 0; c < sh.c; ++c) {
    batchnorm_finalize_channel(p, channel_moments(sh, x, c), running_mean + c, running_var + c, save_mean + c,
                               save_invstd + c);
    normalize_channel(sh, x, BnTrainMap::of(gamma, beta, save_mean, save_invstd, relu, c), y, c);
  }
}

template <class T>
void normalize(const BatchNormShape& sh, const float* x, const float* gamma, const float* beta, const float* save_mean,
               const float* save_invstd, bool relu, T* y) {
#pragma omp parallel for if (parallel(sh))
  for (index_t c = 0; c < sh.c; ++c)
    normalize_channel(sh, x, BnTrainMap::of(gamma, beta, save_mean, save_invstd, relu, c), y, c);
}

}  // namespace

void batchnorm_forward_train(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                             const float* gamma, const float* beta, float* running_mean, float* running_var,
                             bool relu, float* y, float* save_mean, float* save_invstd) {
  forward_train(sh, p, x, gamma, beta, running_mean, running_var, relu, y, save_mean, save_invstd);
}

void batchnorm_forward_train(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                             const float* gamma, const float* beta, float* running_mean, float* running_var,
                             bool relu, bf16_t* y, float* save_mean, float* save_invstd) {
  forward_train(sh, p, x, gamma, beta, running_mean, running_var, relu, y, save_mean, save_invstd);
}

void batchnorm_forward_eval(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                            const float* gamma, const float* beta, const float* running_mean,
                            const float* running_var, bool relu, float* y) {
#pragma omp parallel for collapse(2) if (parallel(sh))
  for (index_t n = 0; n < sh.n; ++n) {
    for (index_t c = 0; c < sh.c; ++c) {
      const BnAffine a = bn_eval_affine(gamma[c], beta[c], running_mean[c], running_var[c], p.eps);
      const index_t o = (n * sh.c + c) * sh.s;
      for (index_t i = 0; i < sh.s; ++i) y[o + i] = affine_act(x[o + i], a.scale, a.shift, relu);
    }
  }
}

void batchnorm_backward_train(const BatchNormShape& sh, const float* x, const float* dy, const float* gamma,
                              const float* beta, const float* save_mean, const float* save_invstd, bool relu,
                              float* dx, float* dgamma, float* dbeta) {
  const double m = static_cast<double>(sh.n * sh.s);
#pragma omp parallel for if (parallel(sh))
  for (index_t c = 0; c < sh.c; ++c) {
    const BnTrainMap f = BnTrainMap::of(gamma, beta, save_mean, save_invstd, relu, c);
    const auto [sdy, sdyx] = channel_grad_sums(sh, x, dy, f, c);
    dbeta[c] = static_cast<float>(sdy);
    dgamma[c] = static_cast<float>(sdyx);
    channel_grad_input(sh, m, x, dy, f, dbeta[c], dgamma[c], dx, c);
  }
}

void batchnorm_moments(const BatchNormShape& sh, const float* x, double* moments) {
#pragma omp parallel for if (parallel(sh))
  for (index_t c = 0; c < sh.c; ++c) {
    const BnMoments<double> t = channel_moments(sh, x, c);
    moments[3 * c] = t.n;
    moments[3 * c + 1] = t.mean;
    moments[3 * c + 2] = t.m2;
  }
}

void batchnorm_finalize(index_t c, const BatchNormParams& p, const double* moments, float* running_mean,
                        float* running_var, float* save_mean, float* save_invstd) {
  for (index_t k = 0; k < c; ++k) {
    const BnMoments<double> t{moments[3 * k], moments[3 * k + 1], moments[3 * k + 2]};
    kernel_check(t.n > 1, "batchnorm_finalize", "needs more than one value per channel in training");
    batchnorm_finalize_channel(p, t, running_mean + k, running_var + k, save_mean + k, save_invstd + k);
  }
}

void batchnorm_normalize(const BatchNormShape& sh, const float* x, const float* gamma, const float* beta,
                         const float* save_mean, const float* save_invstd, bool relu, float* y) {
  normalize(sh, x, gamma, beta, save_mean, save_invstd, relu, y);
}

void batchnorm_normalize(const BatchNormShape& sh, const float* x, const float* gamma, const float* beta,
                         const float* save_mean, const float* save_invstd, bool relu, bf16_t* y) {
  normalize(sh, x, gamma, beta, save_mean, save_invstd, relu, y);
}

void batchnorm_grad_sums(const BatchNormShape& sh, const float* x, const float* dy, const float* gamma,
                         const float* beta, const float* save_mean, const float* save_invstd, bool relu,
                         double* sums) {
#pragma omp parallel for if (parallel(sh))
  for (index_t c = 0; c < sh.c; ++c) {
    const BnTrainMap f = BnTrainMap::of(gamma, beta, save_mean, save_invstd, relu, c);
    const auto [sdy, sdyx] = channel_grad_sums(sh, x, dy, f, c);
    sums[2 * c] = sdy;
    sums[2 * c + 1] = sdyx;
  }
}

void batchnorm_grad_input(const BatchNormShape& sh, double count, const float* x, const float* dy, const float* gamma,
                          const float* beta, const float* save_mean, const float* save_invstd, bool relu,
                          const float* sum_dy, const float* sum_dyxhat, float* dx) {
#pragma omp parallel for if (parallel(sh))
  for (index_t c = 0; c < sh.c; ++c)
    channel_grad_input(sh, count, x, dy, BnTrainMap::of(gamma, beta, save_mean, save_invstd, relu, c), sum_dy[c],
                       sum_dyxhat[c], dx, c);
}

}  // namespace sse::cpu
