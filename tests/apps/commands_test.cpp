// evaluate, label, build, info and train end to end on committed real data (the three authors'
// chains in tests/data/io/real, listed by examples/chains.tsv) with untrained tiny checkpoints.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "engine/checkpoint.h"
#include "io/manifest.h"
#include "io/map.h"
#include "tests/apps/apps_test_util.h"
#include "tests/support/png.h"

namespace sse::app::test {
namespace {

using nlohmann::json;

// ---- evaluate -------------------------------------------------------------------------------

// DeepSSETracer 1.0's published masks scored through the command reproduce the io library's
// figures (tests/io/metrics_test.cpp, checked there against an independent numpy computation).
TEST(Evaluate, PeerPredictionsGiveTheLibrarysTable2Figures) {
  Scratch s;
  const RunResult r = evaluate_peer_masks(s.path(), "--csv scores.csv --json scores.json -q");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("| 6149_3j8g_X | 5.0 | 146/79/193 | 0.2533 | 0.3419 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| 3491_5mdx_L | 5.3 | 23/0/13 | 0.8453 | NA |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| 199/79/208 | 0.4030 | 0.3419 |"), std::string::npos) << r.out;
  const json j = json::parse(slurp(s.path("scores.json")));
  EXPECT_NEAR(j["averages"]["voxel"]["weighted_f1_helix"].get<double>(), 0.40300163423458085, 1e-12);
  EXPECT_NEAR(j["averages"]["voxel"]["weighted_f1_sheet"].get<double>(), 0.34194626558683633, 1e-12);
  EXPECT_NEAR(j["averages"]["voxel"]["micro_f1_helix"].get<double>(), 0.46947218855781686, 1e-12);
  EXPECT_NEAR(j["averages"]["residue"]["weighted_f1_helix"].get<double>(), 0.42684592489036394, 1e-12);
  EXPECT_NEAR(j["averages"]["residue"]["weighted_f1_sheet"].get<double>(), 0.4357142857142857, 1e-12);
  const json& x = j["chains"][2];
  EXPECT_EQ(x["name"], "6149_3j8g_X");
  EXPECT_EQ(x["voxel"]["helix"]["tp"], 1866);
  EXPECT_EQ(x["voxel"]["helix"]["fp"], 181);
  EXPECT_EQ(x["voxel"]["helix"]["fn"], 10820);
  EXPECT_EQ(x["voxel"]["sheet"]["fp"], 19044);
  EXPECT_TRUE(j["chains"][0]["voxel"]["sheet"]["f1"].is_null());  // NA
  const std::string csv = slurp(s.path("scores.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);
  EXPECT_NE(csv.find("6149_3j8g_X,5.00,146,79,193,1866,181,10820,"), std::string::npos) << csv;
}

TEST(Evaluate, DefaultSplitIsTestAndResidueLevelOnRequest) {
  Scratch s;
  const RunResult r =
      sseunet("evaluate -m " + example_manifest() + " --pred-dir " + io_data("real") + " --level residue -q", s.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("3491_5mdx"), std::string::npos);  // train/val rows left out
  EXPECT_NE(r.out.find("| 6149_3j8g_X | 5.0 | 146/79/193 | 0.2410 | 0.4357 |"), std::string::npos) << r.out;
}

TEST(Evaluate, PredictOutputFoldersAreFoundByRowName) {
  Scratch s;
  write_checkpoint(s.path("tiny.ckpt"));
  const std::string dir = io_data("real/3491_5mdx_X/");
  ASSERT_EQ(sseunet("predict " + dir + "X-1.0APIX.mrc.gz -o preds/3491_5mdx_X --model tiny.ckpt -q", s.path()).code, 0);
  const RunResult r = sseunet("evaluate -m " + example_manifest() + " --split val --pred-dir preds -q", s.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("| 3491_5mdx_X | 5.3 | 30/0/2 |"), std::string::npos) << r.out;
  // The model run by evaluate sees the chain's surroundings as predict saw the whole map (here the
  // chain map fits in the context box and in one tile): the same masks, the same table.
  const RunResult m = sseunet("evaluate -m " + example_manifest() + " --split val --model tiny.ckpt -q", s.path());
  ASSERT_EQ(m.code, 0) << m.err;
  EXPECT_EQ(m.out, r.out);
}

// ---- label, build, info -----------------------------------------------------------------------

TEST(Label, WritesTheZoneAndLabelsThatBuildCaches) {
  Scratch s;
  const std::string dir = io_data("real/3491_5mdx_X/");
  const RunResult r =
      sseunet("label " + dir + "X-1.0APIX.mrc.gz " + dir + "X_fitted.pdb.gz --chain X -o lab", s.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(files_in(s.path("lab")), (std::vector<std::string>{"labels.mrc", "zone.mrc"}));
  std::ofstream(s.path("m.tsv")) << "map\tmodel\tchain\tresolution\tsplit\n"
                                 << dir << "X-1.0APIX.mrc.gz\t" << dir << "X_fitted.pdb.gz\tX\t5.3\ttrain\n";
  ASSERT_EQ(sseunet("build -m m.tsv --cache cache -q", s.path()).code, 0);
  const std::vector<std::string> samples = files_in(s.path("cache"));
  ASSERT_EQ(samples.size(), 1u);
  const io::Sample cached = io::read_sample(s.path("cache/" + samples[0]));
  const io::Grid zone = io::read_map(s.path("lab/zone.mrc")), labels = io::read_map(s.path("lab/labels.mrc"));
  ASSERT_EQ(zone.dims(), cached.map.dims());
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(zone.origin[a], cached.map.origin[a], 1e-3);
  EXPECT_EQ(zone.data, cached.map.data);
  for (std::size_t i = 0; i < labels.data.size(); ++i) ASSERT_EQ(labels.data[i], float(cached.labels.data[i])) << i;
}

TEST(Build, BuildsOnceThenReusesTheCache) {
  Scratch s;
  const RunResult first = sseunet("build -m " + example_manifest() + " --cache cache -q", s.path());
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_EQ(std::count(first.out.begin(), first.out.end(), '\t'), 9);  // 3 rows × 4 columns
  EXPECT_NE(first.out.find("6149_3j8g_X\ttest\tbuilt\t"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("3 of 3 samples ready"), std::string::npos) << first.out;
  const RunResult second = sseunet("build -m " + example_manifest() + " --cache cache -q", s.path());
  EXPECT_NE(second.out.find("6149_3j8g_X\ttest\tup to date\t"), std::string::npos) << second.out;
  EXPECT_EQ(files_in(s.path("cache")).size(), 3u);
}

TEST(Info, DescribesTheHeaderAndTheData) {
  Scratch s;
  const RunResult r = sseunet("info " + example_map(), s.path());
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* want :
       {"44 x 46 x 42", "(from ORIGIN)", "mode        2", "voxels positive", "at 1 Å      44 x 46 x 42"})
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  const RunResult nstart = sseunet("info --json " + io_data("format/EMD-3197.map.gz"), s.path());
  ASSERT_EQ(nstart.code, 0) << nstart.err;
  const json j = json::parse(nstart.out);
  EXPECT_EQ(j["origin_rule"], "NSTART");
  EXPECT_EQ(j["size"], json({20, 20, 20}));
}

// ---- train ------------------------------------------------------------------------------------

// One small chain, 16³ patches, width 4: a step takes milliseconds.
std::string tiny_run(const std::string& extra) {
  return "train -m m.tsv --width 4 --patch 16 --epochs 1000 --no-augment -q " + extra;
}

void write_train_manifest(const Scratch& s) {
  const std::string dir = io_data("real/3491_5mdx_X/");
  std::ofstream(s.path("m.tsv")) << "map\tmodel\tchain\tresolution\tsplit\n"
                                 << dir << "X-1.0APIX.mrc.gz\t" << dir << "X_fitted.pdb.gz\tX\t5.3\ttrain\n"
                                 << dir << "X-1.0APIX.mrc.gz\t" << dir << "X_fitted.pdb.gz\tX\t5.3\tval\n";
}

int metric_lines(const std::string& path) {
  const std::string m = slurp(path);
  return int(std::count(m.begin(), m.end(), '\n'));
}

TEST(Train, TrainsThenResumesWithTheStoredConfiguration) {
  Scratch s;
  write_train_manifest(s);
  const RunResult r = sseunet(tiny_run("--out run --max-steps 2"), s.path());
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* f : {"best.ckpt", "last.ckpt", "metrics.jsonl", "run.json", "metrics.png", "metrics.svg"})
    EXPECT_TRUE(std::filesystem::exists(s.path(std::string("run/") + f))) << f;
  EXPECT_EQ(metric_lines(s.path("run/metrics.jsonl")), 2);  // one training row: an epoch per step
  const std::string curves = slurp(s.path("run/metrics.png"));
  EXPECT_EQ(sse::test::decode_png(curves).width, 1440);
  EXPECT_NE(slurp(s.path("run/metrics.svg")).find("<svg"), std::string::npos);
  const RunResult again = sseunet(tiny_run("--out run --max-steps 3"), s.path());
  EXPECT_EQ(again.code, 1);  // an existing run is never overwritten
  EXPECT_NE(again.err.find("--resume"), std::string::npos) << again.err;
  const RunResult resumed = sseunet("train --resume run --max-steps 3 -q", s.path());
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(metric_lines(s.path("run/metrics.jsonl")), 3);
  EXPECT_NE(slurp(s.path("run/metrics.png")), curves);  // redrawn with the third step
  const json run = json::parse(slurp(s.path("run/run.json")));
  EXPECT_EQ(run["config"]["model"]["width"], 4);
  EXPECT_EQ(run["config"]["patch"], 16);
  // The checkpoint serves predict as is.
  const RunResult p = sseunet("predict " + example_map() + " -o out --model run/last.ckpt -q", s.path());
  EXPECT_EQ(p.code, 0) << p.err;
  // A run that trains in bf16 (its checkpoint says so) resumes on a CUDA device only.
  Checkpoint ck = load_checkpoint(s.path("run/last.ckpt"));
  ck.meta["train"]["precision"] = "bf16";
  save_checkpoint(s.path("run/last.ckpt"), ck);
  const RunResult on_cpu = sseunet("train --resume run --max-steps 4 --device cpu -q", s.path());
  EXPECT_EQ(on_cpu.code, 2);
  EXPECT_NE(on_cpu.err.find("the run in run trains with --precision bf16 needs a CUDA device"), std::string::npos)
      << on_cpu.err;
  EXPECT_EQ(metric_lines(s.path("run/metrics.jsonl")), 3);
}

TEST(Train, KeepCheckpointsLeavesOneFilePerValidation) {
  Scratch s;
  write_train_manifest(s);
  const RunResult r = sseunet(tiny_run("--out run --max-steps 3 --val-every 2 --keep-checkpoints"), s.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(s.path("run/step_2.ckpt")));
  EXPECT_TRUE(std::filesystem::exists(s.path("run/step_3.ckpt")));  // the last step validates too
  EXPECT_FALSE(std::filesystem::exists(s.path("run/step_1.ckpt")));
  EXPECT_EQ(metric_lines(s.path("run/metrics.jsonl")), 2);
}

TEST(Train, CtrlCSavesACheckpointAndExitsCleanly) {
  Scratch s;
  write_train_manifest(s);
  ASSERT_EQ(sseunet("build -m m.tsv --cache run/cache -q", s.path()).code, 0);  // so training starts at once
  // SIGINT after 3 s, as a terminal's Ctrl-C would send; --preserve-status passes sseunet's own exit code.
  const RunResult r =
      sseunet(tiny_run("--out run --max-steps 1000000"), s.path(), "timeout -s INT --preserve-status 3");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(s.path("run/last.ckpt")));
  const RunResult loud =
      sseunet("train --resume run --max-steps 1000000", s.path(), "timeout -s INT --preserve-status 3");
  EXPECT_EQ(loud.code, 0) << loud.err;
  EXPECT_NE(loud.err.find("interrupted at step"), std::string::npos) << loud.err;
  EXPECT_NE(loud.err.find("checkpoint saved"), std::string::npos) << loud.err;
}

}  // namespace
}  // namespace sse::app::test
