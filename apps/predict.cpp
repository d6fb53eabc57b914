// sseunet predict MAP... [-o DIR] [--model CKPT] — helix and sheet masks and probabilities for any
// MRC/CCP4 map.
//
// Contract:
//  * Each map is read (NaN/Inf, zero voxel size and maps without positive density are refused),
//    resampled to 1 Å keeping its physical origin, normalized, and run through the U-Net in
//    overlapping tiles (apps/inference.h). Outputs, on the 1 Å grid with the input's origin (or on
//    the input's own grid with --on-input-grid, probabilities resampled trilinearly and masks
//    re-derived from them): helix.mrc, sheet.mrc (0/1), helix_prob.mrc, sheet_prob.mrc.
//  * With --structure MODEL [--chain C]: residues.csv, one line per residue with a Cα (all chains,
//    or C): chain, number, name, predicted class, mean helix and sheet probability over the 1 Å
//    voxels within 3 Å of its Cα, and how many voxels that was. The predicted class is the highest
//    mean probability (background = 1 − helix − sheet); residues with no voxel in the map get NA
//    (apps/residue_calls.h).
//  * Always view.cxc: a ChimeraX script opening the map, the masks (helix red, sheet yellow) and the
//    structure coloured by predicted class (apps/chimerax.h).
//  * With --report: report.html, a self-contained page with slices through the map and its
//    predictions, the counts, the residue table and the run's settings (apps/predict_report.h).
//  * --precision tf32 / bf16 (a CUDA device; a usage error on the CPU, before anything is written):
//    the convolutions on tensor cores (engine/precision.h), with each decoder block's first half as
//    one fused kernel (ops::conv3d_eval).
//  * One map: outputs go to DIR; several maps: DIR/<map stem>/; without -o: ./<map stem>_sseunet/.
//  * Every input (maps' headers, model, structure, chain, output directories) is checked before the
//    first map is computed; each map's files appear together when it is done (apps/output.h).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>

#include "apps/app.h"
#include "apps/chimerax.h"
#include "apps/dataset.h"
#include "apps/inference.h"
#include "apps/inputs.h"
#include "apps/interrupt.h"
#include "apps/model_io.h"
#include "apps/output.h"
#include "apps/predict_report.h"
#include "apps/progress.h"
#include "apps/residue_calls.h"
#include "io/error.h"
#include "io/file_util.h"
#include "io/grid_ops.h"
#include "io/map.h"
#include "io/structure.h"

namespace sse::app {

namespace {

namespace fs = std::filesystem;

struct PredictOptions {
  std::vector<std::string> maps;
  std::string out, model, structure, chain;
  TileOptions tiles;
  DecisionFlags decision;  // --helix-weight / --sheet-weight over the model's calibrated rule
  bool on_input_grid = false;
  bool report = false;
  std::string precision = "fp32";
};

// The output directory of each map, refusing two maps that would write to the same place.
std::vector<std::string> output_dirs(const PredictOptions& o) {
  std::vector<std::string> dirs;
  std::set<std::string> seen;
  for (const std::string& m : o.maps) {
    const std::string stem = map_stem(m);
    const std::string d =
        o.out.empty() ? stem + "_sseunet" : (o.maps.size() == 1 ? o.out : (fs::path(o.out) / stem).string());
    if (!seen.insert(d).second) throw UsageError("two maps named '" + stem + "' would write to the same folder " + d);
    dirs.push_back(d);
  }
  return dirs;
}

// A map whose 1 Å grid would not fit in memory (the blender keeps 3 doubles per voxel, the outputs
// 2 floats and 2 bytes): refused before anything runs rather than dying of std::bad_alloc later.
void check_predictable(const io::MapHeader& h) {
  check_map_header(h);
  const std::array<double, 3> d = dims_at_1A(h.geometry);
  if (d[0] * d[1] * d[2] > 1024.0 * 1024.0 * 1024.0) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "too large at 1 A (%.0f x %.0f x %.0f voxels, over 1024^3); crop or bin the map first", d[0], d[1],
                  d[2]);
    throw io::file_error(h.path, buf);
  }
}

// ---- residues.csv -------------------------------------------------------------------------

std::vector<const io::Chain*> selected_chains(const io::Model& model, const std::string& chain) {
  if (!chain.empty()) return {&model.chain(chain)};  // unknown chain: IoError listing the chains
  std::vector<const io::Chain*> out;
  for (const io::Chain& c : model.chains) out.push_back(&c);
  return out;
}

// A model none of whose Cα lies inside the map's box was fitted to another map.
void require_overlap(const io::Model& model, const std::vector<const io::Chain*>& chains, const io::GridGeometry& g,
                     const std::string& map_path) {
  for (const io::Chain* c : chains)
    for (const io::Residue& r : c->residues) {
      if (!r.has_ca) continue;
      const io::Vec3 p = g.to_grid(r.ca);
      if (p.x >= 0 && p.y >= 0 && p.z >= 0 && p.x <= g.nx - 1 && p.y <= g.ny - 1 && p.z <= g.nz - 1) return;
    }
  throw io::file_error(model.path, "the model does not overlap the map " + map_path + " (no Cα inside its box)");
}

// ---- one map ------------------------------------------------------------------------------

struct Context {
  const PredictOptions& o;
  LoadedModel& model;
  Device dev;
  const Reporter& reporter;
  const io::Model* structure;  // null without --structure
  Decision decision;           // the mask rule
  // Says which device and model run, once, when the first map has passed its checks — so that a
  // refused input gives exactly one line on stderr.
  void announce() const {
    if (announced) return;
    announced = true;
    reporter.info("start",
                  "device " + dev.str() + "; model " + model.path + " (" + describe(model) + "); mask rule " +
                      describe(decision, model.calibrated && decision == model.decision),
                  {{"device", dev.str()}, {"model", model.path}});
  }
  mutable bool announced = false;
};

Probabilities on_grid(Probabilities p, const io::GridGeometry& g) {
  return {io::resample_onto(p.helix, g), io::resample_onto(p.sheet, g)};
}

struct MaskCounts {
  long helix = 0, sheet = 0;
  std::size_t voxels = 0;
};

MaskCounts write_outputs(OutputDir& out, const Probabilities& p, const Decision& decision) {
  const Masks m = masks_from(p, decision);
  io::write_map(out.stage("helix.mrc"), m.helix);
  io::write_map(out.stage("sheet.mrc"), m.sheet);
  io::write_map(out.stage("helix_prob.mrc"), p.helix);
  io::write_map(out.stage("sheet_prob.mrc"), p.sheet);
  MaskCounts c;
  c.voxels = m.helix.data.size();
  for (std::size_t i = 0; i < c.voxels; ++i) {
    c.helix += m.helix.data[i];
    c.sheet += m.sheet.data[i];
  }
  return c;
}

void summarize(const Reporter& reporter, const std::string& map, const std::string& dir, const MaskCounts& c,
               double seconds) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%ld helix and %ld sheet voxels of %zu, %.1f s", c.helix, c.sheet, c.voxels, seconds);
  reporter.info(
      "done", map + " -> " + dir + "/: " + buf,
      {{"map", map}, {"dir", dir}, {"helix_voxels", c.helix}, {"sheet_voxels", c.sheet}, {"seconds", seconds}});
}

std::string dims(const io::GridGeometry& g) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%d x %d x %d voxels of %.3g x %.3g x %.3g A, origin (%.2f, %.2f, %.2f) A", g.nx, g.ny,
                g.nz, g.voxel.x, g.voxel.y, g.voxel.z, g.origin.x, g.origin.y, g.origin.z);
  return buf;
}

// The run's settings as the report lists them.
std::vector<std::pair<std::string, std::string>> settings(const Context& cx, const std::string& map,
                                                           const io::GridGeometry& input_grid,
                                                           const std::string& dir) {
  const PredictOptions& o = cx.o;
  return {{"map", map},
          {"input grid", dims(input_grid)},
          {"model", cx.model.path + " (" + describe(cx.model) + ")"},
          {"device", cx.dev.str()},
          {"tiles", (o.tiles.tile ? std::to_string(o.tiles.tile) : std::string("auto")) + ", overlap " +
                        std::to_string(o.tiles.overlap) + (o.tiles.tta ? ", 8-view TTA" : "")},
          {"mask rule", describe(cx.decision, cx.model.calibrated && cx.decision == cx.model.decision)},
          {"structure", o.structure.empty() ? "none" : o.structure + (o.chain.empty() ? "" : " chain " + o.chain)},
          {"outputs", dir + (o.on_input_grid ? " (on the input grid)" : " (on the 1 A grid)")},
          {"written by", "sseunet " SSEUNET_VERSION}};
}

// view.cxc names the map and the structure as seen from the output folder.
std::string view_script(const Context& cx, const std::string& map, double level, const std::vector<ResidueCall>& calls,
                        const OutputDir& out) {
  ChimeraScene scene;
  scene.map = relative_path(map, out.path());
  scene.map_level = level;
  scene.helix_mask = "helix.mrc";
  scene.sheet_mask = "sheet.mrc";
  if (cx.structure) scene.structure = relative_path(cx.o.structure, out.path());
  scene.residues = calls;
  return chimerax_script(scene);
}

void predict_one(const Context& cx, const std::string& map, OutputDir& out) {
  const auto t0 = std::chrono::steady_clock::now();
  io::Grid raw = read_input_map(map);
  const io::GridGeometry input_grid = raw;
  const double level = contour_level(raw);
  std::vector<const io::Chain*> chains;
  if (cx.structure) {
    chains = selected_chains(*cx.structure, cx.o.chain);
    require_overlap(*cx.structure, chains, input_grid, map);
  }
  const io::Grid input = prepare_input(raw);
  raw = io::Grid();  // free the input's samples before the network runs
  cx.announce();
  cx.reporter.info("map", map + ": " + std::to_string(input_grid.nx) + "x" + std::to_string(input_grid.ny) + "x" +
                              std::to_string(input_grid.nz) + " -> " + std::to_string(input.nx) + "x" +
                              std::to_string(input.ny) + "x" + std::to_string(input.nz) + " at 1 A");
  Probabilities p = predict_probabilities(*cx.model.net, input, cx.o.tiles, cx.dev, cx.reporter);
  std::vector<ResidueCall> calls;
  if (cx.structure) {
    calls = call_residues(chains, p);
    io::write_file_atomically(out.stage("residues.csv"), residues_csv(calls));
  }
  io::write_file_atomically(out.stage("view.cxc"), view_script(cx, map, level, calls, out));
  if (cx.o.report) {
    const Masks masks = masks_from(p, cx.decision);
    PredictReport r{map, &input, &p, &masks, cx.structure ? &calls : nullptr, settings(cx, map, input_grid, out.path())};
    io::write_file_atomically(out.stage("report.html"), predict_report_html(r));
  }
  if (cx.o.on_input_grid) p = on_grid(std::move(p), input_grid);
  const MaskCounts counts = write_outputs(out, p, cx.decision);
  throw_if_interrupted();  // a Ctrl-C during the writes: discard them
  out.commit();
  summarize(cx.reporter, map, out.path(), counts,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

int run_predict(const PredictOptions& o, const GlobalOptions& g) {
  apply_global_options(g);
  const Reporter reporter(g);
  check_tiles(o.tiles);
  if (o.structure.empty() && !o.chain.empty()) throw UsageError("--chain needs --structure");
  const Device dev = choose_device(g);
  check_precision(o.precision, dev, "--precision " + o.precision);
  const std::vector<std::string> dirs = output_dirs(o);
  for (const std::string& m : o.maps) check_predictable(io::read_map_header(m));
  std::vector<std::unique_ptr<OutputDir>> outs;  // created and proved writable before any work
  for (const std::string& d : dirs) outs.push_back(std::make_unique<OutputDir>(d));
  LoadedModel model = load_model(resolve_model_path(o.model), dev);
  io::Model structure;
  if (!o.structure.empty()) {
    structure = io::read_model(o.structure);
    selected_chains(structure, o.chain);
  }
  const Context cx{o, model, dev, reporter, o.structure.empty() ? nullptr : &structure,
                   resolve_decision(o.decision, model)};
  InterruptScope signals;  // Ctrl-C stops between tiles; the map's staged files are removed
  for (std::size_t i = 0; i < o.maps.size(); ++i) predict_one(cx, o.maps[i], *outs[i]);
  return kOk;
}

}  // namespace

Command add_predict(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<PredictOptions>();
  CLI::App* sub =
      add_subcommand(app, g, "predict", "Find helices and sheets in maps: masks and probability maps as MRC",
                     "sseunet predict examples/emd_35448_crop.mrc -o out/ --model run/best.ckpt\n"
                     "  sseunet predict examples/emd_35448_crop.mrc -o out/ --report   # + report.html; view.cxc always");
  sub->add_option("MAP", o->maps, "MRC/CCP4 maps (any size and voxel size, optionally .gz)")->required();
  sub->add_option("-o,--out", o->out,
                  "output folder (default ./<map stem>_sseunet/; with several maps DIR/<map stem>/)");
  sub->add_option("--model", o->model, "trained checkpoint (default: $SSEUNET_MODEL, then models/default.ckpt)");
  add_tile_options(*sub, o->tiles);
  add_decision_options(*sub, o->decision);
  sub->add_flag("--on-input-grid", o->on_input_grid, "write outputs on the input map's grid instead of the 1 A grid");
  sub->add_option("--structure", o->structure, "atomic model (PDB/mmCIF) fitted to the map: also write residues.csv");
  sub->add_option("--chain", o->chain, "only this chain of --structure in residues.csv");
  sub->add_option("--precision", o->precision,
                  "CUDA convolutions: fp32, or tf32 / bf16 on tensor cores (inputs rounded, so masks can differ "
                  "where two classes nearly tie), e.g. --device cuda --precision tf32")
      ->capture_default_str()
      ->check(CLI::IsMember({"fp32", "tf32", "bf16"}));
  sub->add_flag("--report", o->report,
                "also write report.html: slices through the map with helix/sheet overlays, counts, residues, "
                "settings (one self-contained page), e.g. sseunet predict map.mrc -o out/ --report");
  return {sub, [o, &g] { return run_predict(*o, g); }};
}

}  // namespace sse::app
