// The fused focal + Dice loss on the CPU (contract in kernels/focal_dice.h).
//
// Pass 1 runs one task per (image, chunk of kFocalDiceChunk voxels), accumulating in double, and
// writes the chunk's partial sums; the chunks are then added in index order in double. The partition
// does not depend on the thread count, so the result is the same with 1 or 64 threads.
// Both passes are specialised for C = 3 (the study's classes) so the channel loops unroll.
#include "kernels/focal_dice.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace sse::cpu {
namespace {

template <int kC>
void forward_chunks(const FocalDiceShape& sh, const FocalDiceParams& prm, const float* logits,
                    const std::int32_t* labels, float* partials, float* probs) {
  const int c = kC > 0 ? kC : sh.c;
  const int q = focal_dice_quantities(c);
  const index_t chunks = focal_dice_chunks(sh), tasks = sh.n * chunks;
#pragma omp parallel for schedule(static) if (sh.n * sh.s * c > kParallelGrain)
  for (index_t task = 0; task < tasks; ++task) {
    const index_t n = task / chunks, v0 = (task % chunks) * kFocalDiceChunk;
    const index_t v1 = std::min(sh.s, v0 + kFocalDiceChunk);
    const float* x = logits + n * c * sh.s;
    const std::int32_t* lab = labels + n * sh.s;
    float* pr = probs ? probs + n * c * sh.s : nullptr;
    double acc[3 + 3 * (kMaxSoftmaxChannels - 1)] = {};
    if (pr) {
      for (index_t v = v0; v < v1; ++v)
        focal_dice_accumulate_voxel(x + v, sh.s, c, lab[v], prm.ignore_index, prm.gamma, acc, pr + v);
    } else {
      for (index_t v = v0; v < v1; ++v)
        focal_dice_accumulate_voxel(x + v, sh.s, c, lab[v], prm.ignore_index, prm.gamma, acc,
                                    static_cast<float*>(nullptr));
    }
    float* out = partials + task * q;
    for (int i = 0; i < q; ++i) out[i] = static_cast<float>(acc[i]);
  }
}

template <int kC>
void backward_voxels(const FocalDiceShape& sh, const FocalDiceParams& prm, const float* probs,
                     const std::int32_t* labels, const float* stats, float scale, float* dlogits) {
  const int c = kC > 0 ? kC : sh.c;
  const float focal_coef = stats[kFdFocalCoef];
  for (index_t n = 0; n < sh.n; ++n) {
    const float* pr = probs + n * c * sh.s;
    float* g = dlogits + n * c * sh.s;
    const std::int32_t* lab = labels + n * sh.s;
    const float* coef = stats + kFdHeader + 2 * n * (c - 1);
#pragma omp parallel for schedule(static) if (sh.s * c > kParallelGrain)
    for (index_t v = 0; v < sh.s; ++v)
      focal_dice_grad_voxel(pr + v, sh.s, c, lab[v], prm.gamma, focal_coef, coef, scale, g + v);
  }
}

}  // namespace

void focal_dice_forward(const FocalDiceShape& sh, const FocalDiceParams& prm, const float* logits,
                        const std::int32_t* labels, float* partials, float* stats, float* probs) {
  focal_dice_check(sh, prm);
  if (sh.c == 3) {
    forward_chunks<3>(sh, prm, logits, labels, partials, probs);
  } else {
    forward_chunks<0>(sh, prm, logits, labels, partials, probs);
  }
  const int q = focal_dice_quantities(sh.c);
  const index_t chunks = focal_dice_chunks(sh);
  std::vector<double> totals(static_cast<std::size_t>(std::max<index_t>(1, sh.n * q)), 0.0);
  for (index_t n = 0; n < sh.n; ++n)
    for (index_t ch = 0; ch < chunks; ++ch)
      for (int i = 0; i < q; ++i) totals[static_cast<std::size_t>(n * q + i)] += partials[(n * chunks + ch) * q + i];
  focal_dice_finalize(sh.n, sh.c, prm, totals.data(), stats);
}

void focal_dice_backward(const FocalDiceShape& sh, const FocalDiceParams& prm, const float* probs,
                         const std::int32_t* labels, const float* stats, const float* grad_out, float* dlogits) {
  focal_dice_check(sh, prm);
  const float scale = grad_out ? grad_out[0] : 1.0f;
  if (sh.c == 3) {
    backward_voxels<3>(sh, prm, probs, labels, stats, scale, dlogits);
  } else {
    backward_voxels<0>(sh, prm, probs, labels, stats, scale, dlogits);
  }
}

}  // namespace sse::cpu
