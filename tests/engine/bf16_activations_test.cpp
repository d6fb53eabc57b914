// bfloat16 activations (DType::BF16, --precision bf16; engine/ops.h "bf16", engine/precision.h):
// the conversion op, the ops that take and keep bf16, and the storage's one promise — that it changes
// bytes, not values: a U-Net-shaped chain (convolutions read by the brick kernels and the implicit
// GEMM, forward and weight gradients, batch norm, max-pool, transposed convolution, concatenation)
// run under bf16 with bf16 activations gives, bit for bit, the loss and every gradient of the same
// chain with float32 activations holding the same rounded values.
#include <gtest/gtest.h>

#include <cstring>

#include "engine/ops.h"
#include "engine/precision.h"
#include "tests/support/test_util.h"

namespace sse {
namespace {

class Bf16Ops : public ::testing::TestWithParam<Device> {};

std::vector<float> rounded(const std::vector<float>& v) {
  std::vector<float> r;
  for (float x : v) r.push_back(round_bf16(x));
  return r;
}

::testing::AssertionResult same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0)
    return ::testing::AssertionSuccess();
  return test::all_close(a, b, 0.0) << " (expected the same bits)";
}

TEST_P(Bf16Ops, ToDtypeRoundsWidensAndPassesGradients) {
  const Device dev = GetParam();
  Tensor x = test::uniform(Shape{2, 3, 5}, 1, -3.0f, 3.0f, dev).set_requires_grad(true);
  Tensor h = ops::to_dtype(x, DType::BF16);
  EXPECT_EQ(h.dtype(), DType::BF16);
  EXPECT_EQ(h.nbytes(), x.nbytes() / 2);
  Tensor back = ops::to_dtype(h, DType::F32);
  EXPECT_TRUE(same_bits(back.to_vector<float>(), rounded(x.to_vector<float>())));
  EXPECT_TRUE(ops::to_dtype(x, DType::F32).same(x));
  EXPECT_THROW(ops::to_dtype(x, DType::I32), EngineError);
  ops::sum(ops::scale(back, 2.0f)).backward();
  EXPECT_EQ(x.grad().dtype(), DType::F32);
  EXPECT_TRUE(same_bits(x.grad().to_vector<float>(), std::vector<float>(30, 2.0f)));
}

TEST_P(Bf16Ops, LayerOpsKeepBf16AndConvolutionsReadIt) {
  const Device dev = GetParam();
  const Tensor x32 = test::uniform(Shape{1, 4, 4, 6, 6}, 2, -1.0f, 1.0f, dev);
  const Tensor x = ops::to_dtype(x32, DType::BF16), xr = ops::to_dtype(x, DType::F32);
  Generator g(5), g2(5);  // the same masks
  const Tensor pooled = ops::max_pool3d(x), dropped = ops::dropout(x, 0.2f, true, g);
  EXPECT_EQ(pooled.dtype(), DType::BF16);
  EXPECT_EQ(dropped.dtype(), DType::BF16);
  EXPECT_TRUE(same_bits(ops::to_dtype(pooled, DType::F32).to_vector<float>(), ops::max_pool3d(xr).to_vector<float>()));
  EXPECT_TRUE(same_bits(ops::to_dtype(dropped, DType::F32).to_vector<float>(),
                        rounded(ops::dropout(xr, 0.2f, true, g2).to_vector<float>())));
  const Tensor cat = ops::concat_channels(x32, x);  // a float part and a bf16 part
  EXPECT_EQ(cat.dtype(), DType::BF16);
  EXPECT_TRUE(same_bits(ops::to_dtype(cat, DType::F32).to_vector<float>(),
                        ops::concat_channels(xr, xr).to_vector<float>()));
  EXPECT_THROW(ops::box(x, 4, 4, 4), EngineError);  // pad/crop take the float map and logits only

  const Tensor w = test::uniform(Shape{5, 4, 3, 3, 3}, 3, -0.2f, 0.2f, dev), b = test::uniform(Shape{5}, 4, -0.1f, 0.1f, dev);
  const Tensor wt = test::uniform(Shape{4, 3, 2, 2, 2}, 6, -0.2f, 0.2f, dev);
  EXPECT_TRUE(same_bits(ops::conv3d(x, w, b).to_vector<float>(), ops::conv3d(xr, w, b).to_vector<float>()));
  EXPECT_TRUE(same_bits(ops::conv_transpose3d(x, wt, Tensor()).to_vector<float>(),
                        ops::conv_transpose3d(xr, wt, Tensor()).to_vector<float>()));
}

INSTANTIATE_TEST_SUITE_P(Devices, Bf16Ops, ::testing::ValuesIn(test::test_devices()), test::device_name);

// Sets the precision for one test and restores fp32 and the default storage after it.
struct PrecisionScope {
  explicit PrecisionScope(Precision p) { set_precision(p); }
  ~PrecisionScope() {
    set_precision(Precision::FP32);
    set_bf16_activations(true);
  }
};

// The parameters of a small encoder–decoder in the U-Net's shape, width 16 so that the brick kernels
// run its 3×3×3 layers (≥ 8 channels reduced into ≥ 16 rows) and the implicit GEMM its first and
// last layers; each activation is batch norm + ReLU in one op.
struct Chain {
  std::vector<Tensor> p;  // weights, biases, γ, β
  std::vector<Tensor> stats;
  explicit Chain(Device dev) {
    const std::vector<Shape> shapes = {{8, 1, 3, 3, 3},   {16, 8, 3, 3, 3},  {16, 16, 3, 3, 3},
                                       {16, 16, 2, 2, 2}, {16, 32, 3, 3, 3}, {3, 16, 1, 1, 1}};
    std::uint64_t seed = 10;
    for (const Shape& s : shapes) {
      p.push_back(test::uniform(s, seed++, -0.3f, 0.3f, dev).set_requires_grad(true));
      const index_t out = s[0] == 16 && s[2] == 2 ? 16 : s[0];
      p.push_back(test::uniform(Shape{out}, seed++, -0.1f, 0.1f, dev).set_requires_grad(true));
    }
    for (index_t c : {8, 16, 16, 16}) {
      p.push_back(test::uniform(Shape{c}, seed++, 0.8f, 1.2f, dev).set_requires_grad(true));
      p.push_back(test::uniform(Shape{c}, seed++, -0.2f, 0.2f, dev).set_requires_grad(true));
      stats.push_back(Tensor::zeros(Shape{c}, DType::F32, dev));
      stats.push_back(Tensor::full(Shape{c}, 1.0f, dev));
    }
  }

  // Batch norm k + ReLU: stored as bf16, or as float32 holding the bf16-rounded values.
  Tensor act(const Tensor& y, int k, bool bf16) {
    Tensor& rm = stats[2 * k];
    Tensor& rv = stats[2 * k + 1];
    const Tensor& gamma = p[12 + 2 * k];
    const Tensor& beta = p[13 + 2 * k];
    if (bf16) return ops::batch_norm(y, gamma, beta, rm, rv, true, {}, true, DType::BF16);
    const Tensor a = ops::batch_norm(y, gamma, beta, rm, rv, true, {}, true);
    return ops::to_dtype(ops::to_dtype(a, DType::BF16), DType::F32);
  }

  Tensor loss(const Tensor& x, bool bf16) {
    const Tensor a0 = act(ops::conv3d(x, p[0], p[1]), 0, bf16);
    const Tensor skip = act(ops::conv3d(a0, p[2], p[3]), 1, bf16);
    const Tensor bottom = act(ops::conv3d(ops::max_pool3d(skip), p[4], p[5]), 2, bf16);
    const Tensor up = ops::conv_transpose3d(bottom, p[6], p[7]);
    const Tensor dec = act(ops::conv3d(ops::concat_channels(up, skip), p[8], p[9]), 3, bf16);
    const Tensor logits = ops::conv3d(dec, p[10], p[11]);
    return ops::mean(ops::mul(logits, logits));
  }
};

TEST(Bf16Activations, ChangeBytesNotValues) {
  const auto devices = test::test_devices();
  if (devices.size() < 2) GTEST_SKIP() << "no CUDA device (real or emulated) in this build";
  const Device dev = devices[1];
  PrecisionScope scope(Precision::BF16);
  const Tensor x = test::uniform(Shape{2, 1, 8, 8, 8}, 1, 0.0f, 1.0f, dev);
  std::vector<std::vector<float>> grads[2];
  float loss[2];
  for (bool bf16 : {false, true}) {
    Chain c(dev);
    const Tensor l = c.loss(x, bf16);
    l.backward();
    loss[bf16] = l.item();
    for (const Tensor& t : c.p) grads[bf16].push_back(t.grad().to_vector<float>());
  }
  EXPECT_EQ(std::memcmp(&loss[0], &loss[1], sizeof(float)), 0) << loss[0] << " vs " << loss[1];
  for (std::size_t i = 0; i < grads[0].size(); ++i) EXPECT_TRUE(same_bits(grads[1][i], grads[0][i])) << "parameter " << i;
}

}  // namespace
}  // namespace sse
