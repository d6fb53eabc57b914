// `mpirun -np 2 sseunet train` (and `reproduce`, which trains through the same entry point) end to
// end on the shipped example data (examples/chains.tsv): the MPI transport, the command line's rank
// handling and the failure path. Built only with MPI; each test
// starts mpirun itself (ctest does not run under a launcher). Runs as root too (CI): the Open MPI
// variables below allow it, and --oversubscribe lets 2 ranks start on a 1-core machine.
//
// Tolerances: test::kRankWeightTolerance on the model weights (tests/support/test_util.h, measured
// 1e-7..7e-7); the logged training losses are float sums in another order, 1e-5.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/checkpoint.h"
#include "engine/device.h"
#include "io/manifest.h"
#include "tests/apps/apps_test_util.h"
#include "tests/support/test_util.h"

namespace sse::app::test {
namespace {

using nlohmann::json;

// The launcher prefix for sseunet() (mpirun passes the environment, e.g. OMP_NUM_THREADS=1, on), after
// an optional wrapper command such as "timeout 120".
std::string mpirun(int ranks, const std::string& wrapper = "") {
  return "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " + wrapper + " '" SSE_MPIEXEC "' -np " +
         std::to_string(ranks) + " --oversubscribe";
}

// Width 4, 16³ patches: a step takes milliseconds. The example manifest has one training chain
// (3491_5mdx_L), so a batch of 2 is two crops of it; the cache is built once per test.
std::string train_args(const std::string& extra) {
  return "train -m " + example_manifest() + " --cache cache --width 4 -q " + extra;
}

void build_cache(const Scratch& s) {
  ASSERT_EQ(sseunet("build -m " + example_manifest() + " --cache cache -q", s.path()).code, 0);
}

NamedTensors model_of(const std::string& ckpt) {
  NamedTensors out;
  for (const auto& [name, t] : load_checkpoint(ckpt).tensors)
    if (name.rfind("model.", 0) == 0) out.emplace_back(name, t);
  return out;
}

std::vector<double> train_losses(const std::string& metrics) {
  std::vector<double> out;
  std::ifstream in(metrics);
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line).at("train_loss").get<double>());
  return out;
}

void expect_same_run(const Scratch& s, const std::string& one, const std::string& two) {
  const double diff = sse::test::max_state_difference(model_of(s.path(one + "/last.ckpt")), model_of(s.path(two + "/last.ckpt")));
  std::printf("%s vs %s: max |weight difference| %.3g\n", one.c_str(), two.c_str(), diff);
  EXPECT_LT(diff, sse::test::kRankWeightTolerance);
  const std::vector<double> a = train_losses(s.path(one + "/metrics.jsonl")), b = train_losses(s.path(two + "/metrics.jsonl"));
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5) << "step " << i + 1;
}

TEST(MpiTrain, TwoRanksTrainTheOneProcessModel) {
  Scratch s;
  build_cache(s);
  const std::string patches = "--batch 2 --patch 16 --max-steps 3 ";
  ASSERT_EQ(sseunet(train_args(patches + "--out one"), s.path()).code, 0);
  const RunResult r = sseunet(train_args(patches + "--out two"), s.path(), mpirun(2));
  ASSERT_EQ(r.code, 0) << r.err;
  expect_same_run(s, "one", "two");
  const json run = json::parse(slurp(s.path("two/run.json")));
  EXPECT_EQ(run["ranks"], 2);
  EXPECT_EQ(run["transport"], "mpi");
  // One rank under mpirun takes the data-parallel path too (buckets, synchronized batch norm): the
  // check a machine with one GPU can run of the NCCL path.
  const RunResult r1 = sseunet(train_args(patches + "--out one_mpi"), s.path(), mpirun(1));
  ASSERT_EQ(r1.code, 0) << r1.err;
  expect_same_run(s, "one", "one_mpi");
  EXPECT_EQ(json::parse(slurp(s.path("one_mpi/run.json")))["transport"], "mpi");
  // Whole chains (no --patch): each rank passes its chain alone.
  const std::string chains = "--batch 2 --max-steps 2 ";
  ASSERT_EQ(sseunet(train_args(chains + "--out one_whole"), s.path()).code, 0);
  const RunResult w = sseunet(train_args(chains + "--out two_whole"), s.path(), mpirun(2));
  ASSERT_EQ(w.code, 0) << w.err;
  expect_same_run(s, "one_whole", "two_whole");
}

TEST(MpiTrain, ARunResumesOnAnotherNumberOfRanks) {
  Scratch s;
  build_cache(s);
  const std::string cfg = "--batch 2 --patch 16 ";
  ASSERT_EQ(sseunet(train_args(cfg + "--out straight --max-steps 4"), s.path()).code, 0);
  // 2 ranks, then 1
  ASSERT_EQ(sseunet(train_args(cfg + "--out down --max-steps 2"), s.path(), mpirun(2)).code, 0);
  const RunResult down = sseunet("train --resume down --max-steps 4 -q", s.path());
  ASSERT_EQ(down.code, 0) << down.err;
  expect_same_run(s, "straight", "down");
  // 1 rank, then 2
  ASSERT_EQ(sseunet(train_args(cfg + "--out up --max-steps 2"), s.path()).code, 0);
  const RunResult up = sseunet("train --resume up --max-steps 4 -q", s.path(), mpirun(2));
  ASSERT_EQ(up.code, 0) << up.err;
  expect_same_run(s, "straight", "up");
  // A batch smaller than the ranks is refused by every rank before anything starts.
  const RunResult three = sseunet("train --resume up --max-steps 5", s.path(), mpirun(3));
  EXPECT_NE(three.code, 0);
  EXPECT_NE(three.err.find("3 ranks need a global batch of at least 3"), std::string::npos) << three.err;
}

// `mpirun -np 2 sseunet reproduce`: every configuration trains data-parallel through train's entry
// point (the one-process run's weights, run.json says 2 ranks), rank 0 alone scores them and writes
// the report (printed once).
TEST(MpiReproduce, TwoRanksTrainEachConfigurationAndRankZeroReports) {
  Scratch s;
  build_cache(s);
  const std::string study = "reproduce -m " + example_manifest() +
                            " --cache cache --losses ce,dl --width 4 --batch 2 --patch 16 --max-steps 3 -q ";
  ASSERT_EQ(sseunet(study + "--out one", s.path()).code, 0);
  const RunResult r = sseunet(study + "--out two", s.path(), mpirun(2, "timeout 300"));
  ASSERT_EQ(r.code, 0) << r.err;
  for (const std::string c : {"ce", "dl"}) {
    expect_same_run(s, "one/" + c, "two/" + c);
    EXPECT_EQ(json::parse(slurp(s.path("two/" + c + "/run.json")))["ranks"], 2) << c;
    EXPECT_TRUE(fs::exists(s.path("two/" + c + "/test.json"))) << c;
  }
  for (const char* f : {"table1.md", "table2.json", "wilcoxon.csv", "report.html"})
    EXPECT_TRUE(fs::exists(s.path(std::string("two/") + f))) << f;
  const std::string heading = "Paired tests\n\n";  // a line of the printed summary
  const std::size_t first = r.out.find(heading);
  ASSERT_NE(first, std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(heading, first + 1), std::string::npos) << "the report printed by more than one rank:\n" << r.out;
}

// --precision bf16 on the data-parallel path: each rank's convolutions round their operands to
// bfloat16 and accumulate in fp32, and the buckets sum the fp32 gradients of the fp32 master
// weights. On a CPU device every rank refuses bf16 before anything starts. The CUDA part runs on the
// emulator (whose SIMT kernels round like the tensor cores) or on 2+ GPUs (NCCL refuses two ranks on
// one GPU).
// Tolerance: bf16 training is chaotic in the sums' order — a value that moves by 1e-7 across a bf16
// rounding boundary moves by 2^-8, and Adam's early steps (≈ lr × sign of the gradient) turn the
// gradients that small into weight differences of ~lr. Measured in one process (width 4, 16³ patches,
// weights scaled by 1 + 1e-7): 0.03 % of the weights differ by more than 1e-5 after one step, 10 %
// after two, 22 % after three (fp32: none). So one step is compared, by the share of weights that
// differ by more than kRankWeightTolerance: measured 0 (max 1.2e-7); ranks that did not round, or
// rounded something else, differ from the bf16 process like the fp32 run does (measured 1.2 %).
TEST(MpiTrain, Bf16RanksTrainTheOneProcessBf16Model) {
  Scratch s;
  build_cache(s);
  const std::string cfg = "--batch 2 --patch 16 --max-steps 1 --val-every 100 --precision bf16 ";  // no validation
  const RunResult cpu = sseunet(train_args(cfg + "--device cpu --out on_cpu"), s.path(), mpirun(2));
  EXPECT_NE(cpu.code, 0);
  EXPECT_NE(cpu.err.find("--precision bf16 needs a CUDA device"), std::string::npos) << cpu.err;
  EXPECT_FALSE(fs::exists(s.path("on_cpu")));
  if (!cuda_emulated() && cuda_device_count() < 2) GTEST_SKIP() << "needs the emulator or two GPUs";
  ASSERT_EQ(sseunet(train_args(cfg + "--device cuda --out one"), s.path()).code, 0);
  const RunResult r = sseunet(train_args(cfg + "--device cuda --out two"), s.path(), mpirun(2));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(slurp(s.path("two/run.json")))["config"]["precision"], "bf16");
  const NamedTensors one = model_of(s.path("one/last.ckpt")), two = model_of(s.path("two/last.ckpt"));
  const double share = sse::test::share_of_state_differing(one, two, sse::test::kRankWeightTolerance);
  std::printf("weights differing by > %g: %.4f (max %.3g)\n", sse::test::kRankWeightTolerance, share,
              sse::test::max_state_difference(one, two));
  EXPECT_LT(share, 0.002);
  const std::vector<double> a = train_losses(s.path("one/metrics.jsonl")), b = train_losses(s.path("two/metrics.jsonl"));
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5) << "step " << i + 1;
}

// Two training samples, the second with labels no loss accepts: the rank that draws it fails in
// its forward pass while the other waits for it in a collective. Every rank must stop, with the
// failing rank's message, and no checkpoint may appear.
TEST(MpiTrain, AFailingRankStopsEveryRank) {
  Scratch s;
  build_cache(s);
  fs::create_directories(s.path("samples"));
  for (const std::string& f : files_in(s.path("cache"))) {
    if (f.find("L-1.0APIX") == std::string::npos) continue;  // the training chain
    io::Sample good = io::read_sample(s.path("cache/" + f));
    io::write_sample(s.path("samples/a_good.sample"), good);
    std::fill(good.labels.data.begin(), good.labels.data.end(), std::uint8_t{7});  // no such class
    io::write_sample(s.path("samples/b_bad.sample"), good);
  }
  ASSERT_EQ(files_in(s.path("samples")).size(), 2u);
  const RunResult r = sseunet("train --samples samples --out run --width 4 --batch 2 --patch 16 --max-steps 3 -q",
                              s.path(), mpirun(2, "timeout 120"));
  std::printf("exit %d; stderr:\n%s", r.code, r.err.c_str());
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.code, 124) << "the job hung until the timeout";
  EXPECT_NE(r.err.find(" of 2: "), std::string::npos) << r.err;          // "sseunet: rank R of 2: ..."
  EXPECT_NE(r.err.find("b_bad): loss"), std::string::npos) << r.err;    // the sample, then the loss's message
  EXPECT_NE(r.err.find("outside 0..2"), std::string::npos) << r.err;
  for (const std::string& f : files_in(s.path("run"))) EXPECT_EQ(f.find("ckpt"), std::string::npos) << f;
}

// A rank killed from outside (out of memory killer, a node lost): mpirun ends the other ranks, and
// the checkpoint on disk is a whole one.
TEST(MpiTrain, AKilledRankEndsTheJob) {
  Scratch s;
  build_cache(s);
  // $job is mpirun itself (not a subshell), so its children are the ranks.
  const std::string cmd = "cd '" + s.path() + "' || exit 1; OMP_NUM_THREADS=1 " + mpirun(2) + " '" SSE_BINARY_DIR "/sseunet' " +
                          train_args("--batch 2 --patch 16 --max-steps 100000 --out run") +
                          " >job.out 2>job.err & job=$!; "
                          "for i in $(seq 600); do [ -s run/metrics.jsonl ] && break; sleep 0.1; done; "
                          "kill -9 $(pgrep -P $job | tail -n 1); "
                          "for i in $(seq 600); do kill -0 $job 2>/dev/null || break; sleep 0.1; done; "
                          "if kill -0 $job 2>/dev/null; then kill -9 $job; echo hung; fi; wait $job; echo exit $?";
  const std::string out = [&] {
    std::string text;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[256];
    while (p && fgets(buf, sizeof buf, p)) text += buf;
    if (p) pclose(p);
    return text;
  }();
  EXPECT_EQ(out.find("hung"), std::string::npos) << out;
  EXPECT_EQ(out.find("exit 0"), std::string::npos) << out;
  ASSERT_TRUE(fs::exists(s.path("run/last.ckpt")));
  EXPECT_NO_THROW(load_checkpoint(s.path("run/last.ckpt")));
}

}  // namespace
}  // namespace sse::app::test
