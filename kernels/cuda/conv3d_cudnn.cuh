// kernels/cuda/conv3d_cudnn.cuh — cuDNN as the reference and comparison path of the convolution
// (ConvAlgo::Cudnn; real-CUDA builds with SSE_HAVE_CUDNN only — files *_cudnn.cu are not in the
// SIM build, and without cuDNN set_conv_algo refuses ConvAlgo::Cudnn).
//
// cuDNN 9's legacy API with NCDHW descriptors. The algorithm for each (shape, direction, options)
// is chosen once by cudnnFind*AlgorithmEx on the caller's tensors — the fastest that succeeds within
// kCudnnWorkspaceBytes and, when `deterministic`, has cuDNN's deterministic flag (kernels/cudnn_pick.h)
// — and cached. When no candidate qualifies (3-D backward filter: the one deterministic algorithm
// needs more workspace than the limit on large layers) the function says so once on stderr and
// returns false, and the caller (conv3d.cu) runs its own kernel for that direction. Math is true fp32
// (CUDNN_FMA_MATH) unless allow_tf32, which lets cuDNN use TF32 tensor cores. The caller reduces db.
#pragma once

#include <cstddef>

#include "kernels/conv3d.h"

namespace sse::cuda {

struct CudnnConvOptions {
  bool allow_tf32 = false;     // CUDNN_DEFAULT_MATH instead of CUDNN_FMA_MATH
  bool deterministic = true;   // only algorithms cuDNN reports as deterministic
};
void set_cudnn_conv_options(const CudnnConvOptions& o);  // process-wide
CudnnConvOptions cudnn_conv_options();

constexpr std::size_t kCudnnWorkspaceBytes = 128u << 20;

// Each returns true when cuDNN computed the result, false when it has no usable algorithm.
bool cudnn_conv3d_forward(const Conv3dShape& s, const float* x, const float* w, const float* b, float* y,
                          cudaStream_t st);
bool cudnn_conv3d_backward_data(const Conv3dShape& s, const float* dy, const float* w, float* dx, cudaStream_t st);
bool cudnn_conv3d_backward_weight(const Conv3dShape& s, const float* x, const float* dy, float* dw,
                                  cudaStream_t st);

}  // namespace sse::cuda
