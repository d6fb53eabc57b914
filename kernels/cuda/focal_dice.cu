// The fused focal + Dice loss on CUDA (contract in kernels/focal_dice.h). Compiled by nvcc in the
// CUDA build and by the host compiler against kernels/sim in the SIM build.
//
// Pass 1  one block per (chunk of kFocalDiceChunk voxels, image): each thread accumulates its voxels
//         (grid-stride inside the chunk) in float registers, the block reduces each quantity with
//         warp shuffles then across warps in a fixed order, and writes one row of `partials`; with
//         a backward to come it also stores each voxel's softmax in the gradient buffer.
// Combine one block: one warp per (image, quantity) sums the chunk partials in double (lane-strided,
//         then a shuffle tree: a fixed order), then thread 0 runs focal_dice_finalize (shared with
//         the CPU) into `stats`. No atomics anywhere: the same inputs give the same bits on every run.
// Pass 2  grid (voxel blocks, images), one thread per voxel (grid-stride): read the stored softmax,
//         write the C gradient values over it.
//
// Bytes moved per voxel (C = 3): pass 1 reads 12 B of logits + 4 B of label and, when a backward
// follows, writes 12 B of probabilities; pass 2 reads the probabilities and the label and writes the
// 12 B gradient over them: 56 B per voxel in all, 16C + 8 in general (16 B for a forward alone);
// partials and stats are O(N·S/kFocalDiceChunk) and O(N·C). For 1×3×128³: 117.4 MB with the backward,
// so GB/s = 117.4 MB / (t_pass1 + t_combine + t_pass2), against the device's peak.
#include "kernels/cuda/cuda_common.cuh"

#include <algorithm>

#include "kernels/focal_dice.h"

namespace sse::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kMaxQuantities = 3 + 3 * (kMaxSoftmaxChannels - 1);

// kC > 0: the number of classes known at compile time (the loops unroll and the accumulators stay in
// registers); kC = 0: sh.c at run time.
template <int kC>
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
  for (index_t v = v0 + threadIdx.x; v < v1; v += blockDim.x)
    focal_dice_accumulate_voxel(x + v, sh.s, c, lab[v], prm.ignore_index, prm.gamma, acc, pr ? pr + v : pr);

  __shared__ float warp_sums[kWarps][kMaxQuantities];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int i = 0; i < q; ++i) {
    float s = acc[i];
    for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
    if (lane == 0) warp_sums[warp][i] = s;
  }
  __syncthreads();
  if (static_cast<int>(threadIdx.x) < q) {
    float s = 0.0f;
    for (int w = 0; w < kWarps; ++w) s += warp_sums[w][threadIdx.x];
    partials[(n * gridDim.x + chunk) * q + threadIdx.x] = s;
  }
}

__global__ void __launch_bounds__(kThreads) focal_dice_combine(index_t n_img, int c, index_t chunks,
                                                               FocalDiceParams prm, const float* partials,
                                                               float* stats) {
  SSE_DYNAMIC_SHARED(double, totals);  // n_img · q
  const int q = focal_dice_quantities(c);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  // One warp per (image, quantity): lane-strided sums over the chunks in double, then a shuffle tree.
  for (index_t i = warp; i < n_img * q; i += kWarps) {
    const index_t n = i / q, j = i % q;
    double s = 0.0;
    for (index_t ch = lane; ch < chunks; ch += 32) s += partials[(n * chunks + ch) * q + j];
    for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
    if (lane == 0) totals[i] = s;
  }
  __syncthreads();
  if (threadIdx.x == 0) focal_dice_finalize(n_img, c, prm, totals, stats);
}

// Grid (voxel blocks, images): no 64-bit division per voxel to find the image.
template <int kC>
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
  for (index_t v = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; v < sh.s; v += step)
    focal_dice_grad_voxel(pr + v, sh.s, c, lab[v], prm.gamma, focal_coef, coef, scale, g + v);
}

}  // namespace

void focal_dice_forward(const FocalDiceShape& sh, const FocalDiceParams& prm, const float* logits,
                        const std::int32_t* labels, float* partials, float* stats, float* probs,
                        cudaStream_t st) {
  focal_dice_check(sh, prm);
  const index_t chunks = focal_dice_chunks(sh);
  kernel_check(sh.n <= 65535, "focal_dice", "at most 65535 images per batch");
  const std::size_t smem = static_cast<std::size_t>(sh.n * focal_dice_quantities(sh.c) + 1) * sizeof(double);
  kernel_check(smem <= 48 * 1024, "focal_dice", "batch too large for the combine kernel's shared memory");
  auto pass1 = sh.c == 3 ? &focal_dice_pass1<3> : &focal_dice_pass1<0>;
  launch(pass1, dim3(static_cast<unsigned>(chunks), static_cast<unsigned>(sh.n)), dim3(kThreads), 0, st, sh, prm,
         logits, labels, partials, probs);
  launch(&focal_dice_combine, dim3(1), dim3(kThreads), smem, st, sh.n, sh.c, chunks, prm,
         static_cast<const float*>(partials), stats);
}

void focal_dice_backward(const FocalDiceShape& sh, const FocalDiceParams& prm, const float* probs,
                         const std::int32_t* labels, const float* stats, const float* grad_out, float* dlogits,
                         cudaStream_t st) {
  focal_dice_check(sh, prm);
  kernel_check(sh.n <= 65535, "focal_dice", "at most 65535 images per batch");
  const index_t blocks = std::min<index_t>((sh.s + kThreads - 1) / kThreads, index_t{1} << 20);
  auto pass2 = sh.c == 3 ? &focal_dice_pass2<3> : &focal_dice_pass2<0>;
  launch(pass2, dim3(static_cast<unsigned>(blocks), static_cast<unsigned>(sh.n)), dim3(kThreads), 0, st, sh, prm,
         probs, labels, stats, grad_out, dlogits);
}

}  // namespace sse::cuda
