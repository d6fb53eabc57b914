// Report pictures from io grids (contract in apps/figures.h).
#include "apps/figures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "io/error.h"
#include "io/file_util.h"

namespace sse::app::fig {

namespace {

constexpr double kMargin = 12, kGap = 10, kLabelStrip = 18, kTitle = 26;

const char kAxisName[3] = {'x', 'y', 'z'};

// A scale bar about a quarter of the tile wide, at a round length.
double bar_length(double tile_angstrom) {
  double best = 1;
  for (double len : {1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0})
    if (len <= tile_angstrom / 4) best = len;
  return best;
}

std::string angstrom(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f \u00c5", decimals, v);
  return buf;
}

// The row's layers over one density plane, as an image, plus their outlines drawn on the canvas.
void draw_tile(plot::Canvas& c, plot::Rect at, const io::Grid& density, plot::Window window, const Montage& m,
               const SliceRow& row, int k) {
  const plot::Plane d = slice(density, m.axis, k);
  std::vector<plot::Plane> planes;
  planes.reserve(row.layers.size());
  std::vector<plot::Overlay> overlays;
  for (const SliceLayer& l : row.layers) {
    planes.push_back(l.values ? slice(*l.values, m.axis, k) : slice(*l.mask, m.axis, k));
    overlays.push_back({&planes.back(), l.color, 0, 1, l.max_alpha});
  }
  c.image(plot::compose(d, window, overlays), at, true);
  const double sx = at.w / d.width, sy = at.h / d.height;
  for (std::size_t i = 0; i < row.layers.size(); ++i) {
    if (!row.layers[i].outline) continue;
    for (const plot::Segment& s : plot::outline(planes[i], 0.5f))
      c.line({at.x + s.a.x * sx, at.y + s.a.y * sy}, {at.x + s.b.x * sx, at.y + s.b.y * sy}, row.layers[i].color, 1.6);
  }
}

}  // namespace

std::vector<int> slice_positions(int n, double voxel, double spacing, int max_slices) {
  if (n <= 0 || max_slices <= 0) return {};
  const double extent = (n - 1) * voxel;
  double step = std::max(spacing, voxel);
  if (extent / step + 1 > max_slices) step = extent / std::max(1, max_slices - 1);
  const int count = std::min(max_slices, int(std::floor(extent / step + 1e-9)) + 1);
  const double start = (extent - (count - 1) * step) / 2;  // centred on the axis
  std::vector<int> out;
  for (int i = 0; i < count; ++i) {
    const int k = std::min(n - 1, int(std::lround((start + i * step) / voxel)));
    if (out.empty() || k != out.back()) out.push_back(k);
  }
  return out;
}

std::string plane_name(int axis) {
  static const char* const names[3] = {"yz planes (y right, z up)", "xz planes (x right, z up)",
                                       "xy planes (x right, y up)"};
  return names[axis];
}

std::string render_montage(const io::Grid& density, plot::Window window, const Montage& m, plot::Format format) {
  const int ua = m.axis == 0 ? 1 : 0, va = m.axis == 2 ? 1 : 2;
  const io::Index3 n = density.dims();
  const double tile_w = n[ua] * density.voxel[ua] * m.scale, tile_h = n[va] * density.voxel[va] * m.scale;
  const bool single = m.rows.size() == 1;
  const int tiles = int(m.indices.size());
  const int cols = single ? std::max(1, std::min(m.columns, tiles)) : std::max(1, tiles);
  const int lines = single ? (tiles + cols - 1) / cols : int(m.rows.size());

  // The canvas is sized before drawing; measure text on a scratch surface.
  plot::Canvas probe(10, 10, plot::Format::png);
  double label_col = 0;
  for (const SliceRow& r : m.rows)
    if (!r.label.empty()) label_col = std::max(label_col, probe.text_width(r.label, 12, true) + 12);
  const double legend_h = m.legend.empty() ? 0 : plot::legend_size(probe, m.legend, 11, true).h + 4;
  const double header = kMargin + (m.title.empty() ? 0 : kTitle) + legend_h;
  const double width = std::max(2 * kMargin + label_col + cols * (tile_w + kGap) - kGap,
                                2 * kMargin + plot::legend_size(probe, m.legend, 11, true).w);
  const double height = header + lines * (tile_h + kLabelStrip + kGap) + kMargin - kGap;

  plot::Canvas c(width, height, format);
  c.fill(plot::kWhite);
  if (!m.title.empty()) c.text({kMargin, kMargin}, m.title, {14, plot::kBlack, plot::Align::left, plot::VAlign::top, true});
  if (!m.legend.empty()) plot::legend(c, {kMargin - 6, kMargin + (m.title.empty() ? 0 : kTitle)}, m.legend, 11, false, true);
  const double bar = bar_length(tile_w / m.scale);
  for (std::size_t r = 0; r < m.rows.size(); ++r)
    for (int i = 0; i < tiles; ++i) {
      const int col = single ? i % cols : i, line = single ? i / cols : int(r);
      const plot::Rect at{kMargin + label_col + col * (tile_w + kGap), header + line * (tile_h + kLabelStrip + kGap),
                          tile_w, tile_h};
      if (label_col > 0 && i == 0)
        c.text({kMargin, at.y + tile_h / 2}, m.rows[r].label, {12, plot::kBlack, plot::Align::left, plot::VAlign::middle, true});
      const int k = m.indices[std::size_t(i)];
      draw_tile(c, at, density, window, m, m.rows[r], k);
      plot::scale_bar(c, {at.right() - 6, at.bottom() - 6}, m.scale, bar, angstrom(bar, 0), plot::kWhite, 10);
      const double pos = density.origin[m.axis] + k * density.voxel[m.axis];
      c.text({at.x + tile_w / 2, at.bottom() + 3}, std::string(1, kAxisName[m.axis]) + " = " + angstrom(pos, 1),
             {10, plot::Color::hex(0x333333), plot::Align::center, plot::VAlign::top});
    }
  return c.finish();
}

// ---- training curves ------------------------------------------------------------------------

namespace {

double number_or_nan(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : NAN;
}

}  // namespace

std::string training_curves(const std::string& metrics_jsonl, const std::string& path, plot::Format format) {
  std::vector<double> step, train, val, helix, sheet;
  std::vector<plot::Marker> best;
  int line_no = 0;
  for (const std::string& line : io::split_lines(metrics_jsonl)) {
    ++line_no;
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      throw io::file_error(path, "line " + std::to_string(line_no) + " is not a JSON object");
    }
    step.push_back(number_or_nan(j, "step"));
    train.push_back(number_or_nan(j, "train_loss"));
    val.push_back(number_or_nan(j, "val_loss"));
    helix.push_back(number_or_nan(j, "helix_f1"));
    sheet.push_back(number_or_nan(j, "sheet_f1"));
    if (j.value("best", false)) best = {{step.back(), helix.back(), kHelix, "best"}, {step.back(), sheet.back(), kSheet, ""}};
  }
  const bool markers = step.size() < 40;
  plot::LinePlot loss;
  loss.axes = {"Loss", "", "loss"};
  loss.series = {{"train", step, train, plot::Color::hex(0x1f77b4), 1.8, false, markers},
                 {"validation", step, val, plot::Color::hex(0x555555), 1.8, true, markers}};
  plot::LinePlot f1;
  f1.axes = {"Validation F1", "step", "F1"};
  f1.axes.ymin = 0;
  f1.axes.ymax = 1;
  f1.series = {{"helix", step, helix, kHelix, 2, false, markers}, {"sheet", step, sheet, kSheetLine, 2, false, markers}};
  for (const plot::Marker& b : best)
    if (std::isfinite(b.y)) f1.markers.push_back(b);  // a best step without a score has nothing to mark
  loss.axes.legend_width = f1.axes.legend_width = 110;  // the same plot box: steps line up
  loss.axes.label_width = f1.axes.label_width = 48;
  const double w = 720, h = 260;
  plot::Canvas c(w, 2 * h, format, format == plot::Format::png ? 2.0 : 1.0);
  c.fill(plot::kWhite);
  plot::draw(c, {0, 0, w, h}, loss);
  plot::draw(c, {0, h, w, h}, f1);
  return c.finish();
}

}  // namespace sse::app::fig
