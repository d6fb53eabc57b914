// Line plots, bar charts, scatter plots, legends and scale bars (contract in plot/chart.h).
#include "plot/chart.h"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace sse::plot {

namespace {

const Color kAxis = Color::hex(0x444444);
const Color kGrid = Color::hex(0xdddddd);
constexpr double kFont = 11, kTitleFont = 13;

// Data range of one axis: fixed bounds where given, else the data's extent widened to nice ticks.
struct Range {
  double lo = 0, hi = 1;
  Ticks ticks;
};

Range make_range(double fixed_lo, double fixed_hi, const std::vector<double>& data) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : data)
    if (std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (std::isfinite(fixed_lo)) lo = fixed_lo;
  if (std::isfinite(fixed_hi)) hi = fixed_hi;
  if (hi <= lo) {
    const double pad = lo == 0 ? 0.5 : std::abs(lo) * 0.1;
    lo -= std::isfinite(fixed_lo) ? 0 : pad;
    hi += pad;
  }
  Range r;
  Ticks t = nice_ticks(lo, hi);
  if (!std::isfinite(fixed_lo) && !t.values.empty()) lo = std::min(lo, t.values.front());
  if (!std::isfinite(fixed_hi) && !t.values.empty()) hi = std::max(hi, t.values.back());
  r.lo = lo;
  r.hi = hi;
  r.ticks.decimals = t.decimals;
  const double eps = (hi - lo) * 1e-9;
  for (double v : t.values)
    if (v >= lo - eps && v <= hi + eps) r.ticks.values.push_back(v);
  return r;
}

// The plot box of a chart and the mapping from data to canvas coordinates.
struct Frame {
  Rect box;
  Range x, y;
  Point at(double dx, double dy) const {
    return {box.x + (dx - x.lo) / (x.hi - x.lo) * box.w, box.bottom() - (dy - y.lo) / (y.hi - y.lo) * box.h};
  }
};

// Title on top of `area`; returns the area left below it.
Rect title(Canvas& c, Rect area, const std::string& text) {
  if (text.empty()) return area;
  c.text({area.x + 4, area.y + 4}, text, {kTitleFont, kBlack, Align::left, VAlign::top, true});
  return {area.x, area.y + 24, area.w, area.h - 24};
}

// Room for the legend on the right of the plot box; returns the width taken (0 without labels).
std::vector<LegendItem> labelled(const std::vector<LegendItem>& items) {
  std::vector<LegendItem> out;
  for (const LegendItem& i : items)
    if (!i.label.empty()) out.push_back(i);
  return out;
}

// Lays out the box inside `area` with margins for tick labels, axis titles and a right-hand legend.
Rect plot_box(Canvas& c, Rect area, const Axes& axes, double left_labels, const std::vector<LegendItem>& legend_items) {
  area = title(c, area, axes.title);
  const double legend_w = std::max(axes.legend_width, legend_items.empty() ? 0 : legend_size(c, legend_items).w + 12);
  const double left = std::max(left_labels, axes.label_width) + (axes.ylabel.empty() ? 8 : 26);
  const double bottom = 22 + (axes.xlabel.empty() ? 0 : 16);
  return {area.x + left, area.y + 6, std::max(10.0, area.w - left - 10 - legend_w), std::max(10.0, area.h - 6 - bottom)};
}

double widest(Canvas& c, const std::vector<std::string>& labels, double size = kFont) {
  double w = 0;
  for (const std::string& s : labels) w = std::max(w, c.text_width(s, size));
  return w;
}

std::vector<std::string> tick_labels(const Range& r) {
  std::vector<std::string> out;
  for (double v : r.ticks.values) out.push_back(format_tick(v, r.ticks.decimals));
  return out;
}

// Grid, ticks and tick labels of both axes, the box outline, and the axis titles.
void draw_axes(Canvas& c, const Frame& f, const Axes& axes, bool x_ticks = true, bool y_ticks = true) {
  c.rect(f.box, kWhite);
  if (x_ticks)
    for (double v : f.x.ticks.values) {
      const Point p = f.at(v, f.y.lo);
      if (axes.grid) c.line({p.x, f.box.y}, {p.x, f.box.bottom()}, kGrid, 0.8);
      c.line(p, {p.x, p.y + 4}, kAxis, 1);
      c.text({p.x, p.y + 6}, format_tick(v, f.x.ticks.decimals), {kFont, kAxis, Align::center, VAlign::top});
    }
  if (y_ticks)
    for (double v : f.y.ticks.values) {
      const Point p = f.at(f.x.lo, v);
      if (axes.grid) c.line({f.box.x, p.y}, {f.box.right(), p.y}, kGrid, 0.8);
      c.line(p, {p.x - 4, p.y}, kAxis, 1);
      c.text({p.x - 6, p.y}, format_tick(v, f.y.ticks.decimals), {kFont, kAxis, Align::right, VAlign::middle});
    }
  c.rect(f.box, kNone, kAxis, 1);
  if (!axes.xlabel.empty())
    c.text({f.box.x + f.box.w / 2, f.box.bottom() + 22}, axes.xlabel, {kFont, kBlack, Align::center, VAlign::top});
  if (!axes.ylabel.empty()) {
    const double x = f.box.x - 8 - std::max(widest(c, tick_labels(f.y)), axes.label_width - 8) - 6;
    c.text({x, f.box.y + f.box.h / 2}, axes.ylabel, {kFont, kBlack, Align::center, VAlign::bottom, false, 90});
  }
}

bool dashed(const Series& s) { return s.dashed; }
bool dashed(const ScatterSeries&) { return false; }

// Every series' x and y values (for the axis ranges) and the legend entries of the labelled ones.
template <class S>
std::vector<LegendItem> gather(const std::vector<S>& series, LegendKind kind, std::vector<double>& xs,
                               std::vector<double>& ys) {
  std::vector<LegendItem> items;
  for (const S& s : series) {
    xs.insert(xs.end(), s.x.begin(), s.x.end());
    ys.insert(ys.end(), s.y.begin(), s.y.end());
    items.push_back({s.label, s.color, kind, dashed(s)});
  }
  return labelled(items);
}

// The frame of an x-y chart (line or scatter plot) over its series, with its axes drawn; `items`
// receives its legend entries.
template <class Plot>
Frame xy_frame(Canvas& c, Rect area, const Plot& plot, LegendKind kind, std::vector<LegendItem>& items) {
  std::vector<double> xs, ys;
  items = gather(plot.series, kind, xs, ys);
  Frame f;
  f.x = make_range(plot.axes.xmin, plot.axes.xmax, xs);
  f.y = make_range(plot.axes.ymin, plot.axes.ymax, ys);
  f.box = plot_box(c, area, plot.axes, widest(c, tick_labels(f.y)) + 8, items);
  draw_axes(c, f, plot.axes);
  return f;
}

void right_legend(Canvas& c, const Frame& f, const std::vector<LegendItem>& items) {
  if (!items.empty()) legend(c, {f.box.right() + 10, f.box.y}, items, kFont, false);
}

}  // namespace

// ---- ticks ----------------------------------------------------------------------------------

Ticks nice_ticks(double lo, double hi, int target) {
  Ticks t;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return t;
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double frac = raw / mag;
  const double step = (frac < 1.5 ? 1 : frac < 3 ? 2 : frac < 7 ? 5 : 10) * mag;
  const double first = std::floor(lo / step + 1e-9) * step, last = std::ceil(hi / step - 1e-9) * step;
  for (double v = first; v <= last + step * 1e-6; v += step) t.values.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  t.decimals = std::max(0, int(-std::floor(std::log10(step) + 1e-9)));
  return t;
}

std::string format_tick(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// ---- legend and scale bar -------------------------------------------------------------------

// Width of one legend entry: the swatch, a gap, the label.
static double entry_width(Canvas& c, const LegendItem& i, double font_size) { return 24 + c.text_width(i.label, font_size); }

Rect legend_size(Canvas& c, const std::vector<LegendItem>& items, double font_size, bool horizontal) {
  const double row = font_size * 1.6;
  double w = 0;
  for (const LegendItem& i : items)
    w = horizontal ? w + entry_width(c, i, font_size) + 16 : std::max(w, entry_width(c, i, font_size) + 10);
  return {0, 0, w, horizontal ? row + 6 : row * double(items.size()) + 6};
}

Rect legend(Canvas& c, Point at, const std::vector<LegendItem>& items, double font_size, bool framed, bool horizontal) {
  Rect r = legend_size(c, items, font_size, horizontal);
  r.x = at.x;
  r.y = at.y;
  if (framed) c.rect(r, kWhite.with_alpha(0.85), kGrid, 1);
  const double row = font_size * 1.6;
  double x = r.x + 6, cy = r.y + 3 + row / 2;
  for (const LegendItem& it : items) {
    switch (it.kind) {
      case LegendKind::line: c.line({x, cy}, {x + 18, cy}, it.color, 2.2, it.dashed); break;
      case LegendKind::box: c.rect({x + 2, cy - 5, 14, 10}, it.color, kAxis, 0.5); break;
      case LegendKind::dot: c.circle({x + 9, cy}, 4, it.color, kAxis, 0.5); break;
    }
    c.text({x + 24, cy}, it.label, {font_size, kBlack, Align::left, VAlign::middle});
    if (horizontal)
      x += entry_width(c, it, font_size) + 16;
    else
      cy += row;
  }
  return r;
}

void scale_bar(Canvas& c, Point right, double pixels_per_unit, double length, const std::string& label, Color color,
               double font_size) {
  const double w = length * pixels_per_unit;
  c.rect({right.x - w, right.y - 3, w, 3}, color);
  c.text({right.x - w / 2, right.y - 5}, label, {font_size, color, Align::center, VAlign::bottom, true});
}

// ---- line plot ------------------------------------------------------------------------------

void draw(Canvas& c, Rect area, const LinePlot& plot) {
  std::vector<LegendItem> items;
  const Frame f = xy_frame(c, area, plot, LegendKind::line, items);
  c.clip({f.box.x - 4, f.box.y - 4, f.box.w + 8, f.box.h + 8});
  for (const Series& s : plot.series) {
    std::vector<Point> pts;
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      pts.push_back(std::isfinite(s.y[i]) ? f.at(s.x[i], s.y[i]) : Point{NAN, NAN});
    c.polyline(pts, s.color, s.width, s.dashed);
    if (s.markers || pts.size() == 1)
      for (const Point& p : pts)
        if (std::isfinite(p.y)) c.circle(p, s.width + 1.2, s.color);
  }
  for (const Marker& m : plot.markers) {
    const Point p = f.at(m.x, m.y);
    c.circle(p, 5, kNone, m.color, 2);
    if (!m.label.empty()) {
      const bool left = p.x > f.box.x + f.box.w * 0.7;  // keep the label inside the box
      c.text({p.x + (left ? -8 : 8), p.y - 8}, m.label,
             {kFont - 1, m.color, left ? Align::right : Align::left, VAlign::bottom});
    }
  }
  c.unclip();
  right_legend(c, f, items);
}

// ---- bar chart ------------------------------------------------------------------------------

double bar_chart_height(const BarChart& chart, double bar) {
  const double rows = double(std::max<std::size_t>(1, chart.categories.size()));
  const double per_row = bar * double(std::max<std::size_t>(1, chart.groups.size())) + bar * 0.8;
  return rows * per_row + 70 + (chart.axes.title.empty() ? 0 : 24);
}

void draw(Canvas& c, Rect area, const BarChart& chart) {
  std::vector<double> vs;
  std::vector<LegendItem> items;
  for (const BarGroup& g : chart.groups) {
    vs.insert(vs.end(), g.values.begin(), g.values.end());
    items.push_back({g.label, g.color, LegendKind::box});
  }
  vs.push_back(0);  // bars start at zero
  items = labelled(items);
  Frame f;
  f.x = make_range(chart.axes.xmin, chart.axes.xmax, vs);
  f.y = {0, double(std::max<std::size_t>(1, chart.categories.size())), {}};
  f.box = plot_box(c, area, chart.axes, widest(c, chart.categories) + 8, items);
  draw_axes(c, f, chart.axes, true, false);
  const double row = f.box.h / f.y.hi;
  const double groups = double(std::max<std::size_t>(1, chart.groups.size()));
  const double bar = row * 0.8 / groups;
  for (std::size_t k = 0; k < chart.categories.size(); ++k) {
    const double top = f.box.y + row * double(k);
    c.text({f.box.x - 6, top + row / 2}, chart.categories[k], {kFont, kBlack, Align::right, VAlign::middle});
    for (std::size_t gi = 0; gi < chart.groups.size(); ++gi) {
      const BarGroup& g = chart.groups[gi];
      const double y = top + row * 0.1 + bar * double(gi);
      const double v = k < g.values.size() ? g.values[k] : NAN;
      const double x0 = f.at(0, 0).x;
      const double font = std::min(kFont - 1, bar * 0.95);
      if (!std::isfinite(v)) {
        c.text({x0 + 3, y + bar / 2}, "NA", {font, kAxis, Align::left, VAlign::middle});
        continue;
      }
      const double x1 = f.at(v, 0).x;
      c.rect({std::min(x0, x1), y, std::abs(x1 - x0), bar}, g.color, kAxis, 0.4);
      if (!chart.value_labels) continue;
      const std::string s = format_tick(v, 2);
      const bool inside = x1 + 4 + c.text_width(s, font) > f.box.right();
      c.text({inside ? x1 - 3 : x1 + 3, y + bar / 2}, s,
             {font, inside ? kBlack : kAxis, inside ? Align::right : Align::left, VAlign::middle});
    }
  }
  right_legend(c, f, items);
}

// ---- scatter plot ---------------------------------------------------------------------------

void draw(Canvas& c, Rect area, const ScatterPlot& plot) {
  std::vector<LegendItem> items;
  const Frame f = xy_frame(c, area, plot, LegendKind::dot, items);
  c.clip(f.box);
  if (plot.diagonal) {
    const double lo = std::max(f.x.lo, f.y.lo), hi = std::min(f.x.hi, f.y.hi);
    if (hi > lo) c.line(f.at(lo, lo), f.at(hi, hi), Color::hex(0x888888), 1.2, true);
  }
  for (const ScatterSeries& s : plot.series)
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
        c.circle(f.at(s.x[i], s.y[i]), s.radius, s.color.with_alpha(0.8), kAxis, 0.6);
  c.unclip();
  right_legend(c, f, items);
}

}  // namespace sse::plot
