// kernels/channels.h — ops along the channel axis of (N, C, S) tensors (S = D·H·W voxels).
#pragma once

#include <cmath>

#include "kernels/common.h"
#include "kernels/low_precision.h"

namespace sse {

// Copies channels [0, c_src) of src (N, c_src, S) into channels [c_off, c_off + c_src) of
// dst (N, c_dst, S). Concat forward is two of these; its backward (split) is the reverse copy.
// copy_channels also writes bfloat16 destinations (the concatenation of bf16 activations, one part
// possibly float: rounded as it is copied, kernels/low_precision.h).
struct ChannelCopy {
  index_t n, c_src, c_dst, c_off, s;
};

constexpr int kMaxSoftmaxChannels = 16;

// Softmax over C at each voxel, computed stably (max subtracted). Shared by both devices.
// c ≤ kMaxSoftmaxChannels.
SSE_HD inline void softmax_voxel(const float* x, index_t stride, int c, float* p) {
  float m = x[0];
  for (int k = 1; k < c; ++k) m = fmaxf(m, x[k * stride]);
  float z = 0.0f;
  for (int k = 0; k < c; ++k) {
    p[k] = expf(x[k * stride] - m);
    z += p[k];
  }
  const float inv = 1.0f / z;
  for (int k = 0; k < c; ++k) p[k] *= inv;
}

namespace cpu {
void copy_channels(const ChannelCopy& cc, const float* src, float* dst);
void copy_channels(const ChannelCopy& cc, const float* src, bf16_t* dst);
void copy_channels(const ChannelCopy& cc, const bf16_t* src, bf16_t* dst);
// The reverse: dst (N, c_src, S) = channels [c_off, c_off+c_src) of src (N, c_dst, S).
void gather_channels(const ChannelCopy& cc, const float* src, float* dst);
void softmax_channels(index_t n, index_t c, index_t s, const float* x, float* y);
// dx = y ⊙ (dy − Σ_c dy·y)
void softmax_channels_backward(index_t n, index_t c, index_t s, const float* y, const float* dy, float* dx);
// y (N, C, S) float: y[n, k, v] = (labels[n, v] == k); all zero where labels == ignore.
void one_hot(index_t n, index_t c, index_t s, const std::int32_t* labels, std::int32_t ignore, float* y);
}  // namespace cpu

namespace cuda {
void copy_channels(const ChannelCopy& cc, const float* src, float* dst, cudaStream_t st);
void copy_channels(const ChannelCopy& cc, const float* src, bf16_t* dst, cudaStream_t st);
void copy_channels(const ChannelCopy& cc, const bf16_t* src, bf16_t* dst, cudaStream_t st);
void gather_channels(const ChannelCopy& cc, const float* src, float* dst, cudaStream_t st);
void softmax_channels(index_t n, index_t c, index_t s, const float* x, float* y, cudaStream_t st);
void softmax_channels_backward(index_t n, index_t c, index_t s, const float* y, const float* dy, float* dx,
                               cudaStream_t st);
void one_hot(index_t n, index_t c, index_t s, const std::int32_t* labels, std::int32_t ignore, float* y,
             cudaStream_t st);
}  // namespace cuda

}  // namespace sse
