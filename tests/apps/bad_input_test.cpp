// The bad inputs, through the binary: one line on stderr "sseunet: <file>: <problem>",
// exit code 1, and no output file left behind (not even a created-but-empty output folder).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "io/map.h"
#include "tests/apps/apps_test_util.h"

namespace sse::app::test {
namespace {

struct Case {
  std::string args;     // run in the scratch folder; outputs (if any) go to "out"
  std::string file;     // the file the message must name
  std::string problem;  // words the message must contain
};

void expect_clean_failure(const Scratch& s, const Case& c) {
  const RunResult r = sseunet(c.args, s.path());
  EXPECT_EQ(r.code, 1) << c.args << "\n" << r.err;
  EXPECT_TRUE(one_line(r.err)) << c.args << "\n" << r.err;
  EXPECT_EQ(r.err.rfind("sseunet: " + c.file + ": ", 0), 0u) << c.args << "\n" << r.err;
  EXPECT_NE(r.err.find(c.problem), std::string::npos) << c.args << "\n" << r.err;
  EXPECT_FALSE(std::filesystem::exists(s.path("out"))) << c.args << ": output left behind";
}

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    write_checkpoint(s.path("tiny.ckpt"));
    write_checkpoint(s.path("two_classes.ckpt"), 4, 2);
    write_checkpoint(s.path("other_tensors.ckpt"), 4, 3, 8);
    std::ofstream(s.path("text.mrc")) << std::string(2000, 'x');
    std::ofstream(s.path("text.ckpt")) << "not a checkpoint";
    std::ofstream(s.path("a_file")) << "x";
    write_filled_map(s.path("empty.mrc"), 0.f, 0.f);
    write_filled_map(s.path("nan.mrc"), 1.f, std::numeric_limits<float>::quiet_NaN());
    write_filled_map(s.path("inf.mrc"), 1.f, std::numeric_limits<float>::infinity());
    std::string bytes = slurp(example_map());
    bytes.replace(40, 4, std::string(4, '\0'));  // word 11: cell length along x = 0
    std::ofstream(s.path("voxel0.mrc"), std::ios::binary) << bytes;
    truncated_ = slurp(example_map()).substr(0, 50000);
    std::ofstream(s.path("truncated.mrc"), std::ios::binary) << truncated_;
  }
  Scratch s;
  std::string truncated_;
};

TEST_F(BadInput, PredictRefusesBadMapsWithOneLineAndNoOutput) {
  const std::string tail = " -o out --model tiny.ckpt";
  for (const Case& c : std::vector<Case>{
           {"predict nothere.mrc" + tail, "nothere.mrc", "not found"},
           {"predict text.mrc" + tail, "text.mrc", "MRC"},
           {"predict truncated.mrc" + tail, "truncated.mrc", "truncated"},
           {"predict empty.mrc" + tail, "empty.mrc", "empty map"},
           {"predict nan.mrc" + tail, "nan.mrc", "NaN"},
           {"predict inf.mrc" + tail, "inf.mrc", "infinite"},
           {"predict voxel0.mrc" + tail, "voxel0.mrc", "voxel size is 0"},
       })
    expect_clean_failure(s, c);
}

TEST_F(BadInput, SeveralMapsAreCheckedBeforeAnyWork) {
  expect_clean_failure(
      s, {"predict " + example_map() + " voxel0.mrc -o out --model tiny.ckpt", "voxel0.mrc", "voxel size is 0"});
}

TEST_F(BadInput, PredictRefusesBadModelsStructuresAndFolders) {
  const std::string map = example_map();
  const std::string model = io_data("real/3491_5mdx_L/L_fitted.pdb.gz");
  for (const Case& c : std::vector<Case>{
           {"predict " + map + " -o out --model nothere.ckpt", "nothere.ckpt", "not found"},
           {"predict " + map + " -o out --model text.ckpt", "text.ckpt", "not an sseunet checkpoint"},
           {"predict " + map + " -o out --model two_classes.ckpt", "two_classes.ckpt", "another architecture"},
           {"predict " + map + " -o out --model other_tensors.ckpt", "other_tensors.ckpt", "another architecture"},
           {"predict " + map + " -o out --model tiny.ckpt --structure " + model, model, "does not overlap the map"},
           {"predict " + io_data("real/3491_5mdx_L/L-1.0APIX.mrc.gz") + " -o out --model tiny.ckpt --structure " +
                model + " --chain Q",
            model, "no chain 'Q' (chains: L)"},
           {"predict " + map + " -o a_file/out --model tiny.ckpt", "a_file/out", "cannot create the output directory"},
       })
    expect_clean_failure(s, c);
}

TEST_F(BadInput, TruncatedCheckpointIsRefused) {
  const std::string full = slurp(s.path("tiny.ckpt"));
  std::ofstream(s.path("cut.ckpt"), std::ios::binary) << full.substr(0, full.size() / 2);
  expect_clean_failure(s, {"predict " + example_map() + " -o out --model cut.ckpt", "cut.ckpt", "truncated"});
}

TEST_F(BadInput, LabelEvaluateBuildAndTrainFailCleanly) {
  const std::string dir = io_data("real/3491_5mdx_L/");
  std::ofstream(s.path("bad.tsv")) << "map\tmodel\tchain\tresolution\tsplit\n"
                                   << dir << "L-1.0APIX.mrc.gz\t" << dir << "L_fitted.pdb.gz\tQ\t5.3\ttest\n";
  for (const Case& c : std::vector<Case>{
           {"label " + dir + "L-1.0APIX.mrc.gz " + dir + "L_fitted.pdb.gz --chain Q -o out", dir + "L_fitted.pdb.gz",
            "no chain 'Q'"},
           {"label " + example_map() + " " + dir + "L_fitted.pdb.gz --chain L -o out", dir + "L_fitted.pdb.gz",
            "does not overlap"},
           {"label nan.mrc " + dir + "L_fitted.pdb.gz --chain L -o out", "nan.mrc", "NaN"},
           {"evaluate --manifest bad.tsv --pred-dir " + io_data("real") + " --csv out/x.csv", dir + "L_fitted.pdb.gz",
            "no chain 'Q'"},
           {"evaluate --manifest nothere.tsv --pred-dir .", "nothere.tsv", "not found"},
           {"train --manifest nothere.tsv --out out", "nothere.tsv", "not found"},
           {"info text.mrc", "text.mrc", "MRC"},
       })
    expect_clean_failure(s, c);
  const RunResult b = sseunet("build --manifest bad.tsv --cache out -q", s.path());  // one bad row: reported, exit 1
  EXPECT_EQ(b.code, 1);
  EXPECT_NE(b.err.find("no chain 'Q'"), std::string::npos) << b.err;
  EXPECT_TRUE(files_in(s.path("out")).empty());
}

TEST_F(BadInput, EvaluateWritesNoReportWhenARowFails) {
  const std::string dir = io_data("real/3491_5mdx_L/");
  std::ofstream(s.path("m.tsv")) << "map\tmodel\tchain\tresolution\tsplit\n"
                                 << dir << "L-1.0APIX.mrc.gz\t" << dir << "L_fitted.pdb.gz\tL\t5.3\ttest\n"
                                 << "nan.mrc\t" << dir << "L_fitted.pdb.gz\tL\t5.3\ttest\n";
  const RunResult r = sseunet(
      "evaluate --manifest m.tsv --pred-dir " + io_data("real") + " --csv scores.csv --json scores.json -q", s.path());
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "sseunet: nan.mrc: the map contains NaN or infinite values\n");
  EXPECT_FALSE(std::filesystem::exists(s.path("scores.csv")));
  EXPECT_FALSE(std::filesystem::exists(s.path("scores.json")));
}

}  // namespace
}  // namespace sse::app::test
