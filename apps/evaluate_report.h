// apps/evaluate_report.h — the HTML page of `evaluate --report`: the study's Table II with each
// chain's precision, recall and F1, per-chain F1 bars, and per chain slices of truth against
// prediction.
//
// Contract:
//  * RowScores is one scored manifest row (what `evaluate` prints), with its slice picture when a
//    report was asked for.
//  * chain_picture(): slices through the chain's zone at 1 Å along its thinnest axis: up to 6
//    planes, 4 Å (or a seventh of the chain's thickness) apart or more, those with the most
//    helix/sheet voxels (truth or prediction); one
//    row per class present, each voxel coloured as a true positive (green), false positive (orange)
//    or false negative (blue) over the density in grey; voxels outside the zone (predictions
//    ignored there) dimmed. `truth` holds 0/1/2 labels (io::make_labels); masks are within the zone.
//  * evaluate_report_html(): one self-contained page (plot/html.h) at the given F1 level: the table
//    (Cα counts; helix and sheet precision, recall, F1; the Cα-weighted and pooled averages), the
//    F1 bars, the chains' pictures, the settings.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "apps/inference.h"
#include "io/grid.h"
#include "io/metrics.h"

namespace sse::app {

struct RowScores {
  io::ChainScores s;
  double resolution = 0;
  long other_ca = 0;
  std::string picture;  // PNG of chain_picture(), with --report
};

// "NA" for an empty value, else `digits` decimals.
std::string format_score(std::optional<double> v, int digits = 4);

std::string chain_picture(const io::Grid& zone, const io::LabelGrid& truth, const Masks& pred,
                          const io::LabelGrid& inside);

std::string evaluate_report_html(const std::string& title, const std::vector<RowScores>& rows, io::Level level,
                                 const std::vector<std::pair<std::string, std::string>>& settings);

}  // namespace sse::app
