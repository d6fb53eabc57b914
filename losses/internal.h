// losses/internal.h — what the fused and reference losses share (not part of the public API).
#pragma once

#include <memory>

#include "kernels/focal_dice.h"
#include "losses/loss.h"

namespace sse::losses::detail {

// Checks dtypes, ranks, shapes and device of (logits, labels) and that ignore_index is not a class;
// returns the kernel shape (N, C, S).
FocalDiceShape check_inputs(const char* who, const Tensor& logits, const Tensor& labels, const LossConfig& cfg);
// The kernel parameters implied by the configuration (γ, λ per loss name) and the share.
FocalDiceParams params_of(const Loss& loss, const LossShare& share);

struct LabelScan {
  double counted = 0.0;
  index_t bad = 0;            // labels neither in 0..C−1 nor ignore_index
  index_t first_bad = -1;     // flat index (n·S + v) of the first
  int first_bad_value = 0;
};
// Scans labels on the host (copies them there when needed).
LabelScan scan_labels(const Tensor& labels, int c, int ignore_index);
// Throws LossError describing the first invalid label.
[[noreturn]] void throw_bad_labels(const char* who, const Tensor& labels, int c, int ignore_index);

std::unique_ptr<Loss> make_fused(const LossConfig& cfg);
std::unique_ptr<Loss> make_unfused(const LossConfig& cfg);

}  // namespace sse::losses::detail
