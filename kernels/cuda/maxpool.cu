// kernels/cuda/maxpool.cu — 3-D max pooling 2×2×2 / stride 2 on the GPU (see kernels/maxpool.h).
//
// Output rows are short (half the width), so they go over 32 × 8 blocks (device_util.cuh).
// Forward: one thread per output voxel scans its window in the CPU's z, y, x order with the same
// strict '>' so ties (and NaNs) pick the same index. Backward: one thread per output voxel writes
// all eight inputs of its window (dy at idx, 0 elsewhere); windows tile the input exactly, so every
// dx element is written once — no zero-fill pass and no atomics.
#include "kernels/cuda/device_util.cuh"
#include "kernels/maxpool.h"

namespace sse::cuda {
namespace {

// Output row r of the (planes, od, oh, ow) output as (plane, z, y).
struct PoolRow {
  index_t plane, z, y;
};
__device__ inline PoolRow pool_row(const Pool3dShape& s, index_t r) {
  const index_t od = s.d / 2, oh = s.h / 2;
  return PoolRow{r / (od * oh), (r / oh) % od, r % oh};
}

template <class T> __global__ void maxpool_forward_kernel(Pool3dShape s, const T* x, T* y, std::int32_t* idx) {
  const index_t od = s.d / 2, oh = s.h / 2, ow = s.w / 2, rows = s.n * s.c * od * oh;
  for (index_t r = short_row_first(); r < rows; r += short_row_stride()) {
    const PoolRow pr = pool_row(s, r);
    const T* xp = x + pr.plane * s.d * s.h * s.w;
    for (index_t xx = short_col_first(); xx < ow; xx += short_col_stride()) {
      index_t best = (2 * pr.z * s.h + 2 * pr.y) * s.w + 2 * xx;
      float m = to_f32(xp[best]);
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b)
          for (int c = 0; c < 2; ++c) {
            const index_t i = ((2 * pr.z + a) * s.h + 2 * pr.y + b) * s.w + 2 * xx + c;
            const float v = to_f32(xp[i]);
            if (v > m) {
              m = v;
              best = i;
            }
          }
      y[r * ow + xx] = from_f32<T>(m);  // exact: m is a stored value
      idx[r * ow + xx] = static_cast<std::int32_t>(best);
    }
  }
}

__global__ void maxpool_backward_kernel(Pool3dShape s, const float* dy, const std::int32_t* idx, float* dx) {
  const index_t od = s.d / 2, oh = s.h / 2, ow = s.w / 2, rows = s.n * s.c * od * oh;
  for (index_t r = short_row_first(); r < rows; r += short_row_stride()) {
    const PoolRow pr = pool_row(s, r);
    float* dxp = dx + pr.plane * s.d * s.h * s.w;
    for (index_t xx = short_col_first(); xx < ow; xx += short_col_stride()) {
      const float g = dy[r * ow + xx];
      const index_t at = idx[r * ow + xx];
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b)
          for (int c = 0; c < 2; ++c) {
            const index_t i = ((2 * pr.z + a) * s.h + 2 * pr.y + b) * s.w + 2 * xx + c;
            dxp[i] = i == at ? g : 0.0f;
          }
    }
  }
}

template <class T> void pool_forward(const Pool3dShape& s, const T* x, T* y, std::int32_t* idx, cudaStream_t st) {
  kernel_check(s.d % 2 == 0 && s.h % 2 == 0 && s.w % 2 == 0, "maxpool3d", "D, H, W must be even");
  const index_t rows = s.n * s.c * (s.d / 2) * (s.h / 2);
  if (rows <= 0 || s.w < 2) return;
  launch(maxpool_forward_kernel<T>, short_rows_grid(rows, s.w / 2), short_rows_block(), 0, st, s, x, y, idx);
}

}  // namespace

void maxpool3d_forward(const Pool3dShape& s, const float* x, float* y, std::int32_t* idx, cudaStream_t st) {
  pool_forward(s, x, y, idx, st);
}
void maxpool3d_forward(const Pool3dShape& s, const bf16_t* x, bf16_t* y, std::int32_t* idx, cudaStream_t st) {
  pool_forward(s, x, y, idx, st);
}

void maxpool3d_backward(const Pool3dShape& s, const float* dy, const std::int32_t* idx, float* dx, cudaStream_t st) {
  kernel_check(s.d % 2 == 0 && s.h % 2 == 0 && s.w % 2 == 0, "maxpool3d", "D, H, W must be even");
  const index_t rows = s.n * s.c * (s.d / 2) * (s.h / 2);
  if (rows <= 0 || s.w < 2) return;
  launch(maxpool_backward_kernel, short_rows_grid(rows, s.w / 2), short_rows_block(), 0, st, s, dy, idx, dx);
}

}  // namespace sse::cuda
