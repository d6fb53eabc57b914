// ops::conv3d_eval — the inference form of conv → eval batch norm → ReLU, with the decoder's input in
// two parts — gives the values of the ops it fuses, on both CPU convolution implementations; with a
// gradient needed it falls back to those ops (and so to their autograd).
#include <gtest/gtest.h>

#include "engine/ops.h"
#include "engine/profiler.h"
#include "kernels/conv3d.h"
#include "tests/support/test_util.h"
#if SSE_WITH_CUDA
#include "tests/support/cuda_buffers.h"
#endif

namespace sse {
namespace {

struct Case {
  bool two_parts, bn, relu;
  int k;
};

void check_case(const Case& c) {
  const index_t ca = 5, cb = c.two_parts ? 3 : 0, co = 6;
  Tensor a = test::uniform(Shape{2, ca, 5, 6, 7}, 1), b = c.two_parts ? test::uniform(Shape{2, cb, 5, 6, 7}, 2) : Tensor();
  Tensor w = test::uniform(Shape{co, ca + cb, c.k, c.k, c.k}, 3), bias = test::uniform(Shape{co}, 4);
  Tensor g = c.bn ? test::uniform(Shape{co}, 5, 0.5f, 2.0f) : Tensor(), beta = test::uniform(Shape{co}, 6);
  Tensor rm = test::uniform(Shape{co}, 7), rv = test::uniform(Shape{co}, 8, 0.5f, 3.0f);
  const BatchNormParams p{1e-5f, 0.1f};
  NoGradGuard ng;
  Tensor want = ops::conv3d(c.two_parts ? ops::concat_channels(a, b) : a, w, bias);
  if (c.bn) want = ops::batch_norm(want, g, beta, rm, rv, false, p, c.relu);
  else if (c.relu) want = ops::relu(want);
  const Tensor got = ops::conv3d_eval(a, b, w, bias, g, beta, rm, rv, p, c.relu);
  ASSERT_EQ(got.shape(), want.shape());
  EXPECT_TRUE(test::all_close(got.to_vector<float>(), want.to_vector<float>(), 1e-5, 10.0))
      << "two_parts=" << c.two_parts << " bn=" << c.bn << " relu=" << c.relu << " k=" << c.k;
}

TEST(Conv3dEval, MatchesTheOpsItFuses) {
  for (const cpu::ConvImpl impl : {cpu::ConvImpl::Blas, cpu::ConvImpl::Avx2}) {
    if (impl == cpu::ConvImpl::Avx2 && !cpu::conv_avx2_supported()) continue;
    cpu::set_conv_impl(impl);
    for (const Case& c : {Case{true, true, true, 3}, Case{false, true, true, 3}, Case{true, true, false, 3},
                          Case{false, false, true, 3}, Case{false, false, false, 3}, Case{true, true, true, 1},
                          Case{false, true, true, 1}})
      check_case(c);
  }
  cpu::set_conv_impl(cpu::ConvImpl::Auto);
}

#if SSE_WITH_CUDA
// On CUDA under the tensor-core algorithms the brick kernel runs the whole block (two-part input,
// batch norm and ReLU in its epilogue: cuda::conv3d_forward_eval) — the profile shows that kernel and
// no batch-norm or concatenation op — with the values of the ops in sequence on the same device
// (the same convolution kernel adds in the same order; the epilogue applies the same affine map).
TEST(Conv3dEval, OnCudaTheBrickKernelRunsTheBlockAsOneKernel) {
  if (!test::cuda_usable()) GTEST_SKIP() << "no CUDA device here";
  const Device dev = Device::cuda(0);
  const index_t ca = 9, cb = 7, co = 18;
  Tensor a = test::uniform(Shape{2, ca, 4, 9, 17}, 1, -1, 1, dev), b = test::uniform(Shape{2, cb, 4, 9, 17}, 2, -1, 1, dev);
  Tensor w = test::uniform(Shape{co, ca + cb, 3, 3, 3}, 3, -1, 1, dev), bias = test::uniform(Shape{co}, 4, -1, 1, dev);
  Tensor g = test::uniform(Shape{co}, 5, 0.5f, 2.0f, dev), beta = test::uniform(Shape{co}, 6, -1, 1, dev);
  Tensor rm = test::uniform(Shape{co}, 7, -1, 1, dev), rv = test::uniform(Shape{co}, 8, 0.5f, 3.0f, dev);
  const BatchNormParams p{1e-5f, 0.1f};
  NoGradGuard ng;
  for (ConvAlgo algo : {ConvAlgo::TensorTF32, ConvAlgo::TensorBF16}) {
    cuda::set_conv_algo(algo);
    for (bool bn : {true, false}) {
      const Tensor none, gg = bn ? g : none;
      set_profiling(true);
      profile_reset();
      const Tensor got = ops::conv3d_eval(a, b, w, bias, gg, beta, rm, rv, p, true);
      const std::string profile = profile_report();
      set_profiling(false);
      Tensor want = ops::conv3d(ops::concat_channels(a, b), w, bias);
      want = bn ? ops::batch_norm(want, g, beta, rm, rv, false, p, true) : ops::relu(want);
      EXPECT_TRUE(test::all_close(got.to_vector<float>(), want.to_vector<float>(), 1e-6)) << "bn=" << bn;
      EXPECT_NE(profile.find("conv3d_forward_eval"), std::string::npos) << profile;
      EXPECT_EQ(profile.find("batchnorm"), std::string::npos) << profile;
      EXPECT_EQ(profile.find("copy_channels"), std::string::npos) << profile;  // no concatenation
    }
  }
  cuda::set_conv_algo(ConvAlgo::Simt);
}
#endif

TEST(Conv3dEval, WithGradientsFallsBackToTheComposedOps) {
  Tensor a = test::uniform(Shape{1, 2, 3, 4, 5}, 1), b = test::uniform(Shape{1, 1, 3, 4, 5}, 2);
  Tensor w = test::uniform(Shape{2, 3, 3, 3, 3}, 3), bias = test::uniform(Shape{2}, 4);
  w.set_requires_grad(true);
  const Tensor none;
  // No batch norm: conv3d + relu, differentiable.
  Tensor y = ops::conv3d_eval(a, b, w, bias, none, none, none, none, {}, true);
  EXPECT_TRUE(y.requires_grad());
  ops::sum(y).backward();
  EXPECT_TRUE(w.grad().defined());
}

}  // namespace
}  // namespace sse
