// plot/: the Cairo canvas (PNG and SVG bytes, pixels where they were drawn), slices with overlays,
// iso-line outlines, ticks, charts and the HTML page helpers. PNGs are decoded back (with Cairo,
// tests/support/png.h) to check pixels.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "plot/canvas.h"
#include "plot/chart.h"
#include "plot/html.h"
#include "plot/raster.h"
#include "tests/support/png.h"

namespace sse::plot {
namespace {

using test::decode_png;

// Pixels of colour c, within `tol` in every channel.
long count(const test::DecodedPng& d, Color c, int tol) {
  return d.count(int(c.r * 255), int(c.g * 255), int(c.b * 255), tol);
}

const Color kRed = Color::hex(0xff0000);

TEST(Canvas, PngHasTheScaledSizeAndPixelsWhereDrawn) {
  Canvas c(40, 30, Format::png, 2.0);
  c.fill(kWhite);
  c.rect({10, 5, 10, 10}, kRed);
  const std::string png = c.finish();
  ASSERT_GE(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  const test::DecodedPng d = decode_png(png);
  ASSERT_EQ(d.width, 80);
  ASSERT_EQ(d.height, 60);
  EXPECT_EQ(d.rgb(30, 20), (std::array<int, 3>{255, 0, 0}));     // inside the rectangle (×2)
  EXPECT_EQ(d.rgb(5, 5), (std::array<int, 3>{255, 255, 255}));   // outside
  EXPECT_EQ(count(d, kRed, 0), 20 * 20);
  EXPECT_THROW(c.rect({0, 0, 1, 1}, kRed), std::logic_error);  // finished
}

TEST(Canvas, SvgIsAVectorDocumentInPixels) {
  Canvas c(120, 80, Format::svg);
  c.fill(kWhite);
  c.line({0, 0}, {120, 80}, kRed, 2);
  c.text({10, 20}, "helix", {});
  const std::string svg = c.finish();
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("width=\"120px\""), std::string::npos) << svg.substr(0, 400);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

TEST(Canvas, NearestNeighbourImageKeepsVoxelsSharp) {
  Image img(2, 1);
  img.at(0, 0) = {255, 0, 0, 255};
  img.at(1, 0) = {0, 0, 255, 255};
  Canvas c(20, 10, Format::png);
  c.image(img, {0, 0, 20, 10}, false);
  const test::DecodedPng d = decode_png(c.finish());
  EXPECT_EQ(d.rgb(9, 5), (std::array<int, 3>{255, 0, 0}));
  EXPECT_EQ(d.rgb(10, 5), (std::array<int, 3>{0, 0, 255}));
}

TEST(Canvas, TextIsDrawnAndMeasured) {
  Canvas c(100, 30, Format::png);
  c.fill(kWhite);
  EXPECT_GT(c.text_width("helix 10 A", 11), 30);
  EXPECT_GT(c.text_width("helix 10 A", 22), 1.8 * c.text_width("helix 10 A", 11));
  c.text({5, 15}, "helix 10 A", {11, kBlack, Align::left, VAlign::middle});
  EXPECT_GT(count(decode_png(c.finish()), kBlack, 100), 20);  // glyph pixels (a font is installed)
}

TEST(Raster, PercentileWindow) {
  std::vector<float> v;
  for (int i = 0; i <= 100; ++i) v.push_back(float(i));
  v.push_back(NAN);  // ignored
  const Window w = percentile_window(v, 1, 99);
  EXPECT_FLOAT_EQ(w.lo, 1);
  EXPECT_FLOAT_EQ(w.hi, 99);
  const Window flat = percentile_window(std::vector<float>(10, 3.0f));
  EXPECT_FLOAT_EQ(flat.lo, 3);
  EXPECT_FLOAT_EQ(flat.hi, 4);  // width 1, not 0
}

TEST(Raster, ComposeFlipsRowsAndBlendsOverlays) {
  Plane density(2, 2, 0);
  density.at(0, 0) = 10;  // bottom-left sample: white
  Plane helix(2, 2, 0);
  helix.at(1, 1) = 1;  // top-right sample: fully helix
  helix.at(1, 0) = 0.5f;
  const Image img = compose(density, {0, 10}, {{&helix, kRed, 0, 1, 0.5f}});
  EXPECT_EQ(img.at(0, 1), (std::array<std::uint8_t, 4>{255, 255, 255, 255}));  // picture row 1 = bottom
  EXPECT_EQ(img.at(0, 0), (std::array<std::uint8_t, 4>{0, 0, 0, 255}));
  EXPECT_EQ(img.at(1, 0), (std::array<std::uint8_t, 4>{128, 0, 0, 255}));  // black + red at alpha 0.5
  EXPECT_EQ(img.at(1, 1), (std::array<std::uint8_t, 4>{64, 0, 0, 255}));   // alpha 0.5 × p 0.5
}

TEST(Raster, OutlineOfOneSampleIsADiamondAroundIt) {
  Plane p(3, 3, 0);
  p.at(1, 1) = 1;
  const std::vector<Segment> segs = outline(p, 0.5f);
  ASSERT_EQ(segs.size(), 4u);
  for (const Segment& s : segs)
    for (const Point& q : {s.a, s.b})  // each crossing halfway between the centre and a neighbour
      EXPECT_NEAR(std::abs(q.x - 1.5) + std::abs(q.y - 1.5), 0.5, 1e-9) << q.x << "," << q.y;
  EXPECT_TRUE(outline(Plane(3, 3, 0), 0.5f).empty());
}

TEST(Ticks, NiceStepsCoverTheRange) {
  const Ticks t = nice_ticks(0, 1, 5);
  ASSERT_EQ(t.values.size(), 6u);
  EXPECT_DOUBLE_EQ(t.values[1], 0.2);
  EXPECT_EQ(t.decimals, 1);
  const Ticks u = nice_ticks(0.63, 0.91, 5);
  EXPECT_LE(u.values.front(), 0.63);
  EXPECT_GE(u.values.back(), 0.91);
  EXPECT_EQ(u.decimals, 2);  // step 0.05
  const Ticks big = nice_ticks(0, 2400, 5);
  EXPECT_DOUBLE_EQ(big.values[1], 500);
  EXPECT_EQ(big.decimals, 0);
  EXPECT_EQ(format_tick(0.25, 2), "0.25");
}

TEST(Charts, DrawTheirDataInTheSeriesColour) {
  LinePlot lp;
  lp.axes = {"loss", "step", "loss"};
  lp.series.push_back({"train", {1, 2, 3}, {0.9, 0.5, NAN}, kRed});
  const test::DecodedPng line = decode_png(render(lp, 300, 200, Format::png));
  ASSERT_EQ(line.width, 300);
  EXPECT_GT(count(line, kRed, 60), 30);

  LinePlot empty = lp;
  empty.series[0].y = {NAN, NAN, NAN};
  empty.series[0].label.clear();
  EXPECT_EQ(count(decode_png(render(empty, 300, 200, Format::png)), kRed, 60), 0);

  BarChart bc;
  bc.axes.xmin = 0;
  bc.axes.xmax = 1;
  bc.categories = {"A", "B"};
  bc.groups.push_back({"helix", kRed, {0.5, NAN}});
  const test::DecodedPng bars = decode_png(render(bc, 300, bar_chart_height(bc), Format::png));
  EXPECT_GT(count(bars, kRed, 10), 100);
  BarChart twice = bc;
  twice.groups[0].values = {1.0, NAN};  // twice as long a bar
  EXPECT_GT(count(decode_png(render(twice, 300, bar_chart_height(bc), Format::png)), kRed, 10),
            1.7 * double(count(bars, kRed, 10)));

  ScatterPlot sp;
  sp.axes.xmin = sp.axes.ymin = 0;
  sp.axes.xmax = sp.axes.ymax = 1;
  sp.series.push_back({"", kRed, {0.2, 0.8, NAN}, {0.3, 0.9, 0.5}, 5});
  EXPECT_GT(count(decode_png(render(sp, 300, 300, Format::png)), Color::hex(0xff3333), 60), 2 * 40);
  EXPECT_NE(render(sp, 300, 300, Format::svg).find("<svg"), std::string::npos);
}

TEST(Html, Base64MatchesRfc4648Vectors) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64(std::string("\xff\x00\x80", 3)), "/wCA");
  EXPECT_EQ(data_uri("image/png", "foo"), "data:image/png;base64,Zm9v");
}

TEST(Html, PageEscapesTextAndInlinesImages) {
  HtmlPage page("map <a&b>");
  page.paragraph("5 < 6");
  page.image("PNGDATA", "slices \"z\"", 300);
  page.table({"chain", "class"}, {{Cell("A"), Cell("helix", "helix")}});
  const std::string s = page.str();
  EXPECT_EQ(s.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(s.find("<title>map &lt;a&amp;b&gt;</title>"), std::string::npos);
  EXPECT_NE(s.find("<p>5 &lt; 6</p>"), std::string::npos);
  EXPECT_NE(s.find("alt=\"slices &quot;z&quot;\" width=\"300\" src=\"data:image/png;base64,UE5HREFUQQ==\""),
            std::string::npos);
  EXPECT_NE(s.find("<td class=\"helix\">helix</td>"), std::string::npos);
  EXPECT_EQ(s.find("http"), std::string::npos);  // nothing to fetch
  EXPECT_EQ(s.find("<script"), std::string::npos);
}

}  // namespace
}  // namespace sse::plot
