// PNG decoding and the headless-browser check (contract in tests/support/png.h).
#include "tests/support/png.h"

#include <cairo.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sse::test {

namespace {

std::string base64_decode(const std::string& in) {
  std::string out;
  int bits = 0;
  unsigned acc = 0;
  for (char ch : in) {
    int v;
    if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
    else if (ch == '+') v = 62;
    else if (ch == '/') v = 63;
    else continue;  // padding
    acc = (acc << 6) | unsigned(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::array<int, 3> DecodedPng::rgb(int x, int y) const {
  const std::uint32_t p = argb[std::size_t(y) * std::size_t(width) + std::size_t(x)];
  return {int((p >> 16) & 255), int((p >> 8) & 255), int(p & 255)};
}

long DecodedPng::count(int r, int g, int b, int tol) const {
  long n = 0;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const auto p = rgb(x, y);
      n += std::abs(p[0] - r) <= tol && std::abs(p[1] - g) <= tol && std::abs(p[2] - b) <= tol;
    }
  return n;
}

DecodedPng decode_png(const std::string& bytes) {
  struct Reader {
    const std::string* s;
    std::size_t at;
  } rd{&bytes, 0};
  cairo_surface_t* s = cairo_image_surface_create_from_png_stream(
      [](void* closure, unsigned char* data, unsigned int len) {
        auto* r = static_cast<Reader*>(closure);
        if (r->at + len > r->s->size()) return CAIRO_STATUS_READ_ERROR;
        std::copy(r->s->data() + r->at, r->s->data() + r->at + len, data);
        r->at += len;
        return CAIRO_STATUS_SUCCESS;
      },
      &rd);
  DecodedPng d;
  if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS) {
    d.width = cairo_image_surface_get_width(s);
    d.height = cairo_image_surface_get_height(s);
    const int stride = cairo_image_surface_get_stride(s);
    const unsigned char* data = cairo_image_surface_get_data(s);
    for (int y = 0; y < d.height; ++y)
      for (int x = 0; x < d.width; ++x)
        d.argb.push_back(reinterpret_cast<const std::uint32_t*>(data + std::size_t(y) * std::size_t(stride))[x]);
  }
  cairo_surface_destroy(s);
  return d;
}

std::vector<DecodedPng> inlined_pngs(const std::string& html) {
  std::vector<DecodedPng> out;
  const std::string marker = "data:image/png;base64,";
  for (std::size_t at = html.find(marker); at != std::string::npos; at = html.find(marker, at + 1)) {
    const std::size_t begin = at + marker.size(), end = html.find('"', begin);
    out.push_back(decode_png(base64_decode(html.substr(begin, end - begin))));
  }
  return out;
}

std::optional<BrowserView> render_in_chromium(const std::string& html_path) {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0) return std::nullopt;
  namespace fs = std::filesystem;
  const fs::path page = fs::absolute(html_path);
  const fs::path check = page.parent_path() / ("chromium_check_" + page.filename().string());
  const fs::path profile = page.parent_path() / "chromium_profile";
  const fs::path dom_file = page.parent_path() / "chromium_dom.html";
  // After load, the page records on <body> how many images it has and which of them decoded.
  std::string html = read_all(page.string());
  const std::string probe =
      "<script>window.addEventListener('load', () => { const im = [...document.images];"
      " document.body.setAttribute('data-images', im.length + ':' +"
      " im.filter(i => i.complete && i.naturalWidth > 0).length + ':' + im.map(i => i.naturalWidth).join(','));"
      " });</script>";
  const std::size_t body_end = html.rfind("</body>");
  html.insert(body_end == std::string::npos ? html.size() : body_end, probe);
  std::ofstream(check, std::ios::binary) << html;
  fs::remove_all(profile);
  const std::string cmd =
      "timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
      " --disable-background-networking --disable-component-update --disable-sync --user-data-dir='" +
      profile.string() + "' --dump-dom 'file://" + check.string() + "' >'" + dom_file.string() + "' 2>/dev/null";
  const int status = std::system(cmd.c_str());
  BrowserView v;
  v.dom = read_all(dom_file.string());
  fs::remove_all(profile);
  fs::remove(check);
  fs::remove(dom_file);
  EXPECT_EQ(status, 0) << "chromium failed or timed out on " << page;
  // data-images="<images>:<decoded>:<width>,<width>,..."
  const std::string key = "data-images=\"";
  const std::size_t at = v.dom.find(key);
  if (at == std::string::npos) {
    ADD_FAILURE() << "the page's load handler did not run: " << v.dom.substr(0, 300);
    return v;
  }
  std::istringstream fields(v.dom.substr(at + key.size(), v.dom.find('"', at + key.size()) - at - key.size()));
  char colon = 0;
  fields >> v.images >> colon >> v.decoded >> colon;
  for (std::string w; std::getline(fields, w, ',');)
    if (!w.empty()) v.widths.push_back(std::stoi(w));
  return v;
}

}  // namespace sse::test
