// Numbers checked by hand: batch norm (train and eval, running stats), dropout (mask from the seed,
// keep rate), pooling indices, and the bad inputs each layer op must refuse.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/ops.h"
#include "tests/support/test_util.h"

namespace sse {
namespace {

TEST(BatchNorm, TrainAndEvalByHand) {
  // One channel, N = 2 images of 2 voxels: values 1, 2, 3, 6 → mean 3, biased var 3.5, unbiased 14/3.
  Tensor x = Tensor::from_vector(std::vector<float>{1, 2, 3, 6}, Shape{2, 1, 1, 1, 2});
  Tensor g = Tensor::full(Shape{1}, 2.0f), b = Tensor::full(Shape{1}, 0.5f);
  Tensor rm = Tensor::zeros(Shape{1}), rv = Tensor::full(Shape{1}, 1.0f);
  const BatchNormParams p{1e-5f, 0.1f};
  std::vector<float> y = ops::batch_norm(x, g, b, rm, rv, true, p).to_vector<float>();
  const double inv = 1.0 / std::sqrt(3.5 + 1e-5);
  const double xs[4] = {1, 2, 3, 6};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(y[i], (xs[i] - 3.0) * inv * 2.0 + 0.5, 1e-6);
  EXPECT_NEAR(rm.item(), 0.1 * 3.0, 1e-7);
  EXPECT_NEAR(rv.item(), 0.9 * 1.0 + 0.1 * 14.0 / 3.0, 1e-6);

  std::vector<float> ye = ops::batch_norm(x, g, b, rm, rv, false, p).to_vector<float>();
  const double m = rm.item(), v = rv.item();
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(ye[i], (xs[i] - m) / std::sqrt(v + 1e-5) * 2.0 + 0.5, 1e-5);
  std::vector<float> yr = ops::batch_norm(x, g, b, rm, rv, false, p, true).to_vector<float>();
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(yr[i], std::max(0.0f, ye[i]));
}

TEST(BatchNorm, RefusesMismatchedParameters) {
  Tensor x = Tensor::zeros(Shape{1, 2, 2, 2, 2});
  Tensor g = Tensor::full(Shape{3}, 1.0f), b = Tensor::zeros(Shape{3});
  Tensor rm = Tensor::zeros(Shape{3}), rv = Tensor::full(Shape{3}, 1.0f);
  EXPECT_THROW(ops::batch_norm(x, g, b, rm, rv, true), EngineError);
}

TEST(Dropout, MaskRepeatsFromSeedAndKeepsTheRightFraction) {
  const Shape s{1, 4, 16, 16, 16};
  Tensor x = Tensor::full(s, 1.0f);
  Generator g1(7), g2(7), g3(8);
  const std::vector<float> a = ops::dropout(x, 0.5f, true, g1).to_vector<float>();
  const std::vector<float> b = ops::dropout(x, 0.5f, true, g2).to_vector<float>();
  const std::vector<float> c = ops::dropout(x, 0.5f, true, g3).to_vector<float>();
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // A second draw from the same generator uses a new offset: a different mask.
  EXPECT_NE(ops::dropout(x, 0.5f, true, g1).to_vector<float>(), a);
  double kept = 0;
  for (float v : a) {
    ASSERT_TRUE(v == 0.0f || v == 2.0f);
    kept += v > 0;
  }
  const double n = static_cast<double>(a.size()), rate = kept / n;
  EXPECT_NEAR(rate, 0.5, 4.0 * std::sqrt(0.25 / n));  // 4σ of a binomial proportion
  Generator g4(7);
  Tensor same = ops::dropout(x, 0.5f, false, g4);  // eval: identity
  EXPECT_TRUE(same.same(x));
  EXPECT_THROW(ops::dropout(x, 1.0f, true, g4), EngineError);
}

// Masks are per sample (ops.h): a batch's rows equal those samples dropped alone with their index,
// which is what lets data-parallel ranks reproduce a one-process batch.
TEST(Dropout, MasksArePerSample) {
  const Shape s{3, 2, 5, 5, 5};
  Tensor x = Tensor::full(s, 1.0f);  // the output is the mask (0 or 2)
  Generator g(9);
  const std::vector<float> whole = ops::dropout(x, 0.5f, true, g).to_vector<float>();
  const std::size_t per = static_cast<std::size_t>(s.tail(1));
  for (index_t n = 0; n < 3; ++n) {
    Generator gn(9);
    const std::vector<float> alone = ops::dropout(x.slice_batch(n, n + 1), 0.5f, true, gn, n).to_vector<float>();
    EXPECT_EQ(alone, std::vector<float>(whole.begin() + n * per, whole.begin() + (n + 1) * per)) << n;
  }
  // Different samples, different masks.
  EXPECT_NE(std::vector<float>(whole.begin(), whole.begin() + per), std::vector<float>(whole.begin() + per, whole.begin() + 2 * per));
}

TEST(MaxPool, IndicesAndOddSizes) {
  std::vector<float> v(8);
  for (int i = 0; i < 8; ++i) v[i] = static_cast<float>((i * 5) % 8);  // max 7 at i = 3
  Tensor x = Tensor::from_vector(v, Shape{1, 1, 2, 2, 2}).set_requires_grad(true);
  Tensor y = ops::max_pool3d(x);
  EXPECT_EQ(y.item(), 7.0f);
  ops::sum(y).backward();
  std::vector<float> want(8, 0.0f);
  want[3] = 1.0f;
  EXPECT_EQ(x.grad().to_vector<float>(), want);
  EXPECT_THROW(ops::max_pool3d(Tensor::zeros(Shape{1, 1, 3, 2, 2})), EngineError);
}

TEST(Layers, RefuseBadShapes) {
  Tensor x = Tensor::zeros(Shape{1, 3, 4, 4, 4});
  EXPECT_THROW(ops::conv3d(x, Tensor::zeros(Shape{2, 4, 3, 3, 3}), Tensor()), EngineError);   // c_in
  EXPECT_THROW(ops::conv3d(x, Tensor::zeros(Shape{2, 3, 2, 2, 2}), Tensor()), EngineError);   // even k
  EXPECT_THROW(ops::conv3d(x, Tensor::zeros(Shape{2, 3, 3, 3, 3}), Tensor::zeros(Shape{3})), EngineError);
  EXPECT_THROW(ops::conv3d(Tensor::zeros(Shape{3, 4, 4, 4}), Tensor::zeros(Shape{2, 3, 3, 3, 3}), Tensor()),
               EngineError);  // rank
  EXPECT_THROW(ops::conv_transpose3d(x, Tensor::zeros(Shape{3, 2, 3, 3, 3}), Tensor()), EngineError);
  EXPECT_THROW(ops::concat_channels(x, Tensor::zeros(Shape{1, 3, 4, 4, 5})), EngineError);
  EXPECT_THROW(ops::narrow_channels(x, 2, 4), EngineError);
  EXPECT_THROW(ops::softmax_channels(Tensor::zeros(Shape{1, 17, 2})), EngineError);
}

TEST(Conv3d, ZeroPaddingAtBordersByHand) {
  // A 3×3×3 all-ones kernel on an all-ones 3×3×3 volume counts in-bounds neighbours: 8 at a corner,
  // 27 at the centre.
  Tensor x = Tensor::full(Shape{1, 1, 3, 3, 3}, 1.0f), w = Tensor::full(Shape{1, 1, 3, 3, 3}, 1.0f);
  const std::vector<float> y = ops::conv3d(x, w, Tensor()).to_vector<float>();
  EXPECT_EQ(y[0], 8.0f);
  EXPECT_EQ(y[13], 27.0f);
  EXPECT_EQ(y[1], 12.0f);
}

}  // namespace
}  // namespace sse
