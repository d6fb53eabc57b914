// kernels/batchnorm.h — 3-D batch normalization over (N, C, S) tensors, per channel.
//
// Train: mean and biased variance over N·S voxels normalize x; running stats are updated as
//   running_mean = (1 − m)·running_mean + m·mean,  running_var = (1 − m)·running_var + m·var·NS/(NS − 1)
// (PyTorch's convention: unbiased variance in the running estimate). save_mean / save_invstd keep
// what backward needs. Eval: running stats normalize. `relu` fuses a ReLU after the affine map
// (inference; training keeps the ReLU as its own op so its gradient mask is explicit).
// Statistics accumulate in double on the CPU and as a deterministic two-level Welford merge on CUDA.
#pragma once

#include "kernels/common.h"

namespace sse {

struct BatchNormShape {
  index_t n, c, s;  // s = D·H·W
};

struct BatchNormParams {
  float eps = 1e-5f;
  float momentum = 0.1f;
};

namespace cpu {
void batchnorm_forward_train(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                             const float* gamma, const float* beta, float* running_mean, float* running_var,
                             float* y, float* save_mean, float* save_invstd);
void batchnorm_forward_eval(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                            const float* gamma, const float* beta, const float* running_mean,
                            const float* running_var, bool relu, float* y);
// Gradients of the train-mode forward (batch statistics depend on x).
void batchnorm_backward_train(const BatchNormShape& sh, const float* x, const float* dy, const float* gamma,
                              const float* save_mean, const float* save_invstd, float* dx, float* dgamma,
                              float* dbeta);
}  // namespace cpu

namespace cuda {
void batchnorm_forward_train(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                             const float* gamma, const float* beta, float* running_mean, float* running_var,
                             float* y, float* save_mean, float* save_invstd, cudaStream_t st);
void batchnorm_forward_eval(const BatchNormShape& sh, const BatchNormParams& p, const float* x,
                            const float* gamma, const float* beta, const float* running_mean,
                            const float* running_var, bool relu, float* y, cudaStream_t st);
void batchnorm_backward_train(const BatchNormShape& sh, const float* x, const float* dy, const float* gamma,
                              const float* save_mean, const float* save_invstd, float* dx, float* dgamma,
                              float* dbeta, cudaStream_t st);
}  // namespace cuda

}  // namespace sse
