// Mask-rule calibration: the weight sweep (apps/calibration.h) on made-up probabilities whose best
// rule is known, its counts against io::voxel_counts on the masks predict writes, and
// `sseunet calibrate` end to end — the weights land in the checkpoint and predict/evaluate use them.
#include <gtest/gtest.h>

#include <cmath>

#include "apps/calibration.h"
#include "apps/inference.h"
#include "engine/checkpoint.h"
#include "io/metrics.h"
#include "tests/apps/apps_test_util.h"

namespace sse::app::test {
namespace {

// A model that over-calls helix: every truth-helix voxel has p_helix 0.8, and as many background
// voxels again have p_helix 0.5 (argmax calls them helix). Sheet voxels are called right.
LabelledProbabilities overcalled_helix() {
  LabelledProbabilities m;
  const auto add = [&](float h, float s, std::uint8_t label, int n) {
    for (int i = 0; i < n; ++i) m.helix.push_back(h), m.sheet.push_back(s), m.labels.push_back(label);
  };
  add(0.8f, 0.1f, 1, 100);  // helix, confident
  add(0.5f, 0.1f, 0, 100);  // background the argmax calls helix
  add(0.1f, 0.7f, 2, 50);   // sheet
  add(0.05f, 0.05f, 0, 500);
  add(0.9f, 0.0f, LabelledProbabilities::kIgnore, 30);  // not counted whatever the rule
  return m;
}

TEST(Calibration, CountsMatchTheMetricsOfTheMasksPredictWrites) {
  const LabelledProbabilities m = overcalled_helix();
  io::GridGeometry g;
  g.nx = int(m.labels.size()), g.ny = 1, g.nz = 1;
  Probabilities p{io::Grid(g), io::Grid(g)};
  p.helix.data = m.helix;
  p.sheet.data = m.sheet;
  io::LabelGrid truth(g, 0);
  truth.data = m.labels;
  for (const Decision d : {Decision{}, Decision{0.6f, 1.3f}}) {
    Masks masks = masks_from(p, d);
    for (std::size_t i = 0; i < truth.data.size(); ++i)
      if (truth.data[i] == LabelledProbabilities::kIgnore) truth.data[i] = masks.helix.data[i] = masks.sheet.data[i] = 0;
    const io::ClassCounts want = io::voxel_counts(truth, masks.helix, masks.sheet);
    const io::ClassCounts got = count_rule({m}, d);
    for (io::Sse c : {io::Sse::helix, io::Sse::sheet}) {
      EXPECT_EQ(got[c].tp, want[c].tp);
      EXPECT_EQ(got[c].fp, want[c].fp);
      EXPECT_EQ(got[c].fn, want[c].fn);
    }
    truth.data = m.labels;
  }
}

TEST(Calibration, LowersTheWeightOfAnOvercalledClass) {
  const std::vector<LabelledProbabilities> maps{overcalled_helix()};
  const io::ClassCounts argmax = count_rule(maps, {});
  EXPECT_EQ(argmax.helix.tp, 100);
  EXPECT_EQ(argmax.helix.fp, 100);  // precision 0.5
  const CalibrationResult r = calibrate(maps);
  // Helix is called right once w·0.5 ≤ 0.4 (background) while w·0.8 > 0.1: w in (0.125, 0.8].
  EXPECT_LE(r.best.decision.helix, 0.8f);
  EXPECT_GT(r.best.decision.helix, 0.125f);
  EXPECT_EQ(r.best.counts.helix.fp, 0);
  EXPECT_EQ(r.best.counts.helix.tp, 100);
  EXPECT_EQ(r.best.counts.sheet.tp, 50);
  EXPECT_DOUBLE_EQ(r.score, 1.0);
  // Of all the perfect rules the one nearest the argmax wins: the sheet weight stays 1 and the
  // helix weight is the largest grid value under 0.8.
  EXPECT_FLOAT_EQ(r.best.decision.sheet, 1.f);
  EXPECT_NEAR(r.best.decision.helix, std::exp2(-0.5), 1e-6);
}

TEST(Calibration, APerfectArgmaxIsKept) {
  LabelledProbabilities m = overcalled_helix();
  for (std::size_t i = 0; i < m.labels.size(); ++i)
    if (m.helix[i] == 0.5f) m.helix[i] = 0.2f;  // no more over-calling
  const CalibrationResult r = calibrate({m});
  EXPECT_EQ(r.best.decision, Decision{});
  EXPECT_DOUBLE_EQ(r.score, 1.0);
}

TEST(Calibration, AClassAbsentFromTheTruthKeepsWeightOne) {
  LabelledProbabilities m = overcalled_helix();
  for (auto& l : m.labels)
    if (l == 2) l = 0;  // no sheet truth left
  const CalibrationResult r = calibrate({m});
  EXPECT_FALSE(r.sheet_present);
  EXPECT_TRUE(r.helix_present);
  EXPECT_FLOAT_EQ(r.best.decision.sheet, 1.f);
  EXPECT_EQ(r.best.counts.helix.fp, 0);
}

TEST(Calibrate, WritesTheRuleIntoTheCheckpointAndPredictUsesIt) {
  Scratch s;
  write_checkpoint(s.path("tiny.ckpt"));
  const RunResult c = sseunet(
      "calibrate --model tiny.ckpt --manifest " + example_manifest() + " -o cal.ckpt --tile 32 --overlap 8", s.path());
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_NE(c.out.find("| calibrated |"), std::string::npos) << c.out;
  const Checkpoint ck = load_checkpoint(s.path("cal.ckpt"));
  ASSERT_TRUE(ck.meta.contains("decision"));
  const float wh = ck.meta["decision"]["helix_weight"], ws = ck.meta["decision"]["sheet_weight"];
  EXPECT_EQ(ck.meta["decision"]["maps"].size(), 1u);  // the manifest's val row
  EXPECT_EQ(ck.tensors.size(), load_checkpoint(s.path("tiny.ckpt")).tensors.size());

  // predict with the calibrated file == predict with its weights given as flags, and says so.
  const RunResult a = sseunet("predict " + example_map() + " -o a --model cal.ckpt", s.path());
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_NE(a.err.find("(calibrated)"), std::string::npos) << a.err;
  char flags[96];
  std::snprintf(flags, sizeof flags, " --helix-weight %.9g --sheet-weight %.9g", wh, ws);
  ASSERT_EQ(sseunet("predict " + example_map() + " -o b --model tiny.ckpt -q" + std::string(flags), s.path()).code, 0);
  for (const char* f : {"helix.mrc", "sheet.mrc"})
    EXPECT_EQ(io::read_map(s.path(std::string("a/") + f)).data, io::read_map(s.path(std::string("b/") + f)).data);
  // A flag still overrides the checkpoint's weight.
  const RunResult o = sseunet("predict " + example_map() + " -o c --model cal.ckpt --helix-weight 1 --sheet-weight 1",
                              s.path());
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.err.find("(calibrated)"), std::string::npos) << o.err;
}

TEST(Calibrate, OfSeveralCheckpointsWritesTheBestCalibrated) {
  Scratch s;
  write_checkpoint(s.path("w4.ckpt"), 4);
  write_checkpoint(s.path("w6.ckpt"), 6);
  const RunResult c = sseunet("calibrate --model w4.ckpt --model w6.ckpt --manifest " + example_manifest() +
                                  " -o best.ckpt --tile 32 --overlap 8 -q",
                              s.path());
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_NE(c.out.find("(chosen)"), std::string::npos) << c.out;
  const Checkpoint ck = load_checkpoint(s.path("best.ckpt"));
  const nlohmann::json& from = ck.meta["decision"]["chosen_from"];
  ASSERT_EQ(from.size(), 2u);
  const double s4 = from[0]["score"], s6 = from[1]["score"];
  const int width = ck.meta["model"]["width"];
  EXPECT_EQ(width, s6 > s4 ? 6 : 4);  // first on ties
  // The one calibrated alone gets the same rule.
  ASSERT_EQ(sseunet("calibrate --model w" + std::to_string(width) + ".ckpt --manifest " + example_manifest() +
                        " -o alone.ckpt --tile 32 --overlap 8 -q",
                    s.path())
                .code,
            0);
  const Checkpoint alone = load_checkpoint(s.path("alone.ckpt"));
  EXPECT_EQ(alone.meta["decision"]["helix_weight"], ck.meta["decision"]["helix_weight"]);
  EXPECT_EQ(alone.meta["decision"]["sheet_weight"], ck.meta["decision"]["sheet_weight"]);
}

TEST(Calibrate, RefusesACheckpointWithACorruptRuleAndMissingInputs) {
  Scratch s;
  write_checkpoint(s.path("tiny.ckpt"));
  Checkpoint ck = load_checkpoint(s.path("tiny.ckpt"));
  ck.meta["decision"] = {{"helix_weight", -1}, {"sheet_weight", 1}};
  save_checkpoint(s.path("bad.ckpt"), ck);
  const RunResult r = sseunet("predict " + example_map() + " -o out --model bad.ckpt", s.path());
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("bad.ckpt"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("calibration"), std::string::npos) << r.err;
  EXPECT_EQ(sseunet("calibrate --model tiny.ckpt -o x.ckpt", s.path()).code, 2);  // no validation maps
  const RunResult e = sseunet("calibrate --model tiny.ckpt --samples nowhere -o x.ckpt", s.path());
  EXPECT_EQ(e.code, 1);
  EXPECT_NE(e.err.find("nowhere"), std::string::npos) << e.err;
  EXPECT_FALSE(fs::exists(s.path("x.ckpt")));
}

}  // namespace
}  // namespace sse::app::test
