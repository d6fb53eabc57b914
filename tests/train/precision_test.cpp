// Training precision (TrainConfig::precision, engine/precision.h): what a CPU run refuses, and, on a
// CUDA device (the emulator in CI, which reproduces the tensor cores' bf16 input rounding), that a
// small U-Net trained with bf16 convolutions learns the generated rods and plates like the same run
// in fp32.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "engine/precision.h"
#include "tests/support/test_util.h"
#include "train/synthetic.h"
#include "train/trainer.h"

namespace sse::train {
namespace {

std::vector<Sample> shapes(int n, std::uint64_t seed0) {
  SyntheticOptions o;
  o.size = 12;
  o.rods = 1;
  o.plates = 1;
  std::vector<Sample> v;
  for (int i = 0; i < n; ++i) v.push_back(synthetic_sample(seed0 + static_cast<std::uint64_t>(i), o));
  return v;
}

TrainConfig config(const std::string& precision) {
  TrainConfig c;
  c.model.width = 4;
  c.model.levels = 2;
  c.model.dropout = 0.0f;
  c.loss.name = "fce_dl";
  c.loss.gamma = 2.0f;
  c.loss.ignore_index = 255;
  c.seed = 3;
  c.lr = 3e-2f;
  c.augment = false;
  c.precision = precision;
  return c;
}

TEST(TrainPrecision, CpuComputesInFp32Only) {
  EXPECT_THROW(Trainer(config("bf16"), shapes(1, 1), {}, Device::cpu()), std::invalid_argument);
  EXPECT_THROW(Trainer(config("fp16"), shapes(1, 1), {}, Device::cpu()), EngineError);
  EXPECT_NO_THROW(Trainer(config("fp32"), shapes(1, 1), {}, Device::cpu()));
}

TEST(TrainPrecision, PrecisionIsPartOfTheSavedConfiguration) {
  EXPECT_EQ(TrainConfig::from_json(config("bf16").to_json()).precision, "bf16");
  EXPECT_EQ(TrainConfig::from_json("{}").precision, "fp32");  // runs saved before the option
}

// The learning check: 16 steps of a width-4, two-level U-Net on four 12³ samples, fp32 and bf16 from
// the same initialization. bf16 rounds every convolution's operands to 8 significant bits, so its
// losses differ from fp32's (proving the rounding is on) but only by a small fraction of what the
// run learns; both runs must learn (the last steps' loss well under the first).
TEST(TrainPrecision, Bf16LearnsLikeFp32) {
  const auto devices = test::test_devices();
  if (devices.size() < 2) GTEST_SKIP() << "no CUDA device (real or emulated) in this build";
  const Device dev = devices[1];
  const auto data = shapes(4, 40);
  constexpr int kSteps = 16, kTail = 4;
  std::vector<double> fp32, bf16;
  {
    Trainer t(config("fp32"), data, {}, dev);
    for (int i = 0; i < kSteps; ++i) fp32.push_back(t.step());
  }
  {
    Trainer t(config("bf16"), data, {}, dev);
    for (int i = 0; i < kSteps; ++i) bf16.push_back(t.step());
  }
  set_precision(Precision::FP32);
  auto tail = [](const std::vector<double>& v) {
    return std::accumulate(v.end() - kTail, v.end(), 0.0) / kTail;
  };
  const double learned = fp32.front() - tail(fp32);
  std::printf("loss fp32 %.4f -> %.4f, bf16 %.4f -> %.4f\n", fp32.front(), tail(fp32), bf16.front(), tail(bf16));
  EXPECT_GT(learned, 0.3 * fp32.front()) << "fp32 learns";
  EXPECT_GT(bf16.front() - tail(bf16), 0.3 * bf16.front()) << "bf16 learns";
  EXPECT_NEAR(bf16.front(), fp32.front(), 0.01 * fp32.front()) << "same initialization, rounding only";
  EXPECT_NE(bf16, fp32) << "the bf16 run rounds";
  EXPECT_NEAR(tail(bf16), tail(fp32), 0.15 * learned) << "bf16 learns like fp32";
}

}  // namespace
}  // namespace sse::train
