// Map reading and writing: every supported mode, axis orders, placement rule, gzip, extended
// headers, real EMDB files, and round trips through gemmi and python3-mrcfile.
#include "io/map.h"

#include <gemmi/ccp4.hpp>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "io/error.h"
#include "io/file_util.h"
#include "tests/io/io_test_util.h"

namespace sse::io {
namespace {

using test::data;

float synthetic_value(int x, int y, int z) { return float(x + 5 * y + 20 * z); }

void expect_synthetic_values(const Grid& g) {
  ASSERT_EQ(g.nx, 5);
  ASSERT_EQ(g.ny, 4);
  ASSERT_EQ(g.nz, 3);
  for (int z = 0; z < 3; ++z)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 5; ++x) EXPECT_EQ(g.at(x, y, z), synthetic_value(x, y, z)) << x << y << z;
  EXPECT_NEAR(g.voxel.x, 1.5, 1e-6);
  EXPECT_NEAR(g.voxel.y, 2.0, 1e-6);
  EXPECT_NEAR(g.voxel.z, 2.5, 1e-6);
}

struct ModeFile {
  int mode;
  const char* file;
  bool little_endian;
};

class EveryMode : public ::testing::TestWithParam<ModeFile> {};

TEST_P(EveryMode, ReadsValuesVoxelSizeAndOriginField) {
  MapHeader h;
  const Grid g = read_map(data(std::string("synthetic/") + GetParam().file), &h);
  EXPECT_EQ(h.mode, GetParam().mode);
  EXPECT_EQ(h.little_endian, GetParam().little_endian);
  expect_synthetic_values(g);
  EXPECT_EQ(h.placement, MapHeader::Placement::origin_field);
  EXPECT_DOUBLE_EQ(g.origin.x, 10.5);
  EXPECT_DOUBLE_EQ(g.origin.y, -20.0);
  EXPECT_DOUBLE_EQ(g.origin.z, 30.25);
}
INSTANTIATE_TEST_SUITE_P(Modes, EveryMode,
                         ::testing::Values(ModeFile{0, "mode0.mrc", true}, ModeFile{1, "mode1.mrc", true},
                                           ModeFile{2, "mode2.mrc", true}, ModeFile{6, "mode6.mrc", true},
                                           ModeFile{12, "mode12.mrc", true}, ModeFile{2, "be_mode2.mrc", false},
                                           ModeFile{12, "be_mode12.mrc", false}),
                         [](const auto& info) {
                           std::string n = info.param.file;
                           return n.substr(0, n.find('.'));
                         });

TEST(MapRead, PermutedAxesPlacedByNstart) {
  MapHeader h;
  const Grid g = read_map(data("synthetic/permuted_nstart.mrc"), &h);
  expect_synthetic_values(g);
  EXPECT_EQ(h.placement, MapHeader::Placement::nstart);
  // NSTART (c,r,s) = (2,-3,4) with columns = z, rows = x, sections = y.
  EXPECT_DOUBLE_EQ(g.origin.x, -3 * 1.5);
  EXPECT_DOUBLE_EQ(g.origin.y, 4 * 2.0);
  EXPECT_DOUBLE_EQ(g.origin.z, 2 * 2.5);
}

TEST(MapRead, GzippedHalfFloatWithExtendedHeader) {
  MapHeader h;
  const Grid g = read_map(data("synthetic/ext_header.mrc.gz"), &h);
  EXPECT_EQ(h.extended_header_bytes, 160);
  EXPECT_EQ(h.mode, 12);
  expect_synthetic_values(g);
}

TEST(MapRead, HalfFloatSpecialValues) {
  MapHeader h;
  const Grid g = read_map(data("synthetic/mode12_special.mrc"), &h);
  ASSERT_EQ(g.size(), 8u);
  EXPECT_EQ(h.warnings.size(), 3u);  // mrcfile leaves the cell at zero: 1 Å voxels assumed
  EXPECT_EQ(g.voxel.x, 1.0);
  EXPECT_EQ(g.data[0], -2.5f);
  EXPECT_EQ(g.data[1], std::ldexp(1.0f, -14));
  EXPECT_EQ(g.data[2], std::ldexp(1.0f, -24));
  EXPECT_EQ(g.data[3], 65504.0f);
  EXPECT_EQ(g.data[4], 0.333251953125f);  // 1/3 rounded to 11 significant bits
  EXPECT_EQ(g.data[5], 0.0f);
  EXPECT_TRUE(std::signbit(g.data[5]));
  EXPECT_TRUE(std::isinf(g.data[6]) && g.data[6] > 0);
  EXPECT_TRUE(std::isnan(g.data[7]));
}

// EMD-3001: MAPC/MAPR/MAPS = 3,1,2, NSTART (c,r,s) = (0,-21,-12), 160-byte extended header,
// non-cubic voxels. Checked against the raw float32 bytes indexed by hand.
TEST(MapRead, RealEmdbFileWithPermutedAxesAndNstart) {
  MapHeader h;
  const Grid g = read_map(data("format/EMD-3001.map.gz"), &h);
  EXPECT_EQ(h.placement, MapHeader::Placement::nstart);
  EXPECT_EQ(h.extended_header_bytes, 160);
  ASSERT_EQ(g.nx, 43);  // rows
  ASSERT_EQ(g.ny, 25);  // sections
  ASSERT_EQ(g.nz, 73);  // columns
  EXPECT_NEAR(g.voxel.x, 17.93 / 40, 1e-5);
  EXPECT_NEAR(g.voxel.y, 4.71 / 12, 1e-5);
  EXPECT_NEAR(g.voxel.z, 33.03 / 72, 1e-5);
  EXPECT_NEAR(g.origin.x, -21 * g.voxel.x, 1e-9);
  EXPECT_NEAR(g.origin.y, -12 * g.voxel.y, 1e-9);
  EXPECT_EQ(g.origin.z, 0.0);

  const std::vector<char> raw = read_file_bytes(data("format/EMD-3001.map.gz"));
  const int nc = 73, nr = 43;
  for (int s = 0; s < 25; s += 3)
    for (int r = 0; r < 43; r += 5)
      for (int c = 0; c < 73; c += 7) {
        float v;
        std::memcpy(&v, raw.data() + 1024 + 160 + 4 * ((std::size_t(s) * nr + r) * nc + c), 4);
        ASSERT_EQ(g.at(/*x=*/r, /*y=*/s, /*z=*/c), v);
      }
}

TEST(MapRead, RealChainMapPlacedByOriginField) {
  MapHeader h;
  const Grid g = read_map(data("real/3491_5mdx_L/L-1.0APIX.mrc.gz"), &h);
  EXPECT_EQ(h.placement, MapHeader::Placement::origin_field);
  EXPECT_EQ(g.nx, 37);
  EXPECT_EQ(g.ny, 47);
  EXPECT_EQ(g.nz, 64);
  EXPECT_EQ(g.origin.x, 250.0);
  EXPECT_EQ(g.origin.y, 238.0);
  EXPECT_EQ(g.origin.z, 223.0);
  EXPECT_EQ(g.voxel.x, 1.0);
}

TEST(MapRead, SmallNstartFilesFromOtherTestSuites) {
  MapHeader h;
  const Grid a = read_map(data("format/EMD-3197.map.gz"), &h);
  EXPECT_EQ(h.placement, MapHeader::Placement::nstart);
  EXPECT_NEAR(a.origin.x, -2 * 11.4, 1e-4);
  const Grid b = read_map(data("format/5i55_tiny.ccp4.gz"), &h);
  EXPECT_EQ(b.size(), 8u * 6u * 10u);
  ASSERT_EQ(h.warnings.size(), 1u);
  EXPECT_NE(h.warnings[0].find("non-orthogonal"), std::string::npos);
  EXPECT_NE(describe(h).find("warning     non-orthogonal"), std::string::npos);
}

Grid random_grid(int nx, int ny, int nz, unsigned seed) {
  GridGeometry geo;
  geo.nx = nx;
  geo.ny = ny;
  geo.nz = nz;
  geo.voxel = {1.25, 0.75, 2.0};
  geo.origin = {-12.5, 3.0, 101.25};
  Grid g(geo);
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd;
  for (float& v : g.data) v = nd(rng);
  return g;
}

void expect_same_grid(const Grid& a, const Grid& b) {
  ASSERT_EQ(a.dims(), b.dims());
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(a.voxel[k], b.voxel[k], 1e-6);
    EXPECT_NEAR(a.origin[k], b.origin[k], 1e-5);
  }
  EXPECT_EQ(a.data, b.data);
}

TEST(MapWrite, RoundTripThroughOurReaderPlainAndGzipped) {
  test::ScratchDir dir("maps");
  const Grid g = random_grid(7, 5, 3, 1);
  for (const char* name : {"out.mrc", "out.mrc.gz"}) {
    write_map(dir.file(name), g);
    expect_same_grid(g, read_map(dir.file(name)));
  }
  // Only the two outputs: no temporary file survives the atomic write.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            2);
}

TEST(MapWrite, RoundTripThroughGemmi) {
  test::ScratchDir dir("maps");
  const Grid g = random_grid(6, 4, 9, 2);
  write_map(dir.file("g.mrc"), g);
  gemmi::Ccp4<float> m;
  m.read_ccp4_file(dir.file("g.mrc"));
  m.setup(NAN, gemmi::MapSetup::ReorderOnly);
  ASSERT_EQ(m.grid.nu, 6);
  ASSERT_EQ(m.grid.nv, 4);
  ASSERT_EQ(m.grid.nw, 9);
  EXPECT_EQ(m.grid.data, g.data);  // gemmi stores x fastest too
  EXPECT_NEAR(m.grid.unit_cell.a / 6, 1.25, 1e-6);
  EXPECT_NEAR(m.grid.unit_cell.b / 4, 0.75, 1e-6);
  EXPECT_NEAR(m.grid.unit_cell.c / 9, 2.0, 1e-6);
  EXPECT_FLOAT_EQ(m.header_float(50), -12.5f);
  EXPECT_FLOAT_EQ(m.header_float(51), 3.0f);
  EXPECT_FLOAT_EQ(m.header_float(52), 101.25f);
  EXPECT_EQ(m.header_i32(28), 20140);
  EXPECT_EQ(m.header_3i32(5), (std::array<int, 3>{0, 0, 0}));
}

TEST(MapWrite, RoundTripThroughMrcfile) {
  if (!test::python_has("mrcfile numpy")) GTEST_SKIP() << "python3-mrcfile not installed";
  test::ScratchDir dir("maps");
  const Grid g = random_grid(8, 3, 5, 3);
  write_map(dir.file("g.mrc"), g);
  const std::string report = dir.file("report.txt");
  const std::string cmd =
      "/usr/bin/python3 -c \"import mrcfile, numpy as np\n"
      "m = mrcfile.open('" + dir.file("g.mrc") + "')\n"   // strict mode: raises on invalid header
      "o = m.header.origin; v = m.voxel_size\n"
      "open('" + report + "', 'w').write(' '.join(map(repr, [*m.data.shape, float(v.x), float(v.y), "
      "float(v.z), float(o.x), float(o.y), float(o.z), float(m.data[4, 2, 7]), float(m.data.astype(np.float64).sum())])))\"";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(report);
  int sz, sy, sx;
  double vx, vy, vz, ox, oy, oz, sample, sum;
  ASSERT_TRUE(in >> sz >> sy >> sx >> vx >> vy >> vz >> ox >> oy >> oz >> sample >> sum);
  EXPECT_EQ(sx, 8);
  EXPECT_EQ(sy, 3);
  EXPECT_EQ(sz, 5);
  EXPECT_NEAR(vx, 1.25, 1e-6);
  EXPECT_NEAR(vy, 0.75, 1e-6);
  EXPECT_NEAR(vz, 2.0, 1e-6);
  EXPECT_NEAR(ox, -12.5, 1e-6);
  EXPECT_NEAR(oy, 3.0, 1e-6);
  EXPECT_NEAR(oz, 101.25, 1e-6);
  EXPECT_EQ(sample, double(g.at(7, 2, 4)));
  double expect_sum = 0;
  for (float v : g.data) expect_sum += v;
  EXPECT_NEAR(sum, expect_sum, 1e-9);
}

std::string error_of(const std::string& path) {
  try {
    read_map(path);
  } catch (const IoError& e) {
    return e.what();
  }
  return "";
}

TEST(MapRead, ErrorsNameTheFileAndTheProblem) {
  test::ScratchDir dir("bad");
  EXPECT_NE(error_of(dir.file("missing.mrc")).find("missing.mrc: file not found"), std::string::npos);

  std::vector<char> good = read_file_bytes(data("synthetic/mode2.mrc"));
  write_file_atomically(dir.file("short.mrc"), std::string_view(good.data(), good.size() - 7));
  EXPECT_NE(error_of(dir.file("short.mrc")).find("short.mrc: truncated"), std::string::npos);

  std::vector<char> mode3 = good;
  const std::int32_t three = 3;
  std::memcpy(mode3.data() + 12, &three, 4);
  write_file_atomically(dir.file("mode3.mrc"), std::string_view(mode3.data(), mode3.size()));
  EXPECT_NE(error_of(dir.file("mode3.mrc")).find("unsupported data mode 3"), std::string::npos);

  write_file_atomically(dir.file("text.mrc"), std::string(2000, 'x'));
  EXPECT_NE(error_of(dir.file("text.mrc")).find("text.mrc: not a readable MRC/CCP4 map"),
            std::string::npos);
}

}  // namespace
}  // namespace sse::io
