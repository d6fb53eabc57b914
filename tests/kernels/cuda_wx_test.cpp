// The brick forward / backward-data kernel (kernels/cuda/wx_brick.cuh) against the CPU reference:
// conv3d_forward (with bias) and conv3d_backward_data, in SIMT fp32, TF32 and BF16, every tile; its
// determinism; and the dispatch rule of cuda::set_wx_impl. In the emulator the tensor-core forms run
// with mma.sync emulated (kernels/cuda/mma.cuh), so the fragment bookkeeping — which weight word and
// which halo word each lane hands the mma — is checked here without a GPU; on a GPU the same tests
// run the tensor cores, and U-Net-sized layers are compared with the SIMT twin.
//
// Tolerances (as in cuda_wgrad_test.cpp, with K = c_k · 27 terms per output).
//  * SIMT vs CPU: fp32 reassociation, rtol 1e-5·sqrt(K) relative to max(|ref|, 1) (inputs U(−1, 1)).
//  * TF32 / BF16 vs the CPU on inputs (src and weight, not the bias) rounded the same way: products
//    of rounded values are exact in fp32, only the order of the additions differs — the same fp32
//    tolerance; on a GPU 8× that, for the tensor cores' own accumulation rounding. This proves the
//    rounding and the pairing of operands exact.
//  * TF32 / BF16 vs unrounded fp32: two rounded operands give ~1.5·u·sqrt(2) of the output's RMS
//    (u = 2^−11 / 2^−8); allowed 8·u·sqrt(2) of the RMS.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/batchnorm.h"
#include "kernels/conv3d.h"
#include "kernels/low_precision.h"
#include "tests/kernels/cuda_test_util.h"
#include "tests/support/cuda_buffers.h"

#if SSE_WITH_CUDA
#include "tests/kernels/brick_test_util.h"
#include "kernels/cuda/wx_brick.cuh"
#if SSE_CUDA_SIM
#include "kernels/sim/sim.h"
#endif

namespace sse {
namespace {

using cuda::BrickMath;
using cuda::WxTile;
using test::bit_equal;
using test::fp32_rtol;
using test::name;
using test::real_gpu;
using test::rms;
using test::rounded;
using test::unit_roundoff;
using test::DeviceBuffer;
using test::rnd;

const char* name(WxTile t) {
  return t == WxTile::Small ? "small" : t == WxTile::Medium ? "medium" : t == WxTile::Large ? "large" : "auto";
}

std::string str(const Conv3dShape& s) {
  return "n" + std::to_string(s.n) + " " + std::to_string(s.c_in) + "→" + std::to_string(s.c_out) + " " +
         std::to_string(s.d) + "×" + std::to_string(s.h) + "×" + std::to_string(s.w);
}

// One layer's random tensors; `flip` picks the direction: forward (src = x, bias) or backward data
// (src = dy).
struct Case {
  Conv3dShape s;
  bool flip;
  std::vector<float> src, w, bias;
  Case(const Conv3dShape& shape, bool backward)
      : s(shape), flip(backward), src(rnd(s.n * (flip ? s.c_out : s.c_in) * s.voxels(), 21)),
        w(rnd(s.c_out * s.c_in * 27, 22)), bias(flip ? std::vector<float>{} : rnd(s.c_out, 23)) {}
  index_t k_terms() const { return (flip ? s.c_out : s.c_in) * 27; }
  std::size_t out_count() const { return static_cast<std::size_t>(s.n * (flip ? s.c_in : s.c_out) * s.voxels()); }

  std::vector<float> cpu(const std::vector<float>& srcv, const std::vector<float>& wv) const {
    std::vector<float> out(out_count());
    if (flip) {
      cpu::conv3d_backward_data(s, srcv.data(), wv.data(), out.data());
    } else {
      cpu::conv3d_forward(s, srcv.data(), wv.data(), bias.data(), out.data());
    }
    return out;
  }
  std::vector<float> brick(BrickMath m, WxTile tile) const {
    DeviceBuffer<float> srcd(src), wd(w), bd(bias.empty() ? std::vector<float>{0.0f} : bias), out(out_count());
    cuda::brick_conv3_wx(s, flip, srcd.get(), wd.get(), flip ? nullptr : bd.get(), out.get(), m, nullptr, tile);
    return out.to_host();
  }
  // The engine's entry point (conv3d.cu), under whatever algorithm and WxImpl are set.
  std::vector<float> engine() const {
    DeviceBuffer<float> srcd(src), wd(w), bd(bias.empty() ? std::vector<float>{0.0f} : bias), out(out_count());
    if (flip) {
      cuda::conv3d_backward_data(s, srcd.get(), wd.get(), out.get(), nullptr);
    } else {
      cuda::conv3d_forward(s, srcd.get(), wd.get(), bd.get(), out.get(), nullptr);
    }
    return out.to_host();
  }
  void expect_matches_cpu(const std::vector<float>& got, BrickMath m) const {
    const std::vector<float> exact = cpu(src, w);
    if (m == BrickMath::Simt) {
      EXPECT_TRUE(test::all_close(got, exact, fp32_rtol(k_terms()))) << "SIMT vs CPU";
      return;
    }
    EXPECT_TRUE(test::all_close(got, cpu(rounded(src, m), rounded(w, m)), fp32_rtol(k_terms()) * (real_gpu() ? 8.0 : 1.0)))
        << name(m) << " vs CPU on rounded inputs";
    EXPECT_TRUE(test::all_close(got, exact, 8.0 * std::sqrt(2.0) * unit_roundoff(m), rms(exact)))
        << name(m) << " vs fp32 CPU";
  }
};

// Small enough for the emulator. Between them: H below and across the brick's 8 rows (5, 11), W below
// and above its 16 columns, c_k not a multiple of the 8- (16-) channel chunk, M below one 16-row
// fragment and across the 32- and 64-row tiles (5, 9, 17, 40, 70), N = 2.
const Conv3dShape kShapes[] = {
    {2, 9, 5, 3, 5, 7, 3},
    {1, 17, 40, 2, 11, 18, 3},
    {1, 20, 70, 1, 3, 5, 3},
};

class CudaBrickWx : public test::BrickKernelTest {};

TEST_F(CudaBrickWx, ForwardAndBackwardDataMatchCpuInEveryMathAndTile) {
  for (const Conv3dShape& s : kShapes)
    for (bool flip : {false, true}) {
      const Case c(s, flip);
      for (BrickMath m : {BrickMath::Simt, BrickMath::TF32, BrickMath::BF16})
        for (WxTile tile : {WxTile::Small, WxTile::Medium, WxTile::Large}) {
          SCOPED_TRACE(str(s) + (flip ? " bwd-data " : " fwd ") + name(m) + " " + name(tile));
          c.expect_matches_cpu(c.brick(m, tile), m);
        }
    }
}

// ---- the inference form: two-part input, batch norm + ReLU in the epilogue ------------------------------

TEST_F(CudaBrickWx, EvalFormMatchesTheCpuFusedForm) {
  // c_in = 11 + 9: the chunk of 8 (BF16: 16) channels straddles the two parts.
  const Conv3dShape s{2, 20, 18, 3, 10, 17, 3};
  const index_t c1 = 11, vol = s.voxels();
  const std::vector<float> x1 = rnd(s.n * c1 * vol, 31), x2 = rnd(s.n * (s.c_in - c1) * vol, 32);
  const std::vector<float> w = rnd(s.c_out * s.c_in * 27, 33), b = rnd(s.c_out, 34), beta = rnd(s.c_out, 35),
                           mean = rnd(s.c_out, 36);
  std::vector<float> gamma = rnd(s.c_out, 37), var = rnd(s.c_out, 38);
  for (float& g : gamma) g = 1.25f + 0.75f * g;  // [0.5, 2]
  for (float& v : var) v = 1.75f + 1.25f * v;    // [0.5, 3]
  const float eps = 1e-5f;
  for (BrickMath m : {BrickMath::Simt, BrickMath::TF32, BrickMath::BF16})
    for (bool bn : {true, false}) {
      SCOPED_TRACE(std::string(name(m)) + (bn ? " bn+relu" : " relu"));
      // CPU: the fused form with the same per-channel affine map (kernels/batchnorm.h).
      std::vector<float> scale(static_cast<std::size_t>(s.c_out), 1.0f), shift(scale.size(), 0.0f);
      for (std::size_t o = 0; bn && o < scale.size(); ++o) {
        const BnAffine a = bn_eval_affine(gamma[o], beta[o], mean[o], var[o], eps);
        scale[o] = a.scale;
        shift[o] = a.shift;
      }
      auto cpu_eval = [&](const std::vector<float>& a, const std::vector<float>& c, const std::vector<float>& wv) {
        std::vector<float> y(static_cast<std::size_t>(s.n * s.c_out * vol));
        cpu::conv3d_forward_fused(s, a.data(), c1, c.data(), wv.data(), b.data(), ConvEpilogue{scale.data(), shift.data(), true},
                                  y.data());
        return y;
      };
      DeviceBuffer<float> d1(x1), d2(x2), dw(w), db(b), dg(gamma), dbeta(beta), dm(mean), dv(var),
          y(static_cast<std::size_t>(s.n * s.c_out * vol));
      cuda::WxEval eval{d2.get(), c1, cuda::ConvBnEval{}};
      if (bn) eval.bn = cuda::ConvBnEval{dg.get(), dbeta.get(), dm.get(), dv.get(), eps, true};
      eval.bn.relu = true;
      cuda::brick_conv3_wx(s, false, d1.get(), dw.get(), db.get(), y.get(), m, nullptr, WxTile::Auto, &eval);
      // Tolerances relative to max(|ref|, RMS(ref)): the affine map scales the convolution's error
      // and its values alike, and an output the shift brought near zero had |conv·scale| ≤ |shift| +
      // |y|, within the RMS here (|shift| ≤ 3.9, RMS ≈ 20) — so the header's bounds hold, × 2 for
      // the affine map's own rounding.
      const std::vector<float> got = y.to_host(), exact = cpu_eval(x1, x2, w);
      const double tol = 2.0 * fp32_rtol(s.c_in * 27);
      if (m == BrickMath::Simt) {
        EXPECT_TRUE(test::all_close(got, exact, tol, rms(exact))) << "SIMT vs CPU";
      } else {
        const std::vector<float> same_inputs = cpu_eval(rounded(x1, m), rounded(x2, m), rounded(w, m));
        EXPECT_TRUE(test::all_close(got, same_inputs, tol * (real_gpu() ? 8.0 : 1.0), rms(exact)))
            << "vs CPU on rounded inputs";
        EXPECT_TRUE(test::all_close(got, exact, 2.0 * 8.0 * std::sqrt(2.0) * unit_roundoff(m), rms(exact)))
            << "vs fp32 CPU";
      }
      long negative = 0;
      for (float v : got) negative += v < 0.0f;
      EXPECT_EQ(negative, 0) << "ReLU";
    }
}

// ---- dispatch -----------------------------------------------------------------------------------------

TEST_F(CudaBrickWx, AutoTakesTheBrickKernelUnderTensorCoresFromEightChannelsAndSixteenRows) {
  cuda::set_conv_algo(ConvAlgo::TensorTF32);
  EXPECT_TRUE(cuda::use_brick_wx(8, 16));
  EXPECT_FALSE(cuda::use_brick_wx(7, 64)) << "c_k < 8";
  EXPECT_FALSE(cuda::use_brick_wx(64, 15)) << "rows < 16";
  cuda::set_conv_algo(ConvAlgo::TensorBF16);
  EXPECT_TRUE(cuda::use_brick_wx(8, 16));
  cuda::set_conv_algo(ConvAlgo::Simt);
  EXPECT_FALSE(cuda::use_brick_wx(64, 64)) << "Simt keeps the implicit GEMM";

  // The engine follows the rule. Where c_k > 8 the two kernels add in different orders (the brick
  // kernel chunk by chunk of 8 channels, the implicit GEMM tap by tap), so the bits say which ran;
  // with one chunk (c_k ≤ 8) both add tap-major and agree bit for bit.
  const Case wide(kShapes[1], false);                       // c_k = 17, rows = 40
  const Case few_rows(kShapes[1], true);                    // c_k = 40, rows = 17
  const Case thin(Conv3dShape{1, 12, 9, 2, 4, 5, 3}, false);  // rows = 9
  cuda::set_conv_algo(ConvAlgo::TensorTF32);
  for (const Case* c : {&wide, &few_rows})
    EXPECT_TRUE(bit_equal(c->engine(), c->brick(BrickMath::TF32, WxTile::Auto))) << str(c->s) << ": the brick kernel";
  const std::vector<float> got = thin.engine();
  EXPECT_FALSE(bit_equal(got, thin.brick(BrickMath::TF32, WxTile::Auto))) << "rows = 9: the implicit GEMM";
  thin.expect_matches_cpu(got, BrickMath::TF32);
  cuda::set_wx_impl(cuda::WxImpl::Brick);
  EXPECT_TRUE(bit_equal(thin.engine(), thin.brick(BrickMath::TF32, WxTile::Auto))) << "Brick forced";
  cuda::set_wx_impl(cuda::WxImpl::Igemm);
  EXPECT_FALSE(bit_equal(wide.engine(), wide.brick(BrickMath::TF32, WxTile::Auto))) << "Igemm forced";

  // Under Simt, Auto keeps the implicit GEMM; Brick runs the SIMT twin.
  cuda::set_conv_algo(ConvAlgo::Simt);
  cuda::set_wx_impl(cuda::WxImpl::Auto);
  EXPECT_FALSE(bit_equal(wide.engine(), wide.brick(BrickMath::Simt, WxTile::Auto))) << "Simt Auto";
  cuda::set_wx_impl(cuda::WxImpl::Brick);
  EXPECT_TRUE(bit_equal(wide.engine(), wide.brick(BrickMath::Simt, WxTile::Auto))) << "Simt Brick";
}

TEST_F(CudaBrickWx, Bf16AlgorithmSelectsBf16Math) {
  const Case c(kShapes[0], false);
  cuda::set_conv_algo(ConvAlgo::TensorBF16);
  cuda::set_wx_impl(cuda::WxImpl::Brick);
  EXPECT_TRUE(bit_equal(c.engine(), c.brick(BrickMath::BF16, WxTile::Auto)));
}

TEST_F(CudaBrickWx, RepeatsBitForBit) {
  const Case c(kShapes[1], false);
  for (BrickMath m : {BrickMath::Simt, BrickMath::TF32})
    EXPECT_TRUE(bit_equal(c.brick(m, WxTile::Auto), c.brick(m, WxTile::Auto))) << name(m);
}

#if SSE_CUDA_SIM
// A missing barrier shows as results that depend on the order threads run in (see cuda_conv_test).
TEST_F(CudaBrickWx, ResultsDoNotDependOnThreadOrder) {
  const Case c(Conv3dShape{1, 17, 20, 2, 9, 6, 3}, false);
  for (BrickMath m : {BrickMath::Simt, BrickMath::BF16}) {
    SCOPED_TRACE(name(m));
    const std::vector<float> base = c.brick(m, WxTile::Auto);
    for (const sim::Schedule& sched : {sim::Schedule::reverse(), sim::Schedule::shuffled(7)}) {
      const sim::ScopedSchedule scoped(sched);
      EXPECT_TRUE(bit_equal(c.brick(m, WxTile::Auto), base));
    }
  }
}
#endif

// ---- real GPU: U-Net-sized layers, tensor cores against the SIMT twin ------------------------------------

TEST_F(CudaBrickWx, TensorCoresAgreeWithTheSimtTwinOnUnetLayers) {
  if (!real_gpu()) GTEST_SKIP() << "U-Net-sized layers run on a real GPU only";
  for (const Conv3dShape& s : {Conv3dShape{1, 32, 64, 24, 24, 24, 3}, Conv3dShape{1, 192, 64, 16, 16, 16, 3},
                               Conv3dShape{2, 128, 256, 8, 8, 8, 3}})
    for (bool flip : {false, true}) {
      SCOPED_TRACE(str(s) + (flip ? " bwd-data" : " fwd"));
      const Case c(s, flip);
      const std::vector<float> simt = c.brick(BrickMath::Simt, WxTile::Auto);
      c.expect_matches_cpu(simt, BrickMath::Simt);
      for (BrickMath m : {BrickMath::TF32, BrickMath::BF16}) {
        const std::vector<float> tc = c.brick(m, WxTile::Auto);
        EXPECT_TRUE(test::all_close(tc, simt, 8.0 * std::sqrt(2.0) * unit_roundoff(m), rms(simt))) << name(m);
        EXPECT_TRUE(bit_equal(tc, c.brick(m, WxTile::Auto))) << name(m) << " repeats bit for bit";
      }
    }
}

}  // namespace
}  // namespace sse

#endif  // SSE_WITH_CUDA
