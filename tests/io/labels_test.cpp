// Voxel labels: the nearest-Cα rule on synthetic cases, exact reproduction of the authors' label
// files on the three committed chains, and agreement of record- and DSSP-based labels with them.
#include "io/labels.h"

#include <gtest/gtest.h>

#include <iostream>
#include <utility>

#include "io/error.h"
#include "io/file_util.h"
#include "io/map.h"
#include "tests/io/io_test_util.h"

namespace sse::io {
namespace {

using test::data;

Chain chain_with_cas(const std::vector<Vec3>& cas) {
  Chain c;
  c.id = "A";
  for (std::size_t i = 0; i < cas.size(); ++i) {
    Residue r;
    r.id.num = int(i) + 1;
    r.has_ca = true;
    r.ca = cas[i];
    c.residues.push_back(r);
  }
  return c;
}

TEST(Labels, NearestCaWithinCutoffInsideTheComponent) {
  GridGeometry g;
  g.nx = 14;
  g.ny = 3;
  g.nz = 3;
  g.origin = {-1, -1, -1};  // sample (x, 1, 1) sits at (x - 1, 0, 0)
  Grid map(g, 1.0f);
  map.at(0, 1, 1) = 0.0f;  // outside the component although 2 Å from a Cα
  const Chain chain = chain_with_cas({{1, 0, 0}, {8, 0, 0}});
  const LabelGrid l = make_labels(map, chain, {Sse::helix, Sse::sheet});
  const auto at = [&](int x) { return Sse(l.at(x, 1, 1)); };
  EXPECT_EQ(at(0), Sse::background);   // density 0
  EXPECT_EQ(at(1), Sse::helix);        // 1 Å
  EXPECT_EQ(at(2), Sse::helix);        // on the Cα
  EXPECT_EQ(at(5), Sse::helix);        // 3 Å from the helix Cα (inclusive), 4 Å from the other
  EXPECT_EQ(at(6), Sse::sheet);        // 4 Å / 3 Å
  EXPECT_EQ(at(12), Sse::sheet);       // exactly 3 Å
  EXPECT_EQ(at(13), Sse::background);  // 4 Å from the nearest Cα
  EXPECT_EQ(Sse(l.at(5, 0, 0)), Sse::background);  // (4,-1,-1): 3.32 Å from (1,0,0)
}

TEST(Labels, EquidistantVoxelGoesToTheFirstListedCa) {
  GridGeometry g;
  g.nx = 9;
  g.ny = g.nz = 1;
  const Grid map(g, 1.0f);
  // Sample 4 is 3 Å from both Cα.
  const LabelGrid a = make_labels(map, chain_with_cas({{1, 0, 0}, {7, 0, 0}}), {Sse::helix, Sse::sheet});
  const LabelGrid b = make_labels(map, chain_with_cas({{7, 0, 0}, {1, 0, 0}}), {Sse::sheet, Sse::helix});
  EXPECT_EQ(Sse(a.at(4, 0, 0)), Sse::helix);
  EXPECT_EQ(Sse(b.at(4, 0, 0)), Sse::sheet);
}

struct RealChain {
  const char* dir;
  const char* chain;
};

class AuthorsLabels : public ::testing::TestWithParam<RealChain> {
 protected:
  void SetUp() override {
    const std::string d = data(std::string("real/") + GetParam().dir + "/");
    const std::string c = GetParam().chain;
    map = read_map(d + c + "-1.0APIX.mrc.gz");
    model = read_model(d + c + "_fitted.pdb.gz");
    file = read_label_file(d + c + "_label_stride.txt.gz");
  }
  const Chain& chain() const { return model.chain(GetParam().chain); }
  // Agreement with the authors' file over the component voxels (all labels) and over the voxels
  // that either side labels helix or sheet (where disagreements show).
  std::pair<double, double> agreement(const LabelGrid& labels) const {
    long same = 0, sse = 0, sse_same = 0;
    for (std::size_t k = 0; k < file.voxels.size(); ++k) {
      const Index3& v = file.voxels[k];
      const std::uint8_t ours = labels.at(v[0], v[1], v[2]), theirs = file.labels[k];
      same += ours == theirs;
      if (ours != 0 || theirs != 0) {
        ++sse;
        sse_same += ours == theirs;
      }
    }
    return {double(same) / double(file.voxels.size()), double(sse_same) / double(sse)};
  }

  Grid map;
  Model model;
  LabelFile file;
};

TEST_P(AuthorsLabels, FileListsExactlyTheComponentVoxels) {
  long component = 0;
  for (float v : map.data) component += v > 0;
  EXPECT_EQ(long(file.voxels.size()), component);
  for (const Index3& v : file.voxels) ASSERT_GT(map.at(v[0], v[1], v[2]), 0.0f);
}

TEST_P(AuthorsLabels, RecoveredResidueClassesRebuildTheFileExactly) {
  const RecoveredClasses rec = recover_residue_classes(file, map, chain());
  EXPECT_EQ(rec.conflicts, 0);
  const LabelGrid ours = make_labels(map, chain(), rec.classes);
  const LabelGrid theirs = label_grid(file, map);
  long differ = 0, labelled = 0;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    differ += ours.data[i] != theirs.data[i];
    labelled += theirs.data[i] != 0;
  }
  EXPECT_EQ(differ, 0);
  EXPECT_GT(labelled, 1000);  // the comparison is not between two empty grids
}

TEST_P(AuthorsLabels, AgreementOfRecordAndDsspLabels) {
  const ChainSs rec = chain_secondary_structure(model, chain().id);
  ASSERT_EQ(rec.source, SsSource::records);
  SsOptions dssp_only;
  dssp_only.use_records = false;
  const auto [rec_all, rec_sse] = agreement(make_labels(map, chain(), rec.classes));
  const auto [dssp_all, dssp_sse] =
      agreement(make_labels(map, chain(), chain_secondary_structure(model, chain().id, dssp_only).classes));
  std::cout << "  " << GetParam().dir << " vs authors' STRIDE labels (component voxels / helix+sheet voxels): "
            << "HELIX/SHEET records " << 100 * rec_all << " % / " << 100 * rec_sse << " %, built-in DSSP "
            << 100 * dssp_all << " % / " << 100 * dssp_sse << " %\n";
  // STRIDE, DSSP and depositors disagree at element ends only; much lower would mean a broken
  // pipeline (wrong residues or classes), not a different program.
  EXPECT_GT(rec_sse, 0.8);
  EXPECT_GT(dssp_sse, 0.8);
}

INSTANTIATE_TEST_SUITE_P(Real, AuthorsLabels,
                         ::testing::Values(RealChain{"3491_5mdx_L", "L"}, RealChain{"3491_5mdx_X", "X"},
                                           RealChain{"6149_3j8g_X", "X"}),
                         [](const auto& info) { return std::string(info.param.dir); });

TEST(LabelFile, MalformedLineNamesFileAndLine) {
  test::ScratchDir dir("labels");
  write_file_atomically(dir.file("bad.txt"), "1,2,3,0.5,1\n1,2,x,0.5,1\n");
  try {
    read_label_file(dir.file("bad.txt"));
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.txt: line 2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sse::io
