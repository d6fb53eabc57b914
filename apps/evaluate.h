// apps/evaluate.h — scoring manifest rows the way `sseunet evaluate` does, for the commands that
// score runs of their own (`reproduce` scores each configuration's checkpoint on the validation and
// test rows): the same rows, the same predictions, the same numbers and the same JSON file as
// `sseunet evaluate --model CKPT --json FILE`.
//
// Contract:
//  * rows_of_split(manifest, split, why): the manifest's rows of `split` ("train", "val", "test" or
//    "all"), in manifest order; IoError naming the manifest when there is none, ending in (why).
//  * evaluate_rows(): each row scored as apps/evaluate.cpp's contract says — predictions from
//    settings.pred_dir when it is set, else from `model` with the mask rule `decision` — with a
//    progress bar; throws Interrupted between rows after Ctrl-C, IoError for a bad row.
//    settings.pictures also draws each chain's slice picture (evaluate --report).
//  * scores_json(): the JSON of `evaluate --json` (every count, precision, recall, F1 at voxel and
//    residue level per chain; the Cα-weighted and pooled averages).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/evaluate_report.h"
#include "apps/inference.h"
#include "apps/model_io.h"
#include "apps/progress.h"
#include "engine/device.h"
#include "io/manifest.h"

namespace sse::app {

struct EvalSettings {
  std::string pred_dir;  // predicted masks per row; empty: run the model
  double radius = 5.0;   // chain zone (Å)
  bool dssp = false;     // truth from the built-in DSSP instead of HELIX/SHEET records
  TileOptions tiles;     // with a model
  bool pictures = false;
};

std::vector<io::ManifestRow> rows_of_split(const std::string& manifest, const std::string& split,
                                           const std::string& why_needed);

std::vector<RowScores> evaluate_rows(const std::vector<io::ManifestRow>& rows, const EvalSettings& settings,
                                     LoadedModel* model, const Decision& decision, Device dev,
                                     const Reporter& reporter);

nlohmann::json scores_json(const std::vector<RowScores>& rows);

}  // namespace sse::app
