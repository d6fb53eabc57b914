// kernels/conv_transpose3d.h — transposed 3-D convolution, kernel 2, stride 2 (exact 2× upsampling).
//
// Layouts (PyTorch's ConvTranspose3d): x (n, c_in, d, h, w), weight (c_in, c_out, 2, 2, 2),
// bias (c_out) or null, y (n, c_out, 2d, 2h, 2w) with
//   y[n, o, 2i+a, 2j+b, 2l+c] = bias[o] + Σ_ci x[n, ci, i, j, l] · weight[ci, o, a, b, c].
// Each output voxel has exactly one input voxel, so the op is one GEMM plus a scatter.
// Backward functions overwrite their outputs.
#pragma once

#include "kernels/common.h"
#include "kernels/low_precision.h"

namespace sse {

struct ConvT3dShape {
  index_t n, c_in, c_out, d, h, w;  // input dims
  index_t in_voxels() const { return d * h * w; }
  index_t out_voxels() const { return 8 * d * h * w; }
  double flops() const { return 2.0 * n * c_in * c_out * 8 * in_voxels(); }
};

namespace cpu {
void conv_transpose3d_forward(const ConvT3dShape& s, const float* x, const float* w, const float* b, float* y);
void conv_transpose3d_backward_data(const ConvT3dShape& s, const float* dy, const float* w, float* dx);
void conv_transpose3d_backward_weight(const ConvT3dShape& s, const float* x, const float* dy, float* dw,
                                      float* db);
}  // namespace cpu

namespace cuda {
void conv_transpose3d_forward(const ConvT3dShape& s, const float* x, const float* w, const float* b, float* y,
                              cudaStream_t st);
void conv_transpose3d_backward_data(const ConvT3dShape& s, const float* dy, const float* w, float* dx,
                                    cudaStream_t st);
void conv_transpose3d_backward_weight(const ConvT3dShape& s, const float* x, const float* dy, float* dw,
                                      float* db, cudaStream_t st);
// bf16 activations: the weight gradient with x stored as bfloat16, where
// conv_transpose3d_wgrad_reads_bf16(s) (TensorBF16 with the brick kernel, use_brick_wgrad(c_out));
// elsewhere KernelError. The forward has no bf16 form: ops::conv_transpose3d widens x for it.
bool conv_transpose3d_wgrad_reads_bf16(const ConvT3dShape& s);
void conv_transpose3d_backward_weight(const ConvT3dShape& s, const bf16_t* x, const float* dy, float* dw,
                                      float* db, cudaStream_t st);
}  // namespace cuda

}  // namespace sse
