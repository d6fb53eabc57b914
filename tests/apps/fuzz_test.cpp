// Fuzz-style robustness of map reading, the first thing every command does with a user's file:
// truncated, bit-flipped and extreme-valued headers of a real map (EMD-3197, 20³ at 11.4 Å, with an
// extended header) must be read as a map or refused with an io::IoError naming the file — never a
// crash, a hang, another exception type, or (in the sanitizer build) a sanitizer report. A handful
// of variants of the shipped example map also go through the binary (`info` and `predict`), which
// must exit 0 or 1 with one line on stderr.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>

#include "apps/inputs.h"
#include "io/error.h"
#include "io/file_util.h"
#include "io/map.h"
#include "tests/apps/apps_test_util.h"

namespace sse::app::test {
namespace {

std::vector<char> real_map_bytes() { return io::read_file_bytes(io_data("format/EMD-3197.map.gz")); }
std::vector<char> example_bytes() { return io::read_file_bytes(example_map()); }

void put_word(std::vector<char>& b, int word, std::int32_t v) { std::memcpy(&b[std::size_t(4 * (word - 1))], &v, 4); }

// Reads one variant the way commands do; returns "" when read or refused properly, else what went wrong.
std::string read_variant(const std::string& path, const std::vector<char>& bytes) {
  io::write_file_atomically(path, std::string_view(bytes.data(), bytes.size()));
  try {
    io::MapHeader h;
    const io::Grid g = io::read_map(path, &h);
    if (g.data.size() != g.size()) return "grid data size differs from its dimensions";
    check_map_header(h);
    (void)io::describe(h);
  } catch (const io::IoError& e) {
    if (std::string(e.what()).rfind(path, 0) != 0) return std::string("IoError without the file name: ") + e.what();
  } catch (const std::exception& e) {
    return std::string("unexpected exception: ") + e.what();
  }
  return "";
}

std::vector<std::vector<char>> variants(const std::vector<char>& base) {
  std::vector<std::vector<char>> out;
  std::mt19937 rng(20240611);
  // Truncations: around the header and extended header, then random lengths.
  for (std::size_t n :
       {0ul, 1ul, 4ul, 96ul, 223ul, 224ul, 1023ul, 1024ul, 1025ul, 1104ul, base.size() - 4, base.size() - 1})
    out.emplace_back(base.begin(), base.begin() + std::ptrdiff_t(std::min(n, base.size())));
  for (int i = 0; i < 40; ++i) {
    const std::size_t n = std::uniform_int_distribution<std::size_t>(0, base.size() - 1)(rng);
    out.emplace_back(base.begin(), base.begin() + std::ptrdiff_t(n));
  }
  // Bit flips: half in the 56 words that carry geometry and mode, half anywhere in the 1024-byte header.
  for (int i = 0; i < 300; ++i) {
    std::vector<char> b = base;
    const int flips = 1 + int(rng() % 3);
    for (int f = 0; f < flips; ++f) {
      const std::size_t byte = i % 2 ? rng() % 224 : rng() % 1024;
      b[byte] = char(b[byte] ^ char(1u << (rng() % 8)));
    }
    out.push_back(std::move(b));
  }
  // Extreme values in every integer and cell word of the main header.
  for (int word : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 17, 18, 19, 24, 28, 50, 51, 52})
    for (std::int32_t v :
         {0, -1, 1, 0x7fffffff, std::int32_t(0x80000000), 0x7f800000 /* +inf as float */, 0x7fc00000 /* NaN */}) {
      std::vector<char> b = base;
      put_word(b, word, v);
      out.push_back(std::move(b));
    }
  return out;
}

TEST(HeaderFuzz, EveryVariantIsReadOrRefusedWithAnIoError) {
  Scratch s;
  const std::vector<char> base = real_map_bytes();
  ASSERT_GT(base.size(), 1024u);
  const std::vector<std::vector<char>> all = variants(base);
  EXPECT_GT(all.size(), 400u);
  int refused = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const std::string path = s.path("v" + std::to_string(i) + ".mrc");
    const std::string problem = read_variant(path, all[i]);
    EXPECT_EQ(problem, "") << "variant " << i;
    try {
      io::read_map(path);
    } catch (const io::IoError&) {
      ++refused;
    }
    std::filesystem::remove(path);
  }
  EXPECT_GT(refused, 50);  // the truncations at least
}

// False for a variant that reads as a map bigger than 200 000 voxels at 1 Å.
bool small_at_1A(const std::string& path) {
  try {
    const std::array<double, 3> d = dims_at_1A(io::read_map_header(path).geometry);
    return d[0] * d[1] * d[2] <= 2e5;
  } catch (const io::IoError&) {
    return true;
  }
}

TEST(HeaderFuzz, BinaryExitsCleanlyOnDamagedHeaders) {
  Scratch s;
  write_checkpoint(s.path("tiny.ckpt"));
  const std::vector<std::vector<char>> all = variants(example_bytes());
  for (std::size_t i = 0; i < all.size(); i += all.size() / 8) {
    const std::string name = "v" + std::to_string(i) + ".mrc";
    io::write_file_atomically(s.path(name), std::string_view(all[i].data(), all[i].size()));
    std::vector<std::string> cmds{"info " + name};
    if (small_at_1A(s.path(name)))  // a flipped voxel size may make a valid but huge map: too slow for a test
      cmds.push_back("predict " + name + " --model tiny.ckpt -o out" + std::to_string(i));
    for (const std::string& cmd : cmds) {
      const RunResult r = sseunet(cmd + " -q", s.path());
      EXPECT_TRUE(r.code == 0 || r.code == 1) << cmd << ": exit " << r.code << "\n" << r.err;
      if (r.code == 1) {
        EXPECT_TRUE(one_line(r.err) && r.err.rfind("sseunet: " + name + ": ", 0) == 0) << cmd << ": " << r.err;
      }
    }
  }
}

}  // namespace
}  // namespace sse::app::test
