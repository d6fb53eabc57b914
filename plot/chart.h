// plot/chart.h — the charts of sseunet's reports, drawn into a rectangle of a Canvas: line plots
// (training curves), bar charts (per-chain F1), scatter plots with the y = x diagonal (per-chain F1
// of one loss against another, the study's Figure 5), legends and scale bars.
//
// Contract:
//  * Every chart draws inside `area` only: its title on top, axis labels and tick labels inside the
//    area's margins, the plot box in the rest. Missing values are NaN: a gap in a line, "NA" beside
//    an empty bar, a point left out of a scatter plot.
//  * Axis ranges: a finite Axes::xmin/xmax/ymin/ymax is used as given; a NaN bound comes from the
//    data, widened to the enclosing "nice" ticks (nice_ticks). A range with no finite data is [0, 1].
//  * nice_ticks(lo, hi, n): about n ticks at 1, 2 or 5 × 10^k steps covering [lo, hi], and the number
//    of decimals that prints each of them distinctly.
//  * Legends list (colour, label) pairs in the given order, as a short line, a filled box or a dot:
//    in a column, or in one row with `horizontal` (under a figure's title).
//  * scale_bar(): a bar `length` data units long (at `pixels_per_unit`) with its label centred above,
//    its right end at `right`, its baseline at `y`. Used for Å bars on slices.
//  * render(chart, w, h, format): a white canvas of w × h with the chart filling it; returns the
//    encoded PNG or SVG bytes.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "plot/canvas.h"

namespace sse::plot {

struct Ticks {
  std::vector<double> values;
  int decimals = 0;
};
Ticks nice_ticks(double lo, double hi, int target = 5);
std::string format_tick(double v, int decimals);

struct Axes {
  std::string title, xlabel, ylabel;
  double xmin = NAN, xmax = NAN, ymin = NAN, ymax = NAN;
  bool grid = true;
  // At least this much room for the legend on the right and for the y tick labels on the left, so
  // that stacked charts' plot boxes line up.
  double legend_width = 0, label_width = 0;
};

enum class LegendKind { line, box, dot };
struct LegendItem {
  std::string label;
  Color color;
  LegendKind kind = LegendKind::line;
  bool dashed = false;
};
// Draws the legend with its top-left corner at `at`; returns the rectangle it took.
Rect legend(Canvas& c, Point at, const std::vector<LegendItem>& items, double font_size = 11, bool framed = true,
            bool horizontal = false);
// The size legend() would take, to place it (e.g. at a plot box's top right).
Rect legend_size(Canvas& c, const std::vector<LegendItem>& items, double font_size = 11, bool horizontal = false);

void scale_bar(Canvas& c, Point right, double pixels_per_unit, double length, const std::string& label,
               Color color = kWhite, double font_size = 11);

// ---- line plot ------------------------------------------------------------------------------

struct Series {
  std::string label;  // empty: not in the legend
  std::vector<double> x, y;
  Color color;
  double width = 1.8;
  bool dashed = false;
  bool markers = false;  // a dot at each point
};
// A highlighted point with a short label (e.g. the best checkpoint).
struct Marker {
  double x = 0, y = 0;
  Color color;
  std::string label;
};
struct LinePlot {
  Axes axes;
  std::vector<Series> series;
  std::vector<Marker> markers;
};
void draw(Canvas& c, Rect area, const LinePlot& plot);

// ---- bar chart ------------------------------------------------------------------------------

struct BarGroup {
  std::string label;
  Color color;
  std::vector<double> values;  // one per category; NaN = NA
};
// Horizontal bars: one row per category (names on the left, readable for many chains), one bar per
// group within a row. The value axis is the x axis (Axes::xmin/xmax; F1 charts use 0..1).
struct BarChart {
  Axes axes;
  std::vector<std::string> categories;
  std::vector<BarGroup> groups;
  bool value_labels = true;  // the value printed at the end of each bar
};
void draw(Canvas& c, Rect area, const BarChart& chart);
// A height that gives each bar about `bar` points.
double bar_chart_height(const BarChart& chart, double bar = 9);

// ---- scatter plot ---------------------------------------------------------------------------

struct ScatterSeries {
  std::string label;
  Color color;
  std::vector<double> x, y;
  double radius = 3.5;
};
struct ScatterPlot {
  Axes axes;
  std::vector<ScatterSeries> series;
  bool diagonal = true;  // the y = x line: points above it favour the y axis' method
};
void draw(Canvas& c, Rect area, const ScatterPlot& plot);

template <class Chart>
std::string render(const Chart& chart, double width, double height, Format format, double png_scale = 1.0) {
  Canvas c(width, height, format, png_scale);
  c.fill(kWhite);
  draw(c, {0, 0, width, height}, chart);
  return c.finish();
}

}  // namespace sse::plot
