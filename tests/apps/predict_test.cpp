// `sseunet predict` end to end with an untrained width-4 checkpoint (the outputs' values mean
// nothing; their form does): files, grids and origins, 0/1 masks consistent with probabilities in
// [0, 1], tiling, --on-input-grid, several maps, and residues.csv.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "apps/inference.h"
#include "apps/model_io.h"
#include "io/grid_ops.h"
#include "io/map.h"
#include "tests/apps/apps_test_util.h"

namespace sse::app::test {
namespace {

const std::vector<std::string> kOutputs{"helix.mrc", "helix_prob.mrc", "sheet.mrc", "sheet_prob.mrc", "view.cxc"};

void expect_same_lattice(const io::GridGeometry& a, const io::GridGeometry& b) {
  EXPECT_EQ(a.dims(), b.dims());
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(a.voxel[k], b.voxel[k], 1e-5);
    EXPECT_NEAR(a.origin[k], b.origin[k], 1e-3);
  }
}

// Masks are 0/1, never both, and agree with the probabilities' argmax.
void expect_valid_outputs(const std::string& dir, const io::GridGeometry& lattice) {
  ASSERT_EQ(files_in(dir), kOutputs);
  const io::Grid h = io::read_map(dir + "/helix.mrc"), s = io::read_map(dir + "/sheet.mrc");
  const io::Grid ph = io::read_map(dir + "/helix_prob.mrc"), ps = io::read_map(dir + "/sheet_prob.mrc");
  for (const io::Grid* g : {&h, &s, &ph, &ps}) expect_same_lattice(*g, lattice);
  for (std::size_t i = 0; i < h.data.size(); ++i) {
    ASSERT_TRUE(h.data[i] == 0 || h.data[i] == 1);
    ASSERT_TRUE(s.data[i] == 0 || s.data[i] == 1);
    ASSERT_FALSE(h.data[i] == 1 && s.data[i] == 1);
    ASSERT_TRUE(ph.data[i] >= 0 && ph.data[i] <= 1 && ps.data[i] >= 0 && ps.data[i] <= 1);
    ASSERT_LE(ph.data[i] + ps.data[i], 1.0001f);
    const float bg = 1 - ph.data[i] - ps.data[i];
    ASSERT_EQ(h.data[i] == 1, ph.data[i] > bg && ph.data[i] >= ps.data[i]) << i;
  }
}

TEST(Predict, ExampleMapOnTheOneAngstromGridWithTheInputsOrigin) {
  Scratch s;
  write_checkpoint(s.path("tiny.ckpt"));
  const RunResult r = sseunet("predict " + example_map() + " -o out --model tiny.ckpt", s.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("device cpu"), std::string::npos) << r.err;                   // the device is printed at start
  EXPECT_NE(r.err.find("predict ["), std::string::npos) << r.err;                    // a progress bar
  expect_valid_outputs(s.path("out"), io::read_map_header(example_map()).geometry);  // already 1 Å
}

TEST(Predict, TilesCoverAnyGridAndKeepTheOutputsValid) {
  Scratch s;
  write_checkpoint(s.path("tiny.ckpt"));
  const RunResult r =
      sseunet("predict " + example_map() + " -o out --model tiny.ckpt --tile 24 --overlap 4 -q", s.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // --quiet
  expect_valid_outputs(s.path("out"), io::read_map_header(example_map()).geometry);
}

TEST(Predict, ResamplesToOneAngstromAndBackOnInputGrid) {
  Scratch s;
  write_checkpoint(s.path("tiny.ckpt"));
  write_rescaled_example(s.path("coarse.mrc"), 1.25);
  const io::GridGeometry input = io::read_map_header(s.path("coarse.mrc")).geometry;
  ASSERT_EQ(sseunet("predict coarse.mrc -o at1 --model tiny.ckpt -q", s.path()).code, 0);
  expect_valid_outputs(s.path("at1"), io::lattice_with_spacing(input, {1, 1, 1}));  // 54×57×52 at 1 Å
  ASSERT_EQ(sseunet("predict coarse.mrc -o back --model tiny.ckpt -q --on-input-grid", s.path()).code, 0);
  expect_valid_outputs(s.path("back"), input);
}

TEST(Predict, SeveralMapsGoToOneFolderEach) {
  Scratch s;
  write_checkpoint(s.path("tiny.ckpt"));
  write_rescaled_example(s.path("b.mrc"), 1.2);
  const RunResult r = sseunet("predict " + example_map() + " b.mrc -o many --model tiny.ckpt -q", s.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(files_in(s.path("many/emd_35448_crop")), kOutputs);
  EXPECT_EQ(files_in(s.path("many/b")), kOutputs);
}

TEST(Predict, ResiduesCsvListsEveryResidueWithItsProbabilities) {
  Scratch s;
  write_checkpoint(s.path("tiny.ckpt"));
  const RunResult r = predict_chain_x(s.path(), "out", "tiny.ckpt");
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream csv(slurp(s.path("out/residues.csv")));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "chain,number,name,predicted,helix_prob,sheet_prob,voxels");
  int rows = 0;
  while (std::getline(csv, line)) {
    ++rows;
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string cell; std::getline(ls, cell, ',');) f.push_back(cell);
    ASSERT_EQ(f.size(), 7u) << line;
    EXPECT_EQ(f[0], "X");
    EXPECT_TRUE(f[3] == "helix" || f[3] == "sheet" || f[3] == "other") << line;  // every Cα lies in its chain's map
    EXPECT_GE(std::stod(f[4]), 0.0);
    EXPECT_LE(std::stod(f[4]) + std::stod(f[5]), 1.0001);
    EXPECT_GT(std::stoi(f[6]), 0);
  }
  EXPECT_EQ(rows, 32);  // residues with a Cα in chain X of 5MDX
}

TEST(Predict, CtrlCStopsBetweenTilesAndLeavesNothing) {
  Scratch s;
  write_checkpoint(s.path("w16.ckpt"), 16);
  // 130×136×124 at 1 Å: 64 tiles of 48³ at width 16, about 5 s on 2 idle cores — well past the 1.5 s
  // signal (the 2× map's 12 tiles could finish first on an idle machine).
  write_rescaled_example(s.path("big.mrc"), 3.0);
  const RunResult r = sseunet("predict big.mrc -o out --model w16.ckpt --tile 48 --overlap 8", s.path(),
                              "timeout -s INT --preserve-status 1.5");
  EXPECT_EQ(r.code, 130) << r.err;
  EXPECT_NE(r.err.find("sseunet: interrupted; unfinished outputs were removed"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(s.path("out")));
}

// In-process: the blended tiles of a grid the network sees whole, cut into 2×2×2 tiles, stay
// probabilities and cover every voxel (TileBlender weights are never zero).
TEST(Inference, BlendedProbabilitiesCoverEveryVoxel) {
  Scratch s;
  write_checkpoint(s.path("tiny.ckpt"));
  LoadedModel m = load_model(s.path("tiny.ckpt"), Device::cpu());
  const io::Grid input = prepare_input(io::read_map(example_map()));
  const Probabilities p = predict_probabilities(*m.net, input, {24, 4}, Device::cpu(), Reporter::silent());
  ASSERT_EQ(p.helix.data.size(), input.data.size());
  double sum = 0;
  for (std::size_t i = 0; i < p.helix.data.size(); ++i) {
    ASSERT_GT(p.helix.data[i] + p.sheet.data[i], 0.f) << i;
    sum += p.helix.data[i];
  }
  EXPECT_GT(sum, 0);
}

TEST(Inference, FlipsMirrorTheAxesAndUndoThemselves) {
  io::GridGeometry g;
  g.nx = 3, g.ny = 4, g.nz = 5;
  io::Grid a(g);
  for (std::size_t i = 0; i < a.data.size(); ++i) a.data[i] = float(i);
  const io::Grid f = flipped(a, 1 | 4);
  EXPECT_EQ(f.at(0, 1, 0), a.at(2, 1, 4));
  EXPECT_EQ(f.at(2, 3, 1), a.at(0, 3, 3));
  for (int axes = 0; axes < 8; ++axes) EXPECT_EQ(flipped(flipped(a, axes), axes).data, a.data) << axes;
}

TEST(Inference, TtaIsTheMeanOfTheEightFlippedViewsMappedBack) {
  Scratch s;
  write_checkpoint(s.path("tiny.ckpt"));
  LoadedModel m = load_model(s.path("tiny.ckpt"), Device::cpu());
  const io::Grid input = prepare_input(io::read_map(example_map()));
  TileOptions t{24, 4};
  const Probabilities plain = predict_probabilities(*m.net, input, t, Device::cpu(), Reporter::silent());
  t.tta = true;
  const Probabilities tta = predict_probabilities(*m.net, input, t, Device::cpu(), Reporter::silent());
  // The view flipped along z, mapped back, by hand.
  t.tta = false;
  const Probabilities z = predict_probabilities(*m.net, flipped(input, 4), t, Device::cpu(), Reporter::silent());
  const io::Grid zh = flipped(z.helix, 4);
  double diff_plain = 0, diff_z = 0;
  for (std::size_t i = 0; i < input.data.size(); ++i) {
    ASSERT_TRUE(tta.helix.data[i] >= 0 && tta.helix.data[i] + tta.sheet.data[i] <= 1.0001f);
    diff_plain += std::fabs(tta.helix.data[i] - plain.helix.data[i]);
    diff_z += std::fabs(zh.data[i] - plain.helix.data[i]);
  }
  EXPECT_GT(diff_z, 0);      // the network is not flip-equivariant: the views differ ...
  EXPECT_GT(diff_plain, 0);  // ... so their mean differs from the plain pass
}

TEST(Inference, DecisionWeightsMakeAClassMoreReluctant) {
  io::GridGeometry g;
  g.nx = 3, g.ny = 1, g.nz = 1;
  Probabilities p{io::Grid(g), io::Grid(g)};
  p.helix.data = {0.6f, 0.5f, 0.2f};
  p.sheet.data = {0.1f, 0.1f, 0.5f};
  const Masks argmax = masks_from(p);
  EXPECT_EQ(argmax.helix.data, (std::vector<std::uint8_t>{1, 1, 0}));
  EXPECT_EQ(argmax.sheet.data, (std::vector<std::uint8_t>{0, 0, 1}));
  const Masks weighted = masks_from(p, {0.7f, 0.5f});  // helix 0.42 > bg 0.3, 0.35 < 0.4; sheet 0.25 < 0.3
  EXPECT_EQ(weighted.helix.data, (std::vector<std::uint8_t>{1, 0, 0}));
  EXPECT_EQ(weighted.sheet.data, (std::vector<std::uint8_t>{0, 0, 0}));
}

TEST(Predict, HelixWeightBelowOneGivesFewerHelixVoxels) {
  Scratch s;
  write_checkpoint(s.path("tiny.ckpt"));
  ASSERT_EQ(sseunet("predict " + example_map() + " -o a --model tiny.ckpt -q", s.path()).code, 0);
  ASSERT_EQ(sseunet("predict " + example_map() + " -o b --model tiny.ckpt -q --helix-weight 0.5", s.path()).code, 0);
  double a = 0, b = 0;
  for (float v : io::read_map(s.path("a/helix.mrc")).data) a += v;
  for (float v : io::read_map(s.path("b/helix.mrc")).data) b += v;
  EXPECT_LE(b, a);
  EXPECT_NE(sseunet("predict " + example_map() + " -o c --model tiny.ckpt -q --helix-weight 0", s.path()).code, 0);
}

TEST(Predict, TtaWritesValidOutputs) {
  Scratch s;
  write_checkpoint(s.path("tiny.ckpt"));
  const RunResult r = sseunet("predict " + example_map() + " -o out --model tiny.ckpt --tta -q", s.path());
  ASSERT_EQ(r.code, 0) << r.err;
  expect_valid_outputs(s.path("out"), io::read_map_header(example_map()).geometry);
}

}  // namespace
}  // namespace sse::app::test
