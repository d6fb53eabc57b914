// sseunet calibrate --model CKPT (--samples DIR... | --manifest M) -o OUT.ckpt — chooses the mask
// rule's class weights on validation maps and writes them into a copy of the checkpoint.
//
// Contract:
//  * Validation maps: --samples DIR (repeatable): the `val` samples built there (`sseunet build`,
//    e.g. real maps low-passed with --lowpass, split val), scored over their whole box as training
//    validation scores them; --manifest M: the rows of --split (default val), each predicted from
//    the chain's surroundings as the map has them and scored on its chain zone at 1 Å, as
//    `evaluate --model` does (truth from the row's ss_file, records or DSSP; voxels outside the zone
//    are not counted). Both may be given. No map may have been used to
//    train the model — calibrate cannot check that; the caller's split must.
//  * The network runs once per map (apps/inference.h predict_on_zone: normalized as in training and
//    predict; --tta and --tile as in predict), then every rule of apps/calibration.h's grid is scored from the kept probabilities.
//  * Prints a Markdown table of pooled voxel precision / recall / F1 for the argmax, the model's
//    current rule (when calibrated) and the chosen one, and writes OUT: the input checkpoint with
//    meta["decision"] = {helix_weight, sheet_weight, criterion, maps, tta, helix/sheet P/R/F1 on the
//    validation maps}. OUT is written atomically (engine/checkpoint.h); OUT may be the input file.
//    `predict` and `evaluate` then use these weights by default.
//  * Several --model (e.g. a run's step_*.ckpt, `train --keep-checkpoints`): each is calibrated on the
//    same maps, a table compares their calibrated scores, and the best one (first on ties) is the one
//    written, with the comparison in meta["decision"]["chosen_from"]: checkpoint and rule are chosen
//    together on what the model will be used with.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "apps/app.h"
#include "apps/calibration.h"
#include "apps/dataset.h"
#include "apps/inference.h"
#include "apps/inputs.h"
#include "apps/interrupt.h"
#include "apps/model_io.h"
#include "apps/progress.h"
#include "engine/checkpoint.h"
#include "io/error.h"
#include "io/grid_ops.h"
#include "io/labels.h"
#include "io/manifest.h"

namespace sse::app {

namespace {

using nlohmann::json;

struct CalibrateOptions {
  std::vector<std::string> models;
  std::string manifest, split = "val", out;
  std::vector<std::string> samples;
  double radius = 5.0;
  bool dssp = false;
  TileOptions tiles;
};

// One validation map before the network: the raw density to predict on, the lattice box of it that
// is scored, the truth there (kIgnore: not scored), and a name.
struct ValidationMap {
  std::string name;
  io::Grid input;
  io::GridGeometry scored;
  std::vector<std::uint8_t> labels;
};

std::vector<ValidationMap> maps_from_samples(const std::string& dir) {
  std::vector<ValidationMap> out;
  for (const std::string& path : sample_files(dir)) {
    io::Sample s = io::read_sample(path);
    if (s.meta("split") != "val") continue;
    const io::GridGeometry box = s.map;
    out.push_back({path, std::move(s.map), box, std::move(s.labels.data)});
  }
  if (out.empty()) throw io::file_error(dir, "no validation samples (build them with `sseunet build ... --split val`)");
  return out;
}

ValidationMap map_from_row(const io::ManifestRow& row, const CalibrateOptions& o) {
  const io::Grid map = read_input_map(row.map);
  const ChainInput in = read_chain(row.model, row.chain, {row.ss_file, o.dssp}, &map);
  const io::Grid zone = chain_zone_at_1A(map, row.map, in, o.radius);
  std::vector<std::uint8_t> labels = io::make_labels(zone, in.chain(), in.classes).data;
  const io::LabelGrid inside = io::zone_mask(zone, in.chain().atoms, o.radius);
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (!inside.data[i]) labels[i] = LabelledProbabilities::kIgnore;  // evaluate ignores them too
  return {row_name(row), chain_context_at_1A(map, row.map, in, o.radius), zone, std::move(labels)};
}

std::vector<ValidationMap> validation_maps(const CalibrateOptions& o) {
  std::vector<ValidationMap> maps;
  for (const std::string& dir : o.samples)
    for (ValidationMap& m : maps_from_samples(dir)) maps.push_back(std::move(m));
  if (!o.manifest.empty()) {
    bool any = false;
    for (const io::ManifestRow& row : io::read_manifest(o.manifest))
      if (o.split == "all" || o.split == io::split_name(row.split)) {
        maps.push_back(map_from_row(row, o));
        any = true;
      }
    if (!any) throw io::file_error(o.manifest, "no rows with split " + o.split);
  }
  return maps;
}

std::string pct(std::optional<double> v) {
  if (!v) return "NA";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.3f", *v);
  return buf;
}

std::string table_row(const std::string& what, const RuleScore& r) {
  std::ostringstream o;
  const io::Counts& h = r.counts.helix;
  const io::Counts& s = r.counts.sheet;
  o << "| " << what << " | " << describe(r.decision, false) << " | " << pct(h.precision()) << " | "
    << pct(h.recall()) << " | " << pct(h.f1()) << " | " << pct(s.precision()) << " | " << pct(s.recall()) << " | "
    << pct(s.f1()) << " |\n";
  return o.str();
}

json scores_json(const io::Counts& c) {
  const auto v = [](std::optional<double> x) { return x ? json(*x) : json(); };
  return {{"precision", v(c.precision())}, {"recall", v(c.recall())}, {"f1", v(c.f1())}};
}

// One model's probabilities on every validation map (the maps' inputs are kept for the next model).
std::vector<LabelledProbabilities> probabilities_of(const LoadedModel& model, const std::vector<ValidationMap>& maps,
                                                    const CalibrateOptions& o, Device dev, const Reporter& reporter) {
  std::vector<LabelledProbabilities> scored;
  Progress bar(reporter, "calibrate", "maps", static_cast<long long>(maps.size()));
  for (const ValidationMap& m : maps) {
    Probabilities p = predict_on_zone(*model.net, m.input, m.scored, o.tiles, dev);
    scored.push_back({std::move(p.helix.data), std::move(p.sheet.data), m.labels});
    throw_if_interrupted();
    bar.update(static_cast<long long>(scored.size()));
  }
  bar.finish();
  return scored;
}

struct Candidate {
  std::string path;
  CalibrationResult result;
};

// With several --model: the calibrated score of each, the best marked.
void print_candidates(const std::vector<Candidate>& c, std::size_t best) {
  std::cout << "| model | weights | helix F1 | sheet F1 | score |\n|---|---|---|---|---|\n";
  for (std::size_t i = 0; i < c.size(); ++i) {
    const CalibrationResult& r = c[i].result;
    char score[32];
    std::snprintf(score, sizeof score, "%.4f", r.score);
    std::cout << "| " << c[i].path << (i == best ? " **(chosen)**" : "") << " | " << describe(r.best.decision, false)
              << " | " << pct(r.best.counts.helix.f1()) << " | " << pct(r.best.counts.sheet.f1()) << " | " << score
              << " |\n";
  }
  std::cout << "\n";
}

int run_calibrate(const CalibrateOptions& o, const GlobalOptions& g) {
  apply_global_options(g);
  const Reporter reporter(g);
  check_tiles(o.tiles);
  if (o.samples.empty() && o.manifest.empty()) throw UsageError("give validation maps: --samples DIR or --manifest M");
  const std::vector<std::string> paths = o.models.empty() ? std::vector<std::string>{resolve_model_path("")} : o.models;
  const Device dev = choose_device(g);
  for (const std::string& p : paths) load_model(p, dev);  // every checkpoint checked before the long work
  const std::vector<ValidationMap> maps = validation_maps(o);
  reporter.info("start", "device " + dev.str() + "; " + std::to_string(paths.size()) + " model(s); " +
                             std::to_string(maps.size()) + " validation maps");

  InterruptScope signals;
  std::vector<Candidate> candidates;
  std::vector<LabelledProbabilities> chosen_scored;
  std::size_t best = 0;
  for (const std::string& path : paths) {
    std::vector<LabelledProbabilities> scored = probabilities_of(load_model(path, dev), maps, o, dev, reporter);
    candidates.push_back({path, calibrate(scored)});
    if (candidates.size() == 1 || candidates.back().result.score > candidates[best].result.score) {
      best = candidates.size() - 1;
      chosen_scored = std::move(scored);
    }
  }
  const CalibrationResult& r = candidates[best].result;
  if (!r.helix_present || !r.sheet_present)
    reporter.info("warning", std::string("no ") + (r.helix_present ? "sheet" : "helix") +
                                 " voxel in the validation maps: that weight stays 1");
  if (candidates.size() > 1) print_candidates(candidates, best);
  const LoadedModel model = load_model(paths[best], dev);
  std::cout << "| rule | weights | helix P | helix R | helix F1 | sheet P | sheet R | sheet F1 |\n"
            << "|---|---|---|---|---|---|---|---|\n"
            << table_row("argmax", {Decision{}, count_rule(chosen_scored, Decision{})});
  if (model.calibrated) std::cout << table_row("current", {model.decision, count_rule(chosen_scored, model.decision)});
  std::cout << table_row("calibrated", r.best) << "\n"
            << "Pooled voxel scores of " << paths[best] << " over " << maps.size()
            << " validation maps; the calibrated rule maximizes the mean of helix and sheet F1.\n";

  json names = json::array(), compared = json::array();
  for (const ValidationMap& m : maps) names.push_back(m.name);
  for (const Candidate& c : candidates) compared.push_back({{"model", c.path}, {"score", c.result.score}});
  Checkpoint ck = load_checkpoint(paths[best]);  // written back whole, with the rule
  ck.meta["decision"] = {{"helix_weight", r.best.decision.helix},
                         {"sheet_weight", r.best.decision.sheet},
                         {"criterion", "mean of pooled voxel helix and sheet F1"},
                         {"tta", o.tiles.tta},
                         {"maps", names},
                         {"chosen_from", compared},
                         {"helix", scores_json(r.best.counts.helix)},
                         {"sheet", scores_json(r.best.counts.sheet)}};
  save_checkpoint(o.out, ck);
  reporter.info("done", "wrote " + o.out + " (" + paths[best] + ", mask rule " + describe(r.best.decision, true) + ")");
  return kOk;
}

}  // namespace

Command add_calibrate(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<CalibrateOptions>();
  CLI::App* sub = add_subcommand(
      app, g, "calibrate",
      "Choose the mask rule's helix/sheet weights on validation maps and store them in the checkpoint",
      "sseunet calibrate --model run/best.ckpt --samples real-val/ -o run/calibrated.ckpt");
  sub->add_option("--model", o->models,
                  "checkpoint to calibrate (default: $SSEUNET_MODEL, then models/default.ckpt); several: each is "
                  "calibrated and the best on the validation maps is written");
  sub->add_option("-o,--out", o->out, "checkpoint to write (the model with the chosen weights; may be --model)")
      ->required();
  sub->add_option("--samples", o->samples, "folders of built samples; their `val` samples are the validation maps");
  sub->add_option("--manifest,-m", o->manifest, "TSV manifest whose --split rows are the validation maps");
  sub->add_option("--split", o->split, "manifest rows to use: val, test, train or all")
      ->capture_default_str()
      ->check(CLI::IsMember({"test", "val", "train", "all"}));
  sub->add_option("--radius", o->radius, "manifest rows: chain zone radius (A)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_flag("--dssp", o->dssp, "manifest rows: truth from the built-in DSSP instead of HELIX/SHEET records");
  add_tile_options(*sub, o->tiles);  // --tta: calibrate the 8-flip average, for models used with predict --tta
  return {sub, [o, &g] { return run_calibrate(*o, g); }};
}

}  // namespace sse::app
