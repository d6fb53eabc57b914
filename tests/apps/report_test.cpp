// Pictures a person looks at: `predict --report` opened in headless Chromium (every image decodes),
// the montage's overlays where the helix is, view.cxc's files found by path, the ChimeraX colour
// commands, and the training curves drawn from a real metrics.jsonl.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "apps/chimerax.h"
#include "apps/figures.h"
#include "io/error.h"
#include "tests/apps/apps_test_util.h"
#include "tests/support/png.h"

namespace sse::app::test {
namespace {

using sse::test::decode_png;
using sse::test::inlined_pngs;
using sse::test::render_in_chromium;

// The files a .cxc script opens, as written (quotes removed).
std::vector<std::string> opened_paths(const std::string& script) {
  std::vector<std::string> out;
  std::istringstream in(script);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("open ", 0) != 0) continue;
    std::string p = line.substr(5);
    if (p.size() >= 2 && p.front() == '"' && p.back() == '"') p = p.substr(1, p.size() - 2);
    out.push_back(p);
  }
  return out;
}

TEST(Report, PredictReportOpensInChromiumWithEveryImage) {
  Scratch s;
  write_checkpoint(s.path("tiny.ckpt"));
  const RunResult r = sseunet("predict " + example_map() + " -o out --model tiny.ckpt -q --report", s.path());
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string html = slurp(s.path("out/report.html"));
  EXPECT_NE(html.find("emd_35448_crop.mrc"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);  // self-contained: nothing to fetch
  const std::vector<sse::test::DecodedPng> pngs = inlined_pngs(html);
  ASSERT_EQ(pngs.size(), 3u);  // z, y and x slices
  for (const auto& p : pngs) EXPECT_GT(p.width, 400);
  const auto view = render_in_chromium(s.path("out/report.html"));
  if (!view) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  EXPECT_EQ(view->images, 3);
  EXPECT_EQ(view->decoded, 3);
  for (std::size_t i = 0; i < view->widths.size() && i < pngs.size(); ++i) EXPECT_EQ(view->widths[i], pngs[i].width);
}

// DeepSSETracer 1.0's published masks of the three authors' chains (README's Table II).
TEST(Report, EvaluateReportHasTheTableBarsAndTruthAgainstPrediction) {
  Scratch s;
  const RunResult r = evaluate_peer_masks(s.path(), "-q --report eval.html");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string html = slurp(s.path("eval.html"));
  for (const char* cell : {"3491_5mdx_L", "3491_5mdx_X", "6149_3j8g_X", ">0.845<", ">0.792<", ">0.253<", ">0.342<",
                           ">0.403<", "pooled (micro) F1"})
    EXPECT_NE(html.find(cell), std::string::npos) << cell;
  const std::vector<sse::test::DecodedPng> pngs = inlined_pngs(html);
  ASSERT_EQ(pngs.size(), 4u);  // F1 bars, then one picture per chain
  EXPECT_GT(pngs[0].count(0xff, 0x2a, 0x1a, 8), 500);  // helix bars
  EXPECT_GT(pngs[0].count(0xff, 0xd5, 0x00, 8), 100);  // the one sheet bar
  // 6149_3j8g_X (helix F1 0.25): true positives (green), false positives (orange), false negatives (blue).
  const auto& chain = pngs[3];
  EXPECT_GT(chain.count(0x2c, 0xa0, 0x2c, 50), 100);
  EXPECT_GT(chain.count(0xff, 0x7f, 0x0e, 50), 100);
  EXPECT_GT(chain.count(0x1f, 0x77, 0xb4, 50), 100);
  const auto view = render_in_chromium(s.path("eval.html"));
  if (!view) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  EXPECT_EQ(view->images, 4);
  EXPECT_EQ(view->decoded, 4);
}

TEST(Report, ViewScriptOpensTheMapMasksAndModelByRelativePath) {
  Scratch s;
  write_checkpoint(s.path("tiny.ckpt"));
  const RunResult r = predict_chain_x(s.path(), "runs/x", "tiny.ckpt");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string dir = io_data("real/3491_5mdx_X/");
  const std::string script = slurp(s.path("runs/x/view.cxc"));
  const std::vector<std::string> opened = opened_paths(script);
  ASSERT_EQ(opened.size(), 4u) << script;  // map, helix mask, sheet mask, model
  EXPECT_EQ(opened[1], "helix.mrc");
  EXPECT_EQ(opened[2], "sheet.mrc");
  for (const std::string& p : opened) {
    EXPECT_TRUE(fs::path(p).is_relative()) << p;
    EXPECT_TRUE(fs::is_regular_file(fs::path(s.path("runs/x")) / p)) << p << " does not resolve from the script's folder";
  }
  EXPECT_TRUE(fs::equivalent(fs::path(s.path("runs/x")) / opened[0], dir + "X-1.0APIX.mrc.gz"));
  EXPECT_NE(script.find("volume #2 style surface level 0.5 color red"), std::string::npos) << script;
  EXPECT_NE(script.find("volume #3 style surface level 0.5 color yellow"), std::string::npos) << script;
  EXPECT_NE(script.find("show #4 cartoons"), std::string::npos) << script;
}

TEST(Report, ChimeraxColoursResidueRangesByPredictedClass) {
  ChimeraScene scene;
  scene.map = "../maps/my map.mrc";
  scene.helix_mask = "helix.mrc";
  scene.sheet_mask = "sheet.mrc";
  scene.structure = "model.cif";
  scene.map_level = 0.25;
  for (const char* n : {"10", "11", "12", "14", "15A", "16"}) scene.residues.push_back({"A", n, "ALA", "helix"});
  scene.residues.push_back({"B", "3", "GLY", "sheet"});
  scene.residues.push_back({"B", "4", "GLY", "other"});
  scene.residues.push_back({"B", "5", "GLY", "NA"});
  const std::string s = chimerax_script(scene);
  EXPECT_NE(s.find("open \"../maps/my map.mrc\"\n"), std::string::npos) << s;  // quoted: a space
  EXPECT_NE(s.find("volume #1 style surface level 0.25 "), std::string::npos) << s;
  EXPECT_NE(s.find("color #4/A:10-12,14,15A,16 red\n"), std::string::npos) << s;
  EXPECT_NE(s.find("color #4/B:3 yellow\n"), std::string::npos) << s;
  EXPECT_EQ(s.find("/B:4"), std::string::npos) << s;  // other and NA keep the base colour
  EXPECT_EQ(s.find("/B:5"), std::string::npos) << s;
  EXPECT_EQ(relative_path("/a/b/map.mrc", "/a/c/out"), "../../b/map.mrc");
}

TEST(Report, ContourLevelIsMeanPlusOneSd) {
  io::Grid g(io::GridGeometry{2, 1, 1});
  g.data = {1, 3};
  EXPECT_DOUBLE_EQ(contour_level(g), 3.0);  // mean 2, SD 1
}

// A 24³ grid whose helix probability is 1 for x < 12: the montage's one xy slice is red on the left
// half of the tile and grey on the right.
TEST(Figures, MontageShowsTheHelixWhereItIs) {
  io::Grid density(io::GridGeometry{24, 24, 24});
  for (std::size_t i = 0; i < density.data.size(); ++i) density.data[i] = float(i % 7);
  io::Grid helix(density.geometry()), none(density.geometry());
  for (int z = 0; z < 24; ++z)
    for (int y = 0; y < 24; ++y)
      for (int x = 0; x < 12; ++x) helix.at(x, y, z) = 1;
  fig::Montage m;
  m.axis = 2;
  m.indices = {12};
  m.scale = 5;
  io::LabelGrid mask(density.geometry());  // the helix region as a 0/1 mask: its outline
  for (std::size_t i = 0; i < mask.data.size(); ++i) mask.data[i] = helix.data[i] > 0;
  m.rows = {{"", {{&helix, nullptr, fig::kHelix, 1.0f, false}, {&none, nullptr, fig::kSheet, 1.0f, false},
                  {nullptr, &mask, fig::kSheet, 0.0f, true}}}};
  const sse::test::DecodedPng png = decode_png(fig::render_montage(density, {0, 6}, m, plot::Format::png));
  ASSERT_GT(png.width, 24 * 5);
  // The tile starts at the 12-pixel margin; its centre row, a quarter and three quarters across.
  const int y = 12 + 60, left = 12 + 30, right = 12 + 90;
  const auto l = png.rgb(left, y), r = png.rgb(right, y);
  EXPECT_GT(l[0], 200);
  EXPECT_LT(l[2], 60);  // red
  EXPECT_EQ(r[0], r[1]);
  EXPECT_EQ(r[1], r[2]);  // grey: no overlay where the probability is 0
  const auto edge = png.rgb(12 + 60, y);  // the mask's outline between x = 11 and 12, in sheet yellow
  EXPECT_GT(edge[0], 200);
  EXPECT_GT(edge[1], 150);
  EXPECT_LT(edge[2], 80);
}

TEST(Figures, SlicePositionsAreSpacedAndCentred) {
  EXPECT_EQ(fig::slice_positions(41, 1.0, 10.0, 12), (std::vector<int>{0, 10, 20, 30, 40}));
  EXPECT_EQ(fig::slice_positions(45, 1.0, 10.0, 12), (std::vector<int>{2, 12, 22, 32, 42}));
  EXPECT_EQ(fig::slice_positions(300, 1.0, 4.0, 12).size(), 12u);  // wider spacing past 12 slices
  EXPECT_EQ(fig::slice_positions(1, 1.0, 4.0, 12), (std::vector<int>{0}));
}

TEST(Figures, TrainingCurvesFromARealMetricsFile) {
  const std::string path = repo_path("models/default_metrics.jsonl");
  const sse::test::DecodedPng png = decode_png(fig::training_curves(slurp(path), path, plot::Format::png));
  EXPECT_EQ(png.width, 1440);  // 720 points at 2 px
  EXPECT_EQ(png.height, 1040);
  EXPECT_GT(png.count(0xff, 0x2a, 0x1a, 30), 200);  // the helix F1 curve
  EXPECT_NE(fig::training_curves(slurp(path), path, plot::Format::svg).find("<svg"), std::string::npos);
  try {
    fig::training_curves("{\"step\": 1}\nnot json\n", "run/metrics.jsonl", plot::Format::png);
    FAIL() << "a malformed line was accepted";
  } catch (const io::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("run/metrics.jsonl"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos);
  }
}

}  // namespace
}  // namespace sse::app::test
