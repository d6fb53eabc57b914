// kernels/cuda/box.cu — zero-padding / cropping volume copy on the GPU (see kernels/box.h).
//
// Destination rows (plane, z, y) are short (the volume's width), so they are spread over 32 × 8
// blocks (device_util.cuh): a warp runs along x (coalesced), and each row's source coordinates are
// computed once per thread and row.
#include "kernels/box.h"
#include "kernels/cuda/device_util.cuh"

namespace sse::cuda {
namespace {

__global__ void box_copy_kernel(BoxCopy b, const float* src, float* dst) {
  const index_t rows = b.planes * b.dd * b.dh;
  for (index_t r = short_row_first(); r < rows; r += short_row_stride()) {
    const index_t y = r % b.dh, z = (r / b.dh) % b.dd, p = r / (b.dh * b.dd);
    const index_t sz = z + b.oz, sy = y + b.oy;
    const bool row_in = sz >= 0 && sz < b.sd && sy >= 0 && sy < b.sh;
    const float* in = src + ((p * b.sd + (row_in ? sz : 0)) * b.sh + (row_in ? sy : 0)) * b.sw;
    float* out = dst + r * b.dw;
    for (index_t x = short_col_first(); x < b.dw; x += short_col_stride()) {
      const index_t sx = x + b.ox;
      out[x] = (row_in && sx >= 0 && sx < b.sw) ? in[sx] : 0.0f;
    }
  }
}

}  // namespace

void box_copy(const BoxCopy& b, const float* src, float* dst, cudaStream_t s) {
  const index_t rows = b.planes * b.dd * b.dh;
  if (rows <= 0 || b.dw <= 0) return;
  launch(box_copy_kernel, short_rows_grid(rows, b.dw), short_rows_block(), 0, s, b, src, dst);
}

}  // namespace sse::cuda
