// kernels/cuda/channels.cu — channel-axis ops on (N, C, S) tensors on the GPU (see kernels/channels.h).
//
// Images go over grid.y (strided when N > 65535), voxels over a grid-stride x loop, so no thread
// divides an index. Concat / split are strided row copies (float4 when every row start is 16-byte
// aligned). Softmax calls the SSE_HD softmax_voxel shared with the CPU; its backward and one_hot
// repeat the CPU's per-voxel loops in the same order.
#include <cstdint>

#include "kernels/channels.h"
#include "kernels/cuda/device_util.cuh"

namespace sse::cuda {
namespace {

// dst[r·dp + i] = src[r·sp + i] for r < rows, i < len. T is float or float4 (all in units of T).
template <typename T>
__global__ void row_copy_kernel(const T* src, index_t sp, T* dst, index_t dp, index_t rows, index_t len) {
  for (index_t r = blockIdx.y; r < rows; r += gridDim.y)
    for (index_t i = global_thread(); i < len; i += grid_threads()) dst[r * dp + i] = src[r * sp + i];
}

void row_copy(const float* src, index_t sp, float* dst, index_t dp, index_t rows, index_t len, cudaStream_t st) {
  if (rows <= 0 || len <= 0) return;
  const bool vec = len % 4 == 0 && sp % 4 == 0 && dp % 4 == 0 && (reinterpret_cast<std::uintptr_t>(src) & 15u) == 0 &&
                   (reinterpret_cast<std::uintptr_t>(dst) & 15u) == 0;
  if (vec) {
    launch(row_copy_kernel<float4>, rows_grid(rows, len / 4), dim3(kBlock), 0, st,
           reinterpret_cast<const float4*>(src), sp / 4, reinterpret_cast<float4*>(dst), dp / 4, rows, len / 4);
  } else {
    launch(row_copy_kernel<float>, rows_grid(rows, len), dim3(kBlock), 0, st, src, sp, dst, dp, rows, len);
  }
}

// dst[r·dp + i] = src[r·sp + i] converted (float → bf16 rounds, bf16 → bf16 is exact).
template <class S, class D>
__global__ void row_convert_kernel(const S* src, index_t sp, D* dst, index_t dp, index_t rows, index_t len) {
  for (index_t r = blockIdx.y; r < rows; r += gridDim.y)
    for (index_t i = global_thread(); i < len; i += grid_threads()) dst[r * dp + i] = from_f32<D>(to_f32(src[r * sp + i]));
}

template <class S, class D> void convert_channels(const ChannelCopy& cc, const S* src, D* dst, cudaStream_t st) {
  const index_t len = cc.c_src * cc.s;
  if (cc.n <= 0 || len <= 0) return;
  launch(row_convert_kernel<S, D>, rows_grid(cc.n, len), dim3(kBlock), 0, st, src, len, dst + cc.c_off * cc.s,
         cc.c_dst * cc.s, cc.n, len);
}

__global__ void softmax_kernel(index_t n, int c, index_t s, const float* x, float* y) {
  for (index_t b = blockIdx.y; b < n; b += gridDim.y) {
    const float* xb = x + b * c * s;
    float* yb = y + b * c * s;
    for (index_t v = global_thread(); v < s; v += grid_threads()) {
      float p[kMaxSoftmaxChannels];
      softmax_voxel(xb + v, s, c, p);
      for (int k = 0; k < c; ++k) yb[k * s + v] = p[k];
    }
  }
}

__global__ void softmax_backward_kernel(index_t n, index_t c, index_t s, const float* y, const float* dy, float* dx) {
  for (index_t b = blockIdx.y; b < n; b += gridDim.y) {
    const index_t o = b * c * s;
    for (index_t v = global_thread(); v < s; v += grid_threads()) {
      float dot = 0.0f;
      for (index_t k = 0; k < c; ++k) dot += dy[o + k * s + v] * y[o + k * s + v];
      for (index_t k = 0; k < c; ++k) dx[o + k * s + v] = y[o + k * s + v] * (dy[o + k * s + v] - dot);
    }
  }
}

__global__ void one_hot_kernel(index_t n, index_t c, index_t s, const std::int32_t* labels, std::int32_t ignore,
                               float* y) {
  for (index_t b = blockIdx.y; b < n; b += gridDim.y) {
    for (index_t v = global_thread(); v < s; v += grid_threads()) {
      const std::int32_t l = labels[b * s + v];
      for (index_t k = 0; k < c; ++k) y[(b * c + k) * s + v] = (l != ignore && l == k) ? 1.0f : 0.0f;
    }
  }
}

}  // namespace

void copy_channels(const ChannelCopy& cc, const float* src, float* dst, cudaStream_t st) {
  row_copy(src, cc.c_src * cc.s, dst + cc.c_off * cc.s, cc.c_dst * cc.s, cc.n, cc.c_src * cc.s, st);
}

void copy_channels(const ChannelCopy& cc, const float* src, bf16_t* dst, cudaStream_t st) {
  convert_channels(cc, src, dst, st);
}

void copy_channels(const ChannelCopy& cc, const bf16_t* src, bf16_t* dst, cudaStream_t st) {
  convert_channels(cc, src, dst, st);
}

void gather_channels(const ChannelCopy& cc, const float* src, float* dst, cudaStream_t st) {
  row_copy(src + cc.c_off * cc.s, cc.c_dst * cc.s, dst, cc.c_src * cc.s, cc.n, cc.c_src * cc.s, st);
}

void softmax_channels(index_t n, index_t c, index_t s, const float* x, float* y, cudaStream_t st) {
  kernel_check(c >= 1 && c <= kMaxSoftmaxChannels, "softmax", "1..16 channels supported");
  if (n <= 0 || s <= 0) return;
  launch(softmax_kernel, rows_grid(n, s), dim3(kBlock), 0, st, n, static_cast<int>(c), s, x, y);
}

void softmax_channels_backward(index_t n, index_t c, index_t s, const float* y, const float* dy, float* dx,
                               cudaStream_t st) {
  if (n <= 0 || s <= 0) return;
  launch(softmax_backward_kernel, rows_grid(n, s), dim3(kBlock), 0, st, n, c, s, y, dy, dx);
}

void one_hot(index_t n, index_t c, index_t s, const std::int32_t* labels, std::int32_t ignore, float* y,
             cudaStream_t st) {
  if (n <= 0 || s <= 0) return;
  launch(one_hot_kernel, rows_grid(n, s), dim3(kBlock), 0, st, n, c, s, labels, ignore, y);
}

}  // namespace sse::cuda
