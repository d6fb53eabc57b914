// bfloat16 storage (DType::BF16 activations under --precision bf16): every kernel that writes bf16
// gives, bit for bit, the float kernel's result rounded once (bf16_bits, kernels/low_precision.h),
// and one that reads bf16 gives the float kernel's result on the widened values — on the CPU, and on
// CUDA (a GPU or the emulator), which must also equal the CPU bit for bit. Exact, because the bf16
// forms compute in float the same expressions as the float kernels and only convert on load and store.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/batchnorm.h"
#include "kernels/conv3d.h"
#include "kernels/conv_transpose3d.h"
#include "kernels/channels.h"
#include "kernels/dropout.h"
#include "kernels/elementwise.h"
#include "kernels/maxpool.h"
#include "tests/kernels/cuda_test_util.h"
#include "tests/support/cuda_buffers.h"
#if SSE_WITH_CUDA
#include "kernels/cuda/wgrad_brick.cuh"
#include "kernels/cuda/wx_brick.cuh"
#endif

namespace sse {
namespace {

using test::bit_equal;
using test::rnd;

std::vector<bf16_t> narrow(const std::vector<float>& v) {
  std::vector<bf16_t> r;
  for (float x : v) r.push_back(bf16_t{bf16_bits(x)});
  return r;
}

std::vector<float> widen(const std::vector<bf16_t>& v) {
  std::vector<float> r;
  for (bf16_t x : v) r.push_back(bf16_value(x.bits));
  return r;
}

std::vector<std::uint16_t> bits(const std::vector<bf16_t>& v) {
  std::vector<std::uint16_t> r;
  for (bf16_t x : v) r.push_back(x.bits);
  return r;
}

TEST(Bf16Storage, CastRoundsToNearestEvenAndWidensExactly) {
  const float inf = std::numeric_limits<float>::infinity();
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even 1; 1 + 3·2^-8 to 1 + 2^-6.
  const std::vector<float> x = {1.0f, 1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, -2.5f, 0x1p-130f, 3.4e38f, inf, -0.0f};
  // 2^-130 is a subnormal both ways (0x0008); 3.4e38 is past the largest finite bfloat16 (≈ 3.39e38).
  const std::vector<std::uint16_t> want = {0x3f80, 0x3f80, 0x3f82, 0xc020, 0x0008, 0x7f80, 0x7f80, 0x8000};
  std::vector<bf16_t> y(x.size());
  cpu::cast(x.data(), y.data(), static_cast<index_t>(x.size()));
  EXPECT_EQ(bits(y), want);
  EXPECT_EQ(bits(narrow(x)), want);  // the reference the CUDA tests below round with
  std::vector<float> back(x.size());
  cpu::cast(y.data(), back.data(), static_cast<index_t>(x.size()));
  EXPECT_TRUE(bit_equal(back, widen(y)));
  std::vector<float> nan = {std::nanf("")};
  cpu::cast(nan.data(), y.data(), 1);
  EXPECT_TRUE(std::isnan(bf16_value(y[0].bits)));
}

#if SSE_WITH_CUDA
using test::DeviceBuffer;

class Bf16StorageCuda : public ::testing::Test {
 protected:
  void SetUp() override { SSE_REQUIRE_CUDA(); }
};

TEST_F(Bf16StorageCuda, CastMatchesCpu) {
  const auto x = rnd(1003, 1, -300.0f, 300.0f);
  std::vector<bf16_t> y(x.size());
  cpu::cast(x.data(), y.data(), static_cast<index_t>(x.size()));
  DeviceBuffer<float> dx(x);
  DeviceBuffer<bf16_t> dy(x.size());
  cuda::cast(dx.get(), dy.get(), static_cast<index_t>(x.size()), nullptr);
  EXPECT_EQ(bits(dy.to_host()), bits(y));
  DeviceBuffer<float> dback(x.size());
  cuda::cast(dy.get(), dback.get(), static_cast<index_t>(x.size()), nullptr);
  EXPECT_TRUE(bit_equal(dback.to_host(), widen(y)));
}

TEST_F(Bf16StorageCuda, ConcatenationCopiesRoundOnce) {
  const ChannelCopy cc{2, 3, 5, 1, 7};
  const auto src = rnd(cc.n * cc.c_src * cc.s, 2), dst0 = rnd(cc.n * cc.c_dst * cc.s, 3);
  std::vector<float> want = dst0;
  cpu::copy_channels(cc, src.data(), want.data());
  const std::vector<bf16_t> src16 = narrow(src), dst16 = narrow(dst0);

  std::vector<bf16_t> from32 = dst16, from16 = dst16;  // a float part and a bf16 part
  cpu::copy_channels(cc, src.data(), from32.data());
  cpu::copy_channels(cc, src16.data(), from16.data());
  EXPECT_EQ(bits(from32), bits(narrow(want)));
  EXPECT_EQ(bits(from16), bits(narrow(want)));

  DeviceBuffer<float> d_src(src);
  DeviceBuffer<bf16_t> d_src16(src16), d_a(dst16), d_b(dst16);
  cuda::copy_channels(cc, d_src.get(), d_a.get(), nullptr);
  cuda::copy_channels(cc, d_src16.get(), d_b.get(), nullptr);
  EXPECT_EQ(bits(d_a.to_host()), bits(from32));
  EXPECT_EQ(bits(d_b.to_host()), bits(from16));
}

TEST_F(Bf16StorageCuda, MaxPoolPoolsTheStoredValues) {
  const Pool3dShape s{2, 3, 4, 6, 10};
  // Coarse values make ties within windows common (the first maximum's index wins).
  std::vector<float> x = rnd(s.n * s.c * s.d * s.h * s.w, 4, -4.0f, 4.0f);
  for (float& v : x) v = std::round(v);
  const std::vector<bf16_t> x16 = narrow(x);
  const std::size_t out = static_cast<std::size_t>(s.n * s.c * s.out_voxels());
  std::vector<float> y(out);
  std::vector<std::int32_t> idx(out), idx16(out);
  std::vector<bf16_t> y16(out);
  cpu::maxpool3d_forward(s, widen(x16).data(), y.data(), idx.data());
  cpu::maxpool3d_forward(s, x16.data(), y16.data(), idx16.data());
  EXPECT_EQ(bits(y16), bits(narrow(y)));
  EXPECT_EQ(idx16, idx);

  DeviceBuffer<bf16_t> dx(x16), dy(out);
  DeviceBuffer<std::int32_t> didx(out);
  cuda::maxpool3d_forward(s, dx.get(), dy.get(), didx.get(), nullptr);
  EXPECT_EQ(bits(dy.to_host()), bits(y16));
  EXPECT_EQ(didx.to_host(), idx);
}

TEST_F(Bf16StorageCuda, DropoutRoundsTheScaledValue) {
  const DropoutParams d{0.3f, 77, 5};
  const index_t n = 1001;  // odd: the CPU's float path mixes AVX2 groups and a scalar tail
  const std::vector<bf16_t> x16 = narrow(rnd(n, 5, -3.0f, 3.0f));
  std::vector<float> y(static_cast<std::size_t>(n));
  std::vector<bf16_t> y16(static_cast<std::size_t>(n));
  cpu::dropout_forward(d, widen(x16).data(), y.data(), n);
  cpu::dropout_forward(d, x16.data(), y16.data(), n);
  EXPECT_EQ(bits(y16), bits(narrow(y)));
  const auto dropped = std::count_if(y16.begin(), y16.end(), [](bf16_t v) { return v.bits == 0; });
  EXPECT_GT(dropped, n / 5);
  EXPECT_LT(dropped, n / 2);

  DeviceBuffer<bf16_t> dx(x16), dy(static_cast<std::size_t>(n));
  cuda::dropout_forward(d, dx.get(), dy.get(), n, nullptr);
  EXPECT_EQ(bits(dy.to_host()), bits(y16));
}

TEST_F(Bf16StorageCuda, BatchNormStoresItsOutputRoundedOnce) {
  const BatchNormShape sh{2, 3, 211};
  const BatchNormParams p{1e-5f, 0.1f};
  const auto x = rnd(sh.n * sh.c * sh.s, 6, -2.0f, 3.0f), gamma = rnd(sh.c, 7, 0.5f, 1.5f), beta = rnd(sh.c, 8);
  const std::size_t nx = x.size(), c = static_cast<std::size_t>(sh.c);
  for (bool relu : {false, true}) {
    SCOPED_TRACE(relu ? "relu" : "no relu");
    // The same device, float and bf16 outputs: the same statistics, the outputs one rounding apart.
    std::vector<float> rm(c, 0.0f), rv(c, 1.0f), rm16 = rm, rv16 = rv, y(nx), mean(c), inv(c), mean16(c), inv16(c);
    std::vector<bf16_t> y16(nx);
    cpu::batchnorm_forward_train(sh, p, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), relu, y.data(),
                                 mean.data(), inv.data());
    cpu::batchnorm_forward_train(sh, p, x.data(), gamma.data(), beta.data(), rm16.data(), rv16.data(), relu,
                                 y16.data(), mean16.data(), inv16.data());
    EXPECT_EQ(bits(y16), bits(narrow(y)));
    EXPECT_TRUE(bit_equal(mean16, mean));
    EXPECT_TRUE(bit_equal(rv16, rv));

    DeviceBuffer<float> d_x(x), d_g(gamma), d_b(beta), d_rm(std::vector<float>(c, 0.0f)), d_rv(std::vector<float>(c, 1.0f));
    DeviceBuffer<float> d_y(nx), d_mean(c), d_inv(c), d_rm16(std::vector<float>(c, 0.0f)),
        d_rv16(std::vector<float>(c, 1.0f)), d_mean16(c), d_inv16(c);
    DeviceBuffer<bf16_t> d_y16(nx);
    cuda::batchnorm_forward_train(sh, p, d_x.get(), d_g.get(), d_b.get(), d_rm.get(), d_rv.get(), relu, d_y.get(),
                                  d_mean.get(), d_inv.get(), nullptr);
    cuda::batchnorm_forward_train(sh, p, d_x.get(), d_g.get(), d_b.get(), d_rm16.get(), d_rv16.get(), relu,
                                  d_y16.get(), d_mean16.get(), d_inv16.get(), nullptr);
    EXPECT_EQ(bits(d_y16.to_host()), bits(narrow(d_y.to_host())));
    EXPECT_TRUE(bit_equal(d_mean16.to_host(), d_mean.to_host()));

    // The synchronized form's normalize from given statistics: CUDA equals the CPU bit for bit.
    std::vector<bf16_t> n16(nx);
    cpu::batchnorm_normalize(sh, x.data(), gamma.data(), beta.data(), mean.data(), inv.data(), relu, n16.data());
    EXPECT_EQ(bits(n16), bits(y16));
    DeviceBuffer<float> d_m(mean), d_i(inv);
    DeviceBuffer<bf16_t> d_n16(nx);
    cuda::batchnorm_normalize(sh, d_x.get(), d_g.get(), d_b.get(), d_m.get(), d_i.get(), relu, d_n16.get(), nullptr);
    EXPECT_EQ(bits(d_n16.to_host()), bits(n16));
  }
}

// The brick kernels with a bfloat16 operand (BF16 math) against their float form on the widened
// values: the same bits, for every tile and split, at sizes with partial bricks, partial channel
// chunks and partial tiles. Other maths refuse a bfloat16 operand.
TEST_F(Bf16StorageCuda, BrickKernelsReadBf16AsStored) {
  const auto math = cuda::BrickMath::BF16;
  for (const Conv3dShape& s : {Conv3dShape{2, 8, 16, 3, 9, 17, 3}, Conv3dShape{1, 24, 40, 2, 5, 6, 3}}) {
    SCOPED_TRACE(testing::Message() << "c_in " << s.c_in << " c_out " << s.c_out);
    const std::vector<bf16_t> x16 = narrow(rnd(s.n * s.c_in * s.voxels(), 11, -2.0f, 2.0f));
    const std::vector<float> xw = widen(x16), w = rnd(s.c_out * s.c_in * 27, 12, -0.3f, 0.3f),
                             b = rnd(s.c_out, 13), dy = rnd(s.n * s.c_out * s.voxels(), 14);
    DeviceBuffer<bf16_t> d_x16(x16);
    DeviceBuffer<float> d_xw(xw), d_w(w), d_b(b), d_dy(dy);
    const std::size_t ny = static_cast<std::size_t>(s.n * s.c_out * s.voxels()), nw = w.size();
    for (cuda::WxTile tile : {cuda::WxTile::Small, cuda::WxTile::Medium, cuda::WxTile::Large}) {
      DeviceBuffer<float> want(ny), got(ny);
      cuda::brick_conv3_wx(s, false, d_xw.get(), d_w.get(), d_b.get(), want.get(), math, nullptr, tile);
      cuda::brick_conv3_wx(s, d_x16.get(), d_w.get(), d_b.get(), got.get(), math, nullptr, tile);
      EXPECT_TRUE(bit_equal(got.to_host(), want.to_host())) << "forward, tile " << static_cast<int>(tile);
    }
    for (int slices : {1, 3}) {
      DeviceBuffer<float> want(nw), got(nw);
      cuda::brick_wgrad_conv3(s, d_xw.get(), d_dy.get(), want.get(), math, nullptr, cuda::BrickTile::Auto, slices);
      cuda::brick_wgrad_conv3(s, d_x16.get(), d_dy.get(), got.get(), math, nullptr, cuda::BrickTile::Auto, slices);
      EXPECT_TRUE(bit_equal(got.to_host(), want.to_host())) << "weight gradient, slices " << slices;
    }
    DeviceBuffer<float> out(ny);
    EXPECT_THROW(cuda::brick_conv3_wx(s, d_x16.get(), d_w.get(), nullptr, out.get(), cuda::BrickMath::TF32, nullptr),
                 KernelError);
  }
  const ConvT3dShape u{2, 16, 8, 2, 3, 9};  // the transposed convolution's x is its A operand
  const std::vector<bf16_t> x16 = narrow(rnd(u.n * u.c_in * u.in_voxels(), 15, -2.0f, 2.0f));
  const std::vector<float> dy = rnd(u.n * u.c_out * u.out_voxels(), 16);
  DeviceBuffer<bf16_t> d_x16(x16);
  DeviceBuffer<float> d_xw(widen(x16)), d_dy(dy), want(static_cast<std::size_t>(u.c_in * u.c_out * 8)),
      got(want.size());
  cuda::brick_wgrad_up2(u, d_xw.get(), d_dy.get(), want.get(), math, nullptr);
  cuda::brick_wgrad_up2(u, d_x16.get(), d_dy.get(), got.get(), math, nullptr);
  EXPECT_TRUE(bit_equal(got.to_host(), want.to_host())) << "transposed weight gradient";
  EXPECT_THROW(cuda::brick_wgrad_up2(u, d_x16.get(), d_dy.get(), got.get(), cuda::BrickMath::Simt, nullptr), KernelError);
}

// Where the convolutions read bfloat16 as stored: TensorBF16, k = 3, both directions on the bricks.
TEST_F(Bf16StorageCuda, ConvolutionsReadBf16WhereTheBrickKernelsRunUnderBf16) {
  const ConvAlgo before = cuda::conv_algo();
  const Conv3dShape layer{1, 64, 64, 8, 8, 8, 3}, first{1, 1, 32, 8, 8, 8, 3}, head{1, 64, 3, 8, 8, 8, 1};
  cuda::set_conv_algo(ConvAlgo::TensorBF16);
  EXPECT_TRUE(cuda::conv3d_reads_bf16(layer));
  EXPECT_FALSE(cuda::conv3d_reads_bf16(first));  // one input channel: the implicit GEMM
  EXPECT_FALSE(cuda::conv3d_reads_bf16(head));    // k = 1
  EXPECT_TRUE(cuda::conv_transpose3d_wgrad_reads_bf16(ConvT3dShape{1, 128, 64, 4, 4, 4}));
  cuda::set_conv_algo(ConvAlgo::TensorTF32);
  EXPECT_FALSE(cuda::conv3d_reads_bf16(layer));
  EXPECT_FALSE(cuda::conv_transpose3d_wgrad_reads_bf16(ConvT3dShape{1, 128, 64, 4, 4, 4}));
  DeviceBuffer<bf16_t> x(static_cast<std::size_t>(layer.c_in * layer.voxels()));
  DeviceBuffer<float> w(static_cast<std::size_t>(64 * 64 * 27)), y(static_cast<std::size_t>(64 * layer.voxels()));
  EXPECT_THROW(cuda::conv3d_forward(layer, x.get(), w.get(), nullptr, y.get(), nullptr), KernelError);
  cuda::set_conv_algo(before);
}
#endif  // SSE_WITH_CUDA

}  // namespace
}  // namespace sse
