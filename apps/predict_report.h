// apps/predict_report.h — the HTML page of `predict --report`: what was found in one map, as a
// structural biologist checks it.
//
// Contract:
//  * One self-contained page (plot/html.h: pictures inlined, no script, nothing fetched): the counts
//    of helix and sheet voxels (and Å³, share of the box, mean probability inside each mask), slices
//    through the map every `spacing` Å along z, y and x (at most 12 per axis) with the density in
//    grey (1st-99.5th percentile window), helix and sheet probabilities in red and yellow (opacity =
//    probability) and the masks' outlines; with residue calls, a probability profile per chain and
//    the per-residue table; then the run's settings as given.
//  * Everything is drawn on the 1 Å grid the network ran on: `density` (the normalized input),
//    `p` and `masks` share its lattice.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "apps/inference.h"
#include "apps/residue_calls.h"
#include "io/grid.h"

namespace sse::app {

struct PredictReport {
  std::string map_path;
  const io::Grid* density = nullptr;
  const Probabilities* p = nullptr;
  const Masks* masks = nullptr;
  const std::vector<ResidueCall>* residues = nullptr;  // null without --structure
  std::vector<std::pair<std::string, std::string>> settings;
  double spacing = 4;  // Å between slices
};

std::string predict_report_html(const PredictReport& r);

}  // namespace sse::app
