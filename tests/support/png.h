// tests/support/png.h — reading back the PNGs the program writes (decoded with Cairo, the library
// that wrote them) and checking HTML pages in a real browser (headless Chromium, when installed).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sse::test {

struct DecodedPng {
  int width = 0, height = 0;  // 0 when the bytes are not a PNG
  std::vector<std::uint32_t> argb;
  std::array<int, 3> rgb(int x, int y) const;
  // Pixels whose r, g, b are each within `tol` of (r, g, b).
  long count(int r, int g, int b, int tol) const;
};
DecodedPng decode_png(const std::string& bytes);

// Every PNG inlined in an HTML page as a data: URI, decoded.
std::vector<DecodedPng> inlined_pngs(const std::string& html);

// What headless Chromium saw after loading `html_path` (a copy with a small checking script is
// loaded from the same folder, so relative references resolve as in the page itself).
struct BrowserView {
  int images = 0;                 // <img> elements in the page
  int decoded = 0;                // of which complete with a natural width > 0
  std::vector<int> widths;        // their natural widths, in order
  std::string dom;                // the serialized DOM after load
};
// Empty when no `chromium` is on the PATH (callers GTEST_SKIP); fails the test on a timeout.
std::optional<BrowserView> render_in_chromium(const std::string& html_path);

}  // namespace sse::test
