// kernels/batchnorm.h — 3-D batch normalization over (N, C, S) tensors, per channel.
//
// Train: mean and biased variance over N·S voxels normalize x; running stats are updated as
//   running_mean = (1 − m)·running_mean + m·mean,  running_var = (1 − m)·running_var + m·var·NS/(NS − 1)
// (PyTorch's convention: unbiased variance in the running estimate). save_mean / save_invstd keep
// what backward needs. Eval: running stats normalize. `relu` fuses a ReLU after the affine map, in
// eval and in training: the train-mode backward then takes dy of the ReLU's output and recomputes
// the ReLU's mask from x (BnTrainMap), so a U-Net block's BN + ReLU reads and writes its activation
// 3 times forward and 5 times backward instead of 5 and 8, and no pre-ReLU tensor is kept.
// Statistics accumulate in double on the CPU and as a deterministic two-level Welford merge on CUDA.
// The train-mode forward (and batchnorm_normalize) may store y as bfloat16 (activations under
// --precision bf16, kernels/low_precision.h): the same values, rounded once as they are stored; x,
// the statistics and every gradient stay float.
//
// Synchronized batch norm (data-parallel ranks each holding part of the batch, engine/ops.h) runs the
// train-mode passes in pieces, so that the ranks' statistics can be combined between them:
//   batchnorm_moments    per channel (count, mean, M2 = Σ(x − mean)²) of this part, in double
//   (the caller merges the ranks' moments in rank order with batchnorm_merge)
//   batchnorm_finalize   save_mean, save_invstd and the running statistics from merged moments
//   batchnorm_normalize  y from save_mean / save_invstd
//   batchnorm_grad_sums  per channel Σdy and Σdy·x̂ of this part, in double (the caller sums them;
//                        with `relu`, dy is first masked by the fused ReLU)
//   batchnorm_grad_input dx from the sums and the count of the whole batch
// The CPU's one-process functions are these pieces in sequence (the same values).
#pragma once

#include <cmath>

#include "kernels/common.h"
#include "kernels/low_precision.h"

namespace sse {

struct BatchNormShape {
  index_t n, c, s;  // s = D·H·W
};

struct BatchNormParams {
  float eps = 1e-5f;
  float momentum = 0.1f;
};

// Eval-mode batch norm of one channel as an affine map (what batchnorm_forward_eval and the fused
// inference convolutions apply): scale = γ / sqrt(running_var + eps), shift = β − running_mean·scale,
// then y = x·scale + shift, and max(y, 0) with `relu`. One definition for every backend, so the
// fused and unfused forms compute the same values.
struct BnAffine {
  float scale, shift;
};
SSE_HD inline BnAffine bn_eval_affine(float gamma, float beta, float running_mean, float running_var, float eps) {
  const float scale = gamma / sqrtf(running_var + eps);
  return BnAffine{scale, beta - running_mean * scale};
}
SSE_HD inline float affine_act(float x, float scale, float shift, bool relu) {
  const float v = x * scale + shift;
  return relu && v < 0.0f ? 0.0f : v;
}

// Train-mode batch norm of one channel from its batch statistics, with the optional fused ReLU:
// v = (x − mean)·invstd·γ + β, y = v where v > 0 else 0 (ReLU's convention: ops::relu). Backward
// needs only the sign of v, which `grad` recomputes from x with the same `value`, so the pre-ReLU v
// is never stored. One definition for every backend and for both directions.
struct BnTrainMap {
  float mean, invstd, gamma, beta;
  bool relu;
  // Channel c's map from the per-channel arrays.
  SSE_HD static BnTrainMap of(const float* gamma, const float* beta, const float* mean, const float* invstd,
                              bool relu, index_t c) {
    return BnTrainMap{mean[c], invstd[c], gamma[c], beta[c], relu};
  }
  SSE_HD float xhat(float x) const { return (x - mean) * invstd; }
  SSE_HD float value(float x) const { return xhat(x) * gamma + beta; }
  SSE_HD float forward(float x) const {
    const float v = value(x);
    return relu && !(v > 0.0f) ? 0.0f : v;
  }
  // The gradient reaching the batch norm's output from dy of the block's output: dy·[v > 0] with the
  // ReLU (ReLU's gradient convention), dy without. A product rather than a select, so the CPU's loops
  // have no branch on a mask that is random half the time (backward of a 64-channel 64³ activation:
  // 67 ms with the branch, 43 ms without, 2 threads); a clamped value gives ±0, which sums alike.
  SSE_HD float grad(float x, float dy) const { return dy * static_cast<float>(!relu || value(x) > 0.0f); }
};

// Moments of one channel: count, mean and M2 = Σ(x − mean)². `moments` buffers hold 3 doubles per
// channel in this order.
template <typename T> struct BnMoments {
  T n, mean, m2;
};

// Chan et al.'s merge of two parts' moments; either may be empty.
template <typename T> SSE_HD inline BnMoments<T> batchnorm_merge(const BnMoments<T>& a, const BnMoments<T>& b) {
  const T n = a.n + b.n;
  if (n == T(0)) return a;
  const T d = b.mean - a.mean, fb = b.n / n;
  return BnMoments<T>{n, a.mean + d * fb, a.m2 + b.m2 + d * d * a.n * fb};
}

// One channel's save_mean, save_invstd and running statistics from its moments (both devices).
SSE_HD inline void batchnorm_finalize_channel(const BatchNormParams& p, const BnMoments<double>& t, float* running_mean,
                                              float* running_var, float* save_mean, float* save_invstd) {
  const double m = t.n, var = t.m2 / m;
  const float meanf = static_cast<float>(t.mean);
  *save_mean = meanf;
  *save_invstd = static_cast<float>(1.0 / sqrt(var + p.eps));
  *running_mean = (1.0f - p.momentum) * *running_mean + p.momentum * meanf;
  *running_var = (1.0f - p.momentum) * *running_var + p.momentum * static_cast<float>(var * m / (m - 1));
}

namespace cpu {
void batchnorm_forward_train(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                             const float* gamma, const float* beta, float* running_mean, float* running_var,
                             bool relu, float* y, float* save_mean, float* save_invstd);
void batchnorm_forward_train(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                             const float* gamma, const float* beta, float* running_mean, float* running_var,
                             bool relu, bf16_t* y, float* save_mean, float* save_invstd);
void batchnorm_forward_eval(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                            const float* gamma, const float* beta, const float* running_mean,
                            const float* running_var, bool relu, float* y);
// Gradients of the train-mode forward (batch statistics depend on x); dy is the gradient of y (after
// the ReLU when `relu`).
void batchnorm_backward_train(const BatchNormShape& sh, const float* x, const float* dy, const float* gamma,
                              const float* beta, const float* save_mean, const float* save_invstd, bool relu,
                              float* dx, float* dgamma, float* dbeta);
// The synchronized pieces (moments: 3·C doubles, sums: 2·C doubles (Σdy, Σdy·x̂) per channel).
void batchnorm_moments(const BatchNormShape& sh, const float* x, double* moments);
void batchnorm_finalize(index_t c, const BatchNormParams& p, const double* moments, float* running_mean,
                        float* running_var, float* save_mean, float* save_invstd);
void batchnorm_normalize(const BatchNormShape& sh, const float* x, const float* gamma, const float* beta,
                         const float* save_mean, const float* save_invstd, bool relu, float* y);
void batchnorm_normalize(const BatchNormShape& sh, const float* x, const float* gamma, const float* beta,
                         const float* save_mean, const float* save_invstd, bool relu, bf16_t* y);
void batchnorm_grad_sums(const BatchNormShape& sh, const float* x, const float* dy, const float* gamma,
                         const float* beta, const float* save_mean, const float* save_invstd, bool relu,
                         double* sums);
// sum_dy, sum_dyxhat: the whole batch's sums as floats; count: its N·S.
void batchnorm_grad_input(const BatchNormShape& sh, double count, const float* x, const float* dy, const float* gamma,
                          const float* beta, const float* save_mean, const float* save_invstd, bool relu,
                          const float* sum_dy, const float* sum_dyxhat, float* dx);
}  // namespace cpu

namespace cuda {
void batchnorm_forward_train(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                             const float* gamma, const float* beta, float* running_mean, float* running_var,
                             bool relu, float* y, float* save_mean, float* save_invstd, cudaStream_t st);
void batchnorm_forward_train(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                             const float* gamma, const float* beta, float* running_mean, float* running_var,
                             bool relu, bf16_t* y, float* save_mean, float* save_invstd, cudaStream_t st);
void batchnorm_forward_eval(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                            const float* gamma, const float* beta, const float* running_mean,
                            const float* running_var, bool relu, float* y, cudaStream_t st);
void batchnorm_backward_train(const BatchNormShape& sh, const float* x, const float* dy, const float* gamma,
                              const float* beta, const float* save_mean, const float* save_invstd, bool relu,
                              float* dx, float* dgamma, float* dbeta, cudaStream_t st);
void batchnorm_moments(const BatchNormShape& sh, const float* x, double* moments, cudaStream_t st);
void batchnorm_finalize(index_t c, const BatchNormParams& p, const double* moments, float* running_mean,
                        float* running_var, float* save_mean, float* save_invstd, cudaStream_t st);
void batchnorm_normalize(const BatchNormShape& sh, const float* x, const float* gamma, const float* beta,
                         const float* save_mean, const float* save_invstd, bool relu, float* y, cudaStream_t st);
void batchnorm_normalize(const BatchNormShape& sh, const float* x, const float* gamma, const float* beta,
                         const float* save_mean, const float* save_invstd, bool relu, bf16_t* y, cudaStream_t st);
void batchnorm_grad_sums(const BatchNormShape& sh, const float* x, const float* dy, const float* gamma,
                         const float* beta, const float* save_mean, const float* save_invstd, bool relu,
                         double* sums, cudaStream_t st);
void batchnorm_grad_input(const BatchNormShape& sh, double count, const float* x, const float* dy, const float* gamma,
                          const float* beta, const float* save_mean, const float* save_invstd, bool relu,
                          const float* sum_dy, const float* sum_dyxhat, float* dx, cudaStream_t st);
}  // namespace cuda

}  // namespace sse
