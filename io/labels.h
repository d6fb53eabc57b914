// io/labels.h — voxel labels from an atomic model, and the DeepSSETracer authors' label files.
//
// Contract (the rule, verified on the authors' files):
//  * Only voxels of the map component count: density > 0. Every other voxel is background.
//  * A component voxel takes the class of its nearest Cα if that Cα is within `cutoff` Å
//    (3.0 by default, inclusive), else background. Equal distances go to the Cα listed first.
//  * nearest_ca_owners() returns, per voxel, the index of that Cα in the given list or -1; labels
//    and residue-level metrics both derive from it, so they cannot disagree on the assignment.
//  * Authors' files (`*_label_stride.txt`, optionally gzipped): one "x,y,z,density/max,label" line
//    per component voxel, x the fastest MRC axis; unlisted voxels are background.
//  * A manifest row's ss_file may be such a file (is_label_file): build_sample then takes the
//    residue classes recover_residue_classes() finds on the row's map.
//  * recover_residue_classes(): the class of a residue is the label its owned voxels carry in the
//    file (each labelled voxel's nearest Cα within the cutoff names its residue). Residues owning
//    no listed voxel stay "other". `conflicts` counts residues whose voxels carry different labels
//    (0 on all three authors' chains). Errors throw IoError naming the file and line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/grid.h"
#include "io/secondary.h"
#include "io/structure.h"

namespace sse::io {

constexpr double kLabelCutoff = 3.0;

std::vector<std::int32_t> nearest_ca_owners(const Grid& map, const std::vector<Vec3>& ca,
                                            double cutoff = kLabelCutoff);

// owners (from nearest_ca_owners) -> classes; ca_residue is the residue of each Cα
// (Chain::ca_positions), residue_classes one class per residue of the chain.
LabelGrid labels_from_owners(const GridGeometry& geometry, const std::vector<std::int32_t>& owners,
                             const std::vector<int>& ca_residue, const std::vector<Sse>& residue_classes);

// Label grid on the map's lattice for one chain whose residues have the given classes.
LabelGrid make_labels(const Grid& map, const Chain& chain, const std::vector<Sse>& residue_classes,
                      double cutoff = kLabelCutoff);

struct LabelFile {
  std::string path;
  std::vector<Index3> voxels;
  std::vector<float> density;  // density / max, as written
  std::vector<std::uint8_t> labels;
};
LabelFile read_label_file(const std::string& path);
// True when the file's first non-empty line is a label line "x,y,z,density,label" (a content sniff:
// DSSP and STRIDE outputs never start that way). Throws IoError when the file cannot be read.
bool is_label_file(const std::string& path);
// The file's labels on the given lattice (throws IoError if a voxel lies outside it).
LabelGrid label_grid(const LabelFile& file, const GridGeometry& geometry);

struct RecoveredClasses {
  std::vector<Sse> classes;  // per residue of the chain
  long conflicts = 0;
};
RecoveredClasses recover_residue_classes(const LabelFile& file, const GridGeometry& geometry,
                                         const Chain& chain, double cutoff = kLabelCutoff);

}  // namespace sse::io
