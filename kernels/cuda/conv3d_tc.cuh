// kernels/cuda/conv3d_tc.cuh — the tensor-core engine for the convolution GEMMs (real GPUs only).
//
// run_igemm_tc multiplies the same implicit-GEMM problems as the SIMT engine (igemm.cuh,
// conv3d_problems.cuh) with warp-level wmma: TF32 (inputs rounded to nearest TF32, 10-bit mantissa)
// or BF16 (inputs rounded to bfloat16, 7-bit mantissa), fp32 accumulation either way. It is selected
// by set_conv_algo(ConvAlgo::TensorTF32 / TensorBF16); its SIMT twin is what the emulator runs and
// what tests compare it against on a GPU. Deterministic like the SIMT engine (no atomics; split-K
// partials reduced in a fixed order by the caller). Compiled only by nvcc (files *_tc.cu are not
// part of the SIM build), so callers guard their calls with #if !SSE_CUDA_SIM.
#pragma once

#include "kernels/cuda/conv3d_problems.cuh"
#include "kernels/cuda/conv_transpose3d_problems.cuh"

namespace sse::cuda {

enum class TcPrecision { TF32, BF16 };

template <class P> void run_igemm_tc(const P& p, int slices, TcPrecision prec, cudaStream_t st);

extern template void run_igemm_tc(const ConvWxProblem<1>&, int, TcPrecision, cudaStream_t);
extern template void run_igemm_tc(const ConvWxProblem<3>&, int, TcPrecision, cudaStream_t);
extern template void run_igemm_tc(const ConvWgradProblem<1>&, int, TcPrecision, cudaStream_t);
extern template void run_igemm_tc(const ConvWgradProblem<3>&, int, TcPrecision, cudaStream_t);
extern template void run_igemm_tc(const UpForwardProblem&, int, TcPrecision, cudaStream_t);
extern template void run_igemm_tc(const UpBackwardDataProblem&, int, TcPrecision, cudaStream_t);
extern template void run_igemm_tc(const UpWgradProblem&, int, TcPrecision, cudaStream_t);

}  // namespace sse::cuda
