// The CUDA focal+Dice kernels against the CPU reference (kernels/focal_dice.h), at the kernel level:
// several chunks per image with a ragged last one, the generic C path, bad labels, λ ≠ 1; and bit-for-
// bit repeatability on the device (under every fiber schedule of the emulator in the SIM build).
// Runs where the build has a CUDA backend and a device (the emulator counts as one); skips elsewhere.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "kernels/focal_dice.h"
#include "tests/support/test_util.h"

#if SSE_WITH_CUDA
#include "engine/cuda_context.h"
#endif
#if SSE_CUDA_SIM
#include "kernels/sim/sim.h"
#endif

namespace sse {
namespace {

struct Case {
  FocalDiceShape sh;
  FocalDiceParams prm;
};

[[maybe_unused]] std::vector<Case> cases() {
  std::vector<Case> v;
  for (float g : {0.0f, 2.0f, 8.0f})
    for (bool pc : {false, true}) {
      FocalDiceParams p;
      p.gamma = g;
      p.per_class = pc;
      p.ignore_index = 255;
      v.push_back({{2, 3, 17 * 19 * 23}, p});  // several chunks per image, the last one ragged
    }
  FocalDiceParams p;
  p.gamma = 5.0f;
  p.lambda_a = 0.5f;
  p.lambda_b = 2.0f;
  p.ignore_index = 255;
  v.push_back({{1, 4, 5000}, p});  // the generic (run-time C) kernels
  p.per_class = true;
  v.push_back({{3, 3, 100}, p});   // tiny images: one partial chunk each
  p.gamma = 1.0f;
  v.push_back({{1, 2, 9000}, p});  // one foreground class
  p.gamma = 5.0f;
  p.per_class = false;
  v.push_back({{2, 3, 4 * 1031}, p});  // the CUDA float4 passes (S % 4 = 0): whole chunks, a ragged last
  return v;
}

struct Out {
  std::vector<float> stats, grad;
};

struct Inputs {
  Tensor logits, labels;
};

[[maybe_unused]] Inputs inputs(const FocalDiceShape& sh, std::uint64_t seed, int bad_labels) {
  const std::vector<float> u = test::uniform(Shape{sh.n * sh.s}, seed, 0.0f, 1.0f).to_vector<float>();
  std::vector<std::int32_t> l(u.size());
  for (std::size_t i = 0; i < u.size(); ++i) {
    const float r = u[i];
    l[i] = r < 0.08f ? 255 : r < 0.7f ? 0 : static_cast<std::int32_t>(1 + (r - 0.7f) / 0.3f * (sh.c - 1));
    if (l[i] >= sh.c && l[i] != 255) l[i] = sh.c - 1;
  }
  for (int b = 0; b < bad_labels; ++b) l[static_cast<std::size_t>(b * 37 + 5) % l.size()] = 9;
  return {test::uniform(Shape{sh.n, sh.c, sh.s}, seed + 1, -4.0f, 4.0f),
          Tensor::from_vector(l, Shape{sh.n, sh.s})};
}

[[maybe_unused]] Out run_cpu(const Case& c, const Inputs& in) {
  Out o;
  std::vector<float> partials(static_cast<std::size_t>(focal_dice_partials_size(c.sh)));
  o.stats.resize(static_cast<std::size_t>(focal_dice_stats_size(c.sh)));
  o.grad.resize(static_cast<std::size_t>(in.logits.numel()));
  const float g = 1.5f;
  // in place: the probabilities of pass 1 become the gradient
  cpu::focal_dice_forward(c.sh, c.prm, in.logits.data<float>(), in.labels.data<std::int32_t>(), partials.data(),
                          o.stats.data(), o.grad.data());
  cpu::focal_dice_backward(c.sh, c.prm, o.grad.data(), in.labels.data<std::int32_t>(), o.stats.data(), &g,
                           o.grad.data());
  return o;
}

#if SSE_WITH_CUDA
Out run_cuda(const Case& c, const Inputs& in_host, Device dev) {
  const Tensor x = in_host.logits.to(dev), y = in_host.labels.to(dev);
  Tensor partials = Tensor::empty(Shape{focal_dice_partials_size(c.sh)}, DType::F32, dev);
  Tensor stats = Tensor::empty(Shape{focal_dice_stats_size(c.sh)}, DType::F32, dev);
  Tensor probs = Tensor::empty(x.shape(), DType::F32, dev), grad = Tensor::empty(x.shape(), DType::F32, dev);
  const Tensor g = Tensor::from_vector(std::vector<float>{1.5f}, Shape{}, dev);  // no engine kernel needed
  // out of place here (the CPU run above is in place): both uses of the kernel are covered
  cuda::focal_dice_forward(c.sh, c.prm, x.data<float>(), y.data<std::int32_t>(), partials.data<float>(),
                           stats.data<float>(), probs.data<float>(), cuda_stream(dev));
  cuda::focal_dice_backward(c.sh, c.prm, probs.data<float>(), y.data<std::int32_t>(), stats.data<float>(),
                            g.data<float>(), grad.data<float>(), cuda_stream(dev));
  return {stats.to_vector<float>(), grad.to_vector<float>()};
}
#endif

Device cuda_or_skip() {
  for (const Device& d : test::test_devices())
    if (d.is_cuda()) return d;
  return Device::cpu();
}

TEST(FocalDiceKernel, CudaMatchesCpu) {
  const Device dev = cuda_or_skip();
  if (dev.is_cpu()) GTEST_SKIP() << "no CUDA device in this build";
#if SSE_WITH_CUDA
  std::uint64_t seed = 100;
  for (const Case& c : cases()) {
    SCOPED_TRACE("n=" + std::to_string(c.sh.n) + " c=" + std::to_string(c.sh.c) + " s=" + std::to_string(c.sh.s) +
                 " gamma=" + std::to_string(c.prm.gamma) + (c.prm.per_class ? " per_class" : " pooled"));
    const Inputs in = inputs(c.sh, seed += 10, c.sh.c == 3 ? 3 : 0);
    const Out a = run_cpu(c, in), b = run_cuda(c, in, dev);
    for (int i : {int(kFdLoss), int(kFdFocal), int(kFdDiceLoss), int(kFdFocalCoef)})
      EXPECT_NEAR(b.stats[i], a.stats[i], 1e-6 * std::fabs(a.stats[i])) << "stats[" << i << "]";
    EXPECT_EQ(b.stats[kFdCounted], a.stats[kFdCounted]);
    EXPECT_EQ(b.stats[kFdBadLabels], a.stats[kFdBadLabels]);
    EXPECT_EQ(a.stats[kFdBadLabels], c.sh.c == 3 ? 3.0f : 0.0f);
    EXPECT_TRUE(test::all_close(std::vector<float>(b.stats.begin() + kFdHeader, b.stats.end()),
                                std::vector<float>(a.stats.begin() + kFdHeader, a.stats.end()), 1e-6, 1e-30));
    double scale = 0;
    for (float v : a.grad) scale = std::max(scale, double(std::fabs(v)));
    EXPECT_TRUE(test::all_close(b.grad, a.grad, 1e-5, 1e-3 * scale));
  }
#endif
}

TEST(FocalDiceKernel, CudaRepeatsBitForBit) {
  const Device dev = cuda_or_skip();
  if (dev.is_cpu()) GTEST_SKIP() << "no CUDA device in this build";
#if SSE_WITH_CUDA
  for (const Case& c : {cases().front(), cases().back()}) {  // the scalar and the float4 passes
    const Inputs in = inputs(c.sh, 7, 0);
    const Out ref = run_cuda(c, in, dev);
    auto same = [&](const Out& o) {
      EXPECT_EQ(0, std::memcmp(o.stats.data(), ref.stats.data(), o.stats.size() * sizeof(float)));
      EXPECT_EQ(0, std::memcmp(o.grad.data(), ref.grad.data(), o.grad.size() * sizeof(float)));
    };
    same(run_cuda(c, in, dev));
#if SSE_CUDA_SIM
    // Another fiber order after every barrier exposes a missing __syncthreads as a different result.
    for (sim::Schedule s : {sim::Schedule::reverse(), sim::Schedule::shuffled(1), sim::Schedule::shuffled(2)}) {
      sim::ScopedSchedule scoped(s);
      same(run_cuda(c, in, dev));
    }
#endif
  }
#endif
}

}  // namespace
}  // namespace sse
