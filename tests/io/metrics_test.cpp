// Metrics: counting rules on synthetic grids, and DeepSSETracer 1.0's published predictions on the
// three committed authors' chains scored by the library and checked against numbers from
// tests/reference/peer_metrics.py (numpy/scipy/gemmi, independent of this code).
#include "io/metrics.h"

#include <gtest/gtest.h>

#include "io/labels.h"
#include "io/map.h"
#include "tests/io/io_test_util.h"

namespace sse::io {
namespace {

using test::data;

TEST(Counts, PrecisionRecallF1AndNa) {
  const Counts c{6, 2, 4};
  EXPECT_DOUBLE_EQ(*c.precision(), 6.0 / 8);
  EXPECT_DOUBLE_EQ(*c.recall(), 6.0 / 10);
  EXPECT_DOUBLE_EQ(*c.f1(), 12.0 / 18);
  const Counts absent{0, 0, 0};
  EXPECT_FALSE(absent.precision() || absent.recall() || absent.f1());
  const Counts only_fp{0, 3, 0};  // predicted but absent from the truth: F1 = 0, recall NA
  EXPECT_EQ(*only_fp.f1(), 0.0);
  EXPECT_FALSE(only_fp.recall());
}

TEST(Metrics, ResidueIsPredictedWhenMoreThanHalfOfItsVoxelsAre) {
  GridGeometry g;
  g.nx = 8;
  g.ny = g.nz = 1;
  // Residue 0 owns voxels 0-3, residue 1 owns 4-7; voxel owners as nearest_ca_owners would give.
  const std::vector<std::int32_t> owners{0, 0, 0, 0, 1, 1, 1, 1};
  const std::vector<int> ca_residue{0, 1};
  LabelGrid helix(g, 0), sheet(g, 0);
  for (int x : {0, 1, 2}) helix.at(x, 0, 0) = 1;  // 3 of 4: predicted helix
  for (int x : {4, 5}) helix.at(x, 0, 0) = 1;     // 2 of 4: not a majority
  const ClassCounts c = residue_counts(owners, ca_residue, {Sse::helix, Sse::helix}, helix, sheet);
  EXPECT_EQ(c.helix.tp, 1);
  EXPECT_EQ(c.helix.fn, 1);
  EXPECT_EQ(c.helix.fp, 0);
  EXPECT_FALSE(c.sheet.f1());  // sheet absent from both: NA
}

TEST(Metrics, Table2WeightsByCaCountsAndSkipsNa) {
  ChainScores a, b, c;
  a.voxel.helix = {1, 0, 1};   // F1 2/3, 10 helix Cα
  a.helix_ca = 10;
  b.voxel.helix = {3, 1, 0};   // F1 6/7, 30 helix Cα
  b.helix_ca = 30;
  c.voxel.helix = {0, 0, 0};   // NA: left out although it has weight
  c.helix_ca = 5;
  const Averages av = table2_averages({a, b, c});
  EXPECT_DOUBLE_EQ(*av.weighted_f1_helix, (10 * 2.0 / 3 + 30 * 6.0 / 7) / 40);
  EXPECT_EQ(av.chains_helix, 2);
  EXPECT_DOUBLE_EQ(*av.micro_f1_helix, 8.0 / (8 + 1 + 1));
  EXPECT_FALSE(av.weighted_f1_sheet);
}

// ---- DeepSSETracer 1.0 on the authors' chains --------------------------------------------

struct Expected {
  const char* dir;
  const char* chain;
  long helix_ca, sheet_ca;
  Counts voxel_helix, voxel_sheet, residue_helix, residue_sheet;
};

// Printed by tests/reference/peer_metrics.py (TP, FP, FN).
const Expected kPeer[] = {
    {"3491_5mdx_L", "L", 23, 0, {1718, 382, 247}, {0, 0, 0}, {22, 0, 1}, {0, 0, 0}},
    {"3491_5mdx_X", "X", 30, 0, {2033, 443, 622}, {0, 0, 0}, {25, 0, 5}, {0, 0, 0}},
    {"6149_3j8g_X", "X", 146, 79, {1866, 181, 10820}, {5320, 19044, 1432}, {20, 0, 126}, {61, 140, 18}},
};

void expect_counts(const Counts& got, const Counts& want, const std::string& what) {
  EXPECT_EQ(got.tp, want.tp) << what;
  EXPECT_EQ(got.fp, want.fp) << what;
  EXPECT_EQ(got.fn, want.fn) << what;
}

ChainScores score_peer(const Expected& e) {
  const std::string d = data(std::string("real/") + e.dir + "/");
  const std::string c = e.chain;
  const Grid map = read_map(d + c + "-1.0APIX.mrc.gz");
  const Model model = read_model(d + c + "_fitted.pdb.gz");
  const LabelFile labels = read_label_file(d + c + "_label_stride.txt.gz");
  const Chain& chain = model.chain(c);
  const std::vector<Sse> classes = recover_residue_classes(labels, map, chain).classes;
  return evaluate_chain(std::string(e.dir) + "_" + c, map, chain, classes,
                        mask_from(read_map(d + "deepssetracer1.0_pred_helix.mrc.gz")),
                        mask_from(read_map(d + "deepssetracer1.0_pred_sheet.mrc.gz")));
}

TEST(PeerScores, DeepSSETracerOnAuthorsChainsMatchIndependentComputation) {
  std::vector<ChainScores> all;
  for (const Expected& e : kPeer) {
    const ChainScores s = score_peer(e);
    EXPECT_EQ(s.helix_ca, e.helix_ca) << e.dir;
    EXPECT_EQ(s.sheet_ca, e.sheet_ca) << e.dir;
    expect_counts(s.voxel.helix, e.voxel_helix, std::string(e.dir) + " voxel helix");
    expect_counts(s.voxel.sheet, e.voxel_sheet, std::string(e.dir) + " voxel sheet");
    expect_counts(s.residue.helix, e.residue_helix, std::string(e.dir) + " residue helix");
    expect_counts(s.residue.sheet, e.residue_sheet, std::string(e.dir) + " residue sheet");
    all.push_back(s);
  }
  // Table II averages, as printed by the reference script.
  const Averages v = table2_averages(all, Level::voxel);
  EXPECT_NEAR(*v.weighted_f1_helix, 0.40300163423458085, 1e-12);
  EXPECT_NEAR(*v.micro_f1_helix, 0.46947218855781686, 1e-12);
  EXPECT_NEAR(*v.weighted_f1_sheet, 0.34194626558683633, 1e-12);
  EXPECT_NEAR(*v.micro_f1_sheet, 0.34194626558683633, 1e-12);
  EXPECT_EQ(v.chains_helix, 3);
  EXPECT_EQ(v.chains_sheet, 1);  // the 5MDX chains have no sheet in truth or prediction: NA
  const Averages r = table2_averages(all, Level::residue);
  EXPECT_NEAR(*r.weighted_f1_helix, 0.42684592489036394, 1e-12);
  EXPECT_NEAR(*r.micro_f1_helix, 0.5037593984962406, 1e-12);
  EXPECT_NEAR(*r.weighted_f1_sheet, 0.4357142857142857, 1e-12);
  EXPECT_NEAR(*r.micro_f1_sheet, 0.4357142857142857, 1e-12);
}

}  // namespace
}  // namespace sse::io
