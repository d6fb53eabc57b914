// kernels/conv3d.h — 3-D convolution, stride 1, odd kernel k, zero padding k/2 ("same" size).
//
// Layouts: x (n, c_in, d, h, w), weight (c_out, c_in, k, k, k), bias (c_out) or null,
// y (n, c_out, d, h, w) — PyTorch's Conv3d layout, so weights transfer as they are.
// Any d, h, w ≥ 1. Backward functions overwrite their outputs (they do not accumulate).
//
// CPU: for k = 3 on AVX2+FMA CPUs, Winograd F(2,3)³ or F(4,3)³ where it wins (forward, data and
// weight gradients, kernels/cpu/conv3d_winograd.cpp), else a packed direct convolution (kernels/cpu/conv3d_avx2.cpp: padded
// slabs of output planes, register-blocked micro-kernels, no im2col buffer); otherwise GEMM on bounded
// slabs of the im2col matrix. Never the whole volume: workspaces are capped at kConvWorkspaceBytes
// per thread. k = 1 as a plain GEMM. CUDA: implicit GEMM with shared-memory
// tiles (no im2col buffer), plus tensor-core and cuDNN variants (kernels/cuda/*).
#pragma once

#include "kernels/common.h"
#include "kernels/low_precision.h"

namespace sse {

struct Conv3dShape {
  index_t n, c_in, c_out, d, h, w;
  int k;
  int pad() const { return k / 2; }
  index_t voxels() const { return d * h * w; }
  index_t kvol() const { return static_cast<index_t>(k) * k * k; }
  // 2·n·c_out·c_in·k³·voxels: multiply-adds counted as two FLOPs (the convention of benchmarks).
  double flops() const { return 2.0 * n * c_out * c_in * kvol() * voxels(); }
};

constexpr std::size_t kConvWorkspaceBytes = 64u << 20;

// What the inference form of the forward (cpu::conv3d_forward_fused) applies to each output:
// y = act((conv + b[o])·scale[o] + shift[o]), act = ReLU when relu.
struct ConvEpilogue {
  const float* scale = nullptr;  // null: no affine map (then relu is ignored)
  const float* shift = nullptr;
  bool relu = false;
};

namespace cpu {
// Per-thread cap on the im2col slab (default kConvWorkspaceBytes). Lower it to save memory on a small
// machine, or in tests to force many slabs at small sizes; results do not depend on it.
void set_conv_workspace_bytes(std::size_t bytes);
std::size_t conv_workspace_bytes();

// Which CPU algorithm runs the convolutions (conv3d and conv_transpose3d): Auto picks the AVX2+FMA
// kernels (kernels/cpu/conv3d_avx2.cpp: packed direct convolution for k = 3; kernels/cpu/gemm_avx2.cpp:
// k = 1 and the transposed convolution) on CPUs that have AVX2 and FMA, else Blas: im2col slabs (or
// the scatter/gather of the transposed convolution) + sgemm (kernels/cpu/blas.h). Blas and Avx2 force
// one (tests, benchmarks); forcing Avx2 on a CPU without it throws KernelError. Process-wide; all
// give the same results up to float reassociation. Other kernel sizes always take the Blas path.
enum class ConvImpl : int { Auto, Blas, Avx2 };
void set_conv_impl(ConvImpl impl);
ConvImpl conv_impl();
bool conv_avx2_supported();

// Winograd F(m,3)³ for the 3×3×3 convolutions (forward, data and weight gradients) on the AVX2 path
// (kernels/cpu/conv3d_winograd.h): Auto where the measured rule (winograd::choose_tile) expects it to
// beat the direct kernel, Off never, F2 / F4 on every one with that tile (tests, benchmarks).
// Process-wide; no effect under ConvImpl::Blas or without AVX2+FMA. Winograd results differ from the
// direct kernel's by rounding (F(4,3)³: ≈ 5× the direct sum's error, kernels/cpu/conv3d_winograd.h).
enum class ConvWinograd : int { Auto, Off, F2, F4 };
void set_conv_winograd(ConvWinograd mode);
ConvWinograd conv_winograd();

void conv3d_forward(const Conv3dShape& s, const float* x, const float* w, const float* b, float* y);

// Inference forms (CPU only). The input may come in two parts, the concatenation along channels of
// x1 (n, c_in1, d, h, w) and x2 (n, s.c_in − c_in1, d, h, w) (x2 null when c_in1 = s.c_in), so a
// U-Net decoder never materializes its concatenated input; and the output may pass through a
// per-channel affine map and ReLU (eval-mode batch norm folded to scale/shift, as
// batchnorm_forward_eval computes them): y = act((conv + b[o])·scale[o] + shift[o]).
void conv3d_forward_fused(const Conv3dShape& s, const float* x1, index_t c_in1, const float* x2, const float* w,
                          const float* b, const ConvEpilogue& ep, float* y);

void conv3d_backward_data(const Conv3dShape& s, const float* dy, const float* w, float* dx);
// dw (c_out, c_in, k, k, k) and db (c_out, may be null), summed over the batch.
void conv3d_backward_weight(const Conv3dShape& s, const float* x, const float* dy, float* dw, float* db);
}  // namespace cpu

// Which algorithm the CUDA convolution uses (--conv / --precision on the command line).
enum class ConvAlgo : int { Simt, TensorTF32, TensorBF16, Cudnn };

namespace cuda {
void conv3d_forward(const Conv3dShape& s, const float* x, const float* w, const float* b, float* y,
                    cudaStream_t st);
void conv3d_backward_data(const Conv3dShape& s, const float* dy, const float* w, float* dx, cudaStream_t st);
void conv3d_backward_weight(const Conv3dShape& s, const float* x, const float* dy, float* dw, float* db,
                            cudaStream_t st);
void set_conv_algo(ConvAlgo a);   // process-wide; Simt by default
ConvAlgo conv_algo();

// bf16 activations: the forward and the weight gradient with x stored as bfloat16, read as it is
// stored — the values of the float functions on the widened x, bit for bit. Only where
// conv3d_reads_bf16(s): k = 3 under TensorBF16 with both on the brick kernels (use_brick_wx(c_in,
// c_out), use_brick_wgrad(c_in)); elsewhere KernelError, and ops::conv3d widens x first.
bool conv3d_reads_bf16(const Conv3dShape& s);
void conv3d_forward(const Conv3dShape& s, const bf16_t* x, const float* w, const float* b, float* y,
                    cudaStream_t st);
void conv3d_backward_weight(const Conv3dShape& s, const bf16_t* x, const float* dy, float* dw, float* db,
                            cudaStream_t st);

// Which kernel computes the weight gradients of conv3d (k = 3) and conv_transpose3d under the
// Simt / TensorTF32 / TensorBF16 algorithms. Auto: the brick kernels (kernels/cuda/wgrad_brick.cuh:
// tensor-core mma.sync or its SIMT twin, each x value staged once for all 27 taps) when the operand
// tiled in channels of 8 has at least 8 (conv3d: c_in; transposed: c_out), else the generic implicit
// GEMM (kernels/cuda/igemm.cuh), which also serves k = 1. Igemm / Brick force one (benchmarks, tests;
// Brick still leaves k = 1 to the implicit GEMM). Process-wide.
enum class WgradImpl : int { Auto, Igemm, Brick };
void set_wgrad_impl(WgradImpl impl);
WgradImpl wgrad_impl();
// True when the brick kernel computes the weight gradient of a layer whose tiled operand has
// `channels` channels, under the current setting.
bool use_brick_wgrad(index_t channels);

// Which kernel computes conv3d's forward and backward data for k = 3. Auto: the brick kernel
// (kernels/cuda/wx_brick.cuh: each src value staged once for the 9 taps of its plane, mma.sync) under
// the tensor-core algorithms (TensorTF32 / TensorBF16) when the GEMM reduces over at least 8
// channels (forward: c_in; backward data: c_out) and has at least 16 rows (c_out; c_in); the
// implicit GEMM (igemm.cuh, or its wmma twin conv3d_tc.cu) otherwise — under Simt too, until a GPU
// has timed the brick kernel's SIMT twin against it (bench/gpu/conv_layers.cpp measures both).
// Igemm / Brick force one (benchmarks, tests; Brick still leaves k = 1 to the implicit GEMM).
// Process-wide.
enum class WxImpl : int { Auto, Igemm, Brick };
void set_wx_impl(WxImpl impl);
WxImpl wx_impl();
// True when the brick kernel computes a k = 3 forward or backward data that reduces over `c_k`
// channels into `rows` output channels, under the current setting and algorithm.
bool use_brick_wx(index_t c_k, index_t rows);

// Eval-mode batch norm (+ ReLU) as a convolution's epilogue on the GPU, from the layer's parameters
// (device pointers, c_out each): y = affine_act(conv + b, bn_eval_affine(...)) (kernels/batchnorm.h).
// gamma null: no batch norm (then `relu` applies to conv + b).
struct ConvBnEval {
  const float* gamma = nullptr;
  const float* beta = nullptr;
  const float* running_mean = nullptr;
  const float* running_var = nullptr;
  float eps = 1e-5f;
  bool relu = false;
};
// The inference form of cpu::conv3d_forward_fused on the GPU, for k = 3: the input in two parts (x1
// with c_in1 channels, x2 the other s.c_in − c_in1, null when c_in1 = s.c_in), never concatenated,
// and the batch norm applied as the outputs are stored — one brick kernel (kernels/cuda/wx_brick.cuh)
// in the math of the current algorithm (brick_math), whatever set_wx_impl says.
void conv3d_forward_eval(const Conv3dShape& s, const float* x1, index_t c_in1, const float* x2, const float* w,
                         const float* b, const ConvBnEval& bn, float* y, cudaStream_t st);
}  // namespace cuda

}  // namespace sse
