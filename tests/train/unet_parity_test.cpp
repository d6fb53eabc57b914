// PyTorch parity of the whole U-Net (fixture from tests/reference/make_unet_fixture.py, torch 1.13):
// the same weights and odd-sized input give the same logits in train and eval mode, and the same
// gradients of FCE_DL(γ = 2) for every parameter.
//
// Tolerances: logits 1e-4 relative (floor 1) — fp32 sums over ≤ 384·27 terms in a different order,
// through BatchNorm's division by a batch standard deviation; gradients 1e-3 relative to the
// tensor's largest gradient — they pass back through 14 layers of such sums. The biases of convs that
// feed a train-mode BatchNorm have an exactly-zero true gradient (BN subtracts the batch mean), so
// both sides hold only rounding noise; the scale is floored at 1e-3 of the network's largest
// gradient so that noise compares as zero.
#include <gtest/gtest.h>

#include <cmath>

#include "losses/loss.h"
#include "net/unet3d.h"
#include "tests/support/fixture.h"
#include "tests/support/test_util.h"

namespace sse {
namespace {

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, std::fabs(double(x)));
  return m;
}

class UNetParity : public ::testing::TestWithParam<Device> {};

TEST_P(UNetParity, MatchesPyTorchForwardAndBackward) {
  const Device dev = GetParam();
  auto fx = test::read_fixture(test::data_path("net/unet_parity_w4.bin"));
  net::UNetConfig cfg;
  cfg.width = 4;
  cfg.dropout = 0.0f;
  net::UNet3d net(cfg);
  NamedTensors state;
  for (const auto& [name, t] : net.state()) state.emplace_back(name, fx.at("param." + name));
  net.load_state(state);
  net.to(dev);
  net.train();
  Tensor x = fx.at("input").to(dev), labels = fx.at("labels").to(dev);
  losses::LossConfig lc;
  lc.name = "fce_dl";
  lc.gamma = 2.0f;
  Tensor logits = net.forward(x);
  EXPECT_TRUE(test::all_close(logits.to_vector<float>(), fx.at("logits_train").to_vector<float>(), 1e-4));
  losses::make_loss(lc)->forward(logits, labels).backward();
  double global = 0;
  for (const auto& [name, p] : net.named_parameters()) global = std::max(global, max_abs(fx.at("grad." + name).to_vector<float>()));
  for (const auto& [name, p] : net.named_parameters()) {
    const std::vector<float> want = fx.at("grad." + name).to_vector<float>();
    EXPECT_TRUE(test::all_close(p.grad().to_vector<float>(), want, 1e-3, std::max(max_abs(want), 1e-3 * global))) << name;
  }
  net.eval();
  NoGradGuard ng;
  EXPECT_TRUE(test::all_close(net.forward(x).to_vector<float>(), fx.at("logits_eval").to_vector<float>(), 1e-4));
}

INSTANTIATE_TEST_SUITE_P(Devices, UNetParity, ::testing::ValuesIn(test::test_devices()), test::device_name);

}  // namespace
}  // namespace sse
