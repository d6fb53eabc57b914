// io/grid.h — plain voxel grids shared by every io/ module.
//
// Contract:
//  * A grid has nx*ny*nz samples stored with x fastest: data[(z*ny + y)*nx + x].
//  * voxel is the spacing in Å along x, y, z (cryo-EM maps may have non-cubic voxels).
//  * origin is the physical position in Å of sample (0,0,0); sample (i,j,k) sits at
//    origin + (i*voxel.x, j*voxel.y, k*voxel.z). Axes are orthogonal (cryo-EM boxes always are).
//  * IndexBox is a half-open box [lo, hi) of sample indices; it may reach outside a grid.
// Nothing here knows about files or proteins.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sse::io {

struct Vec3 {
  double x = 0, y = 0, z = 0;
  double operator[](int a) const { return a == 0 ? x : (a == 1 ? y : z); }
  double& operator[](int a) { return a == 0 ? x : (a == 1 ? y : z); }
};
inline Vec3 operator+(Vec3 a, Vec3 b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
inline Vec3 operator-(Vec3 a, Vec3 b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
inline Vec3 operator*(Vec3 a, double s) { return {a.x * s, a.y * s, a.z * s}; }
inline double dot(Vec3 a, Vec3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
inline double dist2(Vec3 a, Vec3 b) { return dot(a - b, a - b); }
inline double dist(Vec3 a, Vec3 b) { return std::sqrt(dist2(a, b)); }

using Index3 = std::array<int, 3>;

struct IndexBox {
  Index3 lo{0, 0, 0}, hi{0, 0, 0};  // half-open
  int extent(int axis) const { return hi[axis] - lo[axis]; }
  bool empty() const { return extent(0) <= 0 || extent(1) <= 0 || extent(2) <= 0; }
};

struct GridGeometry {
  int nx = 0, ny = 0, nz = 0;
  Vec3 voxel{1, 1, 1};
  Vec3 origin{0, 0, 0};

  Index3 dims() const { return {nx, ny, nz}; }
  std::size_t size() const { return std::size_t(nx) * std::size_t(ny) * std::size_t(nz); }
  std::size_t index(int x, int y, int z) const {
    return (std::size_t(z) * std::size_t(ny) + std::size_t(y)) * std::size_t(nx) + std::size_t(x);
  }
  Index3 coords(std::size_t i) const {
    return {int(i % std::size_t(nx)), int((i / std::size_t(nx)) % std::size_t(ny)),
            int(i / (std::size_t(nx) * std::size_t(ny)))};
  }
  bool contains(int x, int y, int z) const {
    return x >= 0 && y >= 0 && z >= 0 && x < nx && y < ny && z < nz;
  }
  Vec3 position(int x, int y, int z) const {
    return {origin.x + x * voxel.x, origin.y + y * voxel.y, origin.z + z * voxel.z};
  }
  // Continuous sample coordinates of a physical point (sample (i,j,k) maps to exactly (i,j,k)).
  Vec3 to_grid(Vec3 p) const {
    return {(p.x - origin.x) / voxel.x, (p.y - origin.y) / voxel.y, (p.z - origin.z) / voxel.z};
  }
  IndexBox full_box() const { return {{0, 0, 0}, {nx, ny, nz}}; }
  // The samples within r Å of p, clipped to the grid (a box; callers still test the distance).
  IndexBox box_around(Vec3 p, double r) const;
};

template <class T>
struct GridT : GridGeometry {
  std::vector<T> data;

  GridT() = default;
  explicit GridT(const GridGeometry& g, T fill = T{}) : GridGeometry(g), data(g.size(), fill) {}
  const GridGeometry& geometry() const { return *this; }
  T& at(int x, int y, int z) { return data[index(x, y, z)]; }
  const T& at(int x, int y, int z) const { return data[index(x, y, z)]; }
};

using Grid = GridT<float>;               // densities, probabilities
using LabelGrid = GridT<std::uint8_t>;   // voxel classes (see Sse in secondary.h), masks

inline IndexBox GridGeometry::box_around(Vec3 p, double r) const {
  IndexBox b;
  const Vec3 g = to_grid(p);
  const Index3 n = dims();
  for (int a = 0; a < 3; ++a) {
    const double reach = r / voxel[a];
    const double lo = std::ceil(g[a] - reach), hi = std::floor(g[a] + reach) + 1;
    b.lo[a] = int(std::max(0.0, std::min(lo, double(n[a]))));
    b.hi[a] = int(std::max(double(b.lo[a]), std::min(hi, double(n[a]))));
  }
  return b;
}

}  // namespace sse::io
