// plot/raster.h — 2D scalar planes and the RGBA images made from them: a density slice in grey with
// colour overlays (class probabilities, masks, TP/FP/FN), and the outline of a mask.
//
// Contract:
//  * Plane: width × height floats, u (column) fastest: values[v * width + u]. Row v = 0 is the BOTTOM
//    of the picture (a physical axis points up), so compose() flips rows; Image row 0 is the top.
//  * percentile_window(values, lo, hi): the lo-th and hi-th percentiles (0..100) of the finite values
//    (nearest rank), over at most 4 M evenly strided samples (bounded memory on any map); a constant
//    or empty input gives a window of width 1 so grey levels stay defined.
//  * compose(): grey = clamp((density − lo) / (hi − lo), 0, 1), then each overlay in order is blended
//    over it with alpha = max_alpha × clamp((value − lo) / (hi − lo), 0, 1) — a probability map
//    (lo 0, hi 1) fades in with the probability; a 0/1 mask is a flat tint. Output is opaque.
//  * outline(): the segments of the `level` iso-line of a plane (marching squares on the cell grid),
//    in picture coordinates where sample (u, v) sits at the centre of pixel (u, height − 1 − v), i.e.
//    at (u + 0.5, height − v − 0.5). Scale them by the drawing's pixels per sample.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "plot/canvas.h"

namespace sse::plot {

struct Plane {
  int width = 0, height = 0;
  std::vector<float> values;
  Plane() = default;
  Plane(int w, int h, float fill = 0) : width(w), height(h), values(std::size_t(w) * std::size_t(h), fill) {}
  float& at(int u, int v) { return values[std::size_t(v) * std::size_t(width) + std::size_t(u)]; }
  float at(int u, int v) const { return values[std::size_t(v) * std::size_t(width) + std::size_t(u)]; }
};

struct Image {
  int width = 0, height = 0;
  std::vector<std::array<std::uint8_t, 4>> rgba;  // straight alpha, row 0 at the top
  Image() = default;
  Image(int w, int h) : width(w), height(h), rgba(std::size_t(w) * std::size_t(h), {0, 0, 0, 255}) {}
  std::array<std::uint8_t, 4>& at(int x, int y) { return rgba[std::size_t(y) * std::size_t(width) + std::size_t(x)]; }
  const std::array<std::uint8_t, 4>& at(int x, int y) const {
    return rgba[std::size_t(y) * std::size_t(width) + std::size_t(x)];
  }
};

struct Window {
  float lo = 0, hi = 1;
};
Window percentile_window(const std::vector<float>& values, double lo_percent = 1.0, double hi_percent = 99.5);

struct Overlay {
  const Plane* values = nullptr;  // same size as the density plane
  Color color;
  float lo = 0, hi = 1;     // value range mapped to alpha 0 .. max_alpha
  float max_alpha = 0.6f;
};
Image compose(const Plane& density, Window window, const std::vector<Overlay>& overlays = {});

struct Segment {
  Point a, b;
};
std::vector<Segment> outline(const Plane& plane, float level = 0.5f);

}  // namespace sse::plot
