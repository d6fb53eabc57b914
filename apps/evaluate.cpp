// sseunet evaluate --manifest M (--pred-dir D | --model CKPT) — per-chain scores in the format of the
// study's Table II, with its weighted and pooled averages.
//
// Contract:
//  * Rows: those of --split (default test; "all" for every row). Each row is scored on its chain
//    zone at 1 Å (io::zone_at_spacing — the grid `build` trains on): truth from the chain's residue
//    classes (apps/inputs.h: ss_file, records or DSSP; an authors' *_label_stride.txt in the ss_file
//    column gives their STRIDE classes), predictions restricted to the zone (within --radius Å of the
//    chain's atoms), scored by io::evaluate_chain (voxel and residue level, NA rules in io/metrics.h).
//  * --pred-dir D: the masks of a row are looked up in D/<row name>/, D/<map stem>/, then D/<name of
//    the map's folder>/; in each, helix.mrc + sheet.mrc (what `sseunet predict` writes), else a
//    DeepSSETracer-style pair <prefix>_helix.mrc + <prefix>_sheet.mrc (e.g.
//    deepssetracer1.0_pred_helix.mrc). Masks on another lattice are resampled onto the zone's
//    (trilinear, then > 0.5). A row without predictions is an error.
//  * --model CKPT: the network runs on the chain's surroundings at 1 Å as the map has them (not
//    zeroed outside the zone: what `predict` on the whole map sees there; apps/inputs.h
//    chain_context_at_1A), normalized as in training, and its masks are scored on the zone.
//  * Output: a Markdown table on stdout (one row per chain; F1 as fractions; --level picks voxel or
//    residue F1), then the Cα-weighted and pooled (micro) averages. --csv and --json write every
//    count, precision, recall and F1 at both levels; they are written only when every row succeeded.
//  * --report FILE: a self-contained HTML page with the table (precision, recall, F1), per-chain F1
//    bars and per-chain slices of truth against prediction (apps/evaluate_report.h).
//  * The scoring of rows is shared with `reproduce` through apps/evaluate.h.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "apps/app.h"
#include "apps/dataset.h"
#include "apps/evaluate.h"
#include "apps/evaluate_report.h"
#include "apps/inference.h"
#include "apps/inputs.h"
#include "apps/interrupt.h"
#include "apps/model_io.h"
#include "apps/output.h"
#include "apps/progress.h"
#include "io/error.h"
#include "io/file_util.h"
#include "io/grid_ops.h"
#include "io/labels.h"
#include "io/map.h"
#include "io/metrics.h"

namespace sse::app {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct EvalOptions {
  std::string manifest, model, split = "test", csv, json_path, level = "voxel", report;
  EvalSettings s;  // --pred-dir, --radius, --dssp, tiles
  DecisionFlags decision;  // with --model: --helix-weight / --sheet-weight over the model's rule
};

// ---- predictions from files ------------------------------------------------------------------

struct PredFiles {
  std::string helix, sheet;
};

std::optional<PredFiles> pred_files_in(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return std::nullopt;
  const auto pair = [&](const std::string& helix, const std::string& sheet) -> std::optional<PredFiles> {
    if (!io::file_exists((dir / helix).string()) || !io::file_exists((dir / sheet).string())) return std::nullopt;
    return PredFiles{(dir / helix).string(), (dir / sheet).string()};
  };
  for (const char* ext : {".mrc", ".mrc.gz"})  // what `sseunet predict` writes
    if (auto f = pair(std::string("helix") + ext, std::string("sheet") + ext)) return f;
  std::vector<std::string> names;  // DeepSSETracer: <prefix>_helix.mrc + <prefix>_sheet.mrc
  for (const auto& e : fs::directory_iterator(dir, ec)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    const std::size_t at = n.rfind("_helix.mrc");
    if (at == std::string::npos || n.find("prob") != std::string::npos) continue;
    if (auto f = pair(n, n.substr(0, at) + "_sheet" + n.substr(at + 6))) return f;
  }
  return std::nullopt;
}

PredFiles find_predictions(const std::string& pred_dir, const io::ManifestRow& row) {
  const fs::path base(pred_dir);
  std::vector<fs::path> dirs;
  for (const fs::path& d :
       {base / row_name(row), base / map_stem(row.map), base / fs::path(row.map).parent_path().filename()})
    if (std::find(dirs.begin(), dirs.end(), d) == dirs.end()) dirs.push_back(d);
  std::string looked;
  for (const fs::path& d : dirs) {
    if (auto f = pred_files_in(d)) return *f;
    looked += (looked.empty() ? "" : ", ") + d.string();
  }
  throw io::file_error(pred_dir, "no predictions for row " + row_name(row) +
                                     " (looked for helix.mrc + sheet.mrc or *_helix.mrc + *_sheet.mrc in " + looked +
                                     ")");
}

io::LabelGrid mask_on(const std::string& path, const io::GridGeometry& g) {
  return io::mask_from(io::resample_onto(io::read_map(path), g));
}

// ---- one row ---------------------------------------------------------------------------------

struct EvalContext {
  const EvalSettings& s;
  LoadedModel* model;  // null with --pred-dir
  Device dev;
  const Reporter& reporter;
  Decision decision;  // with --model: the mask rule
  // Names device and model once the first row's inputs passed their checks (a refused input then
  // gives exactly one line on stderr).
  void announce() const {
    if (announced) return;
    announced = true;
    reporter.info("start", "device " + dev.str() + "; model " + model->path + " (" + describe(*model) +
                               "); mask rule " + describe(decision, model->calibrated && decision == model->decision));
  }
  mutable bool announced = false;
};

Masks predict_masks(const EvalContext& cx, const io::ManifestRow& row, const io::Grid& map, const ChainInput& in,
                    const io::Grid& zone) {
  if (!cx.model) {
    const PredFiles f = find_predictions(cx.s.pred_dir, row);
    return {mask_on(f.helix, zone), mask_on(f.sheet, zone)};
  }
  cx.announce();
  // The network sees the chain's surroundings as predict would on the whole map, not the zeroed zone.
  return masks_from(
      predict_on_zone(*cx.model->net, chain_context_at_1A(map, row.map, in, cx.s.radius), zone, cx.s.tiles, cx.dev),
      cx.decision);
}

RowScores evaluate_row(const EvalContext& cx, const io::ManifestRow& row) {
  const io::Grid map = read_input_map(row.map);
  const ChainInput in = read_chain(row.model, row.chain, {row.ss_file, cx.s.dssp}, &map);
  const io::Grid zone = chain_zone_at_1A(map, row.map, in, cx.s.radius);
  Masks m = predict_masks(cx, row, map, in, zone);
  const io::LabelGrid inside = io::zone_mask(zone, in.chain().atoms, cx.s.radius);
  for (std::size_t i = 0; i < inside.data.size(); ++i) {
    m.helix.data[i] &= inside.data[i];
    m.sheet.data[i] &= inside.data[i];
  }
  RowScores r;
  r.s = io::evaluate_chain(row_name(row), zone, in.chain(), in.classes, m.helix, m.sheet);
  r.resolution = row.resolution;
  for (const io::Residue& res : in.chain().residues) r.other_ca += res.has_ca;
  r.other_ca -= r.s.helix_ca + r.s.sheet_ca;
  if (cx.s.pictures) r.picture = chain_picture(zone, io::make_labels(zone, in.chain(), in.classes), m, inside);
  return r;
}

// ---- reports ---------------------------------------------------------------------------------

// A manifest's resolution, NA when unknown (0).
std::optional<double> known(double resolution) {
  return resolution > 0 ? std::optional<double>(resolution) : std::nullopt;
}

json opt(std::optional<double> v) { return v ? json(*v) : json(); }

std::string markdown(const std::vector<RowScores>& rows, io::Level level) {
  std::ostringstream o;
  o << "| EMDB_PDB_chain | resolution (Å) | Cα H/S/O | helix F1 | sheet F1 |\n|---|---|---|---|---|\n";
  long h = 0, s = 0, other = 0;
  std::vector<io::ChainScores> scores;
  for (const RowScores& r : rows) {
    const io::ClassCounts& k = level == io::Level::voxel ? r.s.voxel : r.s.residue;
    o << "| " << r.s.name << " | " << format_score(known(r.resolution), 1) << " | " << r.s.helix_ca << "/" << r.s.sheet_ca << "/"
      << r.other_ca << " | " << format_score(k.helix.f1()) << " | " << format_score(k.sheet.f1()) << " |\n";
    h += r.s.helix_ca;
    s += r.s.sheet_ca;
    other += r.other_ca;
    scores.push_back(r.s);
  }
  const io::Averages a = io::table2_averages(scores, level);
  o << "| **weighted average** (by helix / sheet Cα) | | " << h << "/" << s << "/" << other << " | "
    << format_score(a.weighted_f1_helix) << " | " << format_score(a.weighted_f1_sheet) << " |\n"
    << "| pooled (micro) F1 | | | " << format_score(a.micro_f1_helix) << " | " << format_score(a.micro_f1_sheet) << " |\n\n"
    << (level == io::Level::voxel ? "Voxel" : "Residue") << "-level F1 over " << rows.size()
    << " chains. NA: the class is absent from both truth and prediction; weighted averages leave NA chains out ("
    << a.chains_helix << " chains in the helix average, " << a.chains_sheet << " in the sheet average).\n";
  return o.str();
}

json counts_json(const io::Counts& c) {
  return {
      {"tp", c.tp},       {"fp", c.fp}, {"fn", c.fn}, {"precision", opt(c.precision())}, {"recall", opt(c.recall())},
      {"f1", opt(c.f1())}};
}

json averages_json(const std::vector<io::ChainScores>& scores, io::Level level) {
  const io::Averages a = io::table2_averages(scores, level);
  return {{"weighted_f1_helix", opt(a.weighted_f1_helix)},
          {"weighted_f1_sheet", opt(a.weighted_f1_sheet)},
          {"micro_f1_helix", opt(a.micro_f1_helix)},
          {"micro_f1_sheet", opt(a.micro_f1_sheet)},
          {"chains_helix", a.chains_helix},
          {"chains_sheet", a.chains_sheet}};
}

}  // namespace

json scores_json(const std::vector<RowScores>& rows) {
  json chains = json::array();
  std::vector<io::ChainScores> scores;
  for (const RowScores& r : rows) {
    chains.push_back(
        {{"name", r.s.name},
         {"resolution", r.resolution > 0 ? json(r.resolution) : json(nullptr)},
         {"helix_ca", r.s.helix_ca},
         {"sheet_ca", r.s.sheet_ca},
         {"other_ca", r.other_ca},
         {"voxel", {{"helix", counts_json(r.s.voxel.helix)}, {"sheet", counts_json(r.s.voxel.sheet)}}},
         {"residue", {{"helix", counts_json(r.s.residue.helix)}, {"sheet", counts_json(r.s.residue.sheet)}}}});
    scores.push_back(r.s);
  }
  return {
      {"chains", chains},
      {"averages",
       {{"voxel", averages_json(scores, io::Level::voxel)}, {"residue", averages_json(scores, io::Level::residue)}}}};
}

namespace {

std::string csv_cell(std::optional<double> v) { return v ? format_score(v, 6) : ""; }

std::string report_csv(const std::vector<RowScores>& rows) {
  std::string out = "name,resolution,helix_ca,sheet_ca,other_ca";
  for (const char* lv : {"voxel", "residue"})
    for (const char* c : {"helix", "sheet"})
      for (const char* f : {"tp", "fp", "fn", "precision", "recall", "f1"})
        out += std::string(",") + lv + "_" + c + "_" + f;
  out += "\n";
  for (const RowScores& r : rows) {
    out += r.s.name + "," + format_score(known(r.resolution), 2) + "," + std::to_string(r.s.helix_ca) + "," +
           std::to_string(r.s.sheet_ca) + "," + std::to_string(r.other_ca);
    for (const io::ClassCounts* k : {&r.s.voxel, &r.s.residue})
      for (const io::Counts* c : {&k->helix, &k->sheet})
        out += "," + std::to_string(c->tp) + "," + std::to_string(c->fp) + "," + std::to_string(c->fn) + "," +
               csv_cell(c->precision()) + "," + csv_cell(c->recall()) + "," + csv_cell(c->f1());
    out += "\n";
  }
  return out;
}

// The run's settings as the report lists them.
std::vector<std::pair<std::string, std::string>> report_settings(const EvalOptions& o, const LoadedModel* model,
                                                                 const Decision& decision) {
  char radius[32];
  std::snprintf(radius, sizeof radius, "%g A", o.s.radius);
  std::vector<std::pair<std::string, std::string>> out{{"manifest", o.manifest}, {"split", o.split},
                                                       {"level", o.level}, {"zone radius", radius}};
  if (model)
    out.push_back({"model", model->path + " (" + describe(*model) + ")" + (o.s.tiles.tta ? ", 8-view TTA" : "") +
                                "; mask rule " + describe(decision, model->calibrated && decision == model->decision)});
  else
    out.push_back({"predictions", o.s.pred_dir});
  out.push_back({"truth", o.s.dssp ? "built-in DSSP (rows without ss_file)" : "ss_file, else HELIX/SHEET records, else DSSP"});
  out.push_back({"written by", "sseunet " SSEUNET_VERSION});
  return out;
}

// ---- command -----------------------------------------------------------------------------------

int run_evaluate(const EvalOptions& o, const GlobalOptions& g) {
  apply_global_options(g);
  const Reporter reporter(g);
  check_tiles(o.s.tiles);
  const std::vector<io::ManifestRow> rows = rows_of_split(o.manifest, o.split, "use --split all");
  const Device dev = choose_device(g);
  std::optional<LoadedModel> model;
  if (o.s.pred_dir.empty()) model = load_model(resolve_model_path(o.model), dev);
  if (!model && (o.decision.helix->count() || o.decision.sheet->count() || o.s.tiles.tta))
    throw UsageError("--helix-weight, --sheet-weight and --tta need --model (they act on the network's output)");
  const Decision decision = model ? resolve_decision(o.decision, *model) : Decision{};
  EvalSettings settings = o.s;
  settings.pictures = !o.report.empty();
  const std::vector<RowScores> scores = evaluate_rows(rows, settings, model ? &*model : nullptr, decision, dev, reporter);
  const io::Level level = o.level == "residue" ? io::Level::residue : io::Level::voxel;
  const std::string table = markdown(scores, level);
  if (!o.csv.empty()) write_text_output(o.csv, report_csv(scores));
  if (!o.json_path.empty()) write_text_output(o.json_path, scores_json(scores).dump(2) + "\n");
  if (!o.report.empty())
    write_text_output(o.report, evaluate_report_html("sseunet evaluate: " + fs::path(o.manifest).filename().string(),
                                                     scores, level, report_settings(o, model ? &*model : nullptr, decision)));
  std::cout << table;
  return kOk;
}

}  // namespace

std::vector<io::ManifestRow> rows_of_split(const std::string& manifest, const std::string& split,
                                           const std::string& why_needed) {
  std::vector<io::ManifestRow> out;
  for (const io::ManifestRow& r : io::read_manifest(manifest))
    if (split == "all" || split == io::split_name(r.split)) out.push_back(r);
  if (out.empty()) throw io::file_error(manifest, "no rows with split " + split + " (" + why_needed + ")");
  return out;
}

std::vector<RowScores> evaluate_rows(const std::vector<io::ManifestRow>& rows, const EvalSettings& settings,
                                     LoadedModel* model, const Decision& decision, Device dev,
                                     const Reporter& reporter) {
  const EvalContext cx{settings, model, dev, reporter, decision};
  std::vector<RowScores> scores;
  InterruptScope signals;  // Ctrl-C: the caller writes no report
  Progress bar(reporter, "evaluate", "chains", static_cast<long long>(rows.size()));
  for (const io::ManifestRow& row : rows) {
    scores.push_back(evaluate_row(cx, row));
    throw_if_interrupted();
    bar.update(static_cast<long long>(scores.size()), row_name(row));
  }
  bar.finish();
  return scores;
}

Command add_evaluate(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* sub =
      add_subcommand(app, g, "evaluate",
                     "Score predictions per chain (the study's Table II): helix and sheet F1 with weighted averages",
                     "sseunet evaluate --manifest data/test.tsv --pred-dir preds/ --csv scores.csv");
  sub->add_option("--manifest,-m", o->manifest, "TSV manifest: map model chain resolution split [ss_file] [name]")
      ->required();
  auto* pred = sub->add_option("--pred-dir", o->s.pred_dir, "folder with predicted masks per row (see README)");
  auto* model = sub->add_option("--model", o->model,
                                "checkpoint to predict with instead (default: $SSEUNET_MODEL, models/default.ckpt)");
  pred->excludes(model);
  sub->add_option("--split", o->split, "rows to score: test, val, train or all")
      ->capture_default_str()
      ->check(CLI::IsMember({"test", "val", "train", "all"}));
  sub->add_option("--level", o->level, "F1 level of the Markdown table: voxel or residue")
      ->capture_default_str()
      ->check(CLI::IsMember({"voxel", "residue"}));
  sub->add_option("--csv", o->csv, "write every count and score as CSV to this file");
  sub->add_option("--json", o->json_path, "write every count and score as JSON to this file");
  sub->add_option("--report", o->report,
                  "write an HTML page: the table with P/R/F1, per-chain F1 bars, slices of truth vs prediction "
                  "(TP/FP/FN) per chain, e.g. --report eval.html");
  sub->add_option("--radius", o->s.radius, "chain zone radius (A): predictions farther from the chain are ignored")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_flag("--dssp", o->s.dssp,
                "truth from the built-in DSSP instead of HELIX/SHEET records (rows without ss_file)");
  add_tile_options(*sub, o->s.tiles, "with --model: ");
  add_decision_options(*sub, o->decision, "with --model: ");
  return {sub, [o, &g] { return run_evaluate(*o, g); }};
}

}  // namespace sse::app
