// Mask-rule calibration on validation maps (contract in apps/calibration.h).
#include "apps/calibration.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sse::app {

namespace {

void tally(io::ClassCounts& c, std::uint8_t predicted, std::uint8_t truth) {
  for (io::Sse cls : {io::Sse::helix, io::Sse::sheet}) {
    const auto k = std::uint8_t(cls);
    if (predicted == k && truth == k) ++c[cls].tp;
    else if (predicted == k) ++c[cls].fp;
    else if (truth == k) ++c[cls].fn;
  }
}

// Voxels that every rule of the grid calls background (the largest weight still loses to the
// background probability) add only false negatives: counted once instead of once per rule.
bool always_background(float h, float s, float max_weight) { return std::max(h, s) * max_weight <= 1.f - h - s; }

double log_distance_to_argmax(const Decision& d) {
  return std::abs(std::log(double(d.helix))) + std::abs(std::log(double(d.sheet)));
}

}  // namespace

io::ClassCounts count_rule(const std::vector<LabelledProbabilities>& maps, const Decision& d) {
  io::ClassCounts c;
  for (const LabelledProbabilities& m : maps) {
    if (m.helix.size() != m.labels.size() || m.sheet.size() != m.labels.size())
      throw std::invalid_argument("count_rule: probabilities and labels differ in size");
    for (std::size_t i = 0; i < m.labels.size(); ++i)
      if (m.labels[i] != LabelledProbabilities::kIgnore) tally(c, decide(m.helix[i], m.sheet[i], d), m.labels[i]);
  }
  return c;
}

std::vector<float> weight_grid() {
  std::vector<float> w;
  for (int k = -12; k <= 6; ++k) w.push_back(float(std::exp2(k / 4.0)));
  return w;
}

double rule_score(const io::ClassCounts& c, bool helix_present, bool sheet_present) {
  double sum = 0;
  int n = 0;
  if (helix_present) sum += c.helix.f1().value_or(0), ++n;
  if (sheet_present) sum += c.sheet.f1().value_or(0), ++n;
  return n ? sum / n : 0;
}

CalibrationResult calibrate(const std::vector<LabelledProbabilities>& maps) {
  const std::vector<float> grid = weight_grid();
  const float max_weight = grid.back();
  // Rules on the grid, the undecided voxels of every map, and the counts they all share.
  std::vector<Decision> rules;
  for (float h : grid)
    for (float s : grid) rules.push_back({h, s});
  io::ClassCounts shared;
  std::vector<io::ClassCounts> counts(rules.size());
  for (const LabelledProbabilities& m : maps) {
    if (m.helix.size() != m.labels.size() || m.sheet.size() != m.labels.size())
      throw std::invalid_argument("calibrate: probabilities and labels differ in size");
    for (std::size_t i = 0; i < m.labels.size(); ++i) {
      const std::uint8_t truth = m.labels[i];
      if (truth == LabelledProbabilities::kIgnore) continue;
      if (always_background(m.helix[i], m.sheet[i], max_weight)) {
        tally(shared, 0, truth);
        continue;
      }
      for (std::size_t r = 0; r < rules.size(); ++r) tally(counts[r], decide(m.helix[i], m.sheet[i], rules[r]), truth);
    }
  }
  CalibrationResult out;
  out.helix_present = shared.helix.fn + counts[0].helix.tp + counts[0].helix.fn > 0;
  out.sheet_present = shared.sheet.fn + counts[0].sheet.tp + counts[0].sheet.fn > 0;
  out.score = -1;
  for (std::size_t r = 0; r < rules.size(); ++r) {
    Decision d = rules[r];
    if (!out.helix_present) d.helix = 1;
    if (!out.sheet_present) d.sheet = 1;
    if (!(d == rules[r])) continue;  // the weight of an absent class is not chosen
    io::ClassCounts c = counts[r];
    c.helix += shared.helix;
    c.sheet += shared.sheet;
    const double score = rule_score(c, out.helix_present, out.sheet_present);
    const bool better = score > out.score ||
                        (score == out.score && log_distance_to_argmax(d) < log_distance_to_argmax(out.best.decision));
    if (better) out = {{d, c}, out.helix_present, out.sheet_present, score};
  }
  return out;
}

}  // namespace sse::app
