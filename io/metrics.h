// io/metrics.h — voxel- and residue-level precision / recall / F1 for helix and sheet, and the
// averages of the study's Table II.
//
// Contract:
//  * Voxel level (per chain, over every voxel of the grid): a voxel predicted as class c is a true
//    positive when its label is c (i.e. it lies within 3 Å of a class-c Cα that is its nearest Cα),
//    else a false positive; a voxel labelled c and not predicted c is a false negative. Helix and
//    sheet are scored independently from their own masks (a voxel may be predicted as both).
//  * Residue level: a residue's "labelled voxels" are the component voxels it owns (its Cα is their
//    nearest within 3 Å, see labels.h). It is predicted c when strictly more than half of them are
//    predicted c; a residue owning no voxel is predicted nothing. Truth is the residue's class.
//  * Precision, recall and F1 are empty (NA) when their denominator is zero; F1 = 2TP/(2TP+FP+FN)
//    is NA exactly when the class is absent from both prediction and truth.
//  * Table II: weighted F1 = Σ F1_chain · n_chain / Σ n_chain over chains whose F1 is not NA, with
//    n_chain the chain's number of helix (resp. sheet) Cα atoms; micro F1 pools TP/FP/FN of all
//    chains. Voxel or residue counts are chosen by the caller.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/grid.h"
#include "io/secondary.h"
#include "io/structure.h"

namespace sse::io {

struct Counts {
  long tp = 0, fp = 0, fn = 0;
  std::optional<double> precision() const;
  std::optional<double> recall() const;
  std::optional<double> f1() const;
  Counts& operator+=(const Counts& o) {
    tp += o.tp;
    fp += o.fp;
    fn += o.fn;
    return *this;
  }
};

struct ClassCounts {
  Counts helix, sheet;
  const Counts& operator[](Sse c) const { return c == Sse::helix ? helix : sheet; }
  Counts& operator[](Sse c) { return c == Sse::helix ? helix : sheet; }
};

// Samples of `prediction` above `threshold` form the mask (DeepSSETracer writes 0/1 maps).
LabelGrid mask_from(const Grid& prediction, float threshold = 0.5f);

ClassCounts voxel_counts(const LabelGrid& truth, const LabelGrid& pred_helix, const LabelGrid& pred_sheet);

// owners: from nearest_ca_owners(); ca_residue: residue index of each Cα (Chain::ca_positions).
ClassCounts residue_counts(const std::vector<std::int32_t>& owners, const std::vector<int>& ca_residue,
                           const std::vector<Sse>& residue_classes, const LabelGrid& pred_helix,
                           const LabelGrid& pred_sheet);

struct ChainScores {
  std::string name;
  ClassCounts voxel, residue;
  long helix_ca = 0, sheet_ca = 0;  // Table II weights
};

// Everything for one chain: labels from residue_classes on map's component, then both levels.
ChainScores evaluate_chain(const std::string& name, const Grid& map, const Chain& chain,
                           const std::vector<Sse>& residue_classes, const LabelGrid& pred_helix,
                           const LabelGrid& pred_sheet, double cutoff = 3.0);

struct Averages {
  std::optional<double> weighted_f1_helix, weighted_f1_sheet;
  std::optional<double> micro_f1_helix, micro_f1_sheet;
  int chains_helix = 0, chains_sheet = 0;  // chains that entered each weighted average
};
enum class Level { voxel, residue };
Averages table2_averages(const std::vector<ChainScores>& chains, Level level = Level::voxel);

}  // namespace sse::io
