// train/metrics.h — voxel confusion counts of a predicted class map against labels, and the
// per-class precision / recall / F1 that validation reports (labels equal to kIgnoreLabel skipped).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace sse::train {

struct ClassCounts {
  std::int64_t tp = 0, fp = 0, fn = 0;
  void add(const ClassCounts& o) { tp += o.tp; fp += o.fp; fn += o.fn; }
  double precision() const { return tp + fp ? double(tp) / double(tp + fp) : 0.0; }
  double recall() const { return tp + fn ? double(tp) / double(tp + fn) : 0.0; }
  // F1, or nothing when the class is absent from both prediction and labels.
  std::optional<double> f1() const;
};

// Counts for class `c` of `pred` against `labels` (same length).
ClassCounts count_class(const std::vector<std::uint8_t>& pred, const std::vector<std::uint8_t>& labels, int c);

}  // namespace sse::train
