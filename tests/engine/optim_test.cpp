// Optimizers against traces computed by hand, and the learning-rate schedules.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/optim.h"
#include "engine/ops.h"
#include "tests/support/test_util.h"

namespace sse {
namespace {

// Reference Adam in double, written from the paper's update (with coupled L2 or decoupled decay).
struct RefAdam {
  double m = 0, v = 0;
  double step(double theta, double g, int t, const AdamOptions& o) {
    if (o.decoupled) theta *= 1.0 - o.lr * o.weight_decay; else g += o.weight_decay * theta;
    m = o.beta1 * m + (1 - o.beta1) * g;
    v = o.beta2 * v + (1 - o.beta2) * g * g;
    const double mh = m / (1 - std::pow(o.beta1, t)), vh = v / (1 - std::pow(o.beta2, t));
    return theta - o.lr * mh / (std::sqrt(vh) + o.eps);
  }
};

class OptimOnDevice : public ::testing::TestWithParam<Device> {};

TEST_P(OptimOnDevice, AdamTwoStepTraceByHand) {
  for (bool decoupled : {false, true}) {
    AdamOptions o;
    o.lr = 0.1f;
    o.weight_decay = 0.01f;
    o.decoupled = decoupled;
    Tensor p = Tensor::from_vector(std::vector<float>{1.0f, -0.5f}, Shape{2}, GetParam()).set_requires_grad(true);
    Adam adam({p}, o);
    const double g1[2] = {0.3, -2.0}, g2[2] = {-0.1, 0.7};
    RefAdam ref[2];
    double want[2] = {1.0, -0.5};
    for (int t = 1; t <= 2; ++t) {
      const double* g = t == 1 ? g1 : g2;
      p.set_grad(Tensor::from_vector(std::vector<float>{float(g[0]), float(g[1])}, Shape{2}, GetParam()));
      adam.step();
      for (int i = 0; i < 2; ++i) want[i] = ref[i].step(want[i], g[i], t, o);
    }
    const std::vector<float> got = p.to_vector<float>();
    for (int i = 0; i < 2; ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << "decoupled=" << decoupled << " i=" << i;
    EXPECT_EQ(adam.steps(), 2);
  }
}

TEST_P(OptimOnDevice, SgdMomentumByHand) {
  SgdOptions o;
  o.lr = 0.5f;
  o.momentum = 0.9f;
  Tensor p = Tensor::from_vector(std::vector<float>{1.0f}, Shape{1}, GetParam()).set_requires_grad(true);
  Sgd sgd({p}, o);
  p.set_grad(Tensor::full(Shape{1}, 1.0f, GetParam()));
  sgd.step();  // buf = 1, θ = 0.5
  sgd.step();  // buf = 1.9, θ = −0.45
  EXPECT_NEAR(p.item(), -0.45, 1e-6);
}

TEST_P(OptimOnDevice, SkipsParametersWithoutGradient) {
  Tensor p = Tensor::full(Shape{3}, 1.0f, GetParam()).set_requires_grad(true);
  Adam adam({p}, AdamOptions{});
  adam.step();
  EXPECT_EQ(p.to_vector<float>(), std::vector<float>(3, 1.0f));
}

INSTANTIATE_TEST_SUITE_P(Devices, OptimOnDevice, ::testing::ValuesIn(test::test_devices()), test::device_name);

TEST(LrSchedule, StepDecayAndCosine) {
  StepDecay s(1e-3f);
  EXPECT_FLOAT_EQ(s.lr(0), 1e-3f);
  EXPECT_FLOAT_EQ(s.lr(99), 1e-3f);
  EXPECT_FLOAT_EQ(s.lr(100), 0.95e-3f);
  EXPECT_NEAR(s.lr(250), 1e-3 * 0.95 * 0.95, 1e-10);
  Cosine c(1.0f, 100, 0.1f);
  EXPECT_FLOAT_EQ(c.lr(0), 1.0f);
  EXPECT_NEAR(c.lr(50), 0.55, 1e-6);
  EXPECT_FLOAT_EQ(c.lr(100), 0.1f);
}

}  // namespace
}  // namespace sse
