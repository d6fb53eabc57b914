// The U-Net: the study's architecture (names, parameter count), any input size, train/eval modes,
// device moves, and state loading errors.
#include <gtest/gtest.h>

#include <cstdio>
#include <cmath>
#include <set>

#include "engine/ops.h"
#include "engine/precision.h"
#if SSE_WITH_CUDA
#include "engine/cuda_context.h"
#endif
#include "net/unet3d.h"
#include "tests/support/test_util.h"

namespace sse::net {
namespace {

TEST(UNet3d, StudyDefaultsHave4Point6MParameters) {
  UNet3d net(UNetConfig{});
  const index_t n = net.parameter_count();
  std::printf("UNet3d defaults (width 64, 3 levels): %lld parameters\n", static_cast<long long>(n));
  // Convolutions alone: 4,582,432 weights (DESIGN.md's layer list); plus conv/convT biases and BN γ, β.
  EXPECT_EQ(n, 4582432 + (32 + 64 + 64 + 128 + 128 + 256 + 256 + 128 + 128 + 128 + 64 + 64 + 3) +
                   2 * (32 + 64 + 64 + 128 + 128 + 256 + 128 + 128 + 64 + 64));
  EXPECT_NEAR(static_cast<double>(n) / 1e6, 4.6, 0.05);
}

TEST(UNet3d, StableParameterNames) {
  UNet3d net(UNetConfig{});
  std::set<std::string> names;
  for (const auto& [name, t] : net.state()) names.insert(name);
  for (const char* want : {"down_1.conv.0.weight", "down_1.conv.1.running_var", "down_3.conv.4.bias",
                           "up_1.up.weight", "up_1.conv.0.weight", "up_2.conv.4.running_mean", "out.weight"})
    EXPECT_TRUE(names.count(want)) << want;
  EXPECT_EQ(net.named_parameters()[0].first, "down_1.conv.0.weight");
  const Shape up1 = net.named_parameters()[24].second.shape();
  EXPECT_EQ(net.named_parameters()[24].first, "up_1.up.weight");
  EXPECT_EQ(up1, (Shape{256, 256, 2, 2, 2}));
}

TEST(UNet3d, InitIsNormalWithStd0Point1FromTheSeed) {
  UNet3d a(UNetConfig{}, 5), b(UNetConfig{}, 5), c(UNetConfig{}, 6);
  const std::vector<float> w = a.named_parameters()[4].second.to_vector<float>();  // down_1.conv.3.weight
  EXPECT_EQ(w, b.named_parameters()[4].second.to_vector<float>());
  EXPECT_NE(w, c.named_parameters()[4].second.to_vector<float>());
  double s = 0, s2 = 0;
  for (float v : w) { s += v; s2 += double(v) * v; }
  const double mean = s / double(w.size()), sd = std::sqrt(s2 / double(w.size()) - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.005);
  EXPECT_NEAR(sd, 0.1, 0.003);
}

class UNetOnDevice : public ::testing::TestWithParam<Device> {};

TEST_P(UNetOnDevice, AnyInputSizeGivesLogitsOfThatSize) {
  UNetConfig cfg;
  cfg.width = 4;
  UNet3d net(cfg, 1);
  net.to(GetParam());
  net.eval();
  NoGradGuard ng;
  for (const Shape& s : {Shape{1, 1, 5, 7, 6}, Shape{2, 1, 8, 4, 12}, Shape{1, 1, 1, 1, 1}}) {
    Tensor y = net.forward(test::uniform(s, 3, 0.0f, 1.0f, GetParam()));
    EXPECT_EQ(y.shape(), (Shape{s[0], 3, s[2], s[3], s[4]}));
  }
  EXPECT_THROW(net.forward(Tensor::zeros(Shape{1, 2, 4, 4, 4}, DType::F32, GetParam())), EngineError);
}

TEST_P(UNetOnDevice, TrainModeBackpropagatesToEveryParameter) {
  UNetConfig cfg;
  cfg.width = 4;
  UNet3d net(cfg, 2);
  net.to(GetParam());
  Tensor y = net.forward(test::uniform(Shape{2, 1, 6, 5, 7}, 4, 0.0f, 1.0f, GetParam()));
  ops::sum(ops::mul(y, y)).backward();
  for (const auto& [name, p] : net.named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name;
    double n2 = 0;
    for (float g : p.grad().to_vector<float>()) n2 += double(g) * g;
    EXPECT_GT(n2, 0.0) << name;
  }
}

#if SSE_WITH_CUDA
// --precision bf16 on CUDA: the blocks store their activations as bfloat16 in training (fp32 in eval,
// and on the CPU), and that changes no value of the forward — the bf16 convolutions round their
// operands as the storage does and max-pooling commutes with rounding — so the logits equal those of
// the same step with fp32 activations bit for bit. (The backward may differ where rounding ties two
// values of a pooling window: the pool then routes the gradient to the first; tests/engine's
// Bf16Activations test compares gradients bit for bit on equally rounded values.) What the forward
// keeps for the backward shrinks by the activations' half.
TEST(UNet3d, Bf16TrainingStoresBlockActivationsAsBf16) {
  const auto devices = test::test_devices();
  if (devices.size() < 2) GTEST_SKIP() << "no CUDA device (real or emulated) in this build";
  const Device dev = devices[1];
  UNetConfig cfg;
  cfg.width = 8;
  cfg.levels = 2;
  cfg.dropout = 0.0f;
  const Tensor x = test::uniform(Shape{1, 1, 8, 8, 8}, 4, 0.0f, 1.0f, dev);
  set_precision(Precision::BF16);
  ConvBlock block(1, 4, 8);
  block.to(dev);
  EXPECT_EQ(block.forward(x).dtype(), DType::BF16);
  block.eval();
  {
    NoGradGuard ng;
    EXPECT_EQ(block.forward(x).dtype(), DType::F32);
  }
  std::vector<float> logits[2];
  std::size_t saved[2];  // device bytes the forward leaves alive: what the backward keeps
  for (bool stored_bf16 : {false, true}) {
    set_bf16_activations(stored_bf16);
    UNet3d net(cfg, 9);
    net.to(dev);
    const std::size_t before = cuda_memory_stats(dev).live_bytes;
    Tensor y = net.forward(x);
    saved[stored_bf16] = cuda_memory_stats(dev).live_bytes - before;
    EXPECT_EQ(y.dtype(), DType::F32);
    ops::mean(ops::mul(y, y)).backward();
    logits[stored_bf16] = y.to_vector<float>();
  }
  set_bf16_activations(true);
  set_precision(Precision::FP32);
  EXPECT_EQ(logits[1], logits[0]);
  // What the forward keeps: the convolutions' fp32 outputs (for the batch norms' backward), the block
  // activations and what pooling and concatenation make of them (now bf16), pool indices, logits.
  // Measured: 225,280 → 167,936 bytes here (0.75); 0.66 for the study's width 64 (3 levels, 16³).
  std::printf("bytes kept by the forward: fp32 activations %zu, bf16 %zu\n", saved[0], saved[1]);
  EXPECT_LT(saved[1], 0.8 * saved[0]);
  ConvBlock cpu_block(1, 4, 8);
  EXPECT_EQ(cpu_block.forward(x.to(Device::cpu())).dtype(), DType::F32);
}
#endif  // SSE_WITH_CUDA

INSTANTIATE_TEST_SUITE_P(Devices, UNetOnDevice, ::testing::ValuesIn(test::test_devices()), test::device_name);

TEST(UNet3d, EvalIsDeterministicAndDropoutOnlyInTraining) {
  UNetConfig cfg;
  cfg.width = 4;
  UNet3d net(cfg, 7);
  Tensor x = test::uniform(Shape{1, 1, 8, 8, 8}, 5, 0.0f, 1.0f);
  net.eval();
  NoGradGuard ng;
  const auto a = net.forward(x).to_vector<float>(), b = net.forward(x).to_vector<float>();
  EXPECT_EQ(a, b);
  net.train();
  EXPECT_NE(net.forward(x).to_vector<float>(), net.forward(x).to_vector<float>());  // new dropout masks
}

TEST(UNet3d, LoadStateNamesTheFirstMismatch) {
  UNetConfig small;
  small.width = 4;
  UNetConfig wide = small;
  wide.width = 8;
  UNet3d a(small), b(wide);
  try {
    a.load_state(b.state());
    FAIL() << "no exception";
  } catch (const EngineError& e) {
    EXPECT_NE(std::string(e.what()).find("down_1.conv.0.weight"), std::string::npos) << e.what();
  }
  UNet3d c(small, 99);
  c.load_state(a.state());
  EXPECT_EQ(c.state()[0].second.to_vector<float>(), a.state()[0].second.to_vector<float>());
}

TEST(UNetConfig, JsonRoundTrip) {
  UNetConfig c;
  c.width = 16;
  c.levels = 4;
  c.dropout = 0.25f;
  EXPECT_TRUE(UNetConfig::from_json(c.to_json()) == c);
  EXPECT_THROW(UNetConfig::from_json("{\"arch\": \"resnet\"}"), EngineError);
}

}  // namespace
}  // namespace sse::net
