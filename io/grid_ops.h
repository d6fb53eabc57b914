// io/grid_ops.h — operations on grids: resampling, normalization, crop/pad, chain zones, tiles.
//
// Contract:
//  * Lattices keep their physical origin: lattice_with_spacing(g, v) starts at g.origin and holds
//    every point origin + k*v that lies inside g's sampled extent (plus 1e-6 voxel of slack).
//  * resample_onto() samples trilinearly at the output lattice's points; points outside the input
//    extent read 0. An output lattice equal to the input one returns an exact copy.
//  * normalize() is the one normalization used for training and prediction. Defaults follow
//    DeepSSETracer: divide by the maximum, set negatives to 0, then z-score with the mean and
//    (population) standard deviation + 7e-8 of the positive voxels — the authors' training code
//    takes its statistics from the component voxels only; their ChimeraX predictor from every voxel
//    of the padded box (ZScoreOver::all). Each step can be switched off.
//  * crop() copies a box that may reach outside the grid (padding with `fill`); the result's origin
//    is the physical position of box.lo, so samples keep their positions.
//  * chain_zone(): voxels within `radius` Å of any given atom form the zone; the grid is cropped to
//    the zone's bounding box grown by `margin` voxels, and (by default) zeroed outside the zone.
//    An empty zone (the atoms do not overlap the map) throws IoError.
//  * zone_at_spacing() = chain_zone(resample(map, voxel), ...) but resamples only the region it
//    needs (same lattice, same values), which keeps large maps fast.
//  * Tiles: plan_tiles() covers a grid with boxes of a fixed size overlapping by at least
//    `overlap`; the last box on each axis ends at the grid's edge (boxes are larger than the grid
//    only when the grid is smaller than a tile). TileBlender merges per-tile outputs with
//    centre-weighted blend_weights() (linear ramps over the overlap, never zero).
#pragma once

#include <vector>

#include "io/grid.h"

namespace sse::io {

// ---- resampling ----------------------------------------------------------------------------
GridGeometry lattice_with_spacing(const GridGeometry& in, Vec3 voxel);
GridGeometry sub_lattice(const GridGeometry& lattice, const IndexBox& box);
Grid resample_onto(const Grid& in, const GridGeometry& out);
Grid resample(const Grid& in, Vec3 voxel = {1, 1, 1});

// ---- normalization -------------------------------------------------------------------------
enum class ZScoreOver { positive, all };
struct NormalizeOptions {
  bool divide_by_max = true;
  bool clamp_negative = true;
  bool zscore = true;
  ZScoreOver zscore_over = ZScoreOver::positive;
  double epsilon = 7e-8;  // added to the standard deviation (DeepSSETracer's value)
};
void normalize(Grid& grid, const NormalizeOptions& options = {});

// ---- crop, pad, boxes ----------------------------------------------------------------------
template <class T>
GridT<T> crop(const GridT<T>& in, const IndexBox& box, T fill = T{});
IndexBox bounding_box(const LabelGrid& mask);  // of the nonzero samples; empty if none
IndexBox grow(const IndexBox& box, int margin);

// ---- chain zone ----------------------------------------------------------------------------
LabelGrid zone_mask(const GridGeometry& geometry, const std::vector<Vec3>& atoms, double radius);
struct ZoneOptions {
  double radius = 5.0;       // Å around any atom of the chain
  int margin = 2;            // voxels around the zone's bounding box
  bool zero_outside = true;  // as in the authors' chain maps
};
Grid chain_zone(const Grid& map, const std::vector<Vec3>& atoms, const ZoneOptions& options = {});
Grid zone_at_spacing(const Grid& map, const std::vector<Vec3>& atoms, Vec3 voxel = {1, 1, 1},
                     const ZoneOptions& options = {});

// ---- tiles ---------------------------------------------------------------------------------
std::vector<IndexBox> plan_tiles(Index3 dims, Index3 tile, Index3 overlap);
std::vector<float> blend_weights(Index3 tile, Index3 overlap);  // x fastest

class TileBlender {
 public:
  TileBlender(const GridGeometry& geometry, int channels, Index3 tile, Index3 overlap);
  // values: `channels` blocks of tile[0]*tile[1]*tile[2] floats (x fastest) for the given box.
  void add(const IndexBox& box, const float* values);
  std::vector<Grid> result() const;  // one weighted-mean grid per channel

 private:
  GridGeometry geometry_;
  int channels_;
  Index3 tile_;
  std::vector<float> weights_;
  std::vector<std::vector<double>> sum_;
  std::vector<double> weight_sum_;
};

// ---- template definitions ------------------------------------------------------------------
template <class T>
GridT<T> crop(const GridT<T>& in, const IndexBox& box, T fill) {
  GridGeometry g = in.geometry();
  g.nx = box.extent(0);
  g.ny = box.extent(1);
  g.nz = box.extent(2);
  g.origin = in.position(box.lo[0], box.lo[1], box.lo[2]);
  GridT<T> out(g, fill);
  for (int z = 0; z < g.nz; ++z)
    for (int y = 0; y < g.ny; ++y)
      for (int x = 0; x < g.nx; ++x) {
        const int sx = x + box.lo[0], sy = y + box.lo[1], sz = z + box.lo[2];
        if (in.contains(sx, sy, sz)) out.at(x, y, z) = in.at(sx, sy, sz);
      }
  return out;
}

}  // namespace sse::io
