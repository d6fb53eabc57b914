// sseunet info MAP... — a map's header as a person reads it: size, voxel size, origin and the rule
// that placed it, mode, axis order, and statistics computed from the data (not trusted from the
// header), plus the 1 Å grid `predict` would work on. Output on stdout; --json gives one JSON object
// per map. Exit 1 at the first unreadable map (after printing the ones before it).
#include <cmath>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "apps/app.h"
#include "apps/inputs.h"
#include "io/map.h"

namespace sse::app {

namespace {

struct Stats {
  double min = std::numeric_limits<double>::infinity(), max = -min, mean = 0, std = 0;
  long long nonfinite = 0, positive = 0;
};

Stats stats_of(const io::Grid& g) {
  Stats s;
  double sum = 0, sum2 = 0;
  long long n = 0;
  for (float v : g.data) {
    if (!std::isfinite(v)) {
      ++s.nonfinite;
      continue;
    }
    s.min = std::min<double>(s.min, v);
    s.max = std::max<double>(s.max, v);
    sum += v;
    sum2 += double(v) * v;
    s.positive += v > 0;
    ++n;
  }
  if (n > 0) {
    s.mean = sum / double(n);
    s.std = std::sqrt(std::max(0.0, sum2 / double(n) - s.mean * s.mean));
  }
  return s;
}

std::string text_report(const io::MapHeader& h, const Stats& s, const std::array<double, 3>& at1) {
  std::ostringstream o;
  o << io::describe(h);
  o << "data        min " << s.min << " max " << s.max << " mean " << s.mean << " std " << s.std << " (" << s.positive
    << " of " << h.geometry.size() << " voxels positive";
  if (s.nonfinite) o << ", " << s.nonfinite << " NaN/Inf";
  o << ")\n";
  const io::GridGeometry& g = h.geometry;
  o << "extent (Å)  " << g.nx * g.voxel.x << " x " << g.ny * g.voxel.y << " x " << g.nz * g.voxel.z << "\n"
    << "at 1 Å      " << at1[0] << " x " << at1[1] << " x " << at1[2] << " (the grid `sseunet predict` writes)\n";
  return o.str();
}

nlohmann::json json_report(const io::MapHeader& h, const Stats& s, const std::array<double, 3>& at1) {
  const io::GridGeometry& g = h.geometry;
  return {{"file", h.path},
          {"mode", h.mode},
          {"size", {g.nx, g.ny, g.nz}},
          {"voxel", {g.voxel.x, g.voxel.y, g.voxel.z}},
          {"origin", {g.origin.x, g.origin.y, g.origin.z}},
          {"origin_rule", h.placement == io::MapHeader::Placement::origin_field ? "ORIGIN" : "NSTART"},
          {"axis_order", {h.axis_crs[0], h.axis_crs[1], h.axis_crs[2]}},
          {"nstart", {h.nstart_crs[0], h.nstart_crs[1], h.nstart_crs[2]}},
          {"little_endian", h.little_endian},
          {"min", s.min},
          {"max", s.max},
          {"mean", s.mean},
          {"std", s.std},
          {"nonfinite", s.nonfinite},
          {"positive", s.positive},
          {"size_at_1A", at1},
          {"warnings", h.warnings}};
}

}  // namespace

Command add_info(CLI::App& app, GlobalOptions& g) {
  struct Opts {
    std::vector<std::string> maps;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = add_subcommand(app, g, "info",
                                 "Print a map's header as a person reads it (size, voxel, origin rule, mode, stats)",
                                 "sseunet info examples/emd_35448_crop.mrc");
  sub->add_option("MAP", o->maps, "MRC/CCP4 map files (optionally .gz)")->required();
  sub->add_flag("--json", o->json, "one JSON object per map instead of text");
  return {sub, [o, &g] {
            apply_global_options(g);
            for (std::size_t i = 0; i < o->maps.size(); ++i) {
              io::MapHeader h;
              const io::Grid grid = io::read_map(o->maps[i], &h);
              const Stats s = stats_of(grid);
              const std::array<double, 3> at1 = dims_at_1A(h.geometry);
              if (o->json)
                std::cout << json_report(h, s, at1).dump() << "\n";
              else
                std::cout << (i ? "\n" : "") << text_report(h, s, at1);
            }
            return kOk;
          }};
}

}  // namespace sse::app
