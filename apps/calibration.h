// apps/calibration.h — choosing the mask rule's class weights on validation maps (the library side
// of `sseunet calibrate`).
//
// Why: a network trained with focal + Dice losses is not calibrated — on real maps the shipped model's
// argmax marks 2.4× as many helix voxels as there are (voxel precision 0.39 at recall 0.89). Weights
// on the class probabilities (apps/model_io.h decide()) trade recall for precision per class; chosen
// on validation maps that were never used for training, they are part of the model.
//
// Contract:
//  * LabelledProbabilities: one validation map's helix and sheet probabilities and its truth labels
//    (0 background, 1 helix, 2 sheet; kIgnore voxels are not counted), same length.
//  * count_rule(): pooled voxel counts of a rule over all maps — TP, FP, FN per class, as
//    io::voxel_counts scores masks.
//  * weight_grid(): the candidate weights, 2^(k/4) for k = −12..6 (0.125 … 2.83; 19 values).
//  * calibrate(): every pair of the grid is scored by the mean of the pooled helix and sheet F1
//    (the best checkpoint's criterion in training); the best pair wins, ties going to the pair
//    nearest (1, 1) in log scale, so an already calibrated model keeps the argmax. A class with no
//    labelled voxel in any map cannot be calibrated: its weight stays 1 and only the other class's
//    F1 counts (CalibrationResult::helix_present / sheet_present say which).
#pragma once

#include <cstdint>
#include <vector>

#include "apps/model_io.h"
#include "io/metrics.h"

namespace sse::app {

struct LabelledProbabilities {
  static constexpr std::uint8_t kIgnore = 255;
  std::vector<float> helix, sheet;
  std::vector<std::uint8_t> labels;
};

io::ClassCounts count_rule(const std::vector<LabelledProbabilities>& maps, const Decision& d);
std::vector<float> weight_grid();

struct RuleScore {
  Decision decision;
  io::ClassCounts counts;
};

struct CalibrationResult {
  RuleScore best;
  bool helix_present = true, sheet_present = true;
  double score = 0;  // the criterion of `best`
};
// The criterion: the mean F1 over the classes present (NA F1 counts as 0).
double rule_score(const io::ClassCounts& c, bool helix_present, bool sheet_present);
CalibrationResult calibrate(const std::vector<LabelledProbabilities>& maps);

}  // namespace sse::app
