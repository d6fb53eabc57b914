#include "train/metrics.h"

#include "train/sample.h"

namespace sse::train {

std::optional<double> ClassCounts::f1() const {
  if (tp + fp + fn == 0) return std::nullopt;
  return 2.0 * double(tp) / double(2 * tp + fp + fn);
}

ClassCounts count_class(const std::vector<std::uint8_t>& pred, const std::vector<std::uint8_t>& labels, int c) {
  ClassCounts k;
  for (std::size_t i = 0; i < pred.size(); ++i) {
    if (labels[i] == kIgnoreLabel) continue;
    const bool p = pred[i] == c, l = labels[i] == c;
    k.tp += p && l;
    k.fp += p && !l;
    k.fn += !p && l;
  }
  return k;
}

}  // namespace sse::train
