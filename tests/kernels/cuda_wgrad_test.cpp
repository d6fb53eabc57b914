// The brick weight-gradient kernels (kernels/cuda/wgrad_brick.cuh) against the CPU reference: the
// 3×3×3 convolution's and the 2×2×2 transposed convolution's dw, in SIMT fp32, TF32 and BF16, every
// tile shape, one and several split-K slices; their determinism; and the dispatch rule of
// cuda::set_wgrad_impl. In the emulator the tensor-core forms run with mma.sync emulated
// (kernels/cuda/mma.cuh), so the fragment bookkeeping is checked here without a GPU; on a GPU the
// same tests run the tensor cores, and U-Net-sized layers are compared with the SIMT twin.
//
// Tolerances.
//  * SIMT vs CPU: fp32 reassociation of K = n·voxels terms, rtol 1e-5·sqrt(K) relative to
//    max(|ref|, 1) (inputs U(−1, 1)), as in cuda_conv_test.cpp.
//  * TF32 / BF16 vs the CPU reference on inputs rounded the same way (round_tf32 / round_bf16): the
//    products of rounded values are exact in fp32, so only the order of the additions differs — the
//    same fp32 tolerance; on a GPU 8× that, for the tensor cores' own accumulation rounding. This is
//    what proves the rounding and the pairing of operands exact.
//  * TF32 / BF16 vs unrounded fp32: input rounding (unit roundoff u = 2^−11 / 2^−8) gives an error
//    of ~1.5·u relative to the output's RMS, independent of K; allowed 8·u·sqrt(2) of the RMS.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/conv3d.h"
#include "kernels/conv_transpose3d.h"
#include "kernels/low_precision.h"
#include "tests/kernels/cuda_test_util.h"
#include "tests/support/cuda_buffers.h"

#if SSE_WITH_CUDA
#include "tests/kernels/brick_test_util.h"
#include "kernels/cuda/wgrad_brick.cuh"
#if SSE_CUDA_SIM
#include "kernels/sim/sim.h"
#endif

namespace sse {
namespace {

using cuda::BrickTile;
using cuda::BrickMath;
using test::bit_equal;
using test::fp32_rtol;
using test::name;
using test::real_gpu;
using test::rms;
using test::rounded;
using test::unit_roundoff;
using test::DeviceBuffer;
using test::rnd;


// Checks a kernel's dw against the CPU reference `cpu_dw(x, dy)` under every tolerance of the header.
template <class Cpu>
void expect_matches(const std::vector<float>& got, BrickMath m, const std::vector<float>& x,
                    const std::vector<float>& dy, index_t k_terms, Cpu&& cpu_dw) {
  const std::vector<float> exact = cpu_dw(x, dy);
  if (m == BrickMath::Simt) {
    EXPECT_TRUE(test::all_close(got, exact, fp32_rtol(k_terms))) << "SIMT vs CPU";
    return;
  }
  const std::vector<float> same_inputs = cpu_dw(rounded(x, m), rounded(dy, m));
  EXPECT_TRUE(test::all_close(got, same_inputs, fp32_rtol(k_terms) * (real_gpu() ? 8.0 : 1.0)))
      << name(m) << " vs CPU on rounded inputs";
  EXPECT_TRUE(test::all_close(got, exact, 8.0 * std::sqrt(2.0) * unit_roundoff(m), rms(exact)))
      << name(m) << " vs fp32 CPU";
}

// ---- the two operations' sizes, CPU references and brick kernels, for one fixture ---------------------

index_t x_count(const Conv3dShape& s) { return s.n * s.c_in * s.voxels(); }
index_t dy_count(const Conv3dShape& s) { return s.n * s.c_out * s.voxels(); }
index_t dw_count(const Conv3dShape& s) { return s.c_out * s.c_in * 27; }
index_t k_terms(const Conv3dShape& s) { return s.n * s.voxels(); }
void cpu_dw(const Conv3dShape& s, const float* x, const float* dy, float* dw) {
  cpu::conv3d_backward_weight(s, x, dy, dw, nullptr);
}
void brick_dw(const Conv3dShape& s, const float* x, const float* dy, float* dw, BrickMath m, BrickTile tile,
              int slices) {
  cuda::brick_wgrad_conv3(s, x, dy, dw, m, nullptr, tile, slices);
}

index_t x_count(const ConvT3dShape& s) { return s.n * s.c_in * s.in_voxels(); }
index_t dy_count(const ConvT3dShape& s) { return s.n * s.c_out * s.out_voxels(); }
index_t dw_count(const ConvT3dShape& s) { return s.c_in * s.c_out * 8; }
index_t k_terms(const ConvT3dShape& s) { return s.n * s.in_voxels(); }
void cpu_dw(const ConvT3dShape& s, const float* x, const float* dy, float* dw) {
  cpu::conv_transpose3d_backward_weight(s, x, dy, dw, nullptr);
}
void brick_dw(const ConvT3dShape& s, const float* x, const float* dy, float* dw, BrickMath m, BrickTile,
              int slices) {
  cuda::brick_wgrad_up2(s, x, dy, dw, m, nullptr, slices);
}

// Random inputs of one layer, its CPU weight gradient and the brick kernel's.
template <class Shape> struct Case {
  Shape s;
  std::vector<float> x, dy;
  explicit Case(const Shape& shape) : s(shape), x(rnd(x_count(s), 11)), dy(rnd(dy_count(s), 12)) {}
  std::vector<float> cpu(const std::vector<float>& xv, const std::vector<float>& dyv) const {
    std::vector<float> dw(static_cast<std::size_t>(dw_count(s)));
    cpu_dw(s, xv.data(), dyv.data(), dw.data());
    return dw;
  }
  std::vector<float> brick(BrickMath m, BrickTile tile, int slices) const {
    DeviceBuffer<float> xd(x), dyd(dy), dw(static_cast<std::size_t>(dw_count(s)));
    brick_dw(s, xd.get(), dyd.get(), dw.get(), m, tile, slices);
    return dw.to_host();
  }
  void expect_matches_cpu(BrickMath m, BrickTile tile, int slices) const {
    expect_matches(brick(m, tile, slices), m, x, dy, k_terms(s),
                   [&](const std::vector<float>& xv, const std::vector<float>& dyv) { return cpu(xv, dyv); });
  }
};
using Conv3Case = Case<Conv3dShape>;
using Up2Case = Case<ConvT3dShape>;

std::string str(const Conv3dShape& s) {
  return "n" + std::to_string(s.n) + " " + std::to_string(s.c_in) + "→" + std::to_string(s.c_out) + " " +
         std::to_string(s.d) + "×" + std::to_string(s.h) + "×" + std::to_string(s.w);
}

// Small enough for the emulator. Between them: H not a multiple of the brick's 4 rows, W below and
// above one brick's 16 columns, partial row (c_out) and channel (c_in) tiles, N = 2.
const Conv3dShape kConv3Shapes[] = {
    {2, 9, 5, 3, 5, 7, 3},
    {1, 17, 40, 2, 3, 18, 3},
};

class CudaBrickWgrad : public test::BrickKernelTest {};

TEST_F(CudaBrickWgrad, Conv3MatchesCpuInEveryMathTileAndSplit) {
  for (const Conv3dShape& s : kConv3Shapes) {
    const Conv3Case c(s);
    for (BrickMath m : {BrickMath::Simt, BrickMath::TF32, BrickMath::BF16})
      for (BrickTile tile : {BrickTile::Small, BrickTile::Large})
        for (int slices : {1, 3}) {
          SCOPED_TRACE(str(s) + " " + name(m) + (tile == BrickTile::Small ? " small" : " large") + " slices " +
                       std::to_string(slices));
          c.expect_matches_cpu(m, tile, slices);
        }
  }
}

TEST_F(CudaBrickWgrad, Conv3SplitsAddInAFixedOrder) {
  const Conv3Case c(kConv3Shapes[0]);
  for (BrickMath m : {BrickMath::Simt, BrickMath::TF32}) {
    SCOPED_TRACE(name(m));
    const std::vector<float> a = c.brick(m, BrickTile::Auto, 4), b = c.brick(m, BrickTile::Auto, 4);
    EXPECT_TRUE(bit_equal(a, b)) << "the same split repeats bit for bit";
  }
}

// ---- up2 (transposed convolution) --------------------------------------------------------------------

TEST_F(CudaBrickWgrad, Up2MatchesCpuInEveryMathAndSplit) {
  // The second shape crosses a brick column (w = 17) and has more channels than one 16-wide tile.
  for (const ConvT3dShape& s : {ConvT3dShape{2, 6, 10, 2, 3, 5}, ConvT3dShape{1, 3, 19, 1, 5, 17}}) {
    const Up2Case c(s);
    for (BrickMath m : {BrickMath::Simt, BrickMath::TF32, BrickMath::BF16})
      for (int slices : {1, 3}) {
        SCOPED_TRACE("up2 " + std::to_string(s.c_in) + "→" + std::to_string(s.c_out) + " " + name(m) + " slices " +
                     std::to_string(slices));
        c.expect_matches_cpu(m, BrickTile::Auto, slices);
      }
  }
}

// ---- dispatch -----------------------------------------------------------------------------------------

std::vector<float> engine_dw(const Conv3Case& c) {
  DeviceBuffer<float> xd(c.x), dyd(c.dy), dw(static_cast<std::size_t>(c.s.c_out * c.s.c_in * 27));
  cuda::conv3d_backward_weight(c.s, xd.get(), dyd.get(), dw.get(), nullptr, nullptr);
  return dw.to_host();
}

TEST_F(CudaBrickWgrad, AutoTakesTheBrickKernelFromEightChannels) {
  const Conv3Case wide(kConv3Shapes[0]);                       // c_in = 9
  const Conv3Case narrow(Conv3dShape{2, 5, 6, 3, 4, 5, 3});  // c_in = 5
  cuda::set_wgrad_impl(cuda::WgradImpl::Auto);
  const std::vector<float> auto_wide = engine_dw(wide), auto_narrow = engine_dw(narrow);
  cuda::set_wgrad_impl(cuda::WgradImpl::Igemm);
  const std::vector<float> igemm_wide = engine_dw(wide), igemm_narrow = engine_dw(narrow);
  cuda::set_wgrad_impl(cuda::WgradImpl::Brick);
  const std::vector<float> brick_wide = engine_dw(wide), brick_narrow = engine_dw(narrow);

  EXPECT_TRUE(bit_equal(auto_wide, brick_wide)) << "c_in = 9: the brick kernel";
  EXPECT_TRUE(bit_equal(auto_narrow, igemm_narrow)) << "c_in = 5: the implicit GEMM";
  // Both kernels are correct wherever they are forced.
  const std::vector<float> want_wide = wide.cpu(wide.x, wide.dy), want_narrow = narrow.cpu(narrow.x, narrow.dy);
  const double tol_wide = fp32_rtol(wide.s.n * wide.s.voxels()), tol_narrow = fp32_rtol(narrow.s.n * narrow.s.voxels());
  EXPECT_TRUE(test::all_close(igemm_wide, want_wide, tol_wide));
  EXPECT_TRUE(test::all_close(brick_wide, want_wide, tol_wide));
  EXPECT_TRUE(test::all_close(igemm_narrow, want_narrow, tol_narrow));
  EXPECT_TRUE(test::all_close(brick_narrow, want_narrow, tol_narrow));
}

TEST_F(CudaBrickWgrad, TensorAlgorithmsSelectTheirMath) {
  const Conv3Case c(kConv3Shapes[0]);
  for (auto [algo, m] :
       {std::pair{ConvAlgo::TensorTF32, BrickMath::TF32}, std::pair{ConvAlgo::TensorBF16, BrickMath::BF16}}) {
    cuda::set_conv_algo(algo);
    EXPECT_TRUE(bit_equal(engine_dw(c), c.brick(m, BrickTile::Auto, 0))) << name(m);
  }
}

#if SSE_CUDA_SIM
// A missing barrier shows as results that depend on the order threads run in (see cuda_conv_test).
TEST_F(CudaBrickWgrad, ResultsDoNotDependOnThreadOrder) {
  const Conv3Case c(Conv3dShape{1, 9, 5, 2, 5, 6, 3});
  const Up2Case u(ConvT3dShape{1, 4, 9, 2, 2, 3});
  for (BrickMath m : {BrickMath::Simt, BrickMath::BF16}) {
    SCOPED_TRACE(name(m));
    const std::vector<float> base = c.brick(m, BrickTile::Auto, 2), base_up = u.brick(m, BrickTile::Auto, 2);
    for (const sim::Schedule& sched : {sim::Schedule::reverse(), sim::Schedule::shuffled(5)}) {
      const sim::ScopedSchedule scoped(sched);
      EXPECT_TRUE(bit_equal(c.brick(m, BrickTile::Auto, 2), base));
      EXPECT_TRUE(bit_equal(u.brick(m, BrickTile::Auto, 2), base_up));
    }
  }
}
#endif

// ---- real GPU: U-Net-sized layers, tensor cores against the SIMT twin ------------------------------------

TEST_F(CudaBrickWgrad, TensorCoresAgreeWithTheSimtTwinOnUnetLayers) {
  if (!real_gpu()) GTEST_SKIP() << "U-Net-sized layers run on a real GPU only";
  for (const Conv3dShape& s : {Conv3dShape{1, 32, 64, 24, 24, 24, 3}, Conv3dShape{1, 192, 64, 16, 16, 16, 3},
                               Conv3dShape{2, 128, 256, 8, 8, 8, 3}}) {
    SCOPED_TRACE(str(s));
    const Conv3Case c(s);
    const std::vector<float> simt = c.brick(BrickMath::Simt, BrickTile::Auto, 0);
    EXPECT_TRUE(test::all_close(simt, c.cpu(c.x, c.dy), fp32_rtol(s.n * s.voxels()))) << "SIMT vs CPU";
    for (BrickMath m : {BrickMath::TF32, BrickMath::BF16}) {
      const std::vector<float> tc = c.brick(m, BrickTile::Auto, 0);
      EXPECT_TRUE(test::all_close(tc, simt, 8.0 * std::sqrt(2.0) * unit_roundoff(m), rms(simt))) << name(m);
      EXPECT_TRUE(bit_equal(tc, c.brick(m, BrickTile::Auto, 0))) << name(m) << " repeats bit for bit";
    }
  }
  const Up2Case u(ConvT3dShape{1, 128, 128, 12, 12, 12});
  const std::vector<float> simt = u.brick(BrickMath::Simt, BrickTile::Auto, 0);
  EXPECT_TRUE(test::all_close(simt, u.cpu(u.x, u.dy), fp32_rtol(u.s.in_voxels())));
  for (BrickMath m : {BrickMath::TF32, BrickMath::BF16})
    EXPECT_TRUE(test::all_close(u.brick(m, BrickTile::Auto, 0), simt, 8.0 * std::sqrt(2.0) * unit_roundoff(m),
                                rms(simt)))
        << name(m);
}

}  // namespace
}  // namespace sse

#endif  // SSE_WITH_CUDA
