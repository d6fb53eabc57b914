// Slices, overlays and outlines (contract in plot/raster.h).
#include "plot/raster.h"

#include <algorithm>
#include <cmath>

namespace sse::plot {

namespace {

float clamp01(float v) { return std::min(1.0f, std::max(0.0f, v)); }

std::uint8_t byte(double v) { return static_cast<std::uint8_t>(std::lround(std::min(1.0, std::max(0.0, v)) * 255)); }

// Fraction of the way from `lo` to `hi` (0 when the range is empty).
float ramp(float v, float lo, float hi) { return hi > lo ? clamp01((v - lo) / (hi - lo)) : (v >= hi ? 1.0f : 0.0f); }

}  // namespace

Window percentile_window(const std::vector<float>& values, double lo_percent, double hi_percent) {
  const std::size_t stride = values.size() / 4'000'000 + 1;
  std::vector<float> v;
  v.reserve(values.size() / stride + 1);
  for (std::size_t i = 0; i < values.size(); i += stride)
    if (std::isfinite(values[i])) v.push_back(values[i]);
  if (v.empty()) return {0, 1};
  const auto rank = [&](double pct) {
    const double r = std::min(100.0, std::max(0.0, pct)) / 100.0 * double(v.size() - 1);
    const auto k = static_cast<std::ptrdiff_t>(std::lround(r));
    std::nth_element(v.begin(), v.begin() + k, v.end());
    return v[std::size_t(k)];
  };
  Window w{rank(lo_percent), rank(hi_percent)};
  if (!(w.hi > w.lo)) w.hi = w.lo + 1;
  return w;
}

Image compose(const Plane& density, Window window, const std::vector<Overlay>& overlays) {
  Image img(density.width, density.height);
  for (int v = 0; v < density.height; ++v)
    for (int u = 0; u < density.width; ++u) {
      const float g = ramp(density.at(u, v), window.lo, window.hi);
      double rgb[3] = {g, g, g};
      for (const Overlay& o : overlays) {
        const double a = o.max_alpha * ramp(o.values->at(u, v), o.lo, o.hi);
        const double c[3] = {o.color.r, o.color.g, o.color.b};
        for (int k = 0; k < 3; ++k) rgb[k] = rgb[k] * (1 - a) + c[k] * a;
      }
      img.at(u, density.height - 1 - v) = {byte(rgb[0]), byte(rgb[1]), byte(rgb[2]), 255};
    }
  return img;
}

std::vector<Segment> outline(const Plane& p, float level) {
  std::vector<Segment> out;
  const auto pos = [&](double u, double v) { return Point{u + 0.5, p.height - v - 0.5}; };
  // The point where the iso-line crosses the edge between samples a (at pa) and b (at pb).
  const auto cross = [&](float a, float b, Point pa, Point pb) {
    const double t = (level - a) / double(b - a);
    return Point{pa.x + t * (pb.x - pa.x), pa.y + t * (pb.y - pa.y)};
  };
  for (int v = 0; v + 1 < p.height; ++v)
    for (int u = 0; u + 1 < p.width; ++u) {
      // Corners counter-clockwise from (u, v): 0 (u,v), 1 (u+1,v), 2 (u+1,v+1), 3 (u,v+1).
      const float val[4] = {p.at(u, v), p.at(u + 1, v), p.at(u + 1, v + 1), p.at(u, v + 1)};
      const Point at[4] = {pos(u, v), pos(u + 1, v), pos(u + 1, v + 1), pos(u, v + 1)};
      std::vector<Point> hits;  // crossings on edges 0-1, 1-2, 2-3, 3-0, in order
      for (int e = 0; e < 4; ++e) {
        const int a = e, b = (e + 1) % 4;
        if ((val[a] >= level) != (val[b] >= level)) hits.push_back(cross(val[a], val[b], at[a], at[b]));
      }
      if (hits.size() == 2) {
        out.push_back({hits[0], hits[1]});
      } else if (hits.size() == 4) {
        // A saddle: decide by the centre value which corners connect.
        const float centre = (val[0] + val[1] + val[2] + val[3]) / 4;
        if ((centre >= level) == (val[0] >= level)) {
          out.push_back({hits[0], hits[1]});
          out.push_back({hits[2], hits[3]});
        } else {
          out.push_back({hits[0], hits[3]});
          out.push_back({hits[1], hits[2]});
        }
      }
    }
  return out;
}

}  // namespace sse::plot
