// Dataset manifest and sample cache: parsing, building real chains, skipping built rows,
// rebuilding changed ones, bad rows reported while the others build, and the sample file format.
#include "io/manifest.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <functional>

#include "io/error.h"
#include "io/file_util.h"
#include "io/labels.h"
#include "io/map.h"
#include "io/structure.h"
#include "tests/io/io_test_util.h"

namespace sse::io {
namespace {

using test::data;
namespace fs = std::filesystem;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const IoError& e) {
    return e.what();
  }
  return "";
}

TEST(Manifest, ParsesColumnsInAnyOrderCommentsAndRelativePaths) {
  test::ScratchDir dir("manifest");
  write_file_atomically(dir.file("m.tsv"),
                        "# a comment\n"
                        "split\tchain\tmap\tmodel\tresolution\tss_file\n"
                        "\n"
                        "train\tA\tmaps/a.mrc\t/abs/a.pdb\t5.3\t\n"
                        "test\tB\tb.mrc.gz\tb.cif\t7\tss/b.dssp\n"
                        "val\tC\tc.map\tc.pdb\t10.5\n");
  const auto rows = read_manifest(dir.file("m.tsv"));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].line, 4);
  EXPECT_EQ(rows[0].map, dir.file("maps/a.mrc"));
  EXPECT_EQ(rows[0].model, "/abs/a.pdb");
  EXPECT_EQ(rows[0].split, Split::train);
  EXPECT_EQ(rows[0].ss_file, "");
  EXPECT_EQ(rows[1].ss_file, dir.file("ss/b.dssp"));
  EXPECT_EQ(rows[1].resolution, 7.0);
  EXPECT_EQ(rows[2].split, Split::val);
  EXPECT_EQ(rows[2].chain, "C");
}

TEST(Manifest, ErrorsNameFileAndLine) {
  test::ScratchDir dir("manifest");
  const auto err = [&](const std::string& body) {
    write_file_atomically(dir.file("m.tsv"), body);
    return error_of([&] { read_manifest(dir.file("m.tsv")); });
  };
  const std::string head = "map\tmodel\tchain\tresolution\tsplit\n";
  EXPECT_NE(err(head + "a\tb\tA\tfive\ttrain\n").find("m.tsv: line 2: resolution"), std::string::npos);
  EXPECT_NE(err(head + "a\tb\tA\t5\ttest\na\tb\tA\t5\tdev\n").find("line 3: split"), std::string::npos);
  EXPECT_NE(err(head + "a\tb\tA\n").find("line 2: expected at least 5"), std::string::npos);
  EXPECT_NE(err("map\tmodel\tchain\tsplit\n").find("missing column 'resolution'"), std::string::npos);
  EXPECT_NE(err("map\tmodel\tchain\tresolution\tsplit\tcolour\n").find("unknown column 'colour'"), std::string::npos);
}

Sample tiny_sample() {
  GridGeometry g;
  g.nx = 3;
  g.ny = 2;
  g.nz = 2;
  g.voxel = {1, 1, 1};
  g.origin = {1.5, -2, 3};
  Sample s;
  s.map = Grid(g);
  s.labels = LabelGrid(g);
  for (std::size_t i = 0; i < g.size(); ++i) {
    s.map.data[i] = float(i) * 0.5f - 1;
    s.labels.data[i] = std::uint8_t(i % 3);
  }
  s.metadata = {{"chain", "A"}, {"split", "train"}};
  return s;
}

TEST(SampleFile, RoundTripAndRefusals) {
  test::ScratchDir dir("sample");
  const Sample s = tiny_sample();
  write_sample(dir.file("s.sample"), s);
  const Sample r = read_sample(dir.file("s.sample"));
  EXPECT_EQ(r.map.data, s.map.data);
  EXPECT_EQ(r.labels.data, s.labels.data);
  EXPECT_EQ(r.map.origin.x, 1.5);
  EXPECT_EQ(r.labels.dims(), s.labels.dims());
  EXPECT_EQ(r.meta("chain"), "A");
  EXPECT_EQ(r.meta("nothing"), "");

  std::vector<char> bytes = read_file_bytes(dir.file("s.sample"));
  const auto write_bytes = [&](const std::string& name, const std::vector<char>& b) {
    write_file_atomically(dir.file(name), std::string_view(b.data(), b.size()));
    return error_of([&] { read_sample(dir.file(name)); });
  };
  std::vector<char> flipped = bytes;
  flipped[bytes.size() / 2] ^= 1;
  EXPECT_NE(write_bytes("flip.sample", flipped).find("checksum mismatch"), std::string::npos);
  EXPECT_NE(write_bytes("short.sample", std::vector<char>(bytes.begin(), bytes.end() - 9)).find("checksum mismatch"),
            std::string::npos);
  std::vector<char> v2 = bytes;
  v2[8] = 2;
  EXPECT_NE(write_bytes("v2.sample", v2).find("version 2, this build reads version 1"), std::string::npos);
  EXPECT_NE(write_bytes("foreign.sample", std::vector<char>(100, 'x')).find("not an sseunet sample"), std::string::npos);
}

class BuildTest : public ::testing::Test {
 protected:
  BuildTest() : dir_("build") {
    options_.cache_dir = dir_.file("cache");
    const std::string real = data("real/");
    GridGeometry g;
    g.nx = g.ny = g.nz = 4;
    Grid nan_map(g, 1.f);
    nan_map.data[5] = std::numeric_limits<float>::quiet_NaN();
    write_map(dir_.file("nan.mrc"), nan_map);
    write_file_atomically(dir_.file("m.tsv"),
        "map\tmodel\tchain\tresolution\tsplit\n" +
        real + "3491_5mdx_L/L-1.0APIX.mrc.gz\t" + real + "3491_5mdx_L/L_fitted.pdb.gz\tL\t5.3\ttrain\n" +
        dir_.file("absent.mrc") + "\t" + real + "3491_5mdx_L/L_fitted.pdb.gz\tL\t5.3\ttrain\n" +
        real + "3491_5mdx_L/L-1.0APIX.mrc.gz\t" + real + "3491_5mdx_L/L_fitted.pdb.gz\tQ\t5.3\ttrain\n" +
        real + "3491_5mdx_L/L-1.0APIX.mrc.gz\t" + real + "3491_5mdx_X/X_fitted.pdb.gz\tX\t5.3\tval\n" +
        dir_.file("nan.mrc") + "\t" + real + "3491_5mdx_L/L_fitted.pdb.gz\tL\t5.3\ttrain\n" +
        real + "3491_5mdx_X/X-1.0APIX.mrc.gz\t" + real + "3491_5mdx_X/X_fitted.pdb.gz\tX\t5.3\ttest\n");
    rows_ = read_manifest(dir_.file("m.tsv"));
  }
  test::ScratchDir dir_;
  BuildOptions options_;
  std::vector<ManifestRow> rows_;
};

TEST_F(BuildTest, GoodRowsBuildBadRowsExplainThemselvesAndBuiltRowsAreSkipped) {
  const auto first = build_manifest(rows_, options_);
  ASSERT_EQ(first.size(), 6u);
  EXPECT_EQ(first[0].status, BuildStatus::built);
  EXPECT_EQ(first[5].status, BuildStatus::built);
  for (int i : {1, 2, 3, 4}) EXPECT_EQ(first[std::size_t(i)].status, BuildStatus::failed) << i;
  EXPECT_NE(first[1].message.find("row 3 ("), std::string::npos) << first[1].message;
  EXPECT_NE(first[1].message.find("absent.mrc: map file not found"), std::string::npos) << first[1].message;
  EXPECT_NE(first[2].message.find("no chain 'Q' (chains: L)"), std::string::npos) << first[2].message;
  EXPECT_NE(first[3].message.find("does not overlap the map"), std::string::npos) << first[3].message;
  EXPECT_NE(first[3].message.find("X_fitted.pdb.gz"), std::string::npos) << first[3].message;
  EXPECT_NE(first[4].message.find("nan.mrc: the map contains NaN"), std::string::npos) << first[4].message;

  const auto second = build_manifest(rows_, options_);
  EXPECT_EQ(second[0].status, BuildStatus::skipped);
  EXPECT_EQ(second[5].status, BuildStatus::skipped);
  EXPECT_EQ(second[1].status, BuildStatus::failed);

  // Other options or a changed input invalidate a cached sample.
  BuildOptions wider = options_;
  wider.zone.margin = 4;
  EXPECT_EQ(build_manifest({rows_[0]}, wider)[0].status, BuildStatus::built);
  EXPECT_EQ(build_manifest({rows_[0]}, wider)[0].status, BuildStatus::skipped);
  write_file_atomically(first[0].sample_path, "garbage");
  EXPECT_EQ(build_manifest({rows_[0]}, wider)[0].status, BuildStatus::built);
}

TEST_F(BuildTest, SampleHoldsTheZoneAtOneAngstromWithLabelsAndMetadata) {
  const Sample s = build_sample(rows_[0], options_);
  const Grid map = read_map(rows_[0].map);
  // The authors' map is already a 1 Å zone: the sample is a crop of it on the same lattice.
  EXPECT_EQ(s.map.voxel.x, 1.0);
  const Vec3 shift = s.map.origin - map.origin;
  ASSERT_EQ(shift.x, std::round(shift.x));
  long differ = 0;
  for (int z = 0; z < s.map.nz; ++z)
    for (int y = 0; y < s.map.ny; ++y)
      for (int x = 0; x < s.map.nx; ++x) {
        const int mx = x + int(shift.x), my = y + int(shift.y), mz = z + int(shift.z);
        const float v = map.contains(mx, my, mz) ? map.at(mx, my, mz) : 0.f;
        differ += s.map.at(x, y, z) != 0.f && s.map.at(x, y, z) != v;
      }
  EXPECT_EQ(differ, 0);
  const Model model = read_model(rows_[0].model);
  const LabelGrid expect = make_labels(s.map, model.chain("L"), chain_secondary_structure(model, "L").classes);
  EXPECT_EQ(s.labels.data, expect.data);
  EXPECT_EQ(s.meta("ss_source"), "records");
  EXPECT_EQ(s.meta("split"), "train");
  EXPECT_EQ(s.meta("helix_ca"), "25");  // HELIX record 14-38
  EXPECT_GT(std::stol(s.meta("helix_voxels")), 1000);
}

}  // namespace
}  // namespace sse::io
