// CUDA vs CPU for the layer kernels: channel copies (concat / split), softmax and its backward,
// one-hot, box copy (pad / crop), max-pool and batch norm, at odd sizes with N = 2.
//
// Tolerances, by op: copies, one_hot, box copies and pooling (values and indices) must match bit
// for bit. Softmax calls the same SSE_HD function on both devices; expf differs by a few ulp between
// libms (rtol 1e-5). Batch norm: the GPU's Welford/Chan statistics and the CPU's two-pass double
// statistics agree to ~1e-7 relative, which the normalization scales by |x − mean|·invstd (rtol 1e-5);
// the backward sums are double on both devices (rtol 1e-5; dx forms a difference of O(1) terms: 1e-4).
#include <gtest/gtest.h>

#include <algorithm>

#include "kernels/batchnorm.h"
#include "kernels/box.h"
#include "kernels/channels.h"
#include "kernels/maxpool.h"
#include "tests/kernels/cuda_test_util.h"
#include "tests/support/cuda_buffers.h"

#if SSE_WITH_CUDA
#if SSE_CUDA_SIM
#include "kernels/sim/sim.h"
#endif

namespace sse {
namespace {

using test::bit_equal;
using test::DeviceBuffer;
using test::rnd;

class CudaLayers : public ::testing::Test {
 protected:
  void SetUp() override { SSE_REQUIRE_CUDA(); }
};

TEST_F(CudaLayers, CopyAndGatherChannelsAreExact) {
  // s = 7 makes rows unaligned for float4; s = 8 takes the vector path.
  for (index_t s : {7, 8}) {
    const ChannelCopy cc{2, 3, 5, 1, s};
    const auto src = rnd(cc.n * cc.c_src * s, 1), dst0 = rnd(cc.n * cc.c_dst * s, 2);
    std::vector<float> want = dst0;
    cpu::copy_channels(cc, src.data(), want.data());
    DeviceBuffer<float> dsrc(src), ddst(dst0);
    cuda::copy_channels(cc, dsrc.get(), ddst.get(), nullptr);
    EXPECT_TRUE(bit_equal(ddst.to_host(), want)) << "s=" << s;

    std::vector<float> back(src.size());
    cpu::gather_channels(cc, want.data(), back.data());
    DeviceBuffer<float> dback(src.size());
    cuda::gather_channels(cc, ddst.get(), dback.get(), nullptr);
    EXPECT_TRUE(bit_equal(dback.to_host(), back)) << "s=" << s;
  }
}

TEST_F(CudaLayers, SoftmaxAndBackwardMatchCpu) {
  const index_t n = 2, c = 3, s = 211;
  const auto x = rnd(n * c * s, 3, -4.0f, 4.0f), dy = rnd(n * c * s, 4);
  std::vector<float> y(x.size()), dx(x.size());
  cpu::softmax_channels(n, c, s, x.data(), y.data());
  cpu::softmax_channels_backward(n, c, s, y.data(), dy.data(), dx.data());
  DeviceBuffer<float> dxx(x), dyy(x.size()), ddy(dy), ddx(x.size());
  cuda::softmax_channels(n, c, s, dxx.get(), dyy.get(), nullptr);
  EXPECT_TRUE(test::all_close(dyy.to_host(), y, 1e-5));
  DeviceBuffer<float> dyref(y);  // backward from the CPU's y isolates the backward kernel
  cuda::softmax_channels_backward(n, c, s, dyref.get(), ddy.get(), ddx.get(), nullptr);
  EXPECT_TRUE(test::all_close(ddx.to_host(), dx, 1e-5));
}

TEST_F(CudaLayers, OneHotIsExact) {
  const index_t n = 2, c = 3, s = 101;
  std::vector<std::int32_t> labels(static_cast<std::size_t>(n * s));
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int32_t>(i * 7 % 5) - 1;  // −1..3
  std::vector<float> want(static_cast<std::size_t>(n * c * s));
  cpu::one_hot(n, c, s, labels.data(), -1, want.data());
  DeviceBuffer<std::int32_t> dl(labels);
  DeviceBuffer<float> dy(want.size());
  cuda::one_hot(n, c, s, dl.get(), -1, dy.get(), nullptr);
  EXPECT_TRUE(bit_equal(dy.to_host(), want));
}

TEST_F(CudaLayers, BoxCopyPadsAndCropsExactly) {
  const BoxCopy pad{3, 3, 4, 5, 6, 5, 8, -2, -1, -3};   // destination larger, source offset inside
  const BoxCopy crop{3, 6, 5, 8, 3, 4, 5, 2, 1, 3};     // the adjoint direction
  const BoxCopy mixed{2, 4, 4, 4, 3, 6, 2, -1, 1, 3};   // pads one axis, crops another
  for (const BoxCopy& b : {pad, crop, mixed}) {
    const auto src = rnd(b.planes * b.sd * b.sh * b.sw, 5);
    std::vector<float> want(static_cast<std::size_t>(b.planes * b.dd * b.dh * b.dw));
    cpu::box_copy(b, src.data(), want.data());
    DeviceBuffer<float> ds(src), dd(want.size());
    cuda::box_copy(b, ds.get(), dd.get(), nullptr);
    EXPECT_TRUE(bit_equal(dd.to_host(), want));
  }
}

TEST_F(CudaLayers, MaxPoolForwardBackwardAreExactWithTies) {
  const Pool3dShape s{2, 3, 4, 6, 2};
  auto x = rnd(s.n * s.c * s.d * s.h * s.w, 6);
  for (std::size_t i = 0; i < x.size(); i += 5) x[i] = 0.25f;  // ties: the first in z, y, x order wins
  const index_t ny = s.n * s.c * s.out_voxels();
  std::vector<float> y(static_cast<std::size_t>(ny)), dx(x.size());
  std::vector<std::int32_t> idx(static_cast<std::size_t>(ny));
  cpu::maxpool3d_forward(s, x.data(), y.data(), idx.data());
  const auto dy = rnd(ny, 7);
  cpu::maxpool3d_backward(s, dy.data(), idx.data(), dx.data());

  DeviceBuffer<float> dxx(x), dyy(y.size()), ddy(dy), ddx(x.size());
  DeviceBuffer<std::int32_t> didx(idx.size());
  cuda::maxpool3d_forward(s, dxx.get(), dyy.get(), didx.get(), nullptr);
  EXPECT_TRUE(bit_equal(dyy.to_host(), y));
  EXPECT_TRUE(bit_equal(didx.to_host(), idx));
  cuda::maxpool3d_backward(s, ddy.get(), didx.get(), ddx.get(), nullptr);
  EXPECT_TRUE(bit_equal(ddx.to_host(), dx));
}

TEST_F(CudaLayers, MaxPoolRejectsOddSizes) {
  EXPECT_THROW(cuda::maxpool3d_forward(Pool3dShape{1, 1, 3, 2, 2}, static_cast<const float*>(nullptr), nullptr, nullptr, nullptr), KernelError);
}

// Batch norm at a shape with several pieces per channel in N = 2 images (S > 8192 forces the
// two-level statistics) and at a small odd one; values offset from zero so the mean matters.
struct BnCase {
  index_t n, c, s;
};
const BnCase kBnCases[] = {{2, 3, 5 * 7 * 6}, {2, 2, 9001}};

// A case's inputs (x far from zero mean), drawn from seeds seed .. seed + 3, on host and device.
struct BnInputs {
  BnInputs(const BnCase& k, std::uint64_t seed)
      : sh{k.n, k.c, k.s}, x(rnd(k.n * k.c * k.s, seed, 2.0f, 5.0f)), dy(rnd(k.n * k.c * k.s, seed + 1)),
        gamma(rnd(k.c, seed + 2, 0.5f, 1.5f)), beta(rnd(k.c, seed + 3)), d_x(x), d_dy(dy), d_g(gamma), d_b(beta) {}
  BatchNormShape sh;
  std::vector<float> x, dy, gamma, beta;
  DeviceBuffer<float> d_x, d_dy, d_g, d_b;
};

// With and without the fused ReLU (its mask recomputed from x in backward: the same BnTrainMap on
// both devices, so the masks agree wherever the pre-ReLU values round alike).
TEST_F(CudaLayers, BatchNormTrainForwardBackwardMatchCpu) {
  for (const BnCase& k : kBnCases)
  for (bool relu : {false, true}) {
    SCOPED_TRACE(relu ? "relu" : "no relu");
    BnInputs in(k, 8);
    const BatchNormShape& sh = in.sh;
    const BatchNormParams p{1e-5f, 0.1f};
    const auto &x = in.x, &dy = in.dy, &gamma = in.gamma, &beta = in.beta;
    auto &d_x = in.d_x, &d_dy = in.d_dy, &d_g = in.d_g, &d_b = in.d_b;
    auto rm = rnd(k.c, 12), rv = rnd(k.c, 13, 0.5f, 1.0f);
    std::vector<float> y(x.size()), mean(k.c), invstd(k.c), dx(x.size()), dg(k.c), db(k.c);
    DeviceBuffer<float> d_rm(rm), d_rv(rv);
    DeviceBuffer<float> d_y(x.size()), d_mean(k.c), d_inv(k.c), d_dx(x.size()), d_dg(k.c), d_db(k.c);

    cpu::batchnorm_forward_train(sh, p, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), relu, y.data(),
                                 mean.data(), invstd.data());
    cuda::batchnorm_forward_train(sh, p, d_x.get(), d_g.get(), d_b.get(), d_rm.get(), d_rv.get(), relu, d_y.get(),
                                  d_mean.get(), d_inv.get(), nullptr);
    EXPECT_TRUE(test::all_close(d_y.to_host(), y, 1e-5));
    EXPECT_TRUE(test::all_close(d_mean.to_host(), mean, 1e-6));
    EXPECT_TRUE(test::all_close(d_inv.to_host(), invstd, 1e-5));
    EXPECT_TRUE(test::all_close(d_rm.to_host(), rm, 1e-6));
    EXPECT_TRUE(test::all_close(d_rv.to_host(), rv, 1e-5));

    if (relu) {  // the ReLU clamps a good share of the values (β and x̂ straddle zero)
      const auto zeros = std::count(y.begin(), y.end(), 0.0f);
      EXPECT_GT(zeros, static_cast<long>(y.size() / 5));
      EXPECT_LT(zeros, static_cast<long>(y.size() * 4 / 5));
    }

    cpu::batchnorm_backward_train(sh, x.data(), dy.data(), gamma.data(), beta.data(), mean.data(), invstd.data(), relu,
                                  dx.data(), dg.data(), db.data());
    DeviceBuffer<float> c_mean(mean), c_inv(invstd);  // the CPU's statistics isolate the backward kernels
    cuda::batchnorm_backward_train(sh, d_x.get(), d_dy.get(), d_g.get(), d_b.get(), c_mean.get(), c_inv.get(), relu,
                                   d_dx.get(), d_dg.get(), d_db.get(), nullptr);
    EXPECT_TRUE(test::all_close(d_db.to_host(), db, 1e-5));
    EXPECT_TRUE(test::all_close(d_dg.to_host(), dg, 1e-5));
    EXPECT_TRUE(test::all_close(d_dx.to_host(), dx, 1e-4));
  }
}

std::vector<float> as_floats(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

// The pieces of synchronized batch norm (kernels/batchnorm.h) on both devices, each from the same
// inputs; tolerances as above (moments and sums in double on both; the mean itself to 1e-7).
TEST_F(CudaLayers, BatchNormSynchronizedPiecesMatchCpu) {
  for (const BnCase& k : kBnCases)
  for (bool relu : {false, true}) {
    SCOPED_TRACE(relu ? "relu" : "no relu");
    BnInputs in(k, 18);
    const BatchNormShape& sh = in.sh;
    const BatchNormParams p{1e-5f, 0.1f};
    const auto &x = in.x, &dy = in.dy, &gamma = in.gamma, &beta = in.beta;
    auto &d_x = in.d_x, &d_dy = in.d_dy, &d_g = in.d_g, &d_b = in.d_b;
    std::vector<double> moments(static_cast<std::size_t>(3 * k.c));
    DeviceBuffer<double> d_moments(moments.size());
    cpu::batchnorm_moments(sh, x.data(), moments.data());
    cuda::batchnorm_moments(sh, d_x.get(), d_moments.get(), nullptr);
    EXPECT_TRUE(test::all_close(as_floats(d_moments.to_host()), as_floats(moments), 1e-6));

    // A merged count twice this part's (another rank's part alike), as the engine passes them.
    for (index_t c = 0; c < k.c; ++c) {
      moments[static_cast<std::size_t>(3 * c)] *= 2;
      moments[static_cast<std::size_t>(3 * c + 2)] *= 2;
    }
    auto rm = rnd(k.c, 22), rv = rnd(k.c, 23, 0.5f, 1.0f);
    std::vector<float> mean(k.c), invstd(k.c), y(x.size()), dx(x.size());
    DeviceBuffer<double> c_moments(moments);
    DeviceBuffer<float> d_rm(rm), d_rv(rv), d_mean(k.c), d_inv(k.c), d_y(x.size()), d_dx(x.size());
    cpu::batchnorm_finalize(k.c, p, moments.data(), rm.data(), rv.data(), mean.data(), invstd.data());
    cuda::batchnorm_finalize(k.c, p, c_moments.get(), d_rm.get(), d_rv.get(), d_mean.get(), d_inv.get(), nullptr);
    EXPECT_TRUE(bit_equal(d_mean.to_host(), mean));  // the same SSE_HD function on the same doubles
    EXPECT_TRUE(test::all_close(d_inv.to_host(), invstd, 1e-6));
    EXPECT_TRUE(test::all_close(d_rm.to_host(), rm, 1e-6));
    EXPECT_TRUE(test::all_close(d_rv.to_host(), rv, 1e-6));

    DeviceBuffer<float> c_mean(mean), c_inv(invstd);
    cpu::batchnorm_normalize(sh, x.data(), gamma.data(), beta.data(), mean.data(), invstd.data(), relu, y.data());
    cuda::batchnorm_normalize(sh, d_x.get(), d_g.get(), d_b.get(), c_mean.get(), c_inv.get(), relu, d_y.get(),
                              nullptr);
    EXPECT_TRUE(test::all_close(d_y.to_host(), y, 1e-5));

    std::vector<double> sums(static_cast<std::size_t>(2 * k.c));
    DeviceBuffer<double> d_sums(sums.size());
    cpu::batchnorm_grad_sums(sh, x.data(), dy.data(), gamma.data(), beta.data(), mean.data(), invstd.data(), relu,
                             sums.data());
    cuda::batchnorm_grad_sums(sh, d_x.get(), d_dy.get(), d_g.get(), d_b.get(), c_mean.get(), c_inv.get(), relu,
                              d_sums.get(), nullptr);
    EXPECT_TRUE(test::all_close(as_floats(d_sums.to_host()), as_floats(sums), 1e-5));

    std::vector<float> sdy(k.c), sdyx(k.c);
    for (index_t c = 0; c < k.c; ++c) {
      sdy[static_cast<std::size_t>(c)] = static_cast<float>(2 * sums[static_cast<std::size_t>(2 * c)]);
      sdyx[static_cast<std::size_t>(c)] = static_cast<float>(2 * sums[static_cast<std::size_t>(2 * c + 1)]);
    }
    DeviceBuffer<float> d_sdy(sdy), d_sdyx(sdyx);
    const double count = 2.0 * static_cast<double>(k.n * k.s);
    cpu::batchnorm_grad_input(sh, count, x.data(), dy.data(), gamma.data(), beta.data(), mean.data(), invstd.data(),
                              relu, sdy.data(), sdyx.data(), dx.data());
    cuda::batchnorm_grad_input(sh, count, d_x.get(), d_dy.get(), d_g.get(), d_b.get(), c_mean.get(), c_inv.get(), relu,
                               d_sdy.get(), d_sdyx.get(), d_dx.get(), nullptr);
    EXPECT_TRUE(test::all_close(d_dx.to_host(), dx, 1e-5));
  }
}

TEST_F(CudaLayers, BatchNormEvalWithAndWithoutRelu) {
  const BatchNormShape sh{2, 3, 37};
  const BatchNormParams p{1e-5f, 0.1f};
  const auto x = rnd(sh.n * sh.c * sh.s, 14), gamma = rnd(3, 15), beta = rnd(3, 16);
  const auto rm = rnd(3, 17), rv = rnd(3, 18, 0.5f, 2.0f);
  for (bool relu : {false, true}) {
    std::vector<float> want(x.size());
    cpu::batchnorm_forward_eval(sh, p, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), relu, want.data());
    DeviceBuffer<float> d_x(x), d_g(gamma), d_b(beta), d_rm(rm), d_rv(rv), d_y(x.size());
    cuda::batchnorm_forward_eval(sh, p, d_x.get(), d_g.get(), d_b.get(), d_rm.get(), d_rv.get(), relu, d_y.get(),
                                 nullptr);
    EXPECT_TRUE(test::all_close(d_y.to_host(), want, 1e-6)) << "relu=" << relu;
  }
}

TEST_F(CudaLayers, BatchNormStatisticsAreDeterministic) {
  const BatchNormShape sh{2, 2, 9001};
  const auto x = rnd(sh.n * sh.c * sh.s, 19);
  const auto ones = std::vector<float>(2, 1.0f), zeros = std::vector<float>(2, 0.0f);
  std::vector<float> first;
  for (int run = 0; run < 2; ++run) {
    DeviceBuffer<float> d_x(x), d_g(ones), d_b(zeros), d_rm(zeros), d_rv(ones), d_y(x.size()), d_m(2), d_i(2);
    cuda::batchnorm_forward_train(sh, BatchNormParams{}, d_x.get(), d_g.get(), d_b.get(), d_rm.get(), d_rv.get(),
                                  false, d_y.get(), d_m.get(), d_i.get(), nullptr);
    auto stats = d_m.to_host();
    const auto inv = d_i.to_host();
    stats.insert(stats.end(), inv.begin(), inv.end());
    if (run == 0) first = stats;
    else EXPECT_TRUE(bit_equal(stats, first));
  }
}

#if SSE_CUDA_SIM
// A missing barrier in the block-level merges shows as results that depend on the order the emulator
// resumes threads in: forward, reversed and shuffled orders must give the same bits (with the fused
// ReLU, as the U-Net runs it).
TEST_F(CudaLayers, BatchNormDoesNotDependOnThreadOrder) {
  const BatchNormShape sh{2, 2, 9001};
  const auto x = rnd(sh.n * sh.c * sh.s, 20), dy = rnd(sh.n * sh.c * sh.s, 21);
  const auto ones = std::vector<float>(2, 1.0f), zeros = std::vector<float>(2, 0.0f);
  auto run = [&] {
    DeviceBuffer<float> d_x(x), d_dy(dy), d_g(ones), d_b(zeros), d_rm(zeros), d_rv(ones), d_y(x.size()), d_m(2),
        d_i(2), d_dx(x.size()), d_dg(2), d_db(2);
    cuda::batchnorm_forward_train(sh, BatchNormParams{}, d_x.get(), d_g.get(), d_b.get(), d_rm.get(), d_rv.get(),
                                  true, d_y.get(), d_m.get(), d_i.get(), nullptr);
    cuda::batchnorm_backward_train(sh, d_x.get(), d_dy.get(), d_g.get(), d_b.get(), d_m.get(), d_i.get(), true,
                                   d_dx.get(), d_dg.get(), d_db.get(), nullptr);
    auto out = d_y.to_host();
    for (const auto* b : {&d_m, &d_i, &d_dx, &d_dg, &d_db}) {
      const auto h = b->to_host();
      out.insert(out.end(), h.begin(), h.end());
    }
    return out;
  };
  const auto base = run();
  for (const sim::Schedule& sched : {sim::Schedule::reverse(), sim::Schedule::shuffled(3)}) {
    const sim::ScopedSchedule scoped(sched);
    EXPECT_TRUE(bit_equal(run(), base));
  }
}
#endif  // SSE_CUDA_SIM

}  // namespace
}  // namespace sse

#endif  // SSE_WITH_CUDA
