// CUDA vs CPU for the bandwidth-bound kernels: element-wise maps, dropout, optimizer steps and the
// deterministic reductions. Sizes are odd (not multiples of the float4 width or the block size) and
// include unaligned pointers, so the vector and scalar tails of every kernel run.
//
// Tolerances, by op: copies, fills, masks and IEEE-exact operations (+ − × ÷, max, relu, dropout's
// x·scale) must match bit for bit; transcendental functions (expf, logf, powf) differ by a few ulp
// between the GPU's and glibc's libm (rtol 4e-6); expressions nvcc may contract into an FMA (axpby,
// Adam, SGD) differ by one rounding (rtol 1e-6 of max(|x|, 1)); sums accumulate in double on both
// devices, so they agree to float rounding (rtol 1e-6).
#include <gtest/gtest.h>

#include "kernels/dropout.h"
#include "kernels/elementwise.h"
#include "kernels/optim.h"
#include "kernels/reduce.h"
#include "tests/kernels/cuda_test_util.h"
#include "tests/support/cuda_buffers.h"

#if SSE_WITH_CUDA

namespace sse {
namespace {

using test::bit_equal;
using test::DeviceBuffer;
using test::rnd;

constexpr index_t kOdd = 1037;  // neither a multiple of 4 nor of the block size

class CudaPointwise : public ::testing::Test {
 protected:
  void SetUp() override { SSE_REQUIRE_CUDA(); }
};

TEST_F(CudaPointwise, FillAlignedAndUnaligned) {
  for (index_t off : {0, 1}) {
    DeviceBuffer<float> d(static_cast<std::size_t>(kOdd + 1));
    cuda::fill(d.get() + off, kOdd, 2.5f, nullptr);
    const auto h = d.to_host();
    for (index_t i = off; i < kOdd + off; ++i) ASSERT_EQ(h[i], 2.5f) << i;
  }
}

TEST_F(CudaPointwise, UnaryMatchesCpu) {
  const auto x = rnd(kOdd, 1, 0.1f, 2.0f);  // positive: Log, Pow and Recip stay finite
  for (Unary op : {Unary::Neg, Unary::Exp, Unary::Log, Unary::Scale, Unary::AddScalar, Unary::Pow, Unary::Relu,
                   Unary::Square, Unary::Recip}) {
    std::vector<float> want(x.size());
    cpu::unary(op, x.data(), want.data(), kOdd, 1.7f);
    DeviceBuffer<float> dx(x), dy(x.size());
    cuda::unary(op, dx.get(), dy.get(), kOdd, 1.7f, nullptr);
    EXPECT_TRUE(test::all_close(dy.to_host(), want, 4e-6)) << "op " << static_cast<int>(op);
  }
}

TEST_F(CudaPointwise, BinaryIsExactAndInPlaceWorks) {
  const auto a = rnd(kOdd, 2), b = rnd(kOdd, 3, 0.5f, 1.5f);
  for (Binary op : {Binary::Add, Binary::Sub, Binary::Mul, Binary::Div, Binary::ReluGrad, Binary::Max}) {
    std::vector<float> want(a.size());
    cpu::binary(op, a.data(), b.data(), want.data(), kOdd);
    DeviceBuffer<float> da(a), db(b);
    cuda::binary(op, da.get(), db.get(), da.get(), kOdd, nullptr);  // in place: y == a
    EXPECT_TRUE(bit_equal(da.to_host(), want)) << "op " << static_cast<int>(op);
  }
}

TEST_F(CudaPointwise, AxpbyOnUnalignedPointers) {
  const auto x = rnd(kOdd + 1, 4), y0 = rnd(kOdd + 1, 5);
  std::vector<float> want = y0;
  cpu::axpby(0.3f, x.data() + 1, -1.25f, want.data() + 1, kOdd);
  DeviceBuffer<float> dx(x), dy(y0);
  cuda::axpby(0.3f, dx.get() + 1, -1.25f, dy.get() + 1, kOdd, nullptr);
  EXPECT_TRUE(test::all_close(dy.to_host(), want, 1e-6));
}

TEST_F(CudaPointwise, DropoutMaskIsTheCpuMask) {
  const auto x = rnd(kOdd, 6);
  for (float p : {0.0f, 0.5f, 0.9f}) {
    const DropoutParams d{p, 1234, 7};
    std::vector<float> want(x.size()), want_back(x.size());
    cpu::dropout_forward(d, x.data(), want.data(), kOdd);
    cpu::dropout_backward(d, x.data(), want_back.data(), kOdd);
    DeviceBuffer<float> dx(x), dy(x.size()), dback(x.size());
    cuda::dropout_forward(d, dx.get(), dy.get(), kOdd, nullptr);
    cuda::dropout_backward(d, dx.get(), dback.get(), kOdd, nullptr);
    EXPECT_TRUE(bit_equal(dy.to_host(), want)) << "p=" << p;
    EXPECT_TRUE(bit_equal(dback.to_host(), want_back)) << "p=" << p;
  }
}

TEST_F(CudaPointwise, AdamMatchesCpuBothDecays) {
  for (bool decoupled : {false, true}) {
    const AdamStep a{1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, decoupled, 3};
    auto theta = rnd(kOdd, 7), m = rnd(kOdd, 8, -0.1f, 0.1f), v = rnd(kOdd, 9, 0.0f, 0.01f);
    const auto g = rnd(kOdd, 10);
    DeviceBuffer<float> dt(theta), dg(g), dm(m), dv(v);
    cpu::adam_step(a, theta.data(), g.data(), m.data(), v.data(), kOdd);
    cuda::adam_step(a, dt.get(), dg.get(), dm.get(), dv.get(), kOdd, nullptr);
    EXPECT_TRUE(test::all_close(dt.to_host(), theta, 1e-6));
    EXPECT_TRUE(test::all_close(dm.to_host(), m, 1e-6));
    EXPECT_TRUE(test::all_close(dv.to_host(), v, 1e-6));
  }
}

TEST_F(CudaPointwise, SgdMatchesCpu) {
  const SgdStep s{0.1f, 0.9f, 0.01f};
  auto theta = rnd(kOdd, 11), buf = rnd(kOdd, 12);
  const auto g = rnd(kOdd, 13);
  DeviceBuffer<float> dt(theta), dg(g), db(buf);
  cpu::sgd_step(s, theta.data(), g.data(), buf.data(), kOdd);
  cuda::sgd_step(s, dt.get(), dg.get(), db.get(), kOdd, nullptr);
  EXPECT_TRUE(test::all_close(dt.to_host(), theta, 1e-6));
  EXPECT_TRUE(test::all_close(db.to_host(), buf, 1e-6));
}

// Sizes chosen to take every path of the segmented sum: one thread per tiny segment, several short
// rows per piece, one piece per row, and rows longer than a piece (two-stage with partials).
struct Seg {
  index_t outer, mid, inner;
};

TEST_F(CudaPointwise, SumMidAllPaths) {
  for (const Seg& g : {Seg{2, 3, 5}, Seg{3, 4, 97}, Seg{40, 3, 301}, Seg{2, 3, 9000}, Seg{1, 2, 20000}}) {
    const auto x = rnd(g.outer * g.mid * g.inner, 14, 0.0f, 1.0f);
    std::vector<float> want(static_cast<std::size_t>(g.mid));
    cpu::sum_mid(x.data(), g.outer, g.mid, g.inner, want.data());
    DeviceBuffer<float> dx(x), out(want.size());
    cuda::sum_mid(dx.get(), g.outer, g.mid, g.inner, out.get(), nullptr);
    EXPECT_TRUE(test::all_close(out.to_host(), want, 1e-6)) << g.outer << "×" << g.mid << "×" << g.inner;
  }
}

TEST_F(CudaPointwise, SumAllAndSumRows) {
  for (index_t n : {index_t{1}, index_t{31}, kOdd, index_t{50001}}) {
    const auto x = rnd(n, 15);
    float want = 0.0f;
    cpu::sum_all(x.data(), n, &want);
    DeviceBuffer<float> dx(x), out(1);
    cuda::sum_all(dx.get(), n, out.get(), nullptr);
    EXPECT_TRUE(test::all_close(out.to_host(), {want}, 1e-6)) << "n=" << n;
  }
  const index_t rows = 7, cols = 3001;
  const auto x = rnd(rows * cols, 16);
  std::vector<float> want(rows);
  cpu::sum_rows(x.data(), rows, cols, want.data());
  DeviceBuffer<float> dx(x), out(rows);
  cuda::sum_rows(dx.get(), rows, cols, out.get(), nullptr);
  EXPECT_TRUE(test::all_close(out.to_host(), want, 1e-6));
}

TEST_F(CudaPointwise, SumsAreDeterministic) {
  const auto x = rnd(70001, 17);
  DeviceBuffer<float> dx(x), a(1), b(1);
  cuda::sum_all(dx.get(), 70001, a.get(), nullptr);
  cuda::sum_all(dx.get(), 70001, b.get(), nullptr);
  EXPECT_TRUE(bit_equal(a.to_host(), b.to_host()));
}

TEST_F(CudaPointwise, EmptySegmentsSumToZero) {
  DeviceBuffer<float> out(3);
  cuda::sum_mid(nullptr, 0, 3, 5, out.get(), nullptr);
  EXPECT_TRUE(bit_equal(out.to_host(), std::vector<float>(3, 0.0f)));
}

TEST_F(CudaPointwise, BroadcastRowsIsExact) {
  const index_t rows = 5, cols = 333;
  const auto v = rnd(rows, 18);
  std::vector<float> want(rows * cols);
  cpu::broadcast_rows(v.data(), rows, cols, -2.0f, want.data());
  DeviceBuffer<float> dv(v), out(want.size());
  cuda::broadcast_rows(dv.get(), rows, cols, -2.0f, out.get(), nullptr);
  EXPECT_TRUE(bit_equal(out.to_host(), want));
}

}  // namespace
}  // namespace sse

#endif  // SSE_WITH_CUDA
