// sseunet simulate MODEL [--chain C] --resolution R -o map.mrc — a density map simulated from an
// atomic model (io/simulate.h): a sum of per-atom Gaussians weighted by atomic number, σ =
// sigma_factor · R (Chimera molmap's convention by default: σ = 0.225·R), cut off at --cutoff σ.
// Without realism options the map is the clean simulation; any of --snr, --bfactor, --scale adds
// the training realism of io::add_realism (noise low-passed like the signal, a B-factor blur, a
// density scale) drawn from --seed. --like REF.mrc samples the lattice of a reference map instead
// of the default one around the atoms (to compare with another tool's simulation voxel by voxel).
// The map is written through a temporary file: a failure never leaves a partial map.
#include <cstdio>
#include <filesystem>

#include "apps/app.h"
#include "apps/output.h"
#include "apps/progress.h"
#include "io/map.h"
#include "io/simulate.h"

namespace sse::app {

namespace {

struct SimulateCmdOptions {
  std::string model, chain, out, like, sigma = "chimera";
  io::SimulateOptions sim;
  double snr = 0, noise_correlation = 1.0, bfactor = 0, scale = 1;
};

bool wants_realism(const CLI::App& sub) {
  return sub.count("--snr") || sub.count("--bfactor") || sub.count("--scale");
}

io::Grid simulate(const SimulateCmdOptions& o, const CLI::App& sub, const GlobalOptions& g) {
  const io::Model model = io::read_model(o.model);
  io::Grid map = o.like.empty() ? io::simulate_map(model, o.chain, o.sim)
                                : io::simulate_onto(model, o.chain, io::read_map(o.like).geometry(), o.sim);
  if (!wants_realism(sub)) return map;
  const io::Realism r{o.sim.resolution, o.sim.resolution, o.snr, o.snr, o.noise_correlation,
                      o.bfactor,        o.bfactor,        o.scale, o.scale};
  return io::add_realism(std::move(map), io::draw_realism(r, o.sim.sigma_factor, g.seed));
}

int run_simulate(SimulateCmdOptions o, const CLI::App& sub, const GlobalOptions& g) {
  apply_global_options(g);
  const Reporter reporter(g);
  try {
    o.sim.sigma_factor = io::parse_sigma_factor(o.sigma);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--sigma-factor: ") + e.what());
  }
  const std::filesystem::path out_path(o.out);
  OutputDir dir(out_path.has_parent_path() ? out_path.parent_path().string() : ".");
  const io::Grid map = simulate(o, sub, g);
  io::write_map(dir.stage(out_path.filename().string()), map);
  dir.commit();
  char buf[160];
  std::snprintf(buf, sizeof buf, "%dx%dx%d voxels of %.3g A at %.3g A resolution (sigma %.3g A)", map.nx, map.ny,
                map.nz, map.voxel.x, o.sim.resolution, o.sim.sigma());
  reporter.info("done", o.out + ": " + buf);
  return kOk;
}

}  // namespace

Command add_simulate(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<SimulateCmdOptions>();
  CLI::App* sub = add_subcommand(app, g, "simulate", "Simulate a density map from an atomic model at a resolution",
                                 "sseunet simulate 1ake.pdb --chain A --resolution 6 -o 1akeA_6A.mrc");
  sub->add_option("MODEL", o->model, "atomic model (PDB or mmCIF, optionally .gz)")->required();
  sub->add_option("--chain,-c", o->chain, "only this chain's atoms (author chain id; default: every chain)");
  sub->add_option("--resolution,-r", o->sim.resolution, "resolution R (A); sigma = sigma-factor x R")
      ->required()
      ->check(CLI::PositiveNumber);
  sub->add_option("-o,--out", o->out, "output MRC file")->required();
  sub->add_option("--voxel", o->sim.voxel, "voxel size of the output lattice (A)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--sigma-factor", o->sigma, "sigma / resolution: chimera (= molmap, eman: 0.225), tempy (0.356) or a number")
      ->capture_default_str();
  sub->add_option("--cutoff", o->sim.cutoff_sigmas, "atoms add density within this many sigma")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_flag("--occupancy", o->sim.weight_by_occupancy, "weight atoms by occupancy as well as atomic number");
  sub->add_option("--like", o->like, "sample the lattice of this reference map (its grid, voxel size, origin)");
  sub->add_option("--snr", o->snr, "add noise at this signal-to-noise ratio (variance ratio)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--noise-correlation", o->noise_correlation,
                  "noise low-pass width as a multiple of the atoms' sigma (0: white noise)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--bfactor", o->bfactor, "extra blur by this B-factor (A^2)")->check(CLI::NonNegativeNumber);
  sub->add_option("--scale", o->scale, "multiply the density by this factor")->check(CLI::PositiveNumber);
  return {sub, [o, sub, &g] { return run_simulate(*o, *sub, g); }};
}

}  // namespace sse::app
