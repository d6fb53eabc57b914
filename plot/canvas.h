// plot/canvas.h — one drawing surface that encodes to PNG or SVG, wrapping Cairo.
//
// Contract:
//  * A Canvas is width × height points, origin at the top left, y pointing down (Cairo's and SVG's
//    convention). PNG: `png_scale` pixels per point (1 by default; 2 for crisp HiDPI pictures), with
//    the same geometry. SVG: vector output; raster images drawn into it are embedded as PNG.
//  * Colours are straight (not premultiplied) RGBA in [0, 1]; a colour with alpha 0 means "none"
//    (no fill or no stroke).
//  * Text uses Cairo's toy text API with the "sans-serif" face (fontconfig: DejaVu Sans on Debian).
//    text() anchors the string at `at` by `align` (horizontal) and `valign` (vertical); `angle` turns
//    it counter-clockwise in degrees about the anchor (90 for a y-axis title).
//  * image() draws an Image (plot/raster.h) scaled into `dest`; `smooth` picks bilinear
//    interpolation (density) over nearest neighbour (categorical voxels).
//  * finish() returns the encoded file (PNG or SVG bytes) and may be called once; drawing afterwards
//    throws. Cairo errors (out of memory) throw std::runtime_error. Nothing here touches files: the
//    caller writes the bytes (atomically, apps/output.h), or embeds them (plot/html.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sse::plot {

enum class Format { png, svg };

struct Color {
  double r = 0, g = 0, b = 0, a = 1;
  Color with_alpha(double alpha) const { return {r, g, b, alpha}; }
  bool none() const { return a <= 0; }
  // 0xRRGGBB.
  static Color hex(std::uint32_t rgb, double alpha = 1) {
    return {((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0, (rgb & 0xff) / 255.0, alpha};
  }
};
inline constexpr Color kNone{0, 0, 0, 0};
inline constexpr Color kBlack{0, 0, 0, 1};
inline constexpr Color kWhite{1, 1, 1, 1};

struct Point {
  double x = 0, y = 0;
};
struct Rect {
  double x = 0, y = 0, w = 0, h = 0;
  double right() const { return x + w; }
  double bottom() const { return y + h; }
};

enum class Align { left, center, right };
enum class VAlign { top, middle, baseline, bottom };

struct TextStyle {
  double size = 11;  // points
  Color color = kBlack;
  Align align = Align::left;
  VAlign valign = VAlign::baseline;
  bool bold = false;
  double angle = 0;  // degrees, counter-clockwise
};

struct Image;  // plot/raster.h

class Canvas {
 public:
  Canvas(double width, double height, Format format, double png_scale = 1.0);
  ~Canvas();
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;

  double width() const { return width_; }
  double height() const { return height_; }
  Format format() const { return format_; }

  void fill(Color c);  // the whole canvas
  void rect(Rect r, Color fill, Color stroke = kNone, double line_width = 1);
  void line(Point a, Point b, Color c, double width = 1, bool dashed = false);
  // Joined segments; a point with a NaN coordinate breaks the line (a gap for missing values).
  void polyline(const std::vector<Point>& points, Color c, double width = 1.5, bool dashed = false);
  void circle(Point centre, double radius, Color fill, Color stroke = kNone, double line_width = 1);
  void text(Point at, const std::string& s, const TextStyle& style = {});
  double text_width(const std::string& s, double size, bool bold = false);
  void image(const Image& img, Rect dest, bool smooth);
  // Restricts later drawing to `r` until unclip().
  void clip(Rect r);
  void unclip();

  std::string finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  double width_, height_;
  Format format_;
};

}  // namespace sse::plot
