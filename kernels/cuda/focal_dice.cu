// The fused focal + Dice loss on CUDA (contract in kernels/focal_dice.h). Compiled by nvcc in the
// CUDA build and by the host compiler against kernels/sim in the SIM build.
//
// Pass 1  one block of 256 threads per (chunk of kFocalDiceChunk = 1024 voxels, image). Vectorized
//         (S % 4 = 0 and 16-byte aligned buffers, the study's volumes): each thread reads its 4
//         consecutive voxels as one float4 per class and one int4 of labels, and writes their
//         softmax as one float4 per class; otherwise one voxel at a time, block-strided. Each thread
//         accumulates in float registers; the block reduces every quantity with a shuffle tree per
//         warp, then warp 0 combines the 8 warp sums with another shuffle tree (no thread loops over
//         the others), and one row of `partials` is written, quantity-major ([image][q][chunk]) so
//         that the combine reads it coalesced.
// Combine one block of 1024 threads: one warp per (image, quantity) sums the chunk partials in
//         double (lane-strided over consecutive chunks, then a shuffle tree: a fixed order), then
//         thread 0 runs focal_dice_finalize (shared with the CPU; O(N·C) work) into `stats`.
// Pass 2  grid (voxel blocks, images): each thread reads 4 voxels' stored softmax (float4 per
//         class) and labels (int4) and writes their gradient over them; scalar when not vectorizable.
// No atomics anywhere: the same inputs give the same bits on every run.
//
// Bytes moved per voxel (C = 3): pass 1 reads 12 B of logits + 4 B of label and, when a backward
// follows, writes 12 B of probabilities; pass 2 reads the probabilities and the label and writes the
// 12 B gradient over them: 56 B per voxel in all, 16C + 8 in general (16 B for a forward alone);
// partials and stats are O(N·S/kFocalDiceChunk) and O(N·C). For 1×3×128³: 117.4 MB with the backward,
// so GB/s = 117.4 MB / (t_pass1 + t_combine + t_pass2), against a device-to-device copy's.
#include "kernels/cuda/cuda_common.cuh"

#include <algorithm>

#include "kernels/cuda/device_util.cuh"
#include "kernels/focal_dice.h"

namespace sse::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kMaxQuantities = 3 + 3 * (kMaxSoftmaxChannels - 1);
constexpr int kCombineThreads = 1024;
static_assert(4 * kThreads == kFocalDiceChunk, "a vectorized pass-1 thread owns 4 voxels of the chunk");

__device__ inline float lane_of(const float4& v, int j) { return j == 0 ? v.x : j == 1 ? v.y : j == 2 ? v.z : v.w; }
__device__ inline std::int32_t lane_of(const int4& v, int j) {
  return j == 0 ? v.x : j == 1 ? v.y : j == 2 ? v.z : v.w;
}

// f(j, values, label) for the 4 voxels v + j: values[k] is class k's (one float4 load per class),
// label the voxel's (one int4 load).
template <int kCap, class F>
__device__ void each_of4(const float* x, index_t s, int c, const std::int32_t* lab, index_t v, F&& f) {
  float4 xv[kCap];
  for (int k = 0; k < c; ++k) xv[k] = *reinterpret_cast<const float4*>(x + k * s + v);
  const int4 lv = *reinterpret_cast<const int4*>(lab + v);
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    float xs[kCap];
    for (int k = 0; k < c; ++k) xs[k] = lane_of(xv[k], j);
    f(j, xs, lane_of(lv, j));
  }
}

// vals[j][k] (voxel v + j, class k) stored as one float4 per class.
template <int kCap>
__device__ void store4(float* y, index_t s, int c, index_t v, const float (&vals)[4][kCap]) {
  for (int k = 0; k < c; ++k)
    *reinterpret_cast<float4*>(y + k * s + v) = make_float4(vals[0][k], vals[1][k], vals[2][k], vals[3][k]);
}

// Pass 1 of the 4 voxels at v (all inside the image): float4 loads and stores, per class.
template <int kC>
__device__ void accumulate4(const float* x, index_t s, int c, const std::int32_t* lab, index_t v, std::int32_t ignore,
                            float gamma, float* acc, float* pr) {
  constexpr int kCap = kC > 0 ? kC : kMaxSoftmaxChannels;
  float p[4][kCap] = {};  // voxels that are not counted store zeros
  each_of4<kCap>(x, s, c, lab, v, [&](int j, const float* xs, std::int32_t t) {
    focal_dice_accumulate_voxel(xs, 1, c, t, ignore, gamma, acc, pr ? p[j] : nullptr);
  });
  if (pr) store4(pr, s, c, v, p);
}

// kC > 0: the number of classes known at compile time (the loops unroll and the accumulators stay in
// registers); kC = 0: sh.c at run time. kVec: the float4 form (S % 4 = 0, aligned buffers).
template <int kC, bool kVec>
__global__ void __launch_bounds__(kThreads) focal_dice_pass1(FocalDiceShape sh, FocalDiceParams prm,
                                                             const float* logits, const std::int32_t* labels,
                                                             float* partials, float* probs) {
  const int c = kC > 0 ? kC : sh.c;
  const int q = focal_dice_quantities(c);
  const index_t n = blockIdx.y, chunk = blockIdx.x;
  const index_t v0 = chunk * kFocalDiceChunk;
  const index_t v1 = v0 + kFocalDiceChunk < sh.s ? v0 + kFocalDiceChunk : sh.s;
  const float* x = logits + n * c * sh.s;
  const std::int32_t* lab = labels + n * sh.s;
  float* pr = probs ? probs + n * c * sh.s : nullptr;

  float acc[kC > 0 ? 3 + 3 * (kC - 1) : kMaxQuantities];
  for (int i = 0; i < q; ++i) acc[i] = 0.0f;
  if (kVec) {
    const index_t v = v0 + 4 * static_cast<index_t>(threadIdx.x);
    if (v < v1) accumulate4<kC>(x, sh.s, c, lab, v, prm.ignore_index, prm.gamma, acc, pr);
  } else {
    for (index_t v = v0 + threadIdx.x; v < v1; v += blockDim.x)
      focal_dice_accumulate_voxel(x + v, sh.s, c, lab[v], prm.ignore_index, prm.gamma, acc, pr ? pr + v : pr);
  }

  __shared__ float warp_sums[kMaxQuantities][kWarps];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int i = 0; i < q; ++i) {
    const float s = warp_sum(acc[i]);
    if (lane == 0) warp_sums[i][warp] = s;
  }
  __syncthreads();
  if (warp == 0) {
    const index_t chunks = gridDim.x;
    for (int i = 0; i < q; ++i) {
      const float s = warp_sum(lane < kWarps ? warp_sums[i][lane] : 0.0f);
      if (lane == 0) partials[(n * q + i) * chunks + chunk] = s;
    }
  }
}

__global__ void __launch_bounds__(kCombineThreads) focal_dice_combine(index_t n_img, int c, index_t chunks,
                                                                      FocalDiceParams prm, const float* partials,
                                                                      float* stats) {
  SSE_DYNAMIC_SHARED(double, totals);  // n_img · q
  const int q = focal_dice_quantities(c);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  // One warp per (image, quantity) row of partials: lane-strided sums over consecutive chunks (coalesced)
  // in double, then a shuffle tree.
  for (index_t i = warp; i < n_img * q; i += warps) {
    const float* row = partials + i * chunks;
    double s = 0.0;
    for (index_t ch = lane; ch < chunks; ch += 32) s += row[ch];
    s = warp_sum(s);
    if (lane == 0) totals[i] = s;
  }
  __syncthreads();
  if (threadIdx.x == 0) focal_dice_finalize(n_img, c, prm, totals, stats);
}

// Pass 2 of the 4 voxels at v: float4 loads and stores per class.
template <int kC>
__device__ void grad4(const float* pr, index_t s, int c, const std::int32_t* lab, index_t v, float gamma,
                      float focal_coef, const float* coef, float scale, float* g) {
  constexpr int kCap = kC > 0 ? kC : kMaxSoftmaxChannels;
  float out[4][kCap];
  each_of4<kCap>(pr, s, c, lab, v, [&](int j, const float* ps, std::int32_t t) {
    focal_dice_grad_voxel(ps, 1, c, t, gamma, focal_coef, coef, scale, out[j]);
  });
  store4(g, s, c, v, out);
}

// Grid (voxel blocks, images): no 64-bit division per voxel to find the image.
template <int kC, bool kVec>
__global__ void __launch_bounds__(kThreads) focal_dice_pass2(FocalDiceShape sh, FocalDiceParams prm,
                                                             const float* probs, const std::int32_t* labels,
                                                             const float* stats, const float* grad_out,
                                                             float* dlogits) {
  const int c = kC > 0 ? kC : sh.c;
  const index_t n = blockIdx.y;
  const float scale = grad_out ? grad_out[0] : 1.0f;
  const float focal_coef = stats[kFdFocalCoef];
  const float* coef = stats + kFdHeader + 2 * n * (c - 1);
  const float* pr = probs + n * c * sh.s;
  float* g = dlogits + n * c * sh.s;
  const std::int32_t* lab = labels + n * sh.s;
  const index_t step = static_cast<index_t>(gridDim.x) * blockDim.x;
  const index_t first = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (kVec) {
    for (index_t v = 4 * first; v < sh.s; v += 4 * step)
      grad4<kC>(pr, sh.s, c, lab, v, prm.gamma, focal_coef, coef, scale, g);
  } else {
    for (index_t v = first; v < sh.s; v += step)
      focal_dice_grad_voxel(pr + v, sh.s, c, lab[v], prm.gamma, focal_coef, coef, scale, g + v);
  }
}

bool aligned16(const void* p) { return p == nullptr || (reinterpret_cast<std::uintptr_t>(p) & 15u) == 0; }

// The float4 forms need whole groups of 4 voxels per image and 16-byte aligned bases.
bool vectorizable(const FocalDiceShape& sh, std::initializer_list<const void*> ptrs) {
  if (sh.s % 4 != 0) return false;
  for (const void* p : ptrs)
    if (!aligned16(p)) return false;
  return true;
}

template <bool kVec> auto pass1_for(int c) { return c == 3 ? &focal_dice_pass1<3, kVec> : &focal_dice_pass1<0, kVec>; }
template <bool kVec> auto pass2_for(int c) { return c == 3 ? &focal_dice_pass2<3, kVec> : &focal_dice_pass2<0, kVec>; }

}  // namespace

void focal_dice_forward(const FocalDiceShape& sh, const FocalDiceParams& prm, const float* logits,
                        const std::int32_t* labels, float* partials, float* stats, float* probs,
                        cudaStream_t st) {
  focal_dice_check(sh, prm);
  const index_t chunks = focal_dice_chunks(sh);
  kernel_check(sh.n <= 65535, "focal_dice", "at most 65535 images per batch");
  const std::size_t smem = static_cast<std::size_t>(sh.n * focal_dice_quantities(sh.c) + 1) * sizeof(double);
  kernel_check(smem <= 48 * 1024, "focal_dice", "batch too large for the combine kernel's shared memory");
  const dim3 grid(static_cast<unsigned>(chunks), static_cast<unsigned>(sh.n));
  if (vectorizable(sh, {logits, labels, probs})) {
    launch(pass1_for<true>(sh.c), grid, dim3(kThreads), 0, st, sh, prm, logits, labels, partials, probs);
  } else {
    launch(pass1_for<false>(sh.c), grid, dim3(kThreads), 0, st, sh, prm, logits, labels, partials, probs);
  }
  launch(&focal_dice_combine, dim3(1), dim3(kCombineThreads), smem, st, sh.n, sh.c, chunks, prm,
         static_cast<const float*>(partials), stats);
}

void focal_dice_backward(const FocalDiceShape& sh, const FocalDiceParams& prm, const float* probs,
                         const std::int32_t* labels, const float* stats, const float* grad_out, float* dlogits,
                         cudaStream_t st) {
  focal_dice_check(sh, prm);
  kernel_check(sh.n <= 65535, "focal_dice", "at most 65535 images per batch");
  const bool vec = vectorizable(sh, {probs, labels, dlogits});
  const index_t per_thread = vec ? 4 : 1;
  const index_t per_block = kThreads * per_thread;
  const index_t blocks = std::min<index_t>((sh.s + per_block - 1) / per_block, index_t{1} << 20);
  const dim3 grid(static_cast<unsigned>(blocks), static_cast<unsigned>(sh.n));
  if (vec) {
    launch(pass2_for<true>(sh.c), grid, dim3(kThreads), 0, st, sh, prm, probs, labels, stats, grad_out, dlogits);
  } else {
    launch(pass2_for<false>(sh.c), grid, dim3(kThreads), 0, st, sh, prm, probs, labels, stats, grad_out, dlogits);
  }
}

}  // namespace sse::cuda
