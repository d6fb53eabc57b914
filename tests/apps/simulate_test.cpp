// Simulated training data through the command line: `sseunet simulate`, `sseunet build --simulate`
// and `sseunet train --samples` (apps/simulate.cpp, apps/build.cpp, apps/train.cpp). The simulation
// itself is checked against other tools' maps in tests/io/simulate_test.cpp; here: the commands
// reach it with the right options, outputs are complete or absent, and the samples train.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "apps_test_util.h"
#include "io/manifest.h"
#include "tests/support/test_util.h"

namespace sse::app::test {
namespace {

std::string sim_data(const std::string& name) { return std::string(SSE_TEST_DATA_DIR) + "/simulate/" + name; }

TEST(Simulate, MatchesEmansMapOnItsLattice) {
  Scratch s;
  const std::string ref = sim_data("1ONC.5A.mrc.gz");
  const RunResult r = sseunet("simulate " + sim_data("1ONC.pdb.gz") + " --chain A --resolution 5 --sigma-factor eman" +
                                  " --like " + ref + " -o maps/1onc.mrc -q",
                              s.path());
  ASSERT_EQ(r.code, 0) << r.err;
  const io::Grid mine = io::read_map(s.path("maps/1onc.mrc")), theirs = io::read_map(ref);
  ASSERT_EQ(mine.size(), theirs.size());
  EXPECT_EQ(mine.origin.x, theirs.origin.x);
  EXPECT_EQ(mine.voxel.z, theirs.voxel.z);
  EXPECT_GE(sse::test::pearson(mine.data, theirs.data), 0.95);
}

TEST(Simulate, RealismIsDrawnFromTheSeed) {
  Scratch s;
  const std::string base = "simulate " + sim_data("1akeA.pdb.gz") + " --resolution 8 --snr 2 --bfactor 50 -q ";
  ASSERT_EQ(sseunet(base + "--seed 7 -o a.mrc", s.path()).code, 0);
  ASSERT_EQ(sseunet(base + "--seed 7 -o b.mrc", s.path()).code, 0);
  ASSERT_EQ(sseunet(base + "--seed 8 -o c.mrc", s.path()).code, 0);
  ASSERT_EQ(sseunet("simulate " + sim_data("1akeA.pdb.gz") + " --resolution 8 -q -o clean.mrc", s.path()).code, 0);
  const io::Grid a = io::read_map(s.path("a.mrc")), c = io::read_map(s.path("c.mrc"));
  EXPECT_EQ(a.data, io::read_map(s.path("b.mrc")).data);
  EXPECT_NE(a.data, c.data);
  const io::Grid clean = io::read_map(s.path("clean.mrc"));
  ASSERT_EQ(clean.size(), a.size());
  // SNR 2 (variance ratio) on top of a blur: still clearly the same density, but not the clean map.
  const double cc = sse::test::pearson(clean.data, a.data);
  EXPECT_GT(cc, 0.5);
  EXPECT_LT(cc, 0.95);
}

TEST(Simulate, BadInputLeavesNoFile) {
  Scratch s;
  const RunResult chain = sseunet("simulate " + sim_data("1ONC.pdb.gz") + " --chain Q --resolution 5 -o x.mrc", s.path());
  EXPECT_EQ(chain.code, 1);
  EXPECT_TRUE(one_line(chain.err)) << chain.err;
  EXPECT_NE(chain.err.find("1ONC.pdb.gz"), std::string::npos) << chain.err;
  const RunResult sigma = sseunet("simulate " + sim_data("1ONC.pdb.gz") + " --resolution 5 --sigma-factor gemmi -o x.mrc",
                                  s.path());
  EXPECT_EQ(sigma.code, 2) << sigma.err;
  EXPECT_EQ(sseunet("simulate " + sim_data("1ONC.pdb.gz") + " --resolution 0 -o x.mrc", s.path()).code, 2);
  EXPECT_TRUE(files_in(s.path()).empty());
}

TEST(BuildSimulate, BuildsOnceThenReusesTheCache) {
  Scratch s;
  const std::string cmd = "build --simulate " + sim_data("1akeA.pdb.gz") + " " + sim_data("1ONC.pdb.gz") +
                          ":A --per-chain 2 --res-min 6 --res-max 9 --snr-min 2 --snr-max 4 --cache sim -q";
  const RunResult first = sseunet(cmd, s.path());
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.out.find("4 of 4 samples ready"), std::string::npos) << first.out;
  const std::vector<std::string> files = files_in(s.path("sim"));
  ASSERT_EQ(files.size(), 4u);
  for (const std::string& f : files) {
    const io::Sample sample = io::read_sample(s.path("sim/" + f));
    const double res = std::stod(sample.meta("resolution"));
    EXPECT_GE(res, 6.0);
    EXPECT_LE(res, 9.0);
    EXPECT_EQ(sample.meta("split"), "train");
  }
  const RunResult second = sseunet(cmd, s.path());
  EXPECT_EQ(second.code, 0);
  std::size_t up_to_date = 0;
  for (std::size_t at = second.out.find("\tup to date\t"); at != std::string::npos;
       at = second.out.find("\tup to date\t", at + 1))
    ++up_to_date;
  EXPECT_EQ(up_to_date, 4u) << second.out;
}

TEST(BuildSimulate, DnaFractionOneLaysADuplexBesideEverySample) {
  Scratch s;
  const RunResult r = sseunet("build --simulate " + sim_data("1akeA.pdb.gz") + " --per-chain 2 --dna-fraction 1 --cache sim -q",
                              s.path());
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<std::string> files = files_in(s.path("sim"));
  ASSERT_EQ(files.size(), 2u);
  for (const std::string& f : files) {
    const int bp = std::stoi(io::read_sample(s.path("sim/" + f)).meta("dna_base_pairs"));
    EXPECT_TRUE(bp == 12 || bp == 24 || bp == 36) << f << ": " << bp;
  }
}

TEST(BuildSimulate, ReportsFailuresAndRefusesMixedSources) {
  Scratch s;
  std::ofstream(s.path("list.txt")) << "# models\n" << sim_data("1akeA.pdb.gz") << "\n" << s.path("missing.pdb") << "\n";
  const RunResult r = sseunet("build --list list.txt --cache sim -q", s.path());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("1 of 2 samples ready"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("missing.pdb"), std::string::npos) << r.err;
  EXPECT_EQ(sseunet("build -m " + example_manifest() + " --simulate x.pdb --cache sim", s.path()).code, 2);
  EXPECT_EQ(sseunet("build --cache sim", s.path()).code, 2);
  EXPECT_EQ(sseunet("build --simulate x.pdb --res-min 9 --res-max 5 --cache sim", s.path()).code, 2);
  // DNA is laid beside simulated chains only; a fraction is a fraction.
  const RunResult real = sseunet("build -m " + example_manifest() + " --dna-fraction 0.5 --cache dna", s.path());
  EXPECT_EQ(real.code, 2);
  EXPECT_NE(real.err.find("--dna-fraction"), std::string::npos) << real.err;
  EXPECT_EQ(sseunet("build --simulate x.pdb --dna-fraction 1.5 --cache dna", s.path()).code, 2);
  EXPECT_FALSE(std::filesystem::exists(s.path("dna")));
  // A box is labelled from every chain: it needs --simulate, and the neighbours' density.
  const RunResult box_real = sseunet("build -m " + example_manifest() + " --context box --cache box", s.path());
  EXPECT_EQ(box_real.code, 2);
  EXPECT_NE(box_real.err.find("--context"), std::string::npos) << box_real.err;
  const RunResult alone = sseunet("build --simulate x.pdb --context box --no-neighbours --cache box", s.path());
  EXPECT_EQ(alone.code, 2);
  EXPECT_NE(alone.err.find("--no-neighbours"), std::string::npos) << alone.err;
  EXPECT_EQ(sseunet("build --simulate x.pdb --context whole --cache box", s.path()).code, 2);
  EXPECT_FALSE(std::filesystem::exists(s.path("box")));
}

TEST(TrainSamples, TrainsOnBuiltSamplesInTheirSplits) {
  Scratch s;
  const std::string build = "build --res-min 6 --res-max 8 --cache sim -q --simulate ";
  ASSERT_EQ(sseunet(build + sim_data("1akeA.pdb.gz"), s.path()).code, 0);
  ASSERT_EQ(sseunet(build + sim_data("1issA.pdb.gz") + " --split val", s.path()).code, 0);
  const RunResult r =
      sseunet("train --samples sim --out run --width 4 --patch 16 --max-steps 2 --no-augment -q", s.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(s.path("run/best.ckpt")));  // the val sample validated
  const nlohmann::json run = nlohmann::json::parse(slurp(s.path("run/run.json")));
  ASSERT_EQ(run["samples"].size(), 1u);
  EXPECT_EQ(run["manifest"], "");
  const RunResult resumed = sseunet("train --resume run --max-steps 3 -q", s.path());
  EXPECT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(sseunet("train --samples nowhere --out run2 -q", s.path()).code, 1);
}

}  // namespace
}  // namespace sse::app::test
