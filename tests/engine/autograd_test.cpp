// The autograd machinery: accumulation over shared inputs, leaves, NoGradGuard, freed graphs.
#include <gtest/gtest.h>

#include "engine/ops.h"
#include "tests/support/test_util.h"

namespace sse {
namespace {

TEST(Autograd, ChainAndSharedInput) {
  // L = Σ (x·x + 3x) → dL/dx = 2x + 3 (x used twice: gradients must add).
  Tensor x = Tensor::from_vector(std::vector<float>{1, -2, 0.5f}, Shape{3}).set_requires_grad(true);
  Tensor l = ops::sum(ops::add(ops::mul(x, x), ops::scale(x, 3.0f)));
  l.backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{5, -1, 4}));
}

TEST(Autograd, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x = Tensor::full(Shape{2}, 1.0f).set_requires_grad(true);
  ops::sum(ops::scale(x, 2.0f)).backward();
  ops::sum(ops::scale(x, 3.0f)).backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{5, 5}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, NoGradGuardRecordsNothing) {
  Tensor x = Tensor::full(Shape{2}, 1.0f).set_requires_grad(true);
  Tensor y;
  {
    NoGradGuard g;
    y = ops::scale(x, 2.0f);
  }
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
  EXPECT_TRUE(ops::scale(x, 2.0f).requires_grad());
}

TEST(Autograd, BackwardNeedsScalarAndFreesGraph) {
  Tensor x = Tensor::full(Shape{2}, 1.0f).set_requires_grad(true);
  Tensor y = ops::scale(x, 2.0f);
  EXPECT_THROW(y.backward(), EngineError);
  Tensor l = ops::sum(y);
  l.backward();
  EXPECT_THROW(l.backward(), EngineError);  // saved state was released
  EXPECT_THROW(ops::sum(Tensor::full(Shape{2}, 1.0f)).backward(), EngineError);
}

TEST(Autograd, ViewsPropagateGradients) {
  Tensor x = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, Shape{3, 2}).set_requires_grad(true);
  Tensor part = x.slice_batch(1, 2).reshape(Shape{2});
  ops::sum(ops::mul(part, part)).backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0, 0, 6, 8, 0, 0}));
}

}  // namespace
}  // namespace sse
