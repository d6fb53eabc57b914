// sseunet build --manifest M --cache DIR — turns every manifest row into a cached training sample
// (io::build_manifest: chain zone at 1 Å + voxel labels, one checksummed file per row, rebuilt only
// when its inputs or options change).
// sseunet build --simulate MODEL[:CHAIN]... --cache DIR — the same samples from maps simulated from
// atomic models (io::build_simulated): --per-chain samples per chain, each at a resolution, noise,
// blur and scale drawn from the given ranges and --seed; labels from the model's HELIX/SHEET records
// or the built-in DSSP. --list FILE adds models from a file (one `path[:CHAIN]` per line);
// --context box keeps the whole box around each chain, labelled from every chain (io/simulate_set.h).
// sseunet build --manifest M --lowpass N --cache DIR — N samples per row from the row's real map
// Gaussian-filtered to a resolution drawn in --res-min..--res-max (io::build_lowpassed).
// Both print one line per sample (built / up to date / failed) and a summary on stdout; a failure is
// reported on stderr and the others still build; exit 1 when any failed.
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "apps/app.h"
#include "apps/dataset.h"
#include "apps/progress.h"
#include "io/error.h"
#include "io/lowpass_set.h"
#include "io/manifest.h"
#include "io/simulate_set.h"

namespace sse::app {

namespace {

struct BuildCmdOptions {
  std::string manifest, cache;
  double radius = 5.0, cutoff = 3.0;
  bool dssp = false;
  // --simulate
  std::vector<std::string> models;
  std::string list, sigma = "chimera", split = "train";
  io::Realism realism;
  int per_chain = 1, min_residues = 20;
  bool no_neighbours = false;
  std::string context = "zone";
  int lowpass = 0;  // --lowpass N: N low-passed samples per manifest row
};

const char* status_word(io::BuildStatus s) {
  switch (s) {
    case io::BuildStatus::built:
      return "built";
    case io::BuildStatus::skipped:
      return "up to date";
    default:
      return "FAILED";
  }
}

io::BuildOptions build_options(const BuildCmdOptions& o) {
  io::BuildOptions b;
  b.cache_dir = o.cache;
  b.zone.radius = o.radius;
  b.label_cutoff = o.cutoff;
  b.ss.use_records = !o.dssp;
  return b;
}

int report(int failed, std::size_t total, const std::string& cache, const std::string& what) {
  std::cout << total - std::size_t(failed) << " of " << total << " samples ready in " << cache << "\n";
  if (failed) std::cerr << "sseunet: " << what << ": " << failed << " of " << total << " failed\n";
  return failed ? kFailure : kOk;
}

double sigma_factor(const BuildCmdOptions& o) {
  try {
    const double f = io::parse_sigma_factor(o.sigma);
    io::draw_realism(o.realism, f, 0);  // refuses reversed ranges as a usage error
    return f;
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

std::vector<io::BuildResult> build_lowpassed(const std::vector<io::ManifestRow>& rows, const BuildCmdOptions& o,
                                             const GlobalOptions& g, const Reporter& reporter) {
  io::LowPassOptions lp;
  lp.build = build_options(o);
  lp.realism = o.realism;
  lp.sigma_factor = sigma_factor(o);
  lp.samples_per_row = o.lowpass;
  lp.seed = g.seed;
  std::vector<io::BuildResult> results;
  Progress bar(reporter, "build", "rows", static_cast<long long>(rows.size()));
  for (const io::ManifestRow& row : rows) {
    for (io::BuildResult& r : io::build_lowpassed({row}, lp)) results.push_back(std::move(r));
    bar.update(static_cast<long long>(&row - rows.data() + 1), row_name(row));
  }
  bar.finish();
  return results;
}

int run_manifest(const BuildCmdOptions& o, const GlobalOptions& g, const Reporter& reporter) {
  const std::vector<io::ManifestRow> rows = io::read_manifest(o.manifest);
  const std::vector<io::BuildResult> results =
      o.lowpass > 0 ? build_lowpassed(rows, o, g, reporter) : build_samples(rows, build_options(o), reporter);
  int failed = 0;
  for (const io::BuildResult& r : results) {
    failed += r.status == io::BuildStatus::failed;
    std::cout << row_name(r.row) << "\t" << io::split_name(r.row.split) << "\t" << status_word(r.status) << "\t"
              << (r.status == io::BuildStatus::failed ? r.message : r.sample_path) << "\n";
  }
  return report(failed, results.size(), o.cache, o.manifest + " rows");
}

// `path` or `path:CHAIN` (a chain id is short and has no path separator).
io::SimulatedSource parse_source(const std::string& text) {
  const std::size_t colon = text.rfind(':');
  if (colon != std::string::npos && colon + 1 < text.size() && text.size() - colon - 1 <= 4 &&
      text.find('/', colon) == std::string::npos)
    return {text.substr(0, colon), text.substr(colon + 1)};
  return {text, ""};
}

std::vector<io::SimulatedSource> simulated_sources(const BuildCmdOptions& o) {
  std::vector<std::string> items = o.models;
  if (!o.list.empty()) {
    std::ifstream in(o.list);
    if (!in) throw io::file_error(o.list, "cannot read the model list");
    for (std::string line; std::getline(in, line);) {
      line = line.substr(0, line.find('#'));
      while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
      if (!line.empty()) items.push_back(line);
    }
  }
  if (items.empty()) throw UsageError("--simulate needs model files (arguments or --list)");
  std::vector<io::SimulatedSource> sources;
  for (const std::string& item : items) sources.push_back(parse_source(item));
  return sources;
}

io::Split parse_split(const std::string& name) {
  if (const std::optional<io::Split> s = io::split_from_name(name)) return *s;
  throw UsageError("--split must be train, val or test");
}

io::SimulatedSetOptions simulated_options(const BuildCmdOptions& o, const GlobalOptions& g) {
  io::SimulatedSetOptions s;
  s.build = build_options(o);
  s.simulate.sigma_factor = sigma_factor(o);
  s.realism = o.realism;
  s.samples_per_chain = o.per_chain;
  s.seed = g.seed;
  s.split = parse_split(o.split);
  s.min_residues = o.min_residues;
  s.neighbours = !o.no_neighbours;
  s.context = o.context == "box" ? io::SampleContext::box : io::SampleContext::zone;
  return s;
}

int run_simulated(const BuildCmdOptions& o, const GlobalOptions& g, const Reporter& reporter) {
  const io::SimulatedSetOptions options = simulated_options(o, g);
  const std::vector<io::SimulatedSource> sources = simulated_sources(o);
  std::vector<io::SimulatedBuildResult> results;
  Progress bar(reporter, "build", "models", static_cast<long long>(sources.size()));
  for (const io::SimulatedSource& src : sources) {
    for (io::SimulatedBuildResult& r : io::build_simulated({src}, options)) results.push_back(std::move(r));
    bar.update(static_cast<long long>(&src - sources.data() + 1), src.model);
  }
  bar.finish();
  int failed = 0;
  for (const io::SimulatedBuildResult& r : results) {
    failed += r.status == io::BuildStatus::failed;
    if (r.status == io::BuildStatus::failed) reporter.warn(r.message);
    std::cout << r.model << "\t" << (r.chain.empty() ? "-" : r.chain) << "\t" << r.index << "\t"
              << status_word(r.status) << "\t" << (r.status == io::BuildStatus::failed ? r.message : r.sample_path)
              << "\n";
  }
  return report(failed, results.size(), o.cache, "simulated samples");
}

int run_build(const BuildCmdOptions& o, const CLI::App& sub, const GlobalOptions& g) {
  apply_global_options(g);
  const Reporter reporter(g);
  const bool simulate = sub.count("--simulate") > 0 || !o.list.empty();
  if (simulate == !o.manifest.empty())
    throw UsageError("give either --manifest M or --simulate MODEL... (or --list FILE)");
  if (simulate && o.lowpass > 0) throw UsageError("--lowpass filters the maps of a --manifest, not simulated maps");
  if (!simulate && o.realism.dna_fraction > 0)
    throw UsageError("--dna-fraction lays DNA beside simulated chains: it needs --simulate or --list");
  if (!simulate && o.context != "zone")
    throw UsageError("--context chooses what simulated samples hold: it needs --simulate or --list");
  if (o.context == "box" && o.no_neighbours)
    throw UsageError("--context box labels every chain in the box: it needs their density (drop --no-neighbours)");
  return simulate ? run_simulated(o, g, reporter) : run_manifest(o, g, reporter);
}

void add_range(CLI::App& sub, const std::string& name, double& lo, double& hi, const std::string& what) {
  sub.add_option("--" + name + "-min", lo, "lowest " + what)->capture_default_str()->group("Realism (--simulate and --lowpass)");
  sub.add_option("--" + name + "-max", hi, "highest " + what)->capture_default_str()->group("Realism (--simulate and --lowpass)");
}

void add_simulate_options(CLI::App& sub, BuildCmdOptions& o) {
  sub.add_option("--simulate", o.models, "simulate maps from these models (path or path:CHAIN; no chain: every chain)")
      ->group("Simulation");
  sub.add_option("--list", o.list, "file of models to simulate, one path[:CHAIN] per line (# comments)")
      ->group("Simulation");
  sub.add_option("--per-chain", o.per_chain, "samples per chain (each with its own draw)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->group("Simulation");
  add_range(sub, "res", o.realism.res_min, o.realism.res_max, "resolution (A), drawn uniformly (--lowpass: the target)");
  add_range(sub, "snr", o.realism.snr_min, o.realism.snr_max, "signal-to-noise ratio (max 0: no noise)");
  add_range(sub, "bfactor", o.realism.bfactor_min, o.realism.bfactor_max, "extra B-factor blur (A^2)");
  add_range(sub, "scale", o.realism.scale_min, o.realism.scale_max, "density scale");
  add_range(sub, "radius", o.realism.radius_min, o.realism.radius_max,
            "chain-zone radius (A), drawn per sample like real chain maps' masks (max 0: --radius)");
  sub.add_option("--local-bfactor-max", o.realism.local_bfactor_max,
                 "local-resolution variation: extra B-factor blur (A^2) of a sample's blurriest regions, drawn in "
                 "0..this (0: none)")
      ->capture_default_str()
      ->group("Realism (--simulate and --lowpass)");
  sub.add_option("--dna-fraction", o.realism.dna_fraction,
                 "nucleic acid as background: this fraction of the simulated samples gets a B-DNA duplex "
                 "(12-36 bp, bent up to 45 deg per 12 bp) beside the chain, labelled background "
                 "(e.g. --dna-fraction 0.5; 0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0))
      ->group("Simulation");
  sub.add_option("--noise-correlation", o.realism.noise_correlation, "noise low-pass width / atoms' sigma (0: white)")
      ->capture_default_str()
      ->group("Simulation");
  sub.add_option("--sigma-factor", o.sigma, "sigma / resolution: chimera, tempy or a number")
      ->capture_default_str()
      ->group("Simulation");
  sub.add_option("--context", o.context,
                 "what a sample holds around its chain: zone (as the authors' chain maps: zeroed outside the "
                 "chain's zone, labelled from the chain) or box (as predict sees a whole map: the zone's box with "
                 "nothing zeroed, labelled from every chain; e.g. --context box)")
      ->capture_default_str()
      ->check(CLI::IsMember({"zone", "box"}))
      ->group("Simulation");
  sub.add_flag("--no-neighbours", o.no_neighbours, "simulate the chain alone (default: with its neighbours' density)")
      ->group("Simulation");
  sub.add_option("--min-residues", o.min_residues, "chains chosen automatically need this many residues with a Ca")
      ->capture_default_str()
      ->group("Simulation");
  sub.add_option("--split", o.split, "split recorded in the samples (train, val, test; `train --samples` uses it)")
      ->capture_default_str()
      ->group("Simulation");
}

}  // namespace

Command add_build(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<BuildCmdOptions>();
  CLI::App* sub = add_subcommand(
      app, g, "build", "Build (or refresh) cached training samples from a manifest of maps, or from simulated maps",
      "sseunet build --manifest data/train.tsv --cache cache/\n"
      "  sseunet build --simulate models/*.pdb 1abc.cif:B --per-chain 2 --snr-min 1 --snr-max 4 --cache sim/\n"
      "  sseunet build --manifest highres.tsv --lowpass 8 --res-min 5 --res-max 10 --cache real/");
  sub->add_option("--manifest,-m", o->manifest, "TSV manifest: map model chain resolution split [ss_file] [name]");
  sub->add_option("--cache", o->cache, "folder for the sample files")->required();
  add_zone_options(*sub, o->radius, o->cutoff);
  sub->add_option("--lowpass", o->lowpass,
                  "N samples per manifest row, each the real map Gaussian-filtered to a resolution drawn in "
                  "--res-min..--res-max (real noise and solvent kept; --snr-max adds more noise)")
      ->check(CLI::PositiveNumber);
  sub->add_flag("--dssp", o->dssp, "ignore HELIX/SHEET records; assign with the built-in DSSP (rows without ss_file)");
  add_simulate_options(*sub, *o);
  return {sub, [o, sub, &g] { return run_build(*o, *sub, g); }};
}

}  // namespace sse::app
