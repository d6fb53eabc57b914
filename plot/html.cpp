// Self-contained HTML pages (contract in plot/html.h).
#include "plot/html.h"

namespace sse::plot {

namespace {

// Print-friendly, readable without the style sheet too. Colours match plot and ChimeraX outputs.
const char* const kStyle = R"(
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1200px;
       color: #222; line-height: 1.4; padding: 0 16px; }
h1 { font-size: 22px; border-bottom: 2px solid #ccc; padding-bottom: 4px; }
h2 { font-size: 18px; margin-top: 28px; }
h3 { font-size: 15px; margin-top: 20px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.helix { background: #f4a3a3; }
td.sheet { background: #fbe38a; }
td.other { background: #eeeeee; }
img { max-width: 100%; height: auto; display: block; margin: 6px 0 14px; }
code, .mono { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
p.note { color: #555; font-size: 13px; }
)";

}  // namespace

std::string base64(std::string_view bytes) {
  static const char* const kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned v = (unsigned char)bytes[i] << 16 | (unsigned char)bytes[i + 1] << 8 | (unsigned char)bytes[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    const unsigned v = (unsigned char)bytes[i] << 16 | (rest == 2 ? (unsigned char)bytes[i + 1] << 8 : 0);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string data_uri(const std::string& mime, std::string_view bytes) { return "data:" + mime + ";base64," + base64(bytes); }

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  return out;
}

HtmlPage::HtmlPage(std::string title) : title_(std::move(title)) {}

void HtmlPage::heading(const std::string& text, int level) {
  const std::string h = "h" + std::to_string(level < 1 ? 1 : (level > 6 ? 6 : level));
  body_ += "<" + h + ">" + escape(text) + "</" + h + ">\n";
}

void HtmlPage::paragraph(const std::string& text) { body_ += "<p>" + escape(text) + "</p>\n"; }

void HtmlPage::raw(const std::string& html) { body_ += html + "\n"; }

void HtmlPage::image(std::string_view png, const std::string& alt, int width) {
  body_ += "<img alt=\"" + escape(alt) + "\"" + (width > 0 ? " width=\"" + std::to_string(width) + "\"" : "") +
           " src=\"" + data_uri("image/png", png) + "\">\n";
}

void HtmlPage::table(const std::vector<Cell>& header, const std::vector<std::vector<Cell>>& rows) {
  std::string t = "<table>\n<tr>";
  for (const Cell& h : header) t += "<th>" + escape(h.text) + "</th>";
  t += "</tr>\n";
  for (const std::vector<Cell>& r : rows) {
    t += "<tr>";
    for (const Cell& c : r)
      t += (c.css_class.empty() ? std::string("<td>") : "<td class=\"" + escape(c.css_class) + "\">") + escape(c.text) +
           "</td>";
    t += "</tr>\n";
  }
  body_ += t + "</table>\n";
}

void HtmlPage::settings(const std::vector<std::pair<std::string, std::string>>& items) {
  std::vector<std::vector<Cell>> rows;
  for (const auto& [k, v] : items) rows.push_back({Cell(k), Cell(v, "mono")});
  table({"setting", "value"}, rows);
}

std::string HtmlPage::str() const {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + escape(title_) +
         "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<h1>" + escape(title_) + "</h1>\n" + body_ +
         "</body>\n</html>\n";
}

}  // namespace sse::plot
