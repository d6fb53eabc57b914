// The page of `predict --report` (contract in apps/predict_report.h).
#include "apps/predict_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "apps/figures.h"
#include "plot/html.h"

namespace sse::app {

namespace {

constexpr int kMaxSlices = 12;

std::string fixed(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// class | voxels | Å³ | share of the box | mean probability inside the mask
std::vector<plot::Cell> count_row(const char* name, const io::LabelGrid& mask, const io::Grid& prob) {
  long n = 0;
  double sum = 0;
  for (std::size_t i = 0; i < mask.data.size(); ++i)
    if (mask.data[i]) {
      ++n;
      sum += prob.data[i];
    }
  const double voxel_volume = mask.voxel.x * mask.voxel.y * mask.voxel.z;
  return {plot::Cell(name, name), plot::Cell(std::to_string(n), "num"), plot::Cell(fixed(n * voxel_volume, 0), "num"),
          plot::Cell(fixed(100.0 * double(n) / double(std::max<std::size_t>(1, mask.size())), 2) + " %", "num"),
          plot::Cell(n ? fixed(sum / double(n), 3) : "NA", "num")};
}

void slice_section(plot::HtmlPage& page, const PredictReport& r) {
  const io::Grid& d = *r.density;
  const plot::Window window = plot::percentile_window(d.data, 1, 99.5);
  fig::SliceRow row{"", {{&r.p->helix, nullptr, fig::kHelix, 0.4f, false}, {&r.p->sheet, nullptr, fig::kSheet, 0.45f, false},
                         {nullptr, &r.masks->helix, fig::kHelix, 0.0f, true},
                         {nullptr, &r.masks->sheet, fig::kSheet, 0.0f, true}}};
  const double extent = std::max({d.nx * d.voxel.x, d.ny * d.voxel.y, d.nz * d.voxel.z});
  const double scale = std::min(5.0, std::max(1.0, 200.0 / extent));  // tiles of about 200 px
  page.heading("Slices");
  page.raw("<p class=\"note\">Density in grey (1st&ndash;99.5th percentile of the map), helix probability in "
           "red and sheet probability in yellow (opacity = probability); lines: the boundaries of the "
           "helix and sheet masks. Positions are the map's coordinates in &Aring;.</p>");
  for (int axis : {2, 1, 0}) {
    fig::Montage m;
    m.axis = axis;
    m.title = fig::plane_name(axis) + ", every " + fixed(r.spacing, 0) + " \u00c5 or wider";
    m.indices = fig::slice_positions(d.dims()[axis], d.voxel[axis], r.spacing, kMaxSlices);
    m.rows = {row};
    m.legend = {{"helix", fig::kHelix, plot::LegendKind::box}, {"sheet", fig::kSheet, plot::LegendKind::box}};
    m.scale = scale;
    const int fit = std::max(1, int(1100 / (d.dims()[axis == 0 ? 1 : 0] * scale + 10)));  // tiles per line
    const int lines = (int(m.indices.size()) + fit - 1) / fit;
    m.columns = (int(m.indices.size()) + lines - 1) / lines;  // balanced lines: 4+4+3, not 5+5+1
    page.image(fig::render_montage(d, window, m, plot::Format::png), "slices: " + fig::plane_name(axis));
  }
}

// Helix and sheet probability along each chain.
void residue_section(plot::HtmlPage& page, const std::vector<ResidueCall>& calls) {
  std::map<std::string, std::vector<const ResidueCall*>> chains;
  std::vector<std::string> order;
  for (const ResidueCall& c : calls) {
    if (!chains.count(c.chain)) order.push_back(c.chain);
    chains[c.chain].push_back(&c);
  }
  page.heading("Residues");
  std::vector<std::vector<plot::Cell>> summary;
  for (const std::string& id : order) {
    std::map<std::string, int> n;
    for (const ResidueCall* c : chains[id]) ++n[c->predicted];
    summary.push_back({plot::Cell(id), plot::Cell(std::to_string(chains[id].size()), "num"),
                       plot::Cell(std::to_string(n["helix"]), "num"), plot::Cell(std::to_string(n["sheet"]), "num"),
                       plot::Cell(std::to_string(n["other"]), "num"), plot::Cell(std::to_string(n["NA"]), "num")});
  }
  page.table({"chain", "residues", "helix", "sheet", "other", "NA (outside the map)"}, summary);
  for (const std::string& id : order) {
    plot::LinePlot lp;
    lp.axes = {"Chain " + id + ": mean probability within 3 \u00c5 of each C\u03b1", "residue", "probability"};
    lp.axes.ymin = 0;
    lp.axes.ymax = 1;
    plot::Series h{"helix", {}, {}, fig::kHelix}, s{"sheet", {}, {}, fig::kSheetLine};
    for (const ResidueCall* c : chains[id]) {
      const double x = std::atof(c->number.c_str());
      h.x.push_back(x);
      s.x.push_back(x);
      h.y.push_back(c->predicted == "NA" ? NAN : c->helix);
      s.y.push_back(c->predicted == "NA" ? NAN : c->sheet);
    }
    lp.series = {h, s};
    page.image(plot::render(lp, 900, 220, plot::Format::png, 2.0), "chain " + id + " probability profile", 900);
  }
  std::vector<std::vector<plot::Cell>> rows;
  for (const ResidueCall& c : calls) {
    const bool na = c.predicted == "NA";
    rows.push_back({plot::Cell(c.chain), plot::Cell(c.number, "num"), plot::Cell(c.name),
                    plot::Cell(c.predicted, na ? "" : c.predicted), plot::Cell(na ? "" : fixed(c.helix, 3), "num"),
                    plot::Cell(na ? "" : fixed(c.sheet, 3), "num"), plot::Cell(std::to_string(c.voxels), "num")});
  }
  page.raw("<details><summary>Per-residue table (" + std::to_string(calls.size()) +
           " residues, as in residues.csv)</summary>");
  page.table({"chain", "number", "name", "predicted", "helix prob", "sheet prob", "voxels"}, rows);
  page.raw("</details>");
}

}  // namespace

std::string predict_report_html(const PredictReport& r) {
  plot::HtmlPage page("sseunet predict: " + std::filesystem::path(r.map_path).filename().string());
  const io::Grid& d = *r.density;
  page.paragraph("Map " + r.map_path + ", on the 1 \u00c5 grid the network ran on: " + std::to_string(d.nx) + " \u00d7 " +
                 std::to_string(d.ny) + " \u00d7 " + std::to_string(d.nz) + " voxels.");
  page.table({"class", "voxels", "volume (\u00c5\u00b3)", "share of the box", "mean probability in the mask"},
             {count_row("helix", r.masks->helix, r.p->helix), count_row("sheet", r.masks->sheet, r.p->sheet)});
  page.raw("<p class=\"note\">Open the masks over the map in ChimeraX with <code>chimerax view.cxc</code> "
           "(in this folder).</p>");
  slice_section(page, r);
  if (r.residues) residue_section(page, *r.residues);
  page.heading("Settings");
  page.settings(r.settings);
  return page.str();
}

}  // namespace sse::app
