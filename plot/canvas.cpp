// Cairo behind plot::Canvas (contract in plot/canvas.h).
#include "plot/canvas.h"

#include <cairo-svg.h>
#include <cairo.h>

#include <cmath>
#include <stdexcept>

#include "plot/raster.h"

namespace sse::plot {

namespace {

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

void check(cairo_status_t s, const char* what) {
  if (s != CAIRO_STATUS_SUCCESS) throw std::runtime_error(std::string(what) + ": " + cairo_status_to_string(s));
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__)
// fontconfig (under Cairo's toy text API) keeps its configuration until exit without freeing it, so
// LeakSanitizer would fail every ASan run that draws text; nothing of ours is hidden by this.
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }
#endif

struct Canvas::Impl {
  std::string svg_bytes;  // the SVG stream's sink; must outlive the surface
  cairo_surface_t* surface = nullptr;
  cairo_t* cr = nullptr;
  bool finished = false;

  void release() {
    if (cr) cairo_destroy(cr);
    if (surface) cairo_surface_destroy(surface);
    cr = nullptr;
    surface = nullptr;
  }
  cairo_t* live() {
    if (finished) throw std::logic_error("plot::Canvas: drawing after finish()");
    return cr;
  }
  void set(Color c) { cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a); }
  // Fills and/or strokes the current path.
  void paint_path(Color fill, Color stroke, double width) {
    if (!fill.none()) {
      set(fill);
      stroke.none() ? cairo_fill(cr) : cairo_fill_preserve(cr);
    }
    if (!stroke.none()) {
      set(stroke);
      cairo_set_line_width(cr, width);
      cairo_stroke(cr);
    }
    cairo_new_path(cr);
  }
  void stroke_style(Color c, double width, bool dashed) {
    set(c);
    cairo_set_line_width(cr, width);
    const double dash[] = {4 * width, 2.5 * width};
    cairo_set_dash(cr, dash, dashed ? 2 : 0, 0);
  }
  void font(double size, bool bold) {
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
  }
};

Canvas::Canvas(double width, double height, Format format, double png_scale)
    : impl_(std::make_unique<Impl>()), width_(width), height_(height), format_(format) {
  if (!(width > 0 && height > 0 && png_scale > 0)) throw std::invalid_argument("plot::Canvas: empty canvas");
  if (format == Format::png) {
    impl_->surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, int(std::ceil(width * png_scale)),
                                                int(std::ceil(height * png_scale)));
  } else {
    impl_->surface = cairo_svg_surface_create_for_stream(append_bytes, &impl_->svg_bytes, width, height);
    cairo_svg_surface_set_document_unit(impl_->surface, CAIRO_SVG_UNIT_PX);  // pt would be 4/3 larger in browsers
  }
  check(cairo_surface_status(impl_->surface), "cairo surface");
  impl_->cr = cairo_create(impl_->surface);
  check(cairo_status(impl_->cr), "cairo context");
  if (format == Format::png) cairo_scale(impl_->cr, png_scale, png_scale);
  cairo_set_line_join(impl_->cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(impl_->cr, CAIRO_LINE_CAP_BUTT);
}

Canvas::~Canvas() { impl_->release(); }

void Canvas::fill(Color c) {
  cairo_t* cr = impl_->live();
  cairo_save(cr);
  impl_->set(c);
  cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
  cairo_paint(cr);
  cairo_restore(cr);
}

void Canvas::rect(Rect r, Color fill, Color stroke, double line_width) {
  cairo_rectangle(impl_->live(), r.x, r.y, r.w, r.h);
  cairo_set_dash(impl_->cr, nullptr, 0, 0);
  impl_->paint_path(fill, stroke, line_width);
}

void Canvas::line(Point a, Point b, Color c, double width, bool dashed) {
  polyline({a, b}, c, width, dashed);
}

void Canvas::polyline(const std::vector<Point>& points, Color c, double width, bool dashed) {
  cairo_t* cr = impl_->live();
  bool pen_down = false;
  for (const Point& p : points) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) {
      pen_down = false;
      continue;
    }
    pen_down ? cairo_line_to(cr, p.x, p.y) : cairo_move_to(cr, p.x, p.y);
    pen_down = true;
  }
  impl_->stroke_style(c, width, dashed);
  cairo_stroke(cr);
  cairo_set_dash(cr, nullptr, 0, 0);
}

void Canvas::circle(Point centre, double radius, Color fill, Color stroke, double line_width) {
  cairo_t* cr = impl_->live();
  cairo_new_sub_path(cr);
  cairo_arc(cr, centre.x, centre.y, radius, 0, 2 * M_PI);
  cairo_set_dash(cr, nullptr, 0, 0);
  impl_->paint_path(fill, stroke, line_width);
}

double Canvas::text_width(const std::string& s, double size, bool bold) {
  cairo_t* cr = impl_->live();
  cairo_save(cr);
  impl_->font(size, bold);
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  cairo_restore(cr);
  return e.x_advance;
}

void Canvas::text(Point at, const std::string& s, const TextStyle& style) {
  cairo_t* cr = impl_->live();
  cairo_save(cr);
  impl_->font(style.size, style.bold);
  cairo_text_extents_t te;
  cairo_text_extents(cr, s.c_str(), &te);
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  const double dx = style.align == Align::left ? 0 : (style.align == Align::center ? -te.x_advance / 2 : -te.x_advance);
  double dy = 0;  // from the anchor to the baseline
  switch (style.valign) {
    case VAlign::top: dy = fe.ascent; break;
    case VAlign::middle: dy = (fe.ascent - fe.descent) / 2; break;
    case VAlign::baseline: dy = 0; break;
    case VAlign::bottom: dy = -fe.descent; break;
  }
  cairo_translate(cr, at.x, at.y);
  cairo_rotate(cr, -style.angle * M_PI / 180.0);
  cairo_move_to(cr, dx, dy);
  impl_->set(style.color);
  cairo_show_text(cr, s.c_str());
  cairo_restore(cr);
}

void Canvas::image(const Image& img, Rect dest, bool smooth) {
  cairo_t* cr = impl_->live();
  if (img.width <= 0 || img.height <= 0) return;
  cairo_surface_t* src = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, img.width, img.height);
  check(cairo_surface_status(src), "cairo image");
  cairo_surface_flush(src);
  unsigned char* data = cairo_image_surface_get_data(src);
  const int stride = cairo_image_surface_get_stride(src);
  for (int y = 0; y < img.height; ++y) {
    auto* row = reinterpret_cast<std::uint32_t*>(data + std::size_t(y) * std::size_t(stride));
    for (int x = 0; x < img.width; ++x) {
      const auto& p = img.at(x, y);
      const std::uint32_t a = p[3];  // Cairo wants premultiplied native-endian ARGB
      row[x] = (a << 24) | ((p[0] * a / 255) << 16) | ((p[1] * a / 255) << 8) | (p[2] * a / 255);
    }
  }
  cairo_surface_mark_dirty(src);
  cairo_save(cr);
  cairo_rectangle(cr, dest.x, dest.y, dest.w, dest.h);
  cairo_clip(cr);
  cairo_translate(cr, dest.x, dest.y);
  cairo_scale(cr, dest.w / img.width, dest.h / img.height);
  cairo_set_source_surface(cr, src, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), smooth ? CAIRO_FILTER_BILINEAR : CAIRO_FILTER_NEAREST);
  cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);  // no dark fringe at the edges
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_surface_destroy(src);
}

void Canvas::clip(Rect r) {
  cairo_t* cr = impl_->live();
  cairo_save(cr);
  cairo_rectangle(cr, r.x, r.y, r.w, r.h);
  cairo_clip(cr);
}

void Canvas::unclip() { cairo_restore(impl_->live()); }

std::string Canvas::finish() {
  impl_->live();
  impl_->finished = true;
  check(cairo_status(impl_->cr), "cairo drawing");
  std::string out;
  if (format_ == Format::png) {
    cairo_surface_flush(impl_->surface);
    check(cairo_surface_write_to_png_stream(impl_->surface, append_bytes, &out), "PNG encoding");
  } else {
    cairo_destroy(impl_->cr);
    impl_->cr = nullptr;
    cairo_surface_finish(impl_->surface);  // flushes the SVG document into svg_bytes
    check(cairo_surface_status(impl_->surface), "SVG encoding");
    out.swap(impl_->svg_bytes);
  }
  impl_->release();
  return out;
}

}  // namespace sse::plot
