// apps/inputs.h — reading the maps and models a command works on, with the refusals every command
// shares (so `predict`, `label` and `evaluate` reject the same inputs with the same words).
//
// Contract:
//  * check_map_header(h) throws IoError "<map>: voxel size is 0 ..." when the header leaves a cell
//    length or sampling at zero. io/ tolerates that with a warning (as ChimeraX does) for viewing,
//    but a network trained at 1 Å cannot run on a guessed scale.
//  * read_input_map(path) = io::read_map + check_map_header + refusal of NaN/infinite voxels and of
//    maps without positive density ("empty map"); every error names the file.
//  * ClassSource picks per-residue classes: an --ss-file (DSSP or STRIDE output — or one of the
//    DeepSSETracer authors' voxel label files "x,y,z,density,label", recognised by
//    io::is_label_file, from which residue classes are recovered on the map it indexes, as
//    io::build_sample does), else HELIX/SHEET records when the model has them and `dssp` is false,
//    else the built-in DSSP.
//  * read_chain(): the model, the chain (IoError listing the chains when absent) and its classes.
//  * chain_zone_at_1A(): io::zone_at_spacing at 1 Å (what `build` caches and `evaluate` scores on);
//    a chain that misses the map throws IoError naming the model and the map.
//  * chain_context_at_1A(): the same lattice, the zone's bounding box grown by `margin` voxels and
//    NOT zeroed outside the zone: the chain's surroundings as the map has them, i.e. what `predict`'s
//    network sees around the chain when it runs on the whole map.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "io/grid.h"
#include "io/map.h"
#include "io/secondary.h"
#include "io/structure.h"

namespace sse::app {

void check_map_header(const io::MapHeader& h);
// Samples along x, y, z of the map's 1 Å lattice (io::lattice_with_spacing's rule), in double so
// that a damaged header's absurd voxel size cannot overflow.
std::array<double, 3> dims_at_1A(const io::GridGeometry& g);
io::Grid read_input_map(const std::string& path, io::MapHeader* header = nullptr);

struct ClassSource {
  std::string ss_file;  // DSSP/STRIDE output or an authors' voxel label file; empty: none
  bool dssp = false;    // ignore HELIX/SHEET records, run the built-in DSSP
};

struct ChainInput {
  io::Model model;
  std::string chain_id;
  std::vector<io::Sse> classes;  // per residue of the chain
  std::string source;            // "file" (DSSP/STRIDE), "label file", "records" or "dssp" (built-in)
  const io::Chain& chain() const { return model.chain(chain_id); }
};

// `map` is needed only when ss_file is an authors' label file (its voxel indices refer to that map).
ChainInput read_chain(const std::string& model_path, const std::string& chain_id, const ClassSource& source,
                      const io::Grid* map = nullptr);

io::Grid chain_zone_at_1A(const io::Grid& map, const std::string& map_path, const ChainInput& in, double radius);
io::Grid chain_context_at_1A(const io::Grid& map, const std::string& map_path, const ChainInput& in, double radius,
                             int margin = 16);

}  // namespace sse::app
