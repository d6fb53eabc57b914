// io/lowpass_set.cpp — see lowpass_set.h.
#include "io/lowpass_set.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "io/simulate_set.h"

namespace sse::io {
namespace {

namespace fs = std::filesystem;
using Metadata = std::vector<std::pair<std::string, std::string>>;

std::string lowpass_key(const ManifestRow& row, std::uint64_t seed, const LowPassOptions& o) {
  return source_key(row, o.build) + "|lowpass seed " + std::to_string(seed) + "|sigma " +
         exact_number(o.sigma_factor) + "|" + realism_key(o.realism);
}

// The part of `map` the chain's sample can see: the atoms' bounding box grown by the zone, its
// margin and the reach of every blur applied (4σ of the filter and of the largest B-factor blur),
// clipped to the map. Filtering only this box gives the same zone values as filtering the whole map.
Grid chain_region(const Grid& map, const Chain& chain, const LowPassOptions& o) {
  const double sigma = std::hypot(o.sigma_factor * o.realism.res_max, bfactor_sigma(o.realism.bfactor_max),
                                  bfactor_sigma(o.realism.local_bfactor_max));
  const double reach = widest_zone(o.build, o.realism) + 4 * sigma + (o.build.zone.margin + 2) * std::max({o.build.voxel.x,
                                                                                             o.build.voxel.y,
                                                                                             o.build.voxel.z});
  IndexBox box{{map.nx, map.ny, map.nz}, {0, 0, 0}};
  for (const Vec3& p : chain.atoms) {
    const IndexBox b = map.box_around(p, reach);
    for (int a = 0; a < 3; ++a) {
      box.lo[a] = std::min(box.lo[a], b.lo[a]);
      box.hi[a] = std::max(box.hi[a], b.hi[a]);
    }
  }
  if (box.empty()) throw IoError("the chain's atoms lie outside the map");
  return crop(map, box);
}

Metadata draw_metadata(const RealismDraw& d, const ManifestRow& row, const LowPassOptions& o) {
  return {{"lowpass", "1"},
          {"source_resolution", exact_number(row.resolution)},
          {"seed", std::to_string(d.seed)},
          {"sigma_factor", exact_number(o.sigma_factor)},
          {"bfactor", exact_number(d.bfactor)},
          {"scale", exact_number(d.scale)},
          {"snr", exact_number(d.snr)},
          {"noise_sigma", exact_number(d.noise_sigma)},
          {"zone_radius", exact_number(with_drawn_zone(o.build, d).zone.radius)},
          {"local_bfactor", exact_number(d.local_bfactor)}};
}

void set_meta(Metadata& meta, const std::string& key, const std::string& value) {
  for (auto& [k, v] : meta)
    if (k == key) v = value;
}

}  // namespace

Grid lowpass_map(const Grid& map, double resolution, double sigma_factor) {
  if (!(resolution > 0) || !(sigma_factor > 0))
    throw std::invalid_argument("lowpass_map: resolution and sigma_factor must be > 0");
  Grid out = map;
  gaussian_blur(out, sigma_factor * resolution);
  return out;
}

Sample lowpass_sample(const ManifestRow& row, const RowInputs& in, int index, const LowPassOptions& o) {
  const std::uint64_t seed = sample_seed(row.map, row.chain, index, o.seed);
  const RealismDraw draw = draw_realism(o.realism, o.sigma_factor, seed);
  const Grid region = chain_region(in.map, in.model.chain(row.chain), o);
  Sample s = row_sample(row, in, add_realism(lowpass_map(region, draw.resolution, o.sigma_factor), draw),
                        with_drawn_zone(o.build, draw));
  set_meta(s.metadata, "resolution", exact_number(draw.resolution));
  set_meta(s.metadata, "source", lowpass_key(row, seed, o));
  const Metadata extra = draw_metadata(draw, row, o);
  s.metadata.insert(s.metadata.end() - 2, extra.begin(), extra.end());  // before source, written_by
  return s;
}

std::string lowpass_sample_path(const ManifestRow& row, int index, const LowPassOptions& o) {
  std::string path = sample_path(row, o.build);
  path.resize(path.size() - std::string(".sample").size());
  return path + "_lp" + std::to_string(index) + ".sample";
}

std::vector<BuildResult> build_lowpassed(const std::vector<ManifestRow>& rows, const LowPassOptions& o) {
  if (o.build.cache_dir.empty()) throw std::invalid_argument("build_lowpassed: no cache directory");
  if (o.samples_per_row < 1) throw std::invalid_argument("build_lowpassed: samples_per_row must be >= 1");
  draw_realism(o.realism, o.sigma_factor, 0);  // refuses bad ranges before any file is read
  fs::create_directories(o.build.cache_dir);
  std::vector<BuildResult> results;
  for (const ManifestRow& row : rows) {
    std::vector<RowInputs> in;  // read once, when the first sample of the row needs building
    for (int k = 0; k < o.samples_per_row; ++k) {
      BuildResult r{row, BuildStatus::failed, lowpass_sample_path(row, k, o), ""};
      try {
        if (sample_up_to_date(r.sample_path, lowpass_key(row, sample_seed(row.map, row.chain, k, o.seed), o))) {
          r.status = BuildStatus::skipped;
        } else {
          if (in.empty()) in.push_back(read_row_inputs(row, o.build));
          write_sample(r.sample_path, lowpass_sample(row, in[0], k, o));
          r.status = BuildStatus::built;
        }
      } catch (const IoError& e) {
        r.message = row_error(row, e).what();
      }
      results.push_back(std::move(r));
    }
  }
  return results;
}

}  // namespace sse::io
