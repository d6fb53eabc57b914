// kernels/focal_dice.h — the fused focal cross-entropy + Dice loss of (N, C, S) logits against
// (N, S) int32 labels, on both devices, in one pair of passes (S = D·H·W voxels).
//
//   loss = λ_a · F + λ_b · DL
//   F    = −(1/M) Σ_{counted v} (1 − p_t)^γ · log p_t          (γ = 0: cross entropy; M = 0 → F = 0)
//   DL   = 1 − (1/N) Σ_n D_n,  D_n over the foreground classes k = 1..C−1 (class 0 excluded):
//          (M and N may be those of a larger batch: FocalDiceParams::counted_total, images_total)
//          pooled:    D_n = (2 Σ_k I_nk + ε) / (Σ_k P_nk + Σ_k Y_nk + ε)
//          per_class: D_n = 1/(C−1) Σ_k (2 I_nk + ε) / (P_nk + Y_nk + ε)
//          I_nk = Σ_v p_vk y_vk, P_nk = Σ_v p_vk, Y_nk = Σ_v y_vk over the counted voxels of image n.
// p = softmax over channels, t = the voxel's label, y = one-hot(t). A voxel is counted when its label
// is in 0..C−1; labels equal to ignore_index are excluded from every term (no F term, no Dice sums,
// zero gradient); any other label is invalid: it is excluded like an ignored voxel and counted in
// stats[kFdBadLabels] so the caller can refuse the input (the kernels never throw on data).
//
// Pass 1 (focal_dice_forward): per voxel, softmax + focal term + Dice partial sums, reduced per
//   (image, chunk of kFocalDiceChunk voxels) into `partials`, then combined in a fixed order in
//   double into `stats` (loss, terms, and the per-(image, class) coefficients that pass 2 needs).
//   The chunking is the same on both devices and independent of the thread count: deterministic.
//   When a backward will follow, pass 1 also stores each voxel's softmax in the gradient buffer.
// Pass 2 (focal_dice_backward): per voxel, reads those probabilities back and overwrites them with
//   dlogits = grad_out[0] · d loss / d logits, using the coefficients in `stats`: no exp, and the
//   logits are not read again.
// Memory traffic per voxel: pass 1 reads the logits (4C B) and the label (4 B) and, with a backward
// to come, writes the probabilities (4C B); pass 2 reads probabilities and label and writes the
// gradient in place (8C + 4 B): 16C + 8 bytes in all (56 B for C = 3; 4C + 4 = 16 B for a forward
// alone). The logits are read once. Nothing of size (N, C, S) besides the gradient buffer is written.
//
// All per-voxel and finalize math lives below as SSE_HD functions used by both devices.
#pragma once

#include <cmath>

#include "kernels/channels.h"
#include "kernels/common.h"

namespace sse {

struct FocalDiceShape {
  index_t n = 1;  // images
  int c = 3;      // classes, 2..kMaxSoftmaxChannels (class 0 is the background)
  index_t s = 1;  // voxels per image
  int k() const { return c - 1; }  // foreground classes
};

struct FocalDiceParams {
  float gamma = 0.0f;       // focal exponent ≥ 0 (0: cross entropy)
  float eps = 1e-5f;        // Dice smoothing ε > 0
  float lambda_a = 1.0f;    // weight of the (focal) cross-entropy term
  float lambda_b = 1.0f;    // weight of the Dice loss term
  bool per_class = false;   // Dice: average of per-class coefficients instead of one pooled coefficient
  std::int32_t ignore_index = -1;
  // Denominators of a whole batch that these N images are a part of (data-parallel ranks; 0: these
  // images are the whole batch): F divides by counted_total instead of M and the Dice term by
  // images_total instead of N, i.e. F = −(1/M_total) Σ ..., DL = (1/N_total) Σ_n (1 − D_n). The parts'
  // losses (and gradients) then add up to the whole batch's.
  double counted_total = 0.0, images_total = 0.0;
};

// Voxels per reduction chunk (one CUDA block, one CPU task).
constexpr index_t kFocalDiceChunk = 1024;

// Layout of the `stats` buffer (floats) written by pass 1 and read by pass 2.
enum : int {
  kFdLoss = 0,        // λ_a·F + λ_b·DL
  kFdFocal = 1,       // F (the mean focal / cross-entropy term, unweighted)
  kFdDiceLoss = 2,    // DL = 1 − mean_n D_n (unweighted)
  kFdCounted = 3,     // M, the number of counted voxels (as float)
  kFdBadLabels = 4,   // voxels whose label is neither in 0..C−1 nor ignore_index
  kFdFocalCoef = 5,   // λ_a / M (0 when M = 0): scale of the focal gradient
  kFdHeader = 6,      // then, per image n and foreground class k = 1..C−1, two floats:
                      //   [kFdHeader + 2((n·(C−1)) + k−1)]     α_nk = λ_b·w / (N·den_nk)
                      //   [kFdHeader + 2((n·(C−1)) + k−1) + 1] β_nk = D_nk
                      // so that d loss/d p_vk (Dice part) = α_nk (β_nk − 2 y_vk); w = 1 pooled, 1/(C−1) per class.
};

// Per-(image, chunk) partial sums: [0] Σ focal term, [1] counted voxels, [2] invalid labels, then per
// foreground class k: I_k, P_k, Y_k.
SSE_HD inline int focal_dice_quantities(int c) { return 3 + 3 * (c - 1); }
inline index_t focal_dice_chunks(const FocalDiceShape& sh) { return (sh.s + kFocalDiceChunk - 1) / kFocalDiceChunk; }
// Floats in `partials` (pass-1 workspace); at least one so that an empty volume has a valid buffer.
inline index_t focal_dice_partials_size(const FocalDiceShape& sh) {
  const index_t n = sh.n * focal_dice_chunks(sh) * focal_dice_quantities(sh.c);
  return n > 0 ? n : 1;
}
inline index_t focal_dice_stats_size(const FocalDiceShape& sh) { return kFdHeader + 2 * sh.n * (sh.c - 1); }

// b^g with an exact fast path for the small integer exponents of the study (0^0 = 1).
SSE_HD inline float focal_pow(float b, float g) {
  const int gi = static_cast<int>(g);
  if (static_cast<float>(gi) == g && gi >= 0 && gi <= 16) {
    float r = 1.0f;
    for (int i = 0; i < gi; ++i) r *= b;
    return r;
  }
  return powf(b, g);
}

// log(1 + r) for r ≥ 0, accurate to a few ulp (Goldberg's trick: the rounding of u = 1 + r cancels in
// log(u)/(u − 1)); uses logf, which is several times faster than glibc's log1pf.
SSE_HD inline float focal_log1p(float r) {
  const float u = 1.0f + r;
  return u == 1.0f ? r : logf(u) * (r / (u - 1.0f));
}

// One voxel's stable softmax with the true-class quantities the focal term needs, accurate when
// p_t → 1 (where the naive forms lose every digit):
//   p[k] (all classes);  log p_t = (x_t − m) − log1p(Σ_{k≠argmax} e_k)   (e_argmax = 1 exactly)
//   1 − p_t = Σ_{k≠t} e_k / Z,  with e_k = exp(x_k − m), m = max_k x_k, Z = Σ_k e_k.
// t must be in 0..c−1. want_log = false skips log p_t (left 0) where the caller has no use for it.
SSE_HD inline void focal_softmax_voxel(const float* x, index_t stride, int c, int t, float* p, float* log_pt,
                                       float* one_minus_pt, bool want_log = true) {
  float m = x[0];
  int top = 0;
  for (int k = 1; k < c; ++k) {
    const float v = x[k * stride];
    if (v > m) {
      m = v;
      top = k;
    }
  }
  float rest_top = 0.0f, rest_t = 0.0f;
  for (int k = 0; k < c; ++k) {
#if defined(__CUDA_ARCH__)
    p[k] = expf(x[k * stride] - m);  // branch-free on the GPU; exp(0) = 1 exactly: the same values
#else
    p[k] = k == top ? 1.0f : expf(x[k * stride] - m);  // one libm call fewer per voxel on the CPU
#endif
    if (k != top) rest_top += p[k];
    if (k != t) rest_t += p[k];
  }
  const float inv = 1.0f / (1.0f + rest_top);
  for (int k = 0; k < c; ++k) p[k] *= inv;
  *log_pt = want_log ? (x[t * stride] - m) - focal_log1p(rest_top) : 0.0f;
  *one_minus_pt = rest_t * inv;
}

// The focal term −(1 − p_t)^γ log p_t.
SSE_HD inline float focal_term(float log_pt, float one_minus_pt, float gamma) {
  return gamma == 0.0f ? -log_pt : -focal_pow(one_minus_pt, gamma) * log_pt;
}

// g with d focal_term / d x_j = g · (δ_tj − p_j):  g = γ p_t (1 − p_t)^(γ−1) log p_t − (1 − p_t)^γ.
SSE_HD inline float focal_grad_factor(float pt, float log_pt, float one_minus_pt, float gamma) {
  if (gamma == 0.0f) return -1.0f;
  float w1;  // (1 − p_t)^(γ−1), defined as its limit 0 (γ > 1), 1 (γ = 1) at p_t = 1; for γ < 1 the
             // product with log p_t → 0 there
  if (one_minus_pt > 0.0f) {
    w1 = focal_pow(one_minus_pt, gamma - 1.0f);
  } else {
    w1 = gamma == 1.0f ? 1.0f : 0.0f;
  }
  return gamma * pt * w1 * log_pt - w1 * one_minus_pt;  // (1 − p_t)^γ = (1 − p_t)^(γ−1)·(1 − p_t)
}

// True when label t of a C-class problem is counted.
SSE_HD inline bool focal_dice_counted(std::int32_t t, int c) { return t >= 0 && t < c; }

// log p_t from stored probabilities: log1p(−(1 − p_t)) near p_t = 1 (accurate there), log p_t below;
// 0 where p_t underflowed to 0 (there it only multiplies p_t in the focal gradient).
// One logf and selects only (no data-dependent branch): log(u)·r/(u − 1) with u = fl(1 − (1 − p_t)) is
// Goldberg's log1p above 0.5.
SSE_HD inline float focal_log_pt(float pt, float one_minus_pt) {
  const bool high = pt > 0.5f;
  const float u = high ? 1.0f - one_minus_pt : (pt > 0.0f ? pt : 1.0f);
  const float d = u - 1.0f;
  const float corr = high && d != 0.0f ? -one_minus_pt / d : 1.0f;
  return high && d == 0.0f ? -one_minus_pt : logf(u) * corr;
}

// Pass 1 of one voxel: adds its contributions to acc (layout of focal_dice_quantities); Acc is
// double on the CPU, float per CUDA thread. When probs is not null, a counted voxel's softmax is
// stored at probs[k·stride] for pass 2 (it is the gradient buffer; other voxels are left as they are).
template <typename Acc>
SSE_HD inline void focal_dice_accumulate_voxel(const float* x, index_t stride, int c, std::int32_t t,
                                               std::int32_t ignore, float gamma, Acc* acc, float* probs) {
  if (!focal_dice_counted(t, c)) {
    if (t != ignore) acc[2] += 1;
    return;
  }
  float p[kMaxSoftmaxChannels];
  float log_pt, omp;
  focal_softmax_voxel(x, stride, c, t, p, &log_pt, &omp);
  acc[0] += focal_term(log_pt, omp, gamma);
  acc[1] += 1;
  for (int k = 1; k < c; ++k) {
    Acc* a = acc + 3 + 3 * (k - 1);
    const float y = t == k ? 1.0f : 0.0f;  // arithmetic, not a branch: p stays in registers on the GPU
    a[0] += p[k] * y;
    a[1] += p[k];
    a[2] += y;
  }
  if (probs)
    for (int k = 0; k < c; ++k) probs[k * stride] = p[k];
}

// Pass 2 of one voxel, from the probabilities pass 1 stored (no exp: the logits are not read again):
// writes scale · d loss/d x_j to g[j·stride] for j = 0..c−1; g may be probs (in place).
// coef = stats + kFdHeader + 2·n·(C−1) (this image's α, β pairs); focal_coef = stats[kFdFocalCoef].
SSE_HD inline void focal_dice_grad_voxel(const float* probs, index_t stride, int c, std::int32_t t, float gamma,
                                         float focal_coef, const float* coef, float scale, float* g) {
  if (!focal_dice_counted(t, c)) {
    for (int j = 0; j < c; ++j) g[j * stride] = 0.0f;
    return;
  }
  float p[kMaxSoftmaxChannels];
  float pt = 0.0f, omp = 0.0f;  // p[t] and 1 − p_t = Σ_{k≠t} p_k, without a run-time index into p
  for (int k = 0; k < c; ++k) {
    p[k] = probs[k * stride];
    pt += p[k] * (k == t ? 1.0f : 0.0f);
    omp += k == t ? 0.0f : p[k];
  }
  const bool focal = focal_coef != 0.0f;
  const float log_pt = focal && gamma != 0.0f ? focal_log_pt(pt, omp) : 0.0f;  // γ = 0 needs no log
  // Dice part: G_k = d loss / d p_k (G_0 = 0), pushed through the softmax Jacobian:
  //   p_j (G_j − Σ_k p_k G_k) = p_j Σ_{k≠j} p_k (G_j − G_k)      (Σ_k p_k = 1)
  // The right-hand form has no cancellation when p_j → 1, where the left one loses all its digits.
  // Focal part: ff (δ_tj − p_j), with 1 − p_t taken as Σ_{k≠t} p_k.
  float gk[kMaxSoftmaxChannels];
  gk[0] = 0.0f;
  for (int k = 1; k < c; ++k) gk[k] = coef[2 * (k - 1)] * (coef[2 * (k - 1) + 1] - (t == k ? 2.0f : 0.0f));
  const float ff = focal ? focal_coef * focal_grad_factor(pt, log_pt, omp, gamma) : 0.0f;
  for (int j = 0; j < c; ++j) {
    float dice = 0.0f;
    for (int k = 0; k < c; ++k)
      if (k != j) dice += p[k] * (gk[j] - gk[k]);
    const float focal_j = ff * (j == t ? omp : -p[j]);
    g[j * stride] = scale * (focal_j + p[j] * dice);
  }
}

// Turns the totals of pass 1 (double, per image: the focal_dice_quantities layout) into `stats`.
SSE_HD inline void focal_dice_finalize(index_t n_img, int c, const FocalDiceParams& prm, const double* totals,
                                       float* stats) {
  const int q = focal_dice_quantities(c), kf = c - 1;
  double focal = 0.0, counted = 0.0, bad = 0.0, dice_sum = 0.0;
  const double w = prm.per_class ? 1.0 / kf : 1.0;
  const double eps = prm.eps;
  const double images = prm.images_total > 0.0 ? prm.images_total : static_cast<double>(n_img);
  for (index_t n = 0; n < n_img; ++n) {
    const double* tn = totals + n * q;
    focal += tn[0];
    counted += tn[1];
    bad += tn[2];
    float* coef = stats + kFdHeader + 2 * n * kf;
    if (prm.per_class) {
      double dn = 0.0;
      for (int k = 0; k < kf; ++k) {
        const double den = tn[3 + 3 * k + 1] + tn[3 + 3 * k + 2] + eps;
        const double dk = (2.0 * tn[3 + 3 * k] + eps) / den;
        dn += dk;
        coef[2 * k] = static_cast<float>(prm.lambda_b * w / (images * den));
        coef[2 * k + 1] = static_cast<float>(dk);
      }
      dice_sum += dn * w;
    } else {
      double inter = 0.0, den = eps;
      for (int k = 0; k < kf; ++k) {
        inter += tn[3 + 3 * k];
        den += tn[3 + 3 * k + 1] + tn[3 + 3 * k + 2];
      }
      const double d = (2.0 * inter + eps) / den;
      dice_sum += d;
      for (int k = 0; k < kf; ++k) {
        coef[2 * k] = static_cast<float>(prm.lambda_b / (images * den));
        coef[2 * k + 1] = static_cast<float>(d);
      }
    }
  }
  const double m = prm.counted_total > 0.0 ? prm.counted_total : counted;
  const double f = m > 0.0 ? focal / m : 0.0;
  // n_img / images is exactly 1 for a whole batch: the same value as 1 − dice_sum / N.
  const double dl = n_img > 0 ? static_cast<double>(n_img) / images - dice_sum / images : 0.0;
  stats[kFdLoss] = static_cast<float>(prm.lambda_a * f + prm.lambda_b * dl);
  stats[kFdFocal] = static_cast<float>(f);
  stats[kFdDiceLoss] = static_cast<float>(dl);
  stats[kFdCounted] = static_cast<float>(counted);
  stats[kFdBadLabels] = static_cast<float>(bad);
  stats[kFdFocalCoef] = m > 0.0 ? static_cast<float>(prm.lambda_a / m) : 0.0f;
}

// Host-side argument checks shared by both devices (throws KernelError).
inline void focal_dice_check(const FocalDiceShape& sh, const FocalDiceParams& prm) {
  kernel_check(sh.n >= 0 && sh.s >= 0, "focal_dice", "negative sizes");
  kernel_check(sh.c >= 2 && sh.c <= kMaxSoftmaxChannels, "focal_dice",
               "2.." + std::to_string(kMaxSoftmaxChannels) + " classes supported, got " + std::to_string(sh.c));
  kernel_check(prm.gamma >= 0.0f && std::isfinite(prm.gamma), "focal_dice", "gamma must be finite and >= 0");
  kernel_check(prm.eps > 0.0f && std::isfinite(prm.eps), "focal_dice", "eps must be finite and > 0");
}

namespace cpu {
// partials: focal_dice_partials_size(sh) floats of workspace; stats: focal_dice_stats_size(sh) floats;
// probs: null (no backward to come) or (N, C, S) floats that receive the softmax of the counted voxels
// for focal_dice_backward — in practice the buffer that will hold the gradient. The entries of voxels
// that are not counted are unspecified (the CPU leaves them; the CUDA float4 path writes zeros):
// focal_dice_backward never reads them. The layout of `partials` is each device's own.
void focal_dice_forward(const FocalDiceShape& sh, const FocalDiceParams& prm, const float* logits,
                        const std::int32_t* labels, float* partials, float* stats, float* probs);
// dlogits (N, C, S) = grad_out[0] · d loss / d logits (grad_out null: 1), from the probs and stats of
// focal_dice_forward on the same labels. dlogits may be probs (in place).
void focal_dice_backward(const FocalDiceShape& sh, const FocalDiceParams& prm, const float* probs,
                         const std::int32_t* labels, const float* stats, const float* grad_out, float* dlogits);
}  // namespace cpu

namespace cuda {
void focal_dice_forward(const FocalDiceShape& sh, const FocalDiceParams& prm, const float* logits,
                        const std::int32_t* labels, float* partials, float* stats, float* probs, cudaStream_t st);
void focal_dice_backward(const FocalDiceShape& sh, const FocalDiceParams& prm, const float* probs,
                         const std::int32_t* labels, const float* stats, const float* grad_out, float* dlogits,
                         cudaStream_t st);
}  // namespace cuda

}  // namespace sse
