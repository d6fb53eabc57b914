// kernels/cuda/conv3d.cu — 3-D convolution (stride 1, same padding, k = 1 or 3) on the GPU: the
// algorithm switch and the SIMT fp32 implicit-GEMM path (see kernels/conv3d.h).
//
// Each direction is one implicit GEMM (conv3d_problems.cuh) run by the SIMT engine (igemm.cuh), the
// tensor-core engine (conv3d_tc.cu: ConvAlgo::TensorTF32 / TensorBF16) or handed to cuDNN
// (conv3d_cudnn.cu: ConvAlgo::Cudnn; where cuDNN has no usable algorithm for a direction, the
// SIMT path runs it). The emulator build has neither tensor cores nor cuDNN: there the tensor-core
// algorithms run the SIMT twin with the tensor cores' input rounding (OperandRound), and Cudnn is
// refused by set_conv_algo.
// The weight gradient is split-K: slices write partials into the workspace, sum_splits adds them in
// slice order — deterministic, no atomics. For k = 3 it runs on the brick kernels (wgrad_brick.cuh)
// when use_brick_wgrad says so, and the forward and backward data on wx_brick.cuh when use_brick_wx
// does; in the emulator their tensor-core forms run with mma.sync emulated.
// Backward functions overwrite their outputs.
#include <atomic>
#include <string>

#include "kernels/conv3d.h"
#include "kernels/elementwise.h"
#include "kernels/cuda/conv3d_problems.cuh"
#include "kernels/cuda/conv_engine.cuh"
#include "kernels/cuda/wgrad_brick.cuh"
#include "kernels/cuda/workspace.cuh"
#include "kernels/cuda/wx_brick.cuh"
#include "kernels/reduce.h"
#if !SSE_CUDA_SIM
#include "kernels/cuda/conv3d_cudnn.cuh"
#endif

namespace sse::cuda {
namespace {

std::atomic<ConvAlgo> g_algo{ConvAlgo::Simt};
std::atomic<WgradImpl> g_wgrad{WgradImpl::Auto};
std::atomic<WxImpl> g_wx{WxImpl::Auto};

void check(const Conv3dShape& s, const char* op) {
  kernel_check(s.k == 1 || s.k == 3, op, "the CUDA convolution supports k = 1 and k = 3");
  kernel_check(s.n >= 0 && s.c_in >= 1 && s.c_out >= 1 && s.d >= 1 && s.h >= 1 && s.w >= 1, op, "bad shape");
  const index_t channels = s.c_in > s.c_out ? s.c_in : s.c_out;
  kernel_check(channels * s.voxels() < (index_t{1} << 31) && s.n <= 65535, op,
               "per-image tensors must have fewer than 2^31 elements and n ≤ 65535");
}

template <int KS> ConvGeom<KS> geom(const Conv3dShape& s) {
  return ConvGeom<KS>{static_cast<int>(s.d), static_cast<int>(s.h), static_cast<int>(s.w),
                      static_cast<int>(s.voxels())};
}

__global__ void weight_to_tap_major_kernel(const float* w, int rows, int c_k, int taps, bool flip, float* wt) {
  const index_t total = static_cast<index_t>(rows) * taps * c_k;
  for (index_t i = global_thread(); i < total; i += grid_threads()) {
    const int c = static_cast<int>(i % c_k), t = static_cast<int>(i / c_k % taps);
    const int m = static_cast<int>(i / (c_k * taps));
    wt[i] = flip ? w[(static_cast<index_t>(c) * rows + m) * taps + (taps - 1 - t)]
                 : w[(static_cast<index_t>(m) * c_k + c) * taps + t];
  }
}

// dst (images, rows, vol) = W' · im2col(src) (+ bias): forward (flip = false) or backward data.
template <int KS>
void wx(const Conv3dShape& s, bool flip, const float* src, const float* w, const float* bias, float* dst,
        cudaStream_t st) {
  const int rows = static_cast<int>(flip ? s.c_in : s.c_out), c_k = static_cast<int>(flip ? s.c_out : s.c_in);
  if (KS == 3 && use_brick_wx(c_k, rows)) return brick_conv3_wx(s, flip, src, w, bias, dst, brick_math(), st);
  const int vol = static_cast<int>(s.voxels()), taps = KS * KS * KS;
  const float* wt = w;  // (c_out, c_in) is already tap-major when k = 1
  if (flip || KS > 1) {
    float* buf = static_cast<float*>(workspace(static_cast<std::size_t>(rows) * taps * c_k * sizeof(float), st));
    weight_to_tap_major(w, rows, c_k, taps, flip, buf, st);
    wt = buf;
  }
  const ConvWxProblem<KS> p{geom<KS>(s), src, wt, bias, dst, rows, vol, c_k, c_k * taps,
                            vol % 4 == 0 && aligned16(dst)};
  run_wx(p, static_cast<int>(s.n), st);
}

template <int KS>
void wgrad(const Conv3dShape& s, const float* x, const float* dy, float* dw, cudaStream_t st) {
  const int M = static_cast<int>(s.c_out), N = static_cast<int>(s.c_in * s.kvol());
  const index_t k_total = s.n * s.voxels();
  run_split_k(
      M, N, k_total, dw, st,
      [&](float* out, index_t chunk) {
        return ConvWgradProblem<KS>{geom<KS>(s), x, dy, out, M, N, k_total, chunk, N % 4 == 0 && aligned16(out)};
      },
      [&](const ConvWgradProblem<KS>& p, int slices) { run_wg(p, slices, st); });
}

// dw by the engine's own kernels (every algorithm but a successful Cudnn).
void own_wgrad(const Conv3dShape& s, const float* x, const float* dy, float* dw, cudaStream_t st) {
  if (s.k == 1) return wgrad<1>(s, x, dy, dw, st);
  if (use_brick_wgrad(s.c_in)) return brick_wgrad_conv3(s, x, dy, dw, brick_math(), st);
  wgrad<3>(s, x, dy, dw, st);
}

}  // namespace

void weight_to_tap_major(const float* w, int rows, int c_k, int taps, bool flip, float* wt, cudaStream_t st) {
  const index_t total = static_cast<index_t>(rows) * taps * c_k;
  launch(weight_to_tap_major_kernel, dim3(grid_for(total)), dim3(kBlock), 0, st, w, rows, c_k, taps, flip, wt);
}

void set_wgrad_impl(WgradImpl impl) { g_wgrad.store(impl); }
WgradImpl wgrad_impl() { return g_wgrad.load(); }

bool use_brick_wgrad(index_t channels) {
  const WgradImpl impl = g_wgrad.load();
  return impl == WgradImpl::Brick || (impl == WgradImpl::Auto && channels >= 8);
}

void set_wx_impl(WxImpl impl) { g_wx.store(impl); }
WxImpl wx_impl() { return g_wx.load(); }

bool use_brick_wx(index_t c_k, index_t rows) {
  const WxImpl impl = g_wx.load();
  const ConvAlgo a = g_algo.load();
  const bool tensor = a == ConvAlgo::TensorTF32 || a == ConvAlgo::TensorBF16;
  return impl == WxImpl::Brick || (impl == WxImpl::Auto && tensor && c_k >= 8 && rows >= 16);
}

BrickMath brick_math() {
  const ConvAlgo a = g_algo.load();
  return a == ConvAlgo::TensorTF32 ? BrickMath::TF32 : a == ConvAlgo::TensorBF16 ? BrickMath::BF16 : BrickMath::Simt;
}

void set_conv_algo(ConvAlgo a) {
#if SSE_CUDA_SIM || !defined(SSE_HAVE_CUDNN)
  kernel_check(a != ConvAlgo::Cudnn, "set_conv_algo", "this build has no cuDNN");
#endif
  g_algo.store(a);
}

ConvAlgo conv_algo() { return g_algo.load(); }

void conv3d_forward(const Conv3dShape& s, const float* x, const float* w, const float* b, float* y,
                    cudaStream_t st) {
  check(s, "conv3d_forward");
  if (s.n == 0) return;
#if !SSE_CUDA_SIM && defined(SSE_HAVE_CUDNN)
  if (g_algo.load() == ConvAlgo::Cudnn && cudnn_conv3d_forward(s, x, w, b, y, st)) return;
#endif
  if (s.k == 1) return wx<1>(s, false, x, w, b, y, st);
  wx<3>(s, false, x, w, b, y, st);
}

bool conv3d_reads_bf16(const Conv3dShape& s) {
  return s.k == 3 && g_algo.load() == ConvAlgo::TensorBF16 && use_brick_wx(s.c_in, s.c_out) && use_brick_wgrad(s.c_in);
}

void conv3d_forward(const Conv3dShape& s, const bf16_t* x, const float* w, const float* b, float* y,
                    cudaStream_t st) {
  check(s, "conv3d_forward");
  kernel_check(conv3d_reads_bf16(s), "conv3d_forward", "bfloat16 x needs TensorBF16 and the brick kernels (conv3d_reads_bf16)");
  if (s.n > 0) brick_conv3_wx(s, x, w, b, y, BrickMath::BF16, st);
}

void conv3d_forward_eval(const Conv3dShape& s, const float* x1, index_t c_in1, const float* x2, const float* w,
                         const float* b, const ConvBnEval& bn, float* y, cudaStream_t st) {
  check(s, "conv3d_forward_eval");
  if (s.n == 0) return;  // brick_conv3_wx checks k = 3 and the two parts' channel split
  const WxEval eval{x2, c_in1, bn};
  brick_conv3_wx(s, false, x1, w, b, y, brick_math(), st, WxTile::Auto, &eval);
}

void conv3d_backward_data(const Conv3dShape& s, const float* dy, const float* w, float* dx, cudaStream_t st) {
  check(s, "conv3d_backward_data");
  if (s.n == 0) return;
#if !SSE_CUDA_SIM && defined(SSE_HAVE_CUDNN)
  if (g_algo.load() == ConvAlgo::Cudnn && cudnn_conv3d_backward_data(s, dy, w, dx, st)) return;
#endif
  if (s.k == 1) return wx<1>(s, true, dy, w, nullptr, dx, st);
  wx<3>(s, true, dy, w, nullptr, dx, st);
}

void conv3d_backward_weight(const Conv3dShape& s, const bf16_t* x, const float* dy, float* dw, float* db,
                            cudaStream_t st) {
  check(s, "conv3d_backward_weight");
  kernel_check(conv3d_reads_bf16(s), "conv3d_backward_weight",
               "bfloat16 x needs TensorBF16 and the brick kernels (conv3d_reads_bf16)");
  if (s.n == 0) return conv3d_backward_weight(s, static_cast<const float*>(nullptr), dy, dw, db, st);  // zeros
  brick_wgrad_conv3(s, x, dy, dw, BrickMath::BF16, st);
  if (db) sum_mid(dy, s.n, s.c_out, s.voxels(), db, st);
}

void conv3d_backward_weight(const Conv3dShape& s, const float* x, const float* dy, float* dw, float* db,
                            cudaStream_t st) {
  check(s, "conv3d_backward_weight");
  if (s.n == 0) {  // an empty batch contributes nothing: the gradients are zero
    fill(dw, s.c_out * s.c_in * s.kvol(), 0.0f, st);
    if (db) fill(db, s.c_out, 0.0f, st);
    return;
  }
#if !SSE_CUDA_SIM && defined(SSE_HAVE_CUDNN)
  if (!(g_algo.load() == ConvAlgo::Cudnn && cudnn_conv3d_backward_weight(s, x, dy, dw, st)))
#endif
    own_wgrad(s, x, dy, dw, st);
  if (db) sum_mid(dy, s.n, s.c_out, s.voxels(), db, st);
}

}  // namespace sse::cuda
