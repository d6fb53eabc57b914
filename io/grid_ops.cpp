// io/grid_ops.cpp — see grid_ops.h.
#include "io/grid_ops.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "io/error.h"

namespace sse::io {
namespace {

constexpr double kSlack = 1e-6;  // in voxels: tolerance for points on the sampled extent's edge

bool same_lattice(const GridGeometry& a, const GridGeometry& b) {
  if (a.dims() != b.dims()) return false;
  for (int k = 0; k < 3; ++k)
    if (std::abs(a.voxel[k] - b.voxel[k]) > 1e-9 || std::abs(a.origin[k] - b.origin[k]) > 1e-9) return false;
  return true;
}

// Trilinear stencil along one axis for every output index: lower input index and weight of the
// upper one; index -1 marks points outside the input extent.
struct AxisStencil {
  std::vector<int> lo;
  std::vector<float> frac;
};

AxisStencil axis_stencil(const GridGeometry& in, const GridGeometry& out, int axis) {
  const int n_in = in.dims()[axis], n_out = out.dims()[axis];
  AxisStencil s{std::vector<int>(std::size_t(n_out), -1), std::vector<float>(std::size_t(n_out), 0.f)};
  for (int i = 0; i < n_out; ++i) {
    const double p = out.origin[axis] + i * out.voxel[axis];
    double g = (p - in.origin[axis]) / in.voxel[axis];
    if (g < -kSlack || g > n_in - 1 + kSlack) continue;
    g = std::min(std::max(g, 0.0), double(n_in - 1));
    const int lo = std::min(int(std::floor(g)), std::max(n_in - 2, 0));
    s.lo[std::size_t(i)] = lo;
    s.frac[std::size_t(i)] = n_in > 1 ? float(g - lo) : 0.f;
  }
  return s;
}

IoError no_overlap(double radius) {
  return IoError("the model does not overlap the map: no voxel lies within " + std::to_string(radius) +
                 " Å of an atom");
}

void check_spacing(Vec3 voxel) {
  if (!(voxel.x > 0 && voxel.y > 0 && voxel.z > 0))
    throw std::invalid_argument("voxel sizes must be positive");
}

}  // namespace

// ---- resampling ----------------------------------------------------------------------------

GridGeometry lattice_with_spacing(const GridGeometry& in, Vec3 voxel) {
  check_spacing(voxel);
  GridGeometry out;
  out.voxel = voxel;
  out.origin = in.origin;
  const Index3 n = in.dims();
  Index3 m;
  for (int a = 0; a < 3; ++a) {
    const double steps = n[a] <= 0 ? -1.0 : std::floor((n[a] - 1) * in.voxel[a] / voxel[a] + kSlack);
    // A damaged header's huge voxel size must not overflow the int (undefined behaviour).
    if (!(steps < 2147483646.0)) throw IoError("resampling: the new lattice would have over 2^31 samples along an axis");
    m[a] = int(steps) + 1;
  }
  out.nx = m[0];
  out.ny = m[1];
  out.nz = m[2];
  return out;
}

GridGeometry sub_lattice(const GridGeometry& lattice, const IndexBox& box) {
  GridGeometry g = lattice;
  g.nx = std::max(0, box.extent(0));
  g.ny = std::max(0, box.extent(1));
  g.nz = std::max(0, box.extent(2));
  g.origin = lattice.position(box.lo[0], box.lo[1], box.lo[2]);
  return g;
}

Grid resample_onto(const Grid& in, const GridGeometry& out) {
  if (same_lattice(in, out)) return in;
  const AxisStencil sx = axis_stencil(in, out, 0), sy = axis_stencil(in, out, 1), sz = axis_stencil(in, out, 2);
  Grid res(out, 0.f);
  const std::size_t sxy = std::size_t(in.nx) * std::size_t(in.ny);
  const std::size_t dx = in.nx > 1 ? 1 : 0, dy = in.ny > 1 ? std::size_t(in.nx) : 0, dz = in.nz > 1 ? sxy : 0;
#pragma omp parallel for schedule(static)
  for (int z = 0; z < out.nz; ++z) {
    if (sz.lo[std::size_t(z)] < 0) continue;
    const float fz = sz.frac[std::size_t(z)];
    for (int y = 0; y < out.ny; ++y) {
      if (sy.lo[std::size_t(y)] < 0) continue;
      const float fy = sy.frac[std::size_t(y)];
      const std::size_t row = std::size_t(sz.lo[std::size_t(z)]) * sxy + std::size_t(sy.lo[std::size_t(y)]) * std::size_t(in.nx);
      float* dst = &res.data[out.index(0, y, z)];
      for (int x = 0; x < out.nx; ++x) {
        if (sx.lo[std::size_t(x)] < 0) continue;
        const float fx = sx.frac[std::size_t(x)];
        const float* p = &in.data[row + std::size_t(sx.lo[std::size_t(x)])];
        const float c00 = p[0] + fx * (p[dx] - p[0]);
        const float c10 = p[dy] + fx * (p[dy + dx] - p[dy]);
        const float c01 = p[dz] + fx * (p[dz + dx] - p[dz]);
        const float c11 = p[dz + dy] + fx * (p[dz + dy + dx] - p[dz + dy]);
        const float c0 = c00 + fy * (c10 - c00), c1 = c01 + fy * (c11 - c01);
        dst[x] = c0 + fz * (c1 - c0);
      }
    }
  }
  return res;
}

Grid resample(const Grid& in, Vec3 voxel) { return resample_onto(in, lattice_with_spacing(in, voxel)); }

// ---- normalization -------------------------------------------------------------------------

void normalize(Grid& grid, const NormalizeOptions& o) {
  if (grid.data.empty()) return;
  if (o.divide_by_max) {
    const float mx = *std::max_element(grid.data.begin(), grid.data.end());
    if (!(mx > 0) || !std::isfinite(mx))
      throw IoError("cannot normalize: the map's maximum is " + std::to_string(mx) + " (no positive density)");
    for (float& v : grid.data) v /= mx;
  }
  if (o.clamp_negative)
    for (float& v : grid.data) v = std::max(v, 0.f);
  if (!o.zscore) return;
  double sum = 0, sum2 = 0;
  long n = 0;
  for (float v : grid.data) {
    if (o.zscore_over == ZScoreOver::positive && !(v > 0)) continue;
    sum += v;
    sum2 += double(v) * v;
    ++n;
  }
  if (n == 0) throw IoError("cannot normalize: no positive voxel to take statistics from");
  const double mean = sum / double(n);
  const double sd = std::sqrt(std::max(0.0, sum2 / double(n) - mean * mean)) + o.epsilon;
  for (float& v : grid.data) v = float((v - mean) / sd);
}

// ---- boxes ---------------------------------------------------------------------------------

IndexBox bounding_box(const LabelGrid& mask) {
  IndexBox b{{mask.nx, mask.ny, mask.nz}, {0, 0, 0}};
  for (int z = 0; z < mask.nz; ++z)
    for (int y = 0; y < mask.ny; ++y)
      for (int x = 0; x < mask.nx; ++x) {
        if (!mask.at(x, y, z)) continue;
        const Index3 p{x, y, z};
        for (int a = 0; a < 3; ++a) {
          b.lo[a] = std::min(b.lo[a], p[a]);
          b.hi[a] = std::max(b.hi[a], p[a] + 1);
        }
      }
  if (b.empty()) return IndexBox{};
  return b;
}

IndexBox grow(const IndexBox& box, int margin) {
  IndexBox b = box;
  for (int a = 0; a < 3; ++a) {
    b.lo[a] -= margin;
    b.hi[a] += margin;
  }
  return b;
}

// ---- chain zone ----------------------------------------------------------------------------

LabelGrid zone_mask(const GridGeometry& geometry, const std::vector<Vec3>& atoms, double radius) {
  LabelGrid mask(geometry, 0);
  const double r2 = radius * radius;
  for (const Vec3& p : atoms) {
    const IndexBox b = geometry.box_around(p, radius);
    for (int z = b.lo[2]; z < b.hi[2]; ++z)
      for (int y = b.lo[1]; y < b.hi[1]; ++y)
        for (int x = b.lo[0]; x < b.hi[0]; ++x)
          if (dist2(geometry.position(x, y, z), p) <= r2) mask.at(x, y, z) = 1;
  }
  return mask;
}

Grid chain_zone(const Grid& map, const std::vector<Vec3>& atoms, const ZoneOptions& o) {
  const LabelGrid mask = zone_mask(map, atoms, o.radius);
  const IndexBox zone = bounding_box(mask);
  if (zone.empty()) throw no_overlap(o.radius);
  const IndexBox box = grow(zone, o.margin);
  Grid out = crop(map, box, 0.f);
  if (o.zero_outside) {
    const LabelGrid m = crop(mask, box, std::uint8_t(0));
    for (std::size_t i = 0; i < out.data.size(); ++i)
      if (!m.data[i]) out.data[i] = 0.f;
  }
  return out;
}

Grid zone_at_spacing(const Grid& map, const std::vector<Vec3>& atoms, Vec3 voxel, const ZoneOptions& o) {
  const GridGeometry full = lattice_with_spacing(map, voxel);
  // Lattice points that chain_zone() on the full lattice could read: atoms' box ± radius ± margin.
  IndexBox need{{full.nx, full.ny, full.nz}, {0, 0, 0}};
  for (const Vec3& p : atoms) {
    const Vec3 g = full.to_grid(p);
    for (int a = 0; a < 3; ++a) {
      const double reach = o.radius / voxel[a] + o.margin + 1;
      need.lo[a] = std::min(need.lo[a], int(std::max(0.0, std::floor(g[a] - reach))));
      need.hi[a] = std::max(need.hi[a], int(std::min(double(full.dims()[a]), std::ceil(g[a] + reach) + 1)));
    }
  }
  if (need.empty()) throw no_overlap(o.radius);
  return chain_zone(resample_onto(map, sub_lattice(full, need)), atoms, o);
}

// ---- tiles ---------------------------------------------------------------------------------

namespace {

std::vector<int> tile_starts(int n, int tile, int overlap) {
  if (tile <= 0 || overlap < 0 || overlap >= tile)
    throw std::invalid_argument("plan_tiles: need tile > overlap >= 0");
  if (n <= tile) return {0};
  std::vector<int> s;
  for (int p = 0; p + tile < n; p += tile - overlap) s.push_back(p);
  s.push_back(n - tile);
  return s;
}

// Linear ramp over the overlap at both ends, 1 in the middle; never 0 so that every voxel a tile
// covers gets weight, including the grid's own borders.
float ramp(int i, int tile, int overlap) {
  const float r = float(overlap + 1);
  return std::min({1.f, float(i + 1) / r, float(tile - i) / r});
}

}  // namespace

std::vector<IndexBox> plan_tiles(Index3 dims, Index3 tile, Index3 overlap) {
  const std::vector<int> sx = tile_starts(dims[0], tile[0], overlap[0]);
  const std::vector<int> sy = tile_starts(dims[1], tile[1], overlap[1]);
  const std::vector<int> sz = tile_starts(dims[2], tile[2], overlap[2]);
  std::vector<IndexBox> boxes;
  for (int z : sz)
    for (int y : sy)
      for (int x : sx) boxes.push_back({{x, y, z}, {x + tile[0], y + tile[1], z + tile[2]}});
  return boxes;
}

std::vector<float> blend_weights(Index3 tile, Index3 overlap) {
  std::vector<float> w(std::size_t(tile[0]) * tile[1] * tile[2]);
  std::size_t i = 0;
  for (int z = 0; z < tile[2]; ++z)
    for (int y = 0; y < tile[1]; ++y)
      for (int x = 0; x < tile[0]; ++x)
        w[i++] = ramp(x, tile[0], overlap[0]) * ramp(y, tile[1], overlap[1]) * ramp(z, tile[2], overlap[2]);
  return w;
}

TileBlender::TileBlender(const GridGeometry& geometry, int channels, Index3 tile, Index3 overlap)
    : geometry_(geometry),
      channels_(channels),
      tile_(tile),
      weights_(blend_weights(tile, overlap)),
      sum_(std::size_t(channels), std::vector<double>(geometry.size(), 0.0)),
      weight_sum_(geometry.size(), 0.0) {}

void TileBlender::add(const IndexBox& box, const float* values) {
  if (box.extent(0) != tile_[0] || box.extent(1) != tile_[1] || box.extent(2) != tile_[2])
    throw std::invalid_argument("TileBlender::add: box size differs from the tile size");
  const std::size_t per_channel = weights_.size();
  std::size_t t = 0;
  for (int z = box.lo[2]; z < box.hi[2]; ++z)
    for (int y = box.lo[1]; y < box.hi[1]; ++y)
      for (int x = box.lo[0]; x < box.hi[0]; ++x, ++t) {
        if (!geometry_.contains(x, y, z)) continue;
        const std::size_t i = geometry_.index(x, y, z);
        weight_sum_[i] += weights_[t];
        for (int c = 0; c < channels_; ++c)
          sum_[std::size_t(c)][i] += double(weights_[t]) * values[std::size_t(c) * per_channel + t];
      }
}

std::vector<Grid> TileBlender::result() const {
  std::vector<Grid> out;
  for (int c = 0; c < channels_; ++c) {
    Grid g(geometry_, 0.f);
    for (std::size_t i = 0; i < g.data.size(); ++i)
      if (weight_sum_[i] > 0) g.data[i] = float(sum_[std::size_t(c)][i] / weight_sum_[i]);
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace sse::io
