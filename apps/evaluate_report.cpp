// The page of `evaluate --report` (contract in apps/evaluate_report.h).
#include "apps/evaluate_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "apps/figures.h"
#include "io/secondary.h"
#include "plot/html.h"

namespace sse::app {

namespace {

constexpr int kSlices = 6;
constexpr double kMinSpacing = 4;  // Å between chosen planes

// The planes along `axis` with the most voxels in `interesting`, at least kMinSpacing apart, sorted;
// evenly spaced planes when nothing is interesting.
std::vector<int> busiest_planes(const io::Grid& interesting, int axis) {
  const int n = interesting.dims()[axis];
  std::vector<double> score(std::size_t(n), 0);
  for (std::size_t i = 0; i < interesting.data.size(); ++i)
    score[std::size_t(interesting.coords(i)[axis])] += interesting.data[i];
  std::vector<int> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return score[std::size_t(a)] > score[std::size_t(b)]; });
  const double gap = std::max(kMinSpacing, n * interesting.voxel[axis] / (kSlices + 1)) / interesting.voxel[axis];
  std::vector<int> picked;
  for (int k : order) {
    if (score[std::size_t(k)] <= 0 || int(picked.size()) == kSlices) break;
    if (std::all_of(picked.begin(), picked.end(), [&](int p) { return std::abs(p - k) >= gap; })) picked.push_back(k);
  }
  if (picked.empty()) return fig::slice_positions(n, interesting.voxel[axis], kMinSpacing, kSlices);
  std::sort(picked.begin(), picked.end());
  return picked;
}

std::string fixed(double v, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

plot::Cell score_cell(std::optional<double> v) { return plot::Cell(format_score(v, 3), "num"); }

std::vector<plot::Cell> chain_row(const RowScores& r, io::Level level) {
  const io::ClassCounts& k = level == io::Level::voxel ? r.s.voxel : r.s.residue;
  return {plot::Cell(r.s.name),
          plot::Cell(r.resolution > 0 ? fixed(r.resolution, 1) : "NA", "num"),
          plot::Cell(std::to_string(r.s.helix_ca) + "/" + std::to_string(r.s.sheet_ca) + "/" + std::to_string(r.other_ca), "num"),
          score_cell(k.helix.precision()), score_cell(k.helix.recall()), plot::Cell(format_score(k.helix.f1(), 3), "num helix"),
          score_cell(k.sheet.precision()), score_cell(k.sheet.recall()), plot::Cell(format_score(k.sheet.f1(), 3), "num sheet")};
}

void table_section(plot::HtmlPage& page, const std::vector<RowScores>& rows, io::Level level) {
  std::vector<std::vector<plot::Cell>> body;
  std::vector<io::ChainScores> scores;
  long h = 0, s = 0, o = 0;
  for (const RowScores& r : rows) {
    body.push_back(chain_row(r, level));
    scores.push_back(r.s);
    h += r.s.helix_ca;
    s += r.s.sheet_ca;
    o += r.other_ca;
  }
  const io::Averages a = io::table2_averages(scores, level);
  body.push_back({plot::Cell("weighted average (by helix / sheet C\u03b1)"), plot::Cell(""),
                  plot::Cell(std::to_string(h) + "/" + std::to_string(s) + "/" + std::to_string(o), "num"), "", "",
                  plot::Cell(format_score(a.weighted_f1_helix, 3), "num helix"), "", "",
                  plot::Cell(format_score(a.weighted_f1_sheet, 3), "num sheet")});
  body.push_back({plot::Cell("pooled (micro) F1"), "", "", "", "", plot::Cell(format_score(a.micro_f1_helix, 3), "num"),
                  "", "", plot::Cell(format_score(a.micro_f1_sheet, 3), "num")});
  page.table({"EMDB_PDB_chain", "resolution (\u00c5)", "C\u03b1 H/S/O", "helix P", "helix R", "helix F1", "sheet P",
              "sheet R", "sheet F1"},
             body);
  page.raw("<p class=\"note\">" + std::string(level == io::Level::voxel ? "Voxel" : "Residue") +
           "-level scores. NA: the class is absent from both truth and prediction (F1), or nothing was predicted "
           "(P) or true (R); weighted averages leave NA chains out.</p>");
}

void bars_section(plot::HtmlPage& page, const std::vector<RowScores>& rows, io::Level level) {
  plot::BarChart bc;
  bc.axes = {"F1 per chain", "F1", ""};
  bc.axes.xmin = 0;
  bc.axes.xmax = 1;
  plot::BarGroup helix{"helix", fig::kHelix, {}}, sheet{"sheet", fig::kSheet, {}};
  for (const RowScores& r : rows) {
    const io::ClassCounts& k = level == io::Level::voxel ? r.s.voxel : r.s.residue;
    bc.categories.push_back(r.s.name);
    helix.values.push_back(k.helix.f1().value_or(NAN));
    sheet.values.push_back(k.sheet.f1().value_or(NAN));
  }
  bc.groups = {helix, sheet};
  page.image(plot::render(bc, 800, plot::bar_chart_height(bc, 11), plot::Format::png, 2.0), "F1 per chain", 800);
}

}  // namespace

std::string format_score(std::optional<double> v, int digits) { return v ? fixed(*v, digits) : "NA"; }

std::string chain_picture(const io::Grid& zone, const io::LabelGrid& truth, const Masks& pred,
                          const io::LabelGrid& inside) {
  const auto& t = truth.data;
  const auto cls = [&](const io::LabelGrid& mask, io::Sse c) {
    const auto want = std::uint8_t(c);
    return std::array<io::Grid, 3>{
        fig::indicator(zone, [&](std::size_t i) { return mask.data[i] && t[i] == want; }),    // TP
        fig::indicator(zone, [&](std::size_t i) { return mask.data[i] && t[i] != want; }),    // FP
        fig::indicator(zone, [&](std::size_t i) { return !mask.data[i] && t[i] == want; })};  // FN
  };
  const std::array<io::Grid, 3> helix = cls(pred.helix, io::Sse::helix), sheet = cls(pred.sheet, io::Sse::sheet);
  const io::Grid outside = fig::indicator(zone, [&](std::size_t i) { return !inside.data[i]; });
  const io::Grid any = fig::indicator(zone, [&](std::size_t i) { return t[i] != 0 || pred.helix.data[i] || pred.sheet.data[i]; });
  fig::Montage m;
  const io::Index3 n = zone.dims();
  m.axis = int(std::min_element(n.begin(), n.end()) - n.begin());  // thinnest axis: the widest planes
  m.indices = busiest_planes(any, m.axis);
  const auto row = [&](const char* label, const std::array<io::Grid, 3>& g) {
    return fig::SliceRow{label, {{&outside, nullptr, plot::kBlack, 0.55f, false},
                                 {&g[0], nullptr, fig::kTruePositive, 0.75f, false},
                                 {&g[1], nullptr, fig::kFalsePositive, 0.75f, false},
                                 {&g[2], nullptr, fig::kFalseNegative, 0.75f, false}}};
  };
  const auto present = [](const std::array<io::Grid, 3>& g) {
    for (const io::Grid& x : g)
      if (std::any_of(x.data.begin(), x.data.end(), [](float v) { return v > 0; })) return true;
    return false;
  };
  if (present(helix) || !present(sheet)) m.rows.push_back(row("helix", helix));
  if (present(sheet)) m.rows.push_back(row("sheet", sheet));
  m.title = fig::plane_name(m.axis);
  m.columns = kSlices;
  m.legend = {{"true positive", fig::kTruePositive, plot::LegendKind::box},
              {"false positive", fig::kFalsePositive, plot::LegendKind::box},
              {"false negative", fig::kFalseNegative, plot::LegendKind::box},
              {"outside the zone (ignored)", plot::Color::hex(0x555555), plot::LegendKind::box}};
  const int ua = m.axis == 0 ? 1 : 0;
  m.scale = std::min(4.0, std::max(1.0, 150.0 / (n[ua] * zone.voxel[ua])));
  return fig::render_montage(zone, plot::percentile_window(zone.data, 1, 99.5), m, plot::Format::png);
}

std::string evaluate_report_html(const std::string& title, const std::vector<RowScores>& rows, io::Level level,
                                 const std::vector<std::pair<std::string, std::string>>& settings) {
  plot::HtmlPage page(title);
  table_section(page, rows, level);
  bars_section(page, rows, level);
  page.heading("Chains: truth against prediction");
  page.raw("<p class=\"note\">Slices through each chain's zone at 1 &Aring; (the planes with the most helix and "
           "sheet voxels), density in grey. Per class: true positives green, false positives orange, false "
           "negatives blue; predictions outside the zone (farther than the radius from the chain) are ignored "
           "and shown dimmed.</p>");
  for (const RowScores& r : rows) {
    const io::ClassCounts& k = level == io::Level::voxel ? r.s.voxel : r.s.residue;
    page.heading(r.s.name + ": helix F1 " + format_score(k.helix.f1(), 3) + ", sheet F1 " + format_score(k.sheet.f1(), 3), 3);
    if (!r.picture.empty()) page.image(r.picture, r.s.name + " slices");
  }
  page.heading("Settings");
  page.settings(settings);
  return page.str();
}

}  // namespace sse::app
