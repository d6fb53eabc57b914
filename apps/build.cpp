// sseunet build --manifest M --cache DIR — turns every manifest row into a cached training sample
// (io::build_manifest: chain zone at 1 Å + voxel labels, one checksummed file per row, rebuilt only
// when its inputs or options change). Prints one line per row (built / up to date / failed) and a
// summary on stdout; a failed row is reported on stderr and the other rows still build; exit 1 when
// any row failed.
#include <cstdio>
#include <iostream>

#include "apps/app.h"
#include "apps/dataset.h"
#include "apps/progress.h"
#include "io/manifest.h"

namespace sse::app {

namespace {

struct BuildCmdOptions {
  std::string manifest, cache;
  double radius = 5.0, cutoff = 3.0;
  bool dssp = false;
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

int run_build(const BuildCmdOptions& o, const GlobalOptions& g) {
  apply_global_options(g);
  const Reporter reporter(g);
  const std::vector<io::ManifestRow> rows = io::read_manifest(o.manifest);
  io::BuildOptions b;
  b.cache_dir = o.cache;
  b.zone.radius = o.radius;
  b.label_cutoff = o.cutoff;
  b.ss.use_records = !o.dssp;
  const std::vector<io::BuildResult> results = build_samples(rows, b, reporter);
  int failed = 0;
  for (const io::BuildResult& r : results) {
    failed += r.status == io::BuildStatus::failed;
    std::cout << row_name(r.row) << "\t" << io::split_name(r.row.split) << "\t" << status_word(r.status) << "\t"
              << (r.status == io::BuildStatus::failed ? r.message : r.sample_path) << "\n";
  }
  std::cout << results.size() - std::size_t(failed) << " of " << results.size() << " samples ready in " << o.cache
            << "\n";
  if (failed) std::cerr << "sseunet: " << o.manifest << ": " << failed << " of " << results.size() << " rows failed\n";
  return failed ? kFailure : kOk;
}

}  // namespace

Command add_build(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<BuildCmdOptions>();
  CLI::App* sub = add_subcommand(app, g, "build", "Build (or refresh) the cached training samples of a manifest",
                                 "sseunet build --manifest data/train.tsv --cache cache/");
  sub->add_option("--manifest,-m", o->manifest, "TSV manifest: map model chain resolution split [ss_file] [name]")
      ->required();
  sub->add_option("--cache", o->cache, "folder for the sample files")->required();
  sub->add_option("--radius", o->radius, "zone radius around the chain's atoms (A)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--cutoff", o->cutoff, "label a voxel by its nearest Ca within this distance (A)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_flag("--dssp", o->dssp, "ignore HELIX/SHEET records; assign with the built-in DSSP (rows without ss_file)");
  return {sub, [o, &g] { return run_build(*o, g); }};
}

}  // namespace sse::app
