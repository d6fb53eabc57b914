// apps/figures.h — the pictures of sseunet's reports: io grids cut into slices and drawn with plot/
// (the one place where io/ and plot/ meet; io/ knows nothing of pictures).
//
// Contract:
//  * Colours: helix red and sheet yellow everywhere (slices, charts, tables, ChimeraX), as in
//    DeepSSETracer; evaluation slices colour true positives green, false positives orange and false
//    negatives blue (one row per class, so the class is never ambiguous).
//  * slice(g, axis, k): the plane of grid g at index k along `axis` (0 x, 1 y, 2 z); its u and v are
//    the other two axes in increasing order (z: x right, y up; y: x right, z up; x: y right, z up).
//  * slice_positions(n, voxel, spacing, max): indices along an axis of n samples of `voxel` Å, every
//    `spacing` Å or wider so that at most `max` slices are taken, centred on the axis.
//  * render_montage(): one picture of slices. Each tile shows the density in grey (windowed by
//    `window`, e.g. plot::percentile_window of the map), each layer of its row blended in colour
//    (probability as opacity, or a flat 0/1 tint) and, for layers with `outline`, the 0.5 iso-line;
//    a scale bar in Å on every tile and the tile's physical position (Å, the map's coordinates)
//    under it; title and legend above. One row wraps into `columns`; several rows (e.g. helix and
//    sheet of one chain) each take a line. Rows with a label have it on the left. Pixels per Å:
//    `scale`.
//  * training_curves(): the loss (train, validation) and validation F1 (helix, sheet) per step of a
//    run's metrics.jsonl text, the best checkpoint marked; IoError naming `path` for a malformed line.
#pragma once

#include <string>
#include <vector>

#include "io/grid.h"
#include "plot/canvas.h"
#include "plot/chart.h"
#include "plot/raster.h"

namespace sse::app::fig {

inline const plot::Color kHelix = plot::Color::hex(0xff2a1a);
inline const plot::Color kSheet = plot::Color::hex(0xffd500);
inline const plot::Color kSheetLine = plot::Color::hex(0xe0b000);  // sheet as a line on white: darker
inline const plot::Color kTruePositive = plot::Color::hex(0x2ca02c);
inline const plot::Color kFalsePositive = plot::Color::hex(0xff7f0e);
inline const plot::Color kFalseNegative = plot::Color::hex(0x1f77b4);

template <class T>
plot::Plane slice(const io::GridT<T>& g, int axis, int k) {
  const int ua = axis == 0 ? 1 : 0, va = axis == 2 ? 1 : 2;
  const io::Index3 n = g.dims();
  plot::Plane p(n[ua], n[va]);
  io::Index3 at{0, 0, 0};
  at[axis] = k;
  for (int v = 0; v < n[va]; ++v)
    for (int u = 0; u < n[ua]; ++u) {
      at[ua] = u;
      at[va] = v;
      p.at(u, v) = static_cast<float>(g.at(at[0], at[1], at[2]));
    }
  return p;
}

// A 0/1 float grid on lattice g: 1 where f(voxel index) holds (masks, TP/FP/FN as slice layers).
template <class F>
io::Grid indicator(const io::GridGeometry& g, F f) {
  io::Grid out(g);
  for (std::size_t i = 0; i < out.data.size(); ++i) out.data[i] = f(i) ? 1.0f : 0.0f;
  return out;
}

std::vector<int> slice_positions(int n, double voxel, double spacing, int max_slices);

struct SliceLayer {
  const io::Grid* values = nullptr;      // same lattice as the density: probabilities or 0/1 ...
  const io::LabelGrid* mask = nullptr;   // ... or a 0/1 mask (when `values` is null)
  plot::Color color;
  float max_alpha = 0.55f;
  bool outline = false;  // also draw the 0.5 iso-line
};
struct SliceRow {
  std::string label;  // shown left of the row when there are several rows
  std::vector<SliceLayer> layers;
};
struct Montage {
  std::string title;
  int axis = 2;
  std::vector<int> indices;
  std::vector<SliceRow> rows;
  std::vector<plot::LegendItem> legend;
  int columns = 4;
  double scale = 4;  // pixels per Å
};
std::string render_montage(const io::Grid& density, plot::Window window, const Montage& m, plot::Format format);

// Axis names and the in-plane directions of slice(): "xy planes (x right, y up)" etc.
std::string plane_name(int axis);

std::string training_curves(const std::string& metrics_jsonl, const std::string& path, plot::Format format);

}  // namespace sse::app::fig
