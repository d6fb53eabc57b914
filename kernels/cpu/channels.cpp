#include "kernels/channels.h"

#include <cstring>

#include "kernels/cpu/parallel.h"

namespace sse::cpu {

void copy_channels(const ChannelCopy& cc, const float* src, float* dst) {
  const std::size_t bytes = static_cast<std::size_t>(cc.c_src * cc.s) * sizeof(float);
  for (index_t n = 0; n < cc.n; ++n)
    std::memcpy(dst + (n * cc.c_dst + cc.c_off) * cc.s, src + n * cc.c_src * cc.s, bytes);
}

namespace {
// The converting copy (float → bf16: rounded; bf16 → bf16: exact).
template <class S, class D> void convert_channels(const ChannelCopy& cc, const S* src, D* dst) {
  const index_t len = cc.c_src * cc.s;
  for (index_t n = 0; n < cc.n; ++n) {
    const S* s = src + n * len;
    D* d = dst + (n * cc.c_dst + cc.c_off) * cc.s;
#pragma omp parallel for if (len > kParallelGrain)
    for (index_t i = 0; i < len; ++i) d[i] = from_f32<D>(to_f32(s[i]));
  }
}
}  // namespace

void copy_channels(const ChannelCopy& cc, const float* src, bf16_t* dst) { convert_channels(cc, src, dst); }
void copy_channels(const ChannelCopy& cc, const bf16_t* src, bf16_t* dst) { convert_channels(cc, src, dst); }

void gather_channels(const ChannelCopy& cc, const float* src, float* dst) {
  const std::size_t bytes = static_cast<std::size_t>(cc.c_src * cc.s) * sizeof(float);
  for (index_t n = 0; n < cc.n; ++n)
    std::memcpy(dst + n * cc.c_src * cc.s, src + (n * cc.c_dst + cc.c_off) * cc.s, bytes);
}

void softmax_channels(index_t n, index_t c, index_t s, const float* x, float* y) {
  kernel_check(c >= 1 && c <= kMaxSoftmaxChannels, "softmax", "1..16 channels supported");
  for (index_t b = 0; b < n; ++b) {
    const float* xb = x + b * c * s;
    float* yb = y + b * c * s;
#pragma omp parallel for if (s * c > kParallelGrain)
    for (index_t v = 0; v < s; ++v) {
      float p[kMaxSoftmaxChannels] = {};
      softmax_voxel(xb + v, s, static_cast<int>(c), p);
      for (index_t k = 0; k < c; ++k) yb[k * s + v] = p[k];
    }
  }
}

void softmax_channels_backward(index_t n, index_t c, index_t s, const float* y, const float* dy, float* dx) {
  for (index_t b = 0; b < n; ++b) {
    const index_t o = b * c * s;
#pragma omp parallel for if (s * c > kParallelGrain)
    for (index_t v = 0; v < s; ++v) {
      float dot = 0.0f;
      for (index_t k = 0; k < c; ++k) dot += dy[o + k * s + v] * y[o + k * s + v];
      for (index_t k = 0; k < c; ++k) dx[o + k * s + v] = y[o + k * s + v] * (dy[o + k * s + v] - dot);
    }
  }
}

void one_hot(index_t n, index_t c, index_t s, const std::int32_t* labels, std::int32_t ignore, float* y) {
  for (index_t b = 0; b < n; ++b) {
#pragma omp parallel for if (s * c > kParallelGrain)
    for (index_t v = 0; v < s; ++v) {
      const std::int32_t l = labels[b * s + v];
      for (index_t k = 0; k < c; ++k) y[(b * c + k) * s + v] = (l != ignore && l == k) ? 1.0f : 0.0f;
    }
  }
}

}  // namespace sse::cpu
