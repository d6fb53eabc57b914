// sseunet label MAP MODEL --chain C -o DIR — the training target of one chain, for looking at in
// ChimeraX: zone.mrc (the chain zone at 1 Å: density within --radius Å of the chain's atoms, zero
// elsewhere, cropped to the zone's box plus a margin — exactly what `build` caches) and labels.mrc
// (0 background, 1 helix, 2 sheet: a voxel of density > 0 takes the class of its nearest Cα within
// 3 Å). Both share one grid placed in the map's physical frame, so they overlay the input map.
// Residue classes: --ss-file, else the model's HELIX/SHEET records, else the built-in DSSP
// (--dssp forces it); apps/inputs.h.
#include <cstdio>

#include "apps/app.h"
#include "apps/inputs.h"
#include "apps/output.h"
#include "apps/progress.h"
#include "io/error.h"
#include "io/grid_ops.h"
#include "io/labels.h"
#include "io/map.h"

namespace sse::app {

namespace {

struct LabelOptions {
  std::string map, model, chain, out;
  ClassSource classes;
  double radius = 5.0, cutoff = io::kLabelCutoff;
};

std::string summary(const io::LabelGrid& labels, const ChainInput& in) {
  long n[3] = {0, 0, 0};
  for (std::uint8_t l : labels.data) ++n[l < 3 ? l : 0];
  const io::CaCounts ca = io::count_ca(in.chain(), in.classes);
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "%dx%dx%d zone; %ld helix, %ld sheet voxels; %ld helix, %ld sheet Ca (classes from %s)", labels.nx,
                labels.ny, labels.nz, n[1], n[2], ca.helix, ca.sheet, in.source.c_str());
  return buf;
}

int run_label(const LabelOptions& o, const GlobalOptions& g) {
  apply_global_options(g);
  const Reporter reporter(g);
  OutputDir out(o.out);
  const io::Grid map = read_input_map(o.map);
  const ChainInput in = read_chain(o.model, o.chain, o.classes, &map);
  const io::Grid zone = chain_zone_at_1A(map, o.map, in, o.radius);
  const io::LabelGrid labels = io::make_labels(zone, in.chain(), in.classes, o.cutoff);
  io::write_map(out.stage("zone.mrc"), zone);
  io::write_map(out.stage("labels.mrc"), labels);
  out.commit();
  reporter.info("done", out.path() + "/zone.mrc, labels.mrc: " + summary(labels, in));
  return kOk;
}

}  // namespace

Command add_label(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<LabelOptions>();
  CLI::App* sub =
      add_subcommand(app, g, "label", "Write a chain's zone map and voxel label map as MRC (to check them in ChimeraX)",
                     "sseunet label map.mrc model.pdb --chain A -o labels_A/");
  sub->add_option("MAP", o->map, "MRC/CCP4 map")->required();
  sub->add_option("MODEL", o->model, "atomic model fitted to the map (PDB or mmCIF)")->required();
  sub->add_option("--chain,-c", o->chain, "chain id (author chain id)")->required();
  sub->add_option("-o,--out", o->out, "output folder")->required();
  sub->add_option("--ss-file", o->classes.ss_file,
                  "DSSP or STRIDE output (or an authors' *_label_stride.txt) for the residue classes");
  sub->add_flag("--dssp", o->classes.dssp, "ignore HELIX/SHEET records; assign with the built-in DSSP");
  add_zone_options(*sub, o->radius, o->cutoff);
  return {sub, [o, &g] { return run_label(*o, g); }};
}

}  // namespace sse::app
