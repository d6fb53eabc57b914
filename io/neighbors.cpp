// io/neighbors.cpp — see neighbors.h.
#include "io/neighbors.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace sse::io {

PointIndex::PointIndex(std::vector<Vec3> points, double cell_size)
    : points_(std::move(points)), cell_(cell_size) {
  if (!(cell_size > 0)) throw std::invalid_argument("PointIndex: cell size must be positive");
  if (points_.empty()) return;
  Vec3 lo{std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
          std::numeric_limits<double>::infinity()};
  Vec3 hi = lo * -1.0;
  for (const Vec3& p : points_)
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::min(lo[a], p[a]);
      hi[a] = std::max(hi[a], p[a]);
    }
  // Sparse, spread-out point sets would waste memory on empty cells: grow cells to cap the count.
  const auto count_for = [&](double c) {
    double n = 1;
    for (int a = 0; a < 3; ++a) n *= std::floor((hi[a] - lo[a]) / c) + 1;
    return n;
  };
  while (count_for(cell_) > 8.0 * double(points_.size()) + 1e6) cell_ *= 1.5;
  min_ = lo;
  for (int a = 0; a < 3; ++a) dims_[a] = int(std::floor((hi[a] - lo[a]) / cell_)) + 1;

  const std::size_t ncells = std::size_t(dims_[0]) * dims_[1] * dims_[2];
  std::vector<std::uint32_t> cell_of(points_.size());
  start_.assign(ncells + 1, 0);
  for (std::size_t i = 0; i < points_.size(); ++i) {
    Index3 c;
    for (int a = 0; a < 3; ++a)
      c[a] = std::min(dims_[a] - 1, int(std::floor((points_[i][a] - min_[a]) / cell_)));
    cell_of[i] = std::uint32_t((std::size_t(c[2]) * dims_[1] + c[1]) * dims_[0] + c[0]);
    ++start_[cell_of[i] + 1];
  }
  for (std::size_t c = 0; c < ncells; ++c) start_[c + 1] += start_[c];
  order_.resize(points_.size());
  std::vector<std::uint32_t> fill(start_.begin(), start_.end() - 1);
  for (std::size_t i = 0; i < points_.size(); ++i) order_[fill[cell_of[i]]++] = std::uint32_t(i);
}

bool PointIndex::cell_range(Vec3 p, double r, Index3& lo, Index3& hi) const {
  for (int a = 0; a < 3; ++a) {
    const double l = std::floor((p[a] - r - min_[a]) / cell_);
    const double h = std::floor((p[a] + r - min_[a]) / cell_);
    if (h < 0 || l > dims_[a] - 1) return false;
    lo[a] = int(std::max(0.0, l));
    hi[a] = int(std::min(double(dims_[a] - 1), h));
  }
  return true;
}

int PointIndex::nearest(Vec3 p, double max_dist) const {
  int best = -1;
  double best_d2 = std::numeric_limits<double>::infinity();
  for_each_within(p, max_dist, [&](int i, double d2) {
    if (d2 < best_d2 || (d2 == best_d2 && i < best)) {
      best = i;
      best_d2 = d2;
    }
  });
  return best;
}

}  // namespace sse::io
