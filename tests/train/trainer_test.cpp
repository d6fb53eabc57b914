// The training loop: augmentation keeps volume and labels together, resume is bit-exact, and a small
// U-Net learns the generated rods (helix) and plates (sheet).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "train/synthetic.h"
#include "train/trainer.h"
#include "tests/support/test_util.h"
#include "tests/support/thread_comm.h"

namespace sse::train {
namespace {

namespace fs = std::filesystem;

Sample numbered(int d, int h, int w) {
  Sample s;
  s.name = "numbered";
  s.d = d;
  s.h = h;
  s.w = w;
  for (std::size_t i = 0; i < s.voxels(); ++i) {
    s.volume.push_back(static_cast<float>(i));
    s.labels.push_back(static_cast<std::uint8_t>(i % 7));
  }
  return s;
}

TEST(Augment, MovesVolumeAndLabelsTogetherAsARigidSymmetry) {
  const Sample s = numbered(3, 4, 5);
  Generator g(3);
  std::map<std::vector<int>, int> seen_shapes;
  for (int trial = 0; trial < 40; ++trial) {
    const Sample a = augment(s, g);
    ASSERT_EQ(a.voxels(), s.voxels());
    seen_shapes[{a.d, a.h, a.w}]++;
    std::vector<bool> hit(s.voxels(), false);
    for (std::size_t i = 0; i < a.voxels(); ++i) {
      const auto src = static_cast<std::size_t>(a.volume[i]);
      ASSERT_FALSE(hit[src]) << "a voxel used twice";
      hit[src] = true;
      EXPECT_EQ(a.labels[i], src % 7);  // the label travelled with its voxel
    }
    // Neighbours stay neighbours: along x, consecutive voxels were adjacent in the source.
    const auto coord = [&](std::size_t v) { return std::array<long, 3>{long(v) / 20, long(v) / 5 % 4, long(v) % 5}; };
    const auto p = coord(static_cast<std::size_t>(a.volume[0])), q = coord(static_cast<std::size_t>(a.volume[1]));
    EXPECT_EQ(std::abs(p[0] - q[0]) + std::abs(p[1] - q[1]) + std::abs(p[2] - q[2]), 1);
  }
  EXPECT_GT(seen_shapes.size(), 1u);  // some rotations swap unequal sides
}

TEST(Crop, PadsWithIgnoredVoxels) {
  const Sample s = numbered(2, 2, 2);
  const Sample c = crop(s, 3, 3, 3, -1, 0, 0);
  EXPECT_EQ(c.labels[0], kIgnoreLabel);
  EXPECT_EQ(c.volume[9], 0.0f);          // (z=1, y=0, x=0) reads source (0, 0, 0)
  EXPECT_EQ(c.labels[9], 0);
  EXPECT_EQ(c.volume[9 + 3 + 1], 3.0f);  // source (0, 1, 1)
}

TrainConfig small_config() {
  TrainConfig c;
  c.model.width = 4;
  c.loss.name = "fce_dl";
  c.loss.gamma = 2.0f;
  c.loss.ignore_index = 255;
  c.seed = 11;
  c.epochs = 3;
  return c;
}

std::vector<Sample> synthetic_set(int n, std::uint64_t seed0, int size) {
  SyntheticOptions o;
  o.size = size;
  std::vector<Sample> v;
  for (int i = 0; i < n; ++i) v.push_back(synthetic_sample(seed0 + static_cast<std::uint64_t>(i), o));
  return v;
}

TEST(Trainer, ResumeIsBitExact) {
  const auto data = synthetic_set(3, 100, 12);
  const fs::path dir = fs::temp_directory_path() / "sse_resume_test";
  fs::create_directories(dir);
  const std::string ck = (dir / "mid.ckpt").string();

  Trainer straight(small_config(), data, {}, Device::cpu());
  std::vector<double> want;
  for (int i = 0; i < 6; ++i) want.push_back(straight.step());

  Trainer first(small_config(), data, {}, Device::cpu());
  std::vector<double> got;
  for (int i = 0; i < 4; ++i) got.push_back(first.step());
  first.save(ck);
  Trainer second(small_config(), data, {}, Device::cpu());
  second.load(ck);
  EXPECT_EQ(second.steps_done(), 4);
  for (int i = 0; i < 2; ++i) got.push_back(second.step());
  EXPECT_EQ(got, want);  // bit-identical losses, not merely close
  const auto a = straight.model().state(), b = second.model().state();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].second.to_vector<float>(), b[i].second.to_vector<float>()) << a[i].first;
  fs::remove_all(dir);
}

TEST(Trainer, LoadRefusesAnotherArchitecture) {
  const auto data = synthetic_set(1, 7, 8);
  const std::string ck = (fs::temp_directory_path() / "sse_arch_test.ckpt").string();
  Trainer a(small_config(), data, {}, Device::cpu());
  a.save(ck);
  TrainConfig wide = small_config();
  wide.model.width = 8;
  Trainer b(wide, data, {}, Device::cpu());
  EXPECT_THROW(b.load(ck), CheckpointError);
  fs::remove(ck);
}

TEST(Trainer, InitWeightsCopiesTheModelButStartsAFreshRun) {
  const auto data = synthetic_set(2, 30, 8);
  const std::string ck = (fs::temp_directory_path() / "sse_init_test.ckpt").string();
  Trainer a(small_config(), data, {}, Device::cpu());
  for (int i = 0; i < 3; ++i) a.step();
  a.save(ck);
  TrainConfig other = small_config();
  other.seed = 99;           // a different random initialization ...
  other.model.dropout = 0.2f;  // ... and dropout (not a weight) may differ
  Trainer b(other, data, {}, Device::cpu());
  const auto before = b.model().state();
  EXPECT_NE(before[0].second.to_vector<float>(), a.model().state()[0].second.to_vector<float>());
  b.init_weights(ck);
  EXPECT_EQ(b.steps_done(), 0);  // fresh schedule and optimizer
  const auto sa = a.model().state(), sb = b.model().state();
  ASSERT_EQ(sa.size(), sb.size());
  for (std::size_t i = 0; i < sa.size(); ++i)
    EXPECT_EQ(sa[i].second.to_vector<float>(), sb[i].second.to_vector<float>()) << sa[i].first;
  TrainConfig wide = small_config();
  wide.model.width = 8;
  Trainer c(wide, data, {}, Device::cpu());
  EXPECT_THROW(c.init_weights(ck), CheckpointError);
  fs::remove(ck);
}

TEST(Trainer, WritesCheckpointsAndMetrics) {
  const auto data = synthetic_set(2, 200, 8);
  const fs::path dir = fs::temp_directory_path() / "sse_run_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  TrainConfig c = small_config();
  c.epochs = 2;
  Trainer t(c, data, synthetic_set(1, 300, 8), Device::cpu());
  int epochs = 0;
  t.run(dir.string(), {}, [&](const EpochInfo&) { ++epochs; });
  EXPECT_EQ(epochs, 2);
  EXPECT_TRUE(fs::exists(dir / "last.ckpt"));
  EXPECT_TRUE(fs::exists(dir / "best.ckpt"));
  std::ifstream m(dir / "metrics.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(m, line)) lines += line.find("\"helix_f1\"") != std::string::npos;
  EXPECT_EQ(lines, 2);
  fs::remove_all(dir);
}

TEST(Trainer, ValEveryValidatesOnStepsNotEpochs) {
  const auto data = synthetic_set(3, 210, 8);
  TrainConfig c = small_config();
  c.epochs = 2;      // 6 steps
  c.val_every = 4;   // validations after steps 4 and 6 (the last step always validates)
  Trainer t(c, data, synthetic_set(1, 310, 8), Device::cpu());
  std::vector<long long> at;
  t.run("", {}, [&](const EpochInfo& e) { at.push_back(e.step); });
  EXPECT_EQ(at, (std::vector<long long>{4, 6}));
  EXPECT_EQ(TrainConfig::from_json(c.to_json()).val_every, 4);
}

// A training step on every device the build has gives the CPU's loss (up to float reassociation), and
// a checkpoint saved on one device loads on the other and continues identically there.
TEST(Trainer, StepsMatchAcrossDevicesAndCheckpointsMove) {
  const auto devices = test::test_devices();
  if (devices.size() < 2) GTEST_SKIP() << "no CUDA device (real or emulated) in this build";
  const auto data = synthetic_set(2, 400, 8);
  TrainConfig c = small_config();
  c.model.dropout = 0.0f;  // the same masks on both devices anyway, but keep the comparison to the math
  Trainer cpu(c, data, {}, Device::cpu()), gpu(c, data, {}, devices[1]);
  for (int i = 0; i < 2; ++i) EXPECT_NEAR(gpu.step(), cpu.step(), 1e-4);
  const std::string ck = (fs::temp_directory_path() / "sse_cross_device.ckpt").string();
  gpu.save(ck);
  Trainer back(c, data, {}, Device::cpu());
  back.load(ck);
  EXPECT_EQ(back.steps_done(), 2);
  EXPECT_NEAR(back.step(), gpu.step(), 1e-4);
  fs::remove(ck);
}

TEST(Trainer, BatchedPatchesTrainAndAnEmptyBatchIsRefused) {
  TrainConfig c = small_config();
  c.batch = 2;
  c.patch = 8;
  Trainer t(c, synthetic_set(2, 1, 12), {}, Device::cpu());
  EXPECT_TRUE(std::isfinite(t.step()));
  c.batch = 0;
  EXPECT_THROW(Trainer(c, synthetic_set(2, 1, 12), {}, Device::cpu()), std::invalid_argument);
}

// Without a patch, a batch of whole samples (of different sizes) passes them one at a time: the
// step's loss is the mean of the samples' own losses (each normalized by its own voxels).
TEST(Trainer, ABatchOfWholeSamplesAveragesTheirLosses) {
  TrainConfig c = small_config();
  c.model.dropout = 0.0f;
  c.augment = false;
  const Sample a = synthetic_set(1, 41, 12)[0], b = synthetic_set(1, 42, 10)[0];
  c.batch = 2;
  Trainer both(c, {a, b}, {}, Device::cpu());
  c.batch = 1;
  Trainer only_a(c, {a}, {}, Device::cpu()), only_b(c, {b}, {}, Device::cpu());
  EXPECT_NEAR(both.step(), 0.5 * (only_a.step() + only_b.step()), 1e-6);
}

// ---- data parallel: ranks as threads (tests/support/thread_comm.h); the MPI transport is tested
// through the command line in tests/mpi -------------------------------------------------------

struct RankRun {
  std::vector<double> losses;
  NamedTensors state;  // rank 0's model state after the steps
};

// `steps` steps of `c` on `ranks` ranks as threads — or, for ranks = 0, one plain process
// (dist::single_process(): no buckets, no synchronized batch norm) — optionally continuing the
// checkpoint `load` and saving rank 0's state to `save` afterwards.
RankRun train_on(int ranks, const TrainConfig& c, const std::vector<Sample>& data, int steps,
                 const std::string& load = "", const std::string& save = "") {
  RankRun run;
  const auto body = [&](dist::Comm& comm) {
    Trainer t(c, data, {}, Device::cpu(), std::shared_ptr<dist::Comm>(&comm, [](dist::Comm*) {}));
    if (!load.empty()) t.load(load);
    std::vector<double> losses;
    for (int i = 0; i < steps; ++i) losses.push_back(t.step());
    if (comm.rank() != 0) return;
    if (!save.empty()) t.save(save);
    run.losses = losses;
    for (const auto& [name, v] : t.model().state()) run.state.emplace_back(name, v.clone());
  };
  if (ranks == 0) {
    body(*dist::single_process());
  } else {
    test::run_ranks(ranks, body);
  }
  return run;
}

void expect_same_training(const RankRun& one, const RankRun& many, int ranks) {
  const double diff = test::max_state_difference(one.state, many.state);
  std::printf("%d ranks vs 1 process: max |weight difference| %.3g\n", ranks, diff);
  EXPECT_LT(diff, test::kRankWeightTolerance) << ranks << " ranks";
  ASSERT_EQ(one.losses.size(), many.losses.size());
  for (std::size_t i = 0; i < one.losses.size(); ++i) EXPECT_NEAR(many.losses[i], one.losses[i], 1e-5) << i;
}

TEST(DataParallel, PatchBatchesOnOneTwoAndThreeRanksTrainTheOneProcessWeights) {
  TrainConfig c = small_config();
  c.batch = 4;
  c.patch = 8;
  const auto data = synthetic_set(5, 500, 12);
  const RankRun one = train_on(0, c, data, 3);
  for (int ranks : {1, 2, 3}) expect_same_training(one, train_on(ranks, c, data, 3), ranks);  // 3: parts of 1, 1, 2
}

TEST(DataParallel, WholeSamplesOnTwoRanksTrainTheOneProcessWeights) {
  TrainConfig c = small_config();
  c.batch = 3;  // parts of 1 and 2 samples, of different sizes
  auto data = synthetic_set(2, 600, 12);
  for (Sample& s : synthetic_set(2, 700, 10)) data.push_back(std::move(s));
  expect_same_training(train_on(0, c, data, 3), train_on(2, c, data, 3), 2);
}

TEST(DataParallel, ACheckpointResumesOnAnotherRankCount) {
  TrainConfig c = small_config();
  c.batch = 2;
  c.patch = 8;
  const auto data = synthetic_set(3, 800, 12);
  const std::string ck = (fs::temp_directory_path() / "sse_dp_resume.ckpt").string();
  const RankRun straight = train_on(0, c, data, 4);
  train_on(2, c, data, 2, "", ck);
  const RankRun two_then_one = train_on(0, c, data, 2, ck);
  EXPECT_LT(test::max_state_difference(straight.state, two_then_one.state), test::kRankWeightTolerance);
  train_on(0, c, data, 2, "", ck);
  const RankRun one_then_two = train_on(2, c, data, 2, ck);
  EXPECT_LT(test::max_state_difference(straight.state, one_then_two.state), test::kRankWeightTolerance);
  EXPECT_NEAR(one_then_two.losses[1], straight.losses[3], 1e-5);
  fs::remove(ck);
}

TEST(DataParallel, ValidationIsSplitOverTheRanksAndSummed) {
  TrainConfig c = small_config();
  c.batch = 3;  // a batch per rank (validation does not use it)
  c.patch = 8;
  const auto data = synthetic_set(2, 900, 8), val = synthetic_set(5, 950, 8);
  Trainer alone(c, data, val, Device::cpu());
  const Validation want = alone.validate();
  test::run_ranks(3, [&](dist::Comm& comm) {
    Trainer t(c, data, val, Device::cpu(), std::shared_ptr<dist::Comm>(&comm, [](dist::Comm*) {}));
    const Validation got = t.validate();
    EXPECT_EQ(got.helix.tp, want.helix.tp);
    EXPECT_EQ(got.helix.fp, want.helix.fp);
    EXPECT_EQ(got.helix.fn, want.helix.fn);
    EXPECT_EQ(got.sheet.tp, want.sheet.tp);
    EXPECT_EQ(got.sheet.fn, want.sheet.fn);
    EXPECT_NEAR(got.loss, want.loss, 1e-6);
  });
}

TEST(DataParallel, EveryRankTakesPartOfEachBatch) {
  TrainConfig c = small_config();  // batch 1
  try {
    train_on(2, c, synthetic_set(2, 1, 8), 1);
    FAIL() << "2 ranks with a batch of 1 were accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("2 ranks need a batch of at least 2"), std::string::npos) << e.what();
  }
}

TEST(DataParallel, AStopRequestOnOneRankStopsThemAll) {
  TrainConfig c = small_config();
  c.batch = 2;
  c.patch = 8;
  test::run_ranks(2, [&](dist::Comm& comm) {
    Trainer t(c, synthetic_set(2, 1, 12), {}, Device::cpu(), std::shared_ptr<dist::Comm>(&comm, [](dist::Comm*) {}));
    const std::atomic<bool> flag(comm.rank() == 1);  // only rank 1 got the signal
    t.run("", {}, {}, &flag);
    EXPECT_TRUE(t.stopped());
    EXPECT_EQ(t.steps_done(), 0);
  });
}

// The learning check: a width-8 U-Net trained with FCE_DL (γ = 5) on generated rods and
// plates; the checkpoint with the best validation score reaches helix F1 > 0.9 and sheet F1 > 0.8 on
// a third, held-out test set.
TEST(Trainer, LearnsRodsAndPlates) {
#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
  GTEST_SKIP() << "timed for optimized builds";
#endif
  TrainConfig c;
  c.model.width = 8;
  c.model.dropout = 0.1f;
  c.loss.name = "fce_dl";
  c.loss.gamma = 5.0f;
  c.seed = 1;
  c.epochs = 10;
  c.lr = 3e-3f;
  c.decay_every = 100;
  const fs::path dir = fs::temp_directory_path() / "sse_learn_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  Trainer t(c, synthetic_set(20, 1000, 24), synthetic_set(4, 5000, 24), Device::cpu());
  const auto t0 = std::chrono::steady_clock::now();
  t.run(dir.string(), {}, [&](const EpochInfo& e) {
    std::printf("epoch %2d  loss %.4f  val helix F1 %.3f  sheet F1 %.3f%s\n", e.epoch, e.train_loss,
                e.val.helix.f1().value_or(-1), e.val.sheet.f1().value_or(-1), e.best ? "  (best)" : "");
  });
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Trainer best(c, synthetic_set(1, 1000, 24), {}, Device::cpu());
  best.load((dir / "best.ckpt").string());
  const Validation test = best.evaluate(synthetic_set(6, 9000, 24));
  std::printf("trained %lld steps in %.1f s; test helix F1 %.3f, sheet F1 %.3f\n", t.steps_done(), secs,
              test.helix.f1().value_or(-1), test.sheet.f1().value_or(-1));
  EXPECT_GT(test.helix.f1().value_or(0), 0.9);
  EXPECT_GT(test.sheet.f1().value_or(0), 0.8);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sse::train
