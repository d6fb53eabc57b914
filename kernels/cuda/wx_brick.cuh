// kernels/cuda/wx_brick.cuh — forward and backward data of the 3×3×3 convolution over bricks of
// output voxels, on tensor cores (mma.sync TF32 / BF16) or as their SIMT fp32 twin.
//
//   dst[n, m, v] = Σ_{c, t} W'[m, t, c] · src[n, c, v + δt]  (+ bias[m])        27 taps, zero padding
//   forward        src = x,  W'[o, t, ci] = w[o, ci, t],       M = c_out, c_k = c_in   (flip = false)
//   backward data  src = dy, W'[ci, t, o] = w[o, ci, 26 − t],  M = c_in,  c_k = c_out  (flip = true:
//                  a convolution of dy with the flipped, transposed weight; no bias)
// One GEMM per brick: C[m, v] = Σ_{(c, t)} A_t[m, c] · B_t[c, v], M rows × the brick's voxels, K = the
// c_k channels × 27 taps, where B_t is the src halo shifted by tap t — each src value staged once
// serves the 9 taps of its plane, where the implicit GEMM (igemm.cuh) gathers it 27 times.
//
// Tiling. A block owns BM rows (Small 32, Medium 64, Large 128; Auto: the smallest that covers M, up
// to 128) × one brick of 1 × 8 × 16 output voxels (one z plane, 8 rows, 16 columns; voxels past the
// volume are computed on zeros and not stored, so any D, H, W works). K is walked in stages of one
// chunk of channels (8; BF16: 16) × one tap plane tz: per stage the block stages the weight tile
// BM × 9 taps × chunk (16-byte cp.async) and the src halo plane chunk × 10 rows × 18 columns,
// double-buffered so the next stage's copies are in flight during the multiplies. A brick on the
// first or last z plane skips the tap plane that lies outside the volume (its stages would multiply
// zeros only): 3·chunks stages a block inside, 2·chunks on those planes. Warps are
// (BM / (16·FM)) × 4: a warp owns FM × 16 rows × 2 brick rows × 16 columns, i.e. FM × 4 mma.sync
// accumulator fragments of 16 rows × 8 voxels (mma.cuh's layouts).
//
// Weight. The call first rearranges w into the word array the kernel copies: (M, 27, kw) words with
// kw = 8 · ceil(c_k / chunk) — fp32 (Simt), fp32 rounded to TF32 (TF32), or BF16 pairs of channels
// (2j, 2j + 1) (BF16); channels past c_k are zeros. It lives in the device's workspace (workspace.cuh)
// for the call. The src halo is rounded as fragments load (TF32) or packed when staged (BF16).
//
// Inference (WxEval): the forward's src may come in two parts by channel, and the epilogue applies
// eval-mode batch norm and ReLU from the layer's parameters (kernels/batchnorm.h's bn_eval_affine and
// affine_act, as batchnorm_forward_eval computes them), so a decoder block's first half is one kernel.
//
// Math as in wgrad_brick.cuh: fp32 accumulation; in the SIM build mma.sync is emulated exactly, so
// all three maths run in ctest. No split, no atomics: each output is one accumulator's sum in a fixed
// order, so a run repeats bit for bit. Outputs are overwritten.
#pragma once

#include "kernels/conv3d.h"
#include "kernels/cuda/brick_math.h"

namespace sse::cuda {

// Rows per block: Auto chooses by M (tests and benchmarks force one).
enum class WxTile { Auto, Small, Medium, Large };

// The inference extras of a forward (cuda::conv3d_forward_eval): src holds the first c_src channels
// of each image and src2 the other c_k − c_src (a U-Net decoder's two inputs, never concatenated;
// src2 null when c_src = c_k), and bn is applied to each output as it is stored.
struct WxEval {
  const float* src2 = nullptr;
  index_t c_src = 0;
  ConvBnEval bn;
};

// dst (s.n, M, d, h, w) from src (s.n, c_k, d, h, w) and w (c_out, c_in, 3, 3, 3) as above; s.k must
// be 3 and s.n ≥ 1. bias (M) or null. `eval` (forward only) as above, or null.
void brick_conv3_wx(const Conv3dShape& s, bool flip, const float* src, const float* w, const float* bias, float* dst,
                    BrickMath math, cudaStream_t st, WxTile tile = WxTile::Auto, const WxEval* eval = nullptr);
// The forward with src stored as bfloat16 (bf16 activations), read as it is stored into the BF16
// pairs: math must be BF16; the result equals the float form's on the widened src bit for bit.
void brick_conv3_wx(const Conv3dShape& s, const bf16_t* src, const float* w, const float* bias, float* dst,
                    BrickMath math, cudaStream_t st, WxTile tile = WxTile::Auto);

}  // namespace sse::cuda
