// kernels/dropout.h — inverted dropout with a Philox mask recomputed in backward (no mask stored).
//
// y[i] = x[i] / (1 − p) when dropout_keep(seed, offset, i, p) (kernels/philox.h), else 0; the mask is
// a function of (seed, offset, i) only, so CPU and CUDA drop the same elements. The forward also
// maps bfloat16 activations to bfloat16 (--precision bf16): y = from_f32(to_f32(x) / (1 − p)), one
// rounding; the backward's gradients are float.
#pragma once

#include "kernels/common.h"
#include "kernels/low_precision.h"
#include "kernels/philox.h"

namespace sse {

struct DropoutParams {
  float p;
  std::uint64_t seed, offset;
};

namespace cpu {
void dropout_forward(const DropoutParams& d, const float* x, float* y, index_t n);
void dropout_forward(const DropoutParams& d, const bf16_t* x, bf16_t* y, index_t n);
void dropout_backward(const DropoutParams& d, const float* dy, float* dx, index_t n);
}  // namespace cpu

namespace cuda {
void dropout_forward(const DropoutParams& d, const float* x, float* y, index_t n, cudaStream_t st);
void dropout_forward(const DropoutParams& d, const bf16_t* x, bf16_t* y, index_t n, cudaStream_t st);
void dropout_backward(const DropoutParams& d, const float* dy, float* dx, index_t n, cudaStream_t st);
}  // namespace cuda

}  // namespace sse
