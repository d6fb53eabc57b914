// io/neighbors.h — fixed-radius neighbour search over a point set (atoms, Cα) on a uniform cell grid.
//
// Contract:
//  * Build once from the points (copied); queries are const and thread-safe.
//  * for_each_within(p, r, f) calls f(index, squared distance) for every point with distance <= r,
//    in no particular order.
//  * nearest(p, r) returns the index of the nearest point with distance <= r, or -1; on exactly
//    equal distances the lower index wins, so results never depend on the cell layout.
//  * Queries with r larger than the cell size are correct, just slower.
#pragma once

#include <cstdint>
#include <vector>

#include "io/grid.h"

namespace sse::io {

class PointIndex {
 public:
  PointIndex(std::vector<Vec3> points, double cell_size);

  const std::vector<Vec3>& points() const { return points_; }
  int nearest(Vec3 p, double max_dist) const;

  template <class F>
  void for_each_within(Vec3 p, double r, F&& f) const {
    if (points_.empty()) return;
    Index3 lo, hi;
    if (!cell_range(p, r, lo, hi)) return;
    const double r2 = r * r;
    for (int z = lo[2]; z <= hi[2]; ++z)
      for (int y = lo[1]; y <= hi[1]; ++y)
        for (int x = lo[0]; x <= hi[0]; ++x) {
          const std::size_t c = (std::size_t(z) * dims_[1] + y) * dims_[0] + x;
          for (std::uint32_t k = start_[c]; k < start_[c + 1]; ++k) {
            const int i = int(order_[k]);
            const double d2 = dist2(points_[i], p);
            if (d2 <= r2) f(i, d2);
          }
        }
  }

 private:
  bool cell_range(Vec3 p, double r, Index3& lo, Index3& hi) const;

  std::vector<Vec3> points_;
  double cell_ = 1;
  Vec3 min_;
  Index3 dims_{1, 1, 1};
  std::vector<std::uint32_t> start_;  // CSR: points of cell c are order_[start_[c] .. start_[c+1])
  std::vector<std::uint32_t> order_;
};

}  // namespace sse::io
