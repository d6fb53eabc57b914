// Shared input checks (contract in apps/inputs.h).
#include "apps/inputs.h"

#include <cmath>

#include "io/error.h"
#include "io/grid_ops.h"
#include "io/labels.h"

namespace sse::app {

void check_map_header(const io::MapHeader& h) {
  for (int a = 0; a < 3; ++a)
    if (h.cell_lengths[a] == 0 || h.sampling_xyz[a] == 0)
      throw io::file_error(h.path, std::string("voxel size is 0 along ") + "xyz"[a] +
                                       " (cell length or sampling unset in the header); the map's scale is unknown");
}

std::array<double, 3> dims_at_1A(const io::GridGeometry& g) {
  std::array<double, 3> d{};
  const io::Index3 n = g.dims();
  for (int a = 0; a < 3; ++a) d[std::size_t(a)] = n[a] <= 0 ? 0.0 : std::floor((n[a] - 1) * g.voxel[a] + 1e-6) + 1;
  return d;
}

io::Grid read_input_map(const std::string& path, io::MapHeader* header) {
  io::MapHeader h;
  io::Grid g = io::read_map(path, &h);
  check_map_header(h);
  bool positive = false;
  for (float v : g.data) {
    if (!std::isfinite(v)) throw io::file_error(path, "the map contains NaN or infinite values");
    positive = positive || v > 0;
  }
  if (!positive) throw io::file_error(path, "empty map (no voxel has positive density)");
  if (header) *header = std::move(h);
  return g;
}

ChainInput read_chain(const std::string& model_path, const std::string& chain_id, const ClassSource& source,
                      const io::Grid* map) {
  ChainInput in;
  in.model = io::read_model(model_path);
  in.chain_id = chain_id;
  const io::Chain& chain = in.chain();  // unknown chain: IoError listing the chains
  if (!source.ss_file.empty() && io::is_label_file(source.ss_file)) {
    if (!map) throw io::file_error(source.ss_file, "a voxel label file needs the map it indexes");
    in.classes = io::recover_residue_classes(io::read_label_file(source.ss_file), *map, chain).classes;
    in.source = "label file";
    return in;
  }
  io::SsOptions ss;
  ss.ss_file = source.ss_file;
  ss.use_records = !source.dssp;
  const io::ChainSs cs = io::chain_secondary_structure(in.model, chain_id, ss);
  in.classes = cs.classes;
  in.source = io::ss_source_name(cs.source);
  return in;
}

namespace {

io::Grid zone_at_1A(const io::Grid& map, const std::string& map_path, const ChainInput& in, const io::ZoneOptions& z) {
  try {
    return io::zone_at_spacing(map, in.chain().atoms, {1, 1, 1}, z);
  } catch (const io::IoError&) {  // an empty zone: the chain lies outside the map
    throw io::file_error(in.model.path, "chain " + in.chain_id + " does not overlap the map " + map_path);
  }
}

}  // namespace

io::Grid chain_zone_at_1A(const io::Grid& map, const std::string& map_path, const ChainInput& in, double radius) {
  io::ZoneOptions z;
  z.radius = radius;
  return zone_at_1A(map, map_path, in, z);
}

io::Grid chain_context_at_1A(const io::Grid& map, const std::string& map_path, const ChainInput& in, double radius,
                             int margin) {
  io::ZoneOptions z;
  z.radius = radius;
  z.margin = margin;
  z.zero_outside = false;
  return zone_at_1A(map, map_path, in, z);
}

}  // namespace sse::app
