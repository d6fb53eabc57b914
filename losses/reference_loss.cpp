// The unfused composition of engine ops — softmax → log → focal → Dice, each a differentiable op with
// its own autograd Node — kept as the oracle of the fused kernel (LossConfig::fused = false).
// Written to read like the formulas in losses/README.md, not to be fast: every step materialises an
// (N, C, ...) or (N, 1, ...) tensor. Valid for moderate logits only (log of an underflowed softmax
// probability is −inf here).
#include "engine/ops.h"
#include "losses/internal.h"

namespace sse::losses::detail {
namespace {

// (N, c, ...) made of c copies of the one-channel mask m (N, 1, ...). Not differentiable.
Tensor repeat_channels(const Tensor& m, index_t c) {
  Tensor r = m;
  for (index_t k = 1; k < c; ++k) r = ops::concat_channels(r, m);
  return r;
}

class UnfusedLoss final : public Loss {
 public:
  explicit UnfusedLoss(const LossConfig& cfg) : Loss(cfg) {}

  Tensor forward(const Tensor& logits, const Tensor& labels, const LossShare& share) override {
    const char* who = "loss (unfused)";
    const FocalDiceShape sh = check_inputs(who, logits, labels, cfg_);
    const LabelScan scan = scan_labels(labels, sh.c, cfg_.ignore_index);
    if (scan.bad > 0) throw_bad_labels(who, labels, sh.c, cfg_.ignore_index);
    const float wa = weight_first(), wb = weight_dice(), g = gamma();
    const index_t c = sh.c;

    Tensor y, counted;  // one-hot labels (zero rows at ignored voxels) and the counted-voxel mask
    {
      NoGradGuard ng;
      y = ops::one_hot(labels, static_cast<int>(c), cfg_.ignore_index);
      counted = ops::sum_channels(y);  // (N, 1, ...): 1 where counted
    }
    const Tensor p = ops::softmax_channels(logits);

    // F = −(1/M) Σ (1 − p_t)^γ log p_t, with log p_t = Σ_c log(p)·y.
    Tensor first;
    {
      std::unique_ptr<NoGradGuard> off = wa == 0.0f ? std::make_unique<NoGradGuard>() : nullptr;
      const Tensor log_pt = ops::sum_channels(ops::mul(ops::log(p), y));
      Tensor term = log_pt;
      if (g != 0.0f) {
        // 1 − p_t as Σ_{k≠t} p_k: the same value, without the cancellation of 1 − p_t when p_t → 1
        Tensor not_y;
        {
          NoGradGuard ng;
          not_y = ops::add_scalar(ops::neg(y), 1.0f);
        }
        const Tensor one_minus_pt = ops::sum_channels(ops::mul(p, not_y));
        term = ops::mul(ops::pow(one_minus_pt, g), log_pt);
      }
      const double m = share.counted > 0.0 ? share.counted : scan.counted;
      first = ops::scale(ops::sum(term), m > 0 ? static_cast<float>(-1.0 / m) : 0.0f);
    }

    // DL = 1 − mean_n D_n over the foreground channels 1..C−1 of the counted voxels.
    Tensor dice_loss;
    {
      std::unique_ptr<NoGradGuard> off = wb == 0.0f ? std::make_unique<NoGradGuard>() : nullptr;
      const Tensor pm = ops::mul(p, repeat_channels(counted, c));      // p at counted voxels only
      const Tensor p_fg = ops::narrow_channels(pm, 1, c), y_fg = ops::narrow_channels(y, 1, c);
      Tensor inter = ops::sum_spatial(ops::mul(p_fg, y_fg));          // (N, C−1)
      Tensor psum = ops::sum_spatial(p_fg);
      Tensor ysum = ops::sum_spatial(y_fg);
      Tensor dice;                                                     // (N, 1)
      if (cfg_.per_class) {
        const Tensor dk = ops::div(ops::add_scalar(ops::scale(inter, 2.0f), cfg_.eps),
                                   ops::add_scalar(ops::add(psum, ysum), cfg_.eps));
        dice = ops::scale(ops::sum_channels(dk), 1.0f / static_cast<float>(c - 1));
      } else {
        dice = ops::div(ops::add_scalar(ops::scale(ops::sum_channels(inter), 2.0f), cfg_.eps),
                        ops::add_scalar(ops::add(ops::sum_channels(psum), ops::sum_channels(ysum)), cfg_.eps));
      }
      // (1/N_total) Σ_n (1 − D_n); n/N is exactly 1 for a whole batch
      const float images = share.images > 0.0 ? static_cast<float>(share.images) : static_cast<float>(sh.n);
      dice_loss = ops::add_scalar(ops::scale(ops::sum(dice), -1.0f / images), static_cast<float>(sh.n) / images);
    }

    Tensor loss;
    if (wa != 0.0f && wb != 0.0f) {
      loss = ops::add(ops::scale(first, wa), ops::scale(dice_loss, wb));
    } else if (wb != 0.0f) {
      loss = ops::scale(dice_loss, wb);
    } else {
      loss = ops::scale(first, wa);
    }
    terms_.loss = loss.item();
    terms_.first = first.item();
    terms_.dice_loss = dice_loss.item();
    terms_.counted = scan.counted;
    return loss;
  }
};

}  // namespace

std::unique_ptr<Loss> make_unfused(const LossConfig& cfg) { return std::make_unique<UnfusedLoss>(cfg); }

}  // namespace sse::losses::detail
