// losses/loss.h — the five training losses of the study behind one interface, made by name.
//
//   "ce"      cross entropy                         F(γ=0)
//   "fce"     focal cross entropy                   F(γ)
//   "dl"      Dice loss                             DL
//   "ce_dl"   λ_a·CE + λ_b·DL
//   "fce_dl"  λ_a·FCE(γ) + λ_b·DL
// with F = −mean over counted voxels of (1 − p_t)^γ log p_t and DL = 1 − Dice over the foreground
// classes (background, class 0, excluded), per image, averaged over the batch. Formulas, defaults and
// edge cases: losses/README.md.
//
// Inputs: logits (N, C, D, H, W) float32 (any rank ≥ 2: (N, C, ...)) and labels (N, D, H, W) int32
// on the same device, 2 ≤ C ≤ 16 (the study: C = 3, 0 background, 1 helix, 2 sheet). A voxel whose
// label equals ignore_index is excluded from every term; any other label outside 0..C−1 is an error
// (LossError naming the first offending voxel).
//
// forward returns a rank-0 tensor on the logits' device, recorded in autograd when the logits require
// grad, so that loss.backward() puts d loss / d logits into the graph. By default (fused = true) all
// five run on the fused focal+Dice kernel: pass 1 in forward, pass 2 (scaled by the incoming gradient)
// in backward. When the logits require grad, forward already allocates the logits-sized buffer that
// becomes the gradient (it holds the softmax until backward), as autograd would save the softmax. fused = false builds the same loss from separate engine ops (softmax → log → focal →
// Dice) — the oracle the fused kernel is tested against; it needs moderate logits (log of an
// underflowed probability is −inf there, while the fused path is stable for any finite logits).
//
// Each forward reads a few floats back from the device (one synchronisation on CUDA) to check the
// labels and to record the terms for logging (last_terms()).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace sse::losses {

// A bad configuration or bad labels.
struct LossError : EngineError {
  using EngineError::EngineError;
};

struct LossConfig {
  std::string name = "fce_dl";  // ce | fce | dl | ce_dl | fce_dl
  float gamma = 0.0f;           // focal exponent, ≥ 0; must be 0 for ce, ce_dl and dl
  bool per_class = false;       // Dice: mean of the helix and sheet coefficients instead of one pooled
  float eps = 1e-5f;            // Dice smoothing, > 0
  float lambda_a = 1.0f;        // weight of CE/FCE in ce_dl / fce_dl (single-term losses ignore λ)
  float lambda_b = 1.0f;        // weight of DL in ce_dl / fce_dl
  int ignore_index = -1;        // label value excluded from every term (e.g. 255); must not be a class
  bool fused = true;            // false: the unfused composition of engine ops (oracle, slower)
};

// When a forward sees only part of a batch (data-parallel ranks, or whole chains passed one at a
// time), the whole batch's counted voxels and images: the focal term then divides by `counted` and
// the Dice term by `images` (kernels/focal_dice.h), so the parts' losses and gradients add up to the
// whole batch's. Zeros: this forward's images are the whole batch.
struct LossShare {
  double counted = 0.0, images = 0.0;
};

// The values of the last forward, for logging (host floats; with a LossShare, this part's share).
struct LossTerms {
  float loss = 0.0f;        // what forward returned
  float first = 0.0f;       // F: mean CE (γ = 0) or FCE (γ > 0) over counted voxels; CE for "dl"
  float dice_loss = 0.0f;   // DL = 1 − mean Dice over the batch (computed for every loss)
  double counted = 0.0;     // voxels counted (labels in 0..C−1)
};

class Loss {
 public:
  explicit Loss(LossConfig cfg) : cfg_(std::move(cfg)) {}
  virtual ~Loss();
  Loss(const Loss&) = delete;
  Loss& operator=(const Loss&) = delete;

  // logits (N, C, ...) float, labels (N, ...) int32 → rank-0 loss, wired into autograd.
  Tensor forward(const Tensor& logits, const Tensor& labels) { return forward(logits, labels, LossShare{}); }
  // The share of these images in a larger batch's loss.
  virtual Tensor forward(const Tensor& logits, const Tensor& labels, const LossShare& share) = 0;

  const LossConfig& config() const { return cfg_; }
  const std::string& name() const { return cfg_.name; }
  // e.g. "fce_dl(gamma=5, dice=pooled, eps=1e-05, lambda_a=1, lambda_b=1, ignore=255, fused)"
  std::string describe() const;
  // Terms of the last forward (zeros before the first).
  const LossTerms& last_terms() const { return terms_; }

  // The effective weights and exponent of this loss (what the name implies).
  float gamma() const;
  float weight_first() const;  // 0 for "dl"
  float weight_dice() const;   // 0 for "ce" and "fce"

 protected:
  LossConfig cfg_;
  LossTerms terms_;
};

// The five names, in the order of the study.
const std::vector<std::string>& loss_names();
// True for the losses with a focal term (fce, fce_dl): the ones a γ applies to.
bool has_focal(const std::string& name);
// Validates the configuration (LossError: unknown name listing the valid ones, γ < 0, γ ≠ 0 for a
// loss without a focal term, ε ≤ 0, negative or non-finite λ) and makes the loss.
std::unique_ptr<Loss> make_loss(const LossConfig& cfg);
// The same with fused = false: the unfused composition of engine ops (the oracle).
std::unique_ptr<Loss> make_reference_loss(LossConfig cfg);

}  // namespace sse::losses
