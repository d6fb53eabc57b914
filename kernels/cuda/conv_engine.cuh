// kernels/cuda/conv_engine.cuh — runs an implicit-GEMM problem of the convolutions
// (conv3d_problems.cuh, conv_transpose3d_problems.cuh) on the engine the process-wide ConvAlgo names
// (cuda::conv_algo(), kernels/conv3d.h):
//   TensorTF32 / TensorBF16  the tensor-core engine (conv3d_tc.cu) on a real GPU; in the emulator, its
//                            SIMT twin with the tensor cores' input rounding (OperandRound)
//   Simt (and Cudnn, whose callers come here only where cuDNN has no algorithm)   the SIMT fp32 engine
// run_wx: weights × activations, one image per blockIdx.z; run_wg: split-K weight gradients, one
// slice per blockIdx.z (igemm.cuh). On a real GPU every problem type run here needs its
// run_igemm_tc instantiation in conv3d_tc.cu (a missing one fails at link time).
#pragma once

#include "kernels/conv3d.h"
#include "kernels/cuda/igemm.cuh"
#if !SSE_CUDA_SIM
#include "kernels/cuda/conv3d_tc.cuh"
#endif

namespace sse::cuda {

template <class P> void run_wx(const P& p, int images, cudaStream_t st) {
  const ConvAlgo a = conv_algo();
#if !SSE_CUDA_SIM
  if (a == ConvAlgo::TensorTF32 || a == ConvAlgo::TensorBF16)
    return run_igemm_tc(p, images, a == ConvAlgo::TensorTF32 ? TcPrecision::TF32 : TcPrecision::BF16, st);
#else
  if (a == ConvAlgo::TensorTF32) return run_igemm_simt_wx<OperandRound::TF32>(p, images, st);
  if (a == ConvAlgo::TensorBF16) return run_igemm_simt_wx<OperandRound::BF16>(p, images, st);
#endif
  run_igemm_simt_wx(p, images, st);
}

template <class P> void run_wg(const P& p, int slices, cudaStream_t st) {
  const ConvAlgo a = conv_algo();
#if !SSE_CUDA_SIM
  if (a == ConvAlgo::TensorTF32 || a == ConvAlgo::TensorBF16)
    return run_igemm_tc(p, slices, a == ConvAlgo::TensorTF32 ? TcPrecision::TF32 : TcPrecision::BF16, st);
#else
  if (a == ConvAlgo::TensorTF32) return run_igemm_simt_wg<OperandRound::TF32>(p, slices, st);
  if (a == ConvAlgo::TensorBF16) return run_igemm_simt_wg<OperandRound::BF16>(p, slices, st);
#endif
  run_igemm_simt_wg(p, slices, st);
}

}  // namespace sse::cuda
