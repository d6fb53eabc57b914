// io/labels.cpp — see labels.h.
#include "io/labels.h"

#include <algorithm>
#include <array>
#include <cstdlib>

#include "io/error.h"
#include "io/file_util.h"
#include "io/neighbors.h"

namespace sse::io {
namespace {

// Per sample: the nearest Cα within cutoff, or -1. With `density`, only samples with density > 0.
std::vector<std::int32_t> owners_on_lattice(const GridGeometry& geo, const std::vector<Vec3>& ca,
                                            double cutoff,
                                            const std::vector<float>* density /* null: all */) {
  std::vector<std::int32_t> owner(geo.size(), -1);
  if (ca.empty()) return owner;
  const PointIndex index(ca, cutoff);
  // Only samples within the cutoff of some Cα can be owned: scan the Cα bounding box alone.
  IndexBox box{{geo.nx, geo.ny, geo.nz}, {0, 0, 0}};
  for (const Vec3& p : ca) {
    const IndexBox b = geo.box_around(p, cutoff);
    for (int a = 0; a < 3; ++a) {
      box.lo[a] = std::min(box.lo[a], b.lo[a]);
      box.hi[a] = std::max(box.hi[a], b.hi[a]);
    }
  }
#pragma omp parallel for collapse(2) schedule(static)
  for (int z = box.lo[2]; z < box.hi[2]; ++z)
    for (int y = box.lo[1]; y < box.hi[1]; ++y)
      for (int x = box.lo[0]; x < box.hi[0]; ++x) {
        const std::size_t i = geo.index(x, y, z);
        if (density && !((*density)[i] > 0)) continue;
        owner[i] = index.nearest(geo.position(x, y, z), cutoff);
      }
  return owner;
}

bool parse_label_line(const std::string& line, Index3& v, float& d, int& label) {
  const char* p = line.c_str();
  char* end = nullptr;
  for (int a = 0; a < 3; ++a) {
    const long n = std::strtol(p, &end, 10);
    if (end == p || *end != ',') return false;
    v[a] = int(n);
    p = end + 1;
  }
  d = std::strtof(p, &end);
  if (end == p || *end != ',') return false;
  p = end + 1;
  label = int(std::strtol(p, &end, 10));
  return end != p && label >= 0 && label <= 2;
}

}  // namespace

std::vector<std::int32_t> nearest_ca_owners(const Grid& map, const std::vector<Vec3>& ca, double cutoff) {
  return owners_on_lattice(map, ca, cutoff, &map.data);
}

LabelGrid labels_from_owners(const GridGeometry& geometry, const std::vector<std::int32_t>& owners,
                             const std::vector<int>& ca_residue, const std::vector<Sse>& residue_classes) {
  if (owners.size() != geometry.size())
    throw std::invalid_argument("labels_from_owners: one owner per voxel expected");
  LabelGrid labels(geometry, std::uint8_t(Sse::background));
  for (std::size_t i = 0; i < owners.size(); ++i)
    if (owners[i] >= 0)
      labels.data[i] = std::uint8_t(residue_classes.at(std::size_t(ca_residue.at(std::size_t(owners[i])))));
  return labels;
}

LabelGrid make_labels(const Grid& map, const Chain& chain, const std::vector<Sse>& residue_classes,
                      double cutoff) {
  if (residue_classes.size() != chain.residues.size())
    throw std::invalid_argument("make_labels: one class per residue of the chain expected");
  std::vector<int> ca_residue;
  const std::vector<Vec3> ca = chain.ca_positions(&ca_residue);
  return labels_from_owners(map, nearest_ca_owners(map, ca, cutoff), ca_residue, residue_classes);
}

LabelFile read_label_file(const std::string& path) {
  LabelFile f;
  f.path = path;
  const std::vector<std::string> lines = split_lines(read_text_file(path));
  for (std::size_t n = 0; n < lines.size(); ++n) {
    if (lines[n].empty()) continue;
    Index3 v;
    float d;
    int label;
    if (!parse_label_line(lines[n], v, d, label))
      throw file_error(path, "line " + std::to_string(n + 1) + ": expected x,y,z,density,label (label 0-2)");
    f.voxels.push_back(v);
    f.density.push_back(d);
    f.labels.push_back(std::uint8_t(label));
  }
  return f;
}

bool is_label_file(const std::string& path) {
  for (const std::string& line : split_lines(read_text_file(path))) {
    if (line.empty()) continue;
    Index3 v;
    float d;
    int label;
    return parse_label_line(line, v, d, label);
  }
  return false;
}

LabelGrid label_grid(const LabelFile& file, const GridGeometry& geometry) {
  LabelGrid g(geometry, 0);
  for (std::size_t k = 0; k < file.voxels.size(); ++k) {
    const Index3& v = file.voxels[k];
    if (!geometry.contains(v[0], v[1], v[2]))
      throw file_error(file.path, "voxel " + std::to_string(v[0]) + "," + std::to_string(v[1]) + "," +
                                      std::to_string(v[2]) + " lies outside the map grid");
    g.at(v[0], v[1], v[2]) = file.labels[k];
  }
  return g;
}

RecoveredClasses recover_residue_classes(const LabelFile& file, const GridGeometry& geometry,
                                         const Chain& chain, double cutoff) {
  std::vector<int> residue_of;
  const std::vector<Vec3> ca = chain.ca_positions(&residue_of);
  const LabelGrid listed = label_grid(file, geometry);  // also validates the voxel coordinates
  const std::vector<std::int32_t> owner = owners_on_lattice(geometry, ca, cutoff, nullptr);
  // seen[residue][label]: does the residue own a listed voxel with that label?
  std::vector<std::array<bool, kNumClasses>> seen(chain.residues.size(), {false, false, false});
  for (const Index3& v : file.voxels) {
    const std::size_t i = geometry.index(v[0], v[1], v[2]);
    if (owner[i] >= 0) seen[std::size_t(residue_of[std::size_t(owner[i])])][listed.data[i]] = true;
  }
  RecoveredClasses out;
  out.classes.assign(chain.residues.size(), Sse::background);
  for (std::size_t r = 0; r < seen.size(); ++r) {
    const int kinds = seen[r][0] + seen[r][1] + seen[r][2];
    out.conflicts += kinds > 1;
    if (seen[r][1]) out.classes[r] = Sse::helix;
    else if (seen[r][2]) out.classes[r] = Sse::sheet;
  }
  return out;
}

}  // namespace sse::io
