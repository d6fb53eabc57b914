// plot/html.h — self-contained HTML report pages: every picture inlined as a data: URI, the style
// sheet inlined, no script and no network access when the page is viewed.
//
// Contract:
//  * base64(): RFC 4648 with padding, no line breaks. data_uri(mime, bytes) = "data:<mime>;base64,...".
//  * escape(): &, <, >, " and ' as entities: safe in text and in quoted attribute values.
//  * HtmlPage collects blocks in order; str() returns the whole document (UTF-8, <!DOCTYPE html>).
//    Text arguments are plain text (escaped here); raw() takes trusted HTML as is.
//  * image(png, alt, width): an <img> whose source is the PNG inlined; `width` (CSS pixels, 0 = the
//    image's own) lets a 2×-scaled PNG display at its point size.
//  * table(): a header row and body rows of Cells; a Cell's css_class (e.g. "helix", "sheet", "num")
//    styles it: the page's style sheet colours .helix red and .sheet yellow (DeepSSETracer's and
//    sseunet's ChimeraX colours) and right-aligns .num.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sse::plot {

std::string base64(std::string_view bytes);
std::string data_uri(const std::string& mime, std::string_view bytes);
std::string escape(std::string_view text);

struct Cell {
  std::string text;
  std::string css_class;
  Cell(std::string t = {}, std::string cls = {}) : text(std::move(t)), css_class(std::move(cls)) {}
  Cell(const char* t) : text(t) {}
};

class HtmlPage {
 public:
  explicit HtmlPage(std::string title);

  void heading(const std::string& text, int level = 2);
  void paragraph(const std::string& text);
  void raw(const std::string& html);
  void image(std::string_view png, const std::string& alt, int width = 0);
  void table(const std::vector<Cell>& header, const std::vector<std::vector<Cell>>& rows);
  // Two-column table of settings: name, value.
  void settings(const std::vector<std::pair<std::string, std::string>>& items);

  std::string str() const;

 private:
  std::string title_;
  std::string body_;
};

}  // namespace sse::plot
