// kernels/maxpool.h — 3-D max pooling, window 2, stride 2, even D, H, W (the U-Net pads first).
//
// x (n, c, d, h, w) → y (n, c, d/2, h/2, w/2); idx (int32, same shape as y) holds the flat index
// within the (d, h, w) volume of the maximum (the first one in z, y, x order on ties), so backward is
// a scatter: dx = 0 everywhere but dx[idx] = dy (windows do not overlap, so no collisions).
// The forward also pools bfloat16 activations into bfloat16 (--precision bf16; the maxima are
// inputs, so nothing is rounded); gradients are float.
#pragma once

#include "kernels/common.h"
#include "kernels/low_precision.h"

namespace sse {

struct Pool3dShape {
  index_t n, c, d, h, w;  // input
  index_t out_voxels() const { return (d / 2) * (h / 2) * (w / 2); }
};

namespace cpu {
void maxpool3d_forward(const Pool3dShape& s, const float* x, float* y, std::int32_t* idx);
void maxpool3d_forward(const Pool3dShape& s, const bf16_t* x, bf16_t* y, std::int32_t* idx);
void maxpool3d_backward(const Pool3dShape& s, const float* dy, const std::int32_t* idx, float* dx);
}  // namespace cpu

namespace cuda {
void maxpool3d_forward(const Pool3dShape& s, const float* x, float* y, std::int32_t* idx, cudaStream_t st);
void maxpool3d_forward(const Pool3dShape& s, const bf16_t* x, bf16_t* y, std::int32_t* idx, cudaStream_t st);
void maxpool3d_backward(const Pool3dShape& s, const float* dy, const std::int32_t* idx, float* dx,
                        cudaStream_t st);
}  // namespace cuda

}  // namespace sse
