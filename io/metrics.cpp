// io/metrics.cpp — see metrics.h.
#include "io/metrics.h"

#include <stdexcept>

#include "io/labels.h"

namespace sse::io {
namespace {

std::optional<double> ratio(long num, long den) {
  if (den == 0) return std::nullopt;
  return double(num) / double(den);
}

void require_same_lattice(const GridGeometry& a, const GridGeometry& b, const char* what) {
  if (a.dims() != b.dims()) throw std::invalid_argument(std::string(what) + ": grids differ in size");
}

void tally(Counts& c, bool predicted, bool actual) {
  c.tp += predicted && actual;
  c.fp += predicted && !actual;
  c.fn += !predicted && actual;
}

struct WeightedSum {
  double sum = 0, weight = 0;
  int chains = 0;
  void add(std::optional<double> f1, long w) {
    if (!f1) return;
    sum += *f1 * double(w);
    weight += double(w);
    ++chains;
  }
  std::optional<double> value() const {
    if (weight == 0) return std::nullopt;
    return sum / weight;
  }
};

}  // namespace

std::optional<double> Counts::precision() const { return ratio(tp, tp + fp); }
std::optional<double> Counts::recall() const { return ratio(tp, tp + fn); }
std::optional<double> Counts::f1() const { return ratio(2 * tp, 2 * tp + fp + fn); }

LabelGrid mask_from(const Grid& prediction, float threshold) {
  LabelGrid m(prediction.geometry(), 0);
  for (std::size_t i = 0; i < m.data.size(); ++i) m.data[i] = prediction.data[i] > threshold;
  return m;
}

ClassCounts voxel_counts(const LabelGrid& truth, const LabelGrid& pred_helix, const LabelGrid& pred_sheet) {
  require_same_lattice(truth, pred_helix, "voxel_counts");
  require_same_lattice(truth, pred_sheet, "voxel_counts");
  ClassCounts c;
  for (std::size_t i = 0; i < truth.data.size(); ++i) {
    tally(c.helix, pred_helix.data[i] != 0, truth.data[i] == std::uint8_t(Sse::helix));
    tally(c.sheet, pred_sheet.data[i] != 0, truth.data[i] == std::uint8_t(Sse::sheet));
  }
  return c;
}

ClassCounts residue_counts(const std::vector<std::int32_t>& owners, const std::vector<int>& ca_residue,
                           const std::vector<Sse>& residue_classes, const LabelGrid& pred_helix,
                           const LabelGrid& pred_sheet) {
  if (owners.size() != pred_helix.size() || owners.size() != pred_sheet.size())
    throw std::invalid_argument("residue_counts: owners and predictions differ in size");
  struct Votes { long owned = 0, helix = 0, sheet = 0; };
  std::vector<Votes> votes(ca_residue.size());
  for (std::size_t i = 0; i < owners.size(); ++i) {
    if (owners[i] < 0) continue;
    Votes& v = votes[std::size_t(owners[i])];
    ++v.owned;
    v.helix += pred_helix.data[i] != 0;
    v.sheet += pred_sheet.data[i] != 0;
  }
  ClassCounts c;
  for (std::size_t k = 0; k < ca_residue.size(); ++k) {
    const Sse truth = residue_classes.at(std::size_t(ca_residue[k]));
    tally(c.helix, 2 * votes[k].helix > votes[k].owned, truth == Sse::helix);
    tally(c.sheet, 2 * votes[k].sheet > votes[k].owned, truth == Sse::sheet);
  }
  return c;
}

ChainScores evaluate_chain(const std::string& name, const Grid& map, const Chain& chain,
                           const std::vector<Sse>& residue_classes, const LabelGrid& pred_helix,
                           const LabelGrid& pred_sheet, double cutoff) {
  ChainScores s;
  s.name = name;
  std::vector<int> ca_residue;
  const std::vector<Vec3> ca = chain.ca_positions(&ca_residue);
  const std::vector<std::int32_t> owners = nearest_ca_owners(map, ca, cutoff);
  s.voxel = voxel_counts(labels_from_owners(map, owners, ca_residue, residue_classes), pred_helix, pred_sheet);
  s.residue = residue_counts(owners, ca_residue, residue_classes, pred_helix, pred_sheet);
  const CaCounts n = count_ca(chain, residue_classes);
  s.helix_ca = n.helix;
  s.sheet_ca = n.sheet;
  return s;
}

Averages table2_averages(const std::vector<ChainScores>& chains, Level level) {
  WeightedSum wh, ws;
  Counts ph, ps;
  for (const ChainScores& c : chains) {
    const ClassCounts& k = level == Level::voxel ? c.voxel : c.residue;
    wh.add(k.helix.f1(), c.helix_ca);
    ws.add(k.sheet.f1(), c.sheet_ca);
    ph += k.helix;
    ps += k.sheet;
  }
  Averages a;
  a.weighted_f1_helix = wh.value();
  a.weighted_f1_sheet = ws.value();
  a.micro_f1_helix = ph.f1();
  a.micro_f1_sheet = ps.f1();
  a.chains_helix = wh.chains;
  a.chains_sheet = ws.chains;
  return a;
}

}  // namespace sse::io
