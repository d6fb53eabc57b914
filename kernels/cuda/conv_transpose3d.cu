// kernels/cuda/conv_transpose3d.cu — transposed convolution k2 s2 on the GPU (see
// kernels/conv_transpose3d.h), as three implicit GEMMs (conv_transpose3d_problems.cuh) on the
// engine the convolution algorithm names (conv_engine.cuh): tensor cores under TensorTF32 /
// TensorBF16 (their SIMT twin with the same input rounding in the emulator), else SIMT fp32.
// No atomics; the weight gradient's partials are added in a fixed order. Outputs are overwritten.
// The weight gradient runs on the brick kernels (wgrad_brick.cuh: tensor cores under TensorTF32 /
// TensorBF16, else their SIMT twin) when use_brick_wgrad(c_out) says so, else as the third GEMM.
#include "kernels/conv_transpose3d.h"
#include "kernels/cuda/conv_engine.cuh"
#include "kernels/cuda/conv_transpose3d_problems.cuh"
#include "kernels/cuda/wgrad_brick.cuh"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace sse::cuda {
namespace {

void check(const ConvT3dShape& s, const char* op) {
  kernel_check(s.n >= 0 && s.c_in >= 1 && s.c_out >= 1 && s.d >= 1 && s.h >= 1 && s.w >= 1, op, "bad shape");
  const index_t big = s.c_in > s.c_out ? s.c_in : s.c_out;
  kernel_check(big * s.out_voxels() < (index_t{1} << 31) && s.n <= 65535, op,
               "per-image tensors must have fewer than 2^31 elements and n ≤ 65535");
}

UpGeom geom(const ConvT3dShape& s) {
  const int d = static_cast<int>(s.d), h = static_cast<int>(s.h), w = static_cast<int>(s.w);
  return UpGeom{d, h, w, d * h * w, 2 * h, 2 * w, 8 * d * h * w};
}

}  // namespace

void conv_transpose3d_forward(const ConvT3dShape& s, const float* x, const float* w, const float* b, float* y,
                              cudaStream_t st) {
  check(s, "conv_transpose3d_forward");
  if (s.n == 0) return;
  const UpGeom g = geom(s);
  const UpForwardProblem p{{}, g, x, w, b, y, static_cast<int>(s.c_out * 8), g.vin, static_cast<int>(s.c_in)};
  run_wx(p, static_cast<int>(s.n), st);
}

void conv_transpose3d_backward_data(const ConvT3dShape& s, const float* dy, const float* w, float* dx,
                                    cudaStream_t st) {
  check(s, "conv_transpose3d_backward_data");
  if (s.n == 0) return;
  const UpGeom g = geom(s);
  const UpBackwardDataProblem p{{}, g, dy, w, dx, static_cast<int>(s.c_in), g.vin, static_cast<int>(s.c_out * 8),
                                g.vin % 4 == 0 && aligned16(dx)};
  run_wx(p, static_cast<int>(s.n), st);
}

bool conv_transpose3d_wgrad_reads_bf16(const ConvT3dShape& s) {
  return conv_algo() == ConvAlgo::TensorBF16 && use_brick_wgrad(s.c_out);
}

void conv_transpose3d_backward_weight(const ConvT3dShape& s, const bf16_t* x, const float* dy, float* dw,
                                      float* db, cudaStream_t st) {
  check(s, "conv_transpose3d_backward_weight");
  kernel_check(conv_transpose3d_wgrad_reads_bf16(s), "conv_transpose3d_backward_weight",
               "bfloat16 x needs TensorBF16 and the brick kernel (conv_transpose3d_wgrad_reads_bf16)");
  if (s.n == 0) return conv_transpose3d_backward_weight(s, static_cast<const float*>(nullptr), dy, dw, db, st);  // zeros
  brick_wgrad_up2(s, x, dy, dw, BrickMath::BF16, st);
  if (db) sum_mid(dy, s.n, s.c_out, s.out_voxels(), db, st);
}

void conv_transpose3d_backward_weight(const ConvT3dShape& s, const float* x, const float* dy, float* dw,
                                      float* db, cudaStream_t st) {
  check(s, "conv_transpose3d_backward_weight");
  const int M = static_cast<int>(s.c_in), N = static_cast<int>(s.c_out * 8);
  if (s.n == 0) {  // an empty batch contributes nothing: the gradients are zero
    fill(dw, static_cast<index_t>(M) * N, 0.0f, st);
    if (db) fill(db, s.c_out, 0.0f, st);
    return;
  }
  if (use_brick_wgrad(s.c_out)) {
    brick_wgrad_up2(s, x, dy, dw, brick_math(), st);
  } else {
    const UpGeom g = geom(s);
    const index_t k_total = s.n * s.in_voxels();
    run_split_k(
        M, N, k_total, dw, st,
        [&](float* out, index_t chunk) {
          return UpWgradProblem{g, x, dy, out, M, N, k_total, chunk, N % 4 == 0 && aligned16(out)};
        },
        [&](const UpWgradProblem& p, int slices) { run_wg(p, slices, st); });
  }
  if (db) sum_mid(dy, s.n, s.c_out, s.out_voxels(), db, st);
}

}  // namespace sse::cuda
