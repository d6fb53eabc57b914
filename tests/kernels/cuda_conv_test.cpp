// CUDA vs CPU for the convolutions: conv3d (k = 1, 3) and conv_transpose3d, forward, backward data
// and backward weight (with bias gradients), at odd sizes with partial tiles, channel counts that are
// not multiples of the K-slice (the tap-crossing path), N = 2 and D/H/W = 1; determinism of the
// split-K weight gradient; on a real GPU also the tensor-core twins and cuDNN, and U-Net-sized layers.
//
// Tolerance (fp32 reassociation): both devices sum K products in different orders; rounding errors
// of a K-term sum grow like sqrt(K)·eps·(term size), so results are compared with rtol 1e-5·sqrt(K)
// relative to max(|ref|, 1) (the inputs are U(−1, 1), so terms are O(1)). Tensor cores round inputs
// to TF32 (unit roundoff 2^−11) or BF16 (2^−8): relative to the RMS of the output their error is
// ~1.5·u independently of K; allowed 8·u·sqrt(2) (TF32 5.5e-3, BF16 4.4e-2) against the SIMT twin.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/conv3d.h"
#include "kernels/conv_transpose3d.h"
#include "tests/kernels/cuda_test_util.h"
#include "tests/support/cuda_buffers.h"

#if SSE_WITH_CUDA
#include "tests/kernels/brick_test_util.h"
#if SSE_CUDA_SIM
#include "kernels/cuda/conv3d_problems.cuh"
#include "kernels/cuda/igemm.cuh"
#include "kernels/sim/sim.h"
#endif

namespace sse {
namespace {

using test::bit_equal;
using test::DeviceBuffer;
using test::fp32_rtol;
using test::real_gpu;
using test::rms;
using test::rnd;

// Inputs, CPU results and device buffers of one convolution shape.
struct ConvCase {
  Conv3dShape s;
  std::vector<float> x, w, b, dy;
  std::vector<float> y, dx, dw, db;  // CPU reference results

  explicit ConvCase(const Conv3dShape& shape) : s(shape) {
    x = rnd(s.n * s.c_in * s.voxels(), 1);
    w = rnd(s.c_out * s.c_in * s.kvol(), 2);
    b = rnd(s.c_out, 3);
    dy = rnd(s.n * s.c_out * s.voxels(), 4);
    y.resize(static_cast<std::size_t>(s.n * s.c_out * s.voxels()));
    dx.resize(x.size());
    dw.resize(w.size());
    db.resize(b.size());
    cpu::conv3d_forward(s, x.data(), w.data(), b.data(), y.data());
    cpu::conv3d_backward_data(s, dy.data(), w.data(), dx.data());
    cpu::conv3d_backward_weight(s, x.data(), dy.data(), dw.data(), db.data());
  }
};

struct ConvResults {
  std::vector<float> y, dx, dw, db;
};

ConvResults run_cuda(const ConvCase& c) {
  DeviceBuffer<float> x(c.x), w(c.w), b(c.b), dy(c.dy), y(c.y.size()), dx(c.dx.size()), dw(c.dw.size()),
      db(c.db.size());
  cuda::conv3d_forward(c.s, x.get(), w.get(), b.get(), y.get(), nullptr);
  cuda::conv3d_backward_data(c.s, dy.get(), w.get(), dx.get(), nullptr);
  cuda::conv3d_backward_weight(c.s, x.get(), dy.get(), dw.get(), db.get(), nullptr);
  return ConvResults{y.to_host(), dx.to_host(), dw.to_host(), db.to_host()};
}

void expect_matches_cpu(const ConvCase& c, const ConvResults& r) {
  const Conv3dShape& s = c.s;
  EXPECT_TRUE(test::all_close(r.y, c.y, fp32_rtol(s.c_in * s.kvol()))) << "forward";
  EXPECT_TRUE(test::all_close(r.dx, c.dx, fp32_rtol(s.c_out * s.kvol()))) << "backward data";
  EXPECT_TRUE(test::all_close(r.dw, c.dw, fp32_rtol(s.n * s.voxels()))) << "backward weight";
  EXPECT_TRUE(test::all_close(r.db, c.db, fp32_rtol(s.n * s.voxels()))) << "bias gradient";
}

std::string str(const Conv3dShape& s) {
  return "n" + std::to_string(s.n) + " " + std::to_string(s.c_in) + "→" + std::to_string(s.c_out) + " " +
         std::to_string(s.d) + "×" + std::to_string(s.h) + "×" + std::to_string(s.w) + " k" + std::to_string(s.k);
}

class CudaConv : public ::testing::Test {
 protected:
  void SetUp() override {
    SSE_REQUIRE_CUDA();
    cuda::set_conv_algo(ConvAlgo::Simt);
  }
  void TearDown() override {
    if (test::cuda_usable()) cuda::set_conv_algo(ConvAlgo::Simt);
  }
};

// Shapes small enough for the emulator; between them they take the thin, narrow, small and mid tile
// shapes, slices that cross taps (c_in = 3, 5, 7) and slices that do not (c_in = 16), volumes with
// D, H or W = 1, partial tiles on both GEMM axes, and one- and multi-slice split-K.
const Conv3dShape kSmallShapes[] = {
    {2, 3, 5, 5, 7, 6, 3},   // odd everything, N = 2
    {1, 16, 20, 4, 3, 5, 3}, // c_in a multiple of the K-slice
    {2, 5, 3, 1, 1, 1, 3},   // a single voxel: every neighbour is padding
    {1, 4, 6, 1, 5, 3, 3},   // D = 1
    {2, 7, 9, 5, 7, 6, 1},   // k = 1
    {1, 70, 66, 3, 4, 5, 1}, // rows beyond 64: the mid/small tiles, partial in M
    {1, 2, 40, 3, 2, 4, 3},  // 40 output channels: partial 64-row tiles
};

TEST_F(CudaConv, Conv3dMatchesCpu) {
  for (const Conv3dShape& s : kSmallShapes) {
    SCOPED_TRACE(str(s));
    const ConvCase c(s);
    expect_matches_cpu(c, run_cuda(c));
  }
}

TEST_F(CudaConv, Conv3dWithoutBias) {
  const ConvCase c(Conv3dShape{1, 3, 4, 3, 3, 3, 3});
  DeviceBuffer<float> x(c.x), w(c.w), y(c.y.size()), dy(c.dy), dw(c.dw.size());
  cuda::conv3d_forward(c.s, x.get(), w.get(), nullptr, y.get(), nullptr);
  cuda::conv3d_backward_weight(c.s, x.get(), dy.get(), dw.get(), nullptr, nullptr);
  std::vector<float> want(c.y.size());
  cpu::conv3d_forward(c.s, c.x.data(), c.w.data(), nullptr, want.data());
  EXPECT_TRUE(test::all_close(y.to_host(), want, fp32_rtol(3 * 27)));
  EXPECT_TRUE(test::all_close(dw.to_host(), c.dw, fp32_rtol(27)));
}

TEST_F(CudaConv, EmptyBatchGivesZeroWeightGradients) {
  const Conv3dShape s{0, 2, 3, 2, 2, 2, 3};
  DeviceBuffer<float> dw(static_cast<std::size_t>(3 * 2 * 27)), db(3);
  cuda::conv3d_backward_weight(s, static_cast<const float*>(nullptr), nullptr, dw.get(), db.get(), nullptr);
  EXPECT_TRUE(bit_equal(dw.to_host(), std::vector<float>(dw.size(), 0.0f)));
  EXPECT_TRUE(bit_equal(db.to_host(), std::vector<float>(3, 0.0f)));
}

TEST_F(CudaConv, RejectsUnsupportedKernelSizes) {
  EXPECT_THROW(cuda::conv3d_forward(Conv3dShape{1, 1, 1, 4, 4, 4, 5}, static_cast<const float*>(nullptr), nullptr, nullptr,
                                    nullptr, nullptr),
               KernelError);
}

TEST_F(CudaConv, WeightGradientIsDeterministic) {
  const ConvCase c(Conv3dShape{2, 5, 6, 6, 5, 7, 3});
  const ConvResults a = run_cuda(c), b = run_cuda(c);
  EXPECT_TRUE(bit_equal(a.dw, b.dw));
  EXPECT_TRUE(bit_equal(a.db, b.db));
  EXPECT_TRUE(bit_equal(a.y, b.y));
  EXPECT_TRUE(bit_equal(a.dx, b.dx));
}

// ---- transposed convolution ------------------------------------------------------------------------

struct ConvTCase {
  ConvT3dShape s;
  std::vector<float> x, w, b, dy, y, dx, dw, db;

  explicit ConvTCase(const ConvT3dShape& shape) : s(shape) {
    x = rnd(s.n * s.c_in * s.in_voxels(), 5);
    w = rnd(s.c_in * s.c_out * 8, 6);
    b = rnd(s.c_out, 7);
    dy = rnd(s.n * s.c_out * s.out_voxels(), 8);
    y.resize(dy.size());
    dx.resize(x.size());
    dw.resize(w.size());
    db.resize(b.size());
    cpu::conv_transpose3d_forward(s, x.data(), w.data(), b.data(), y.data());
    cpu::conv_transpose3d_backward_data(s, dy.data(), w.data(), dx.data());
    cpu::conv_transpose3d_backward_weight(s, x.data(), dy.data(), dw.data(), db.data());
  }
};

TEST_F(CudaConv, ConvTranspose3dMatchesCpu) {
  for (const ConvT3dShape& s : {ConvT3dShape{2, 3, 5, 2, 3, 1}, ConvT3dShape{1, 6, 4, 3, 2, 5},
                                ConvT3dShape{1, 20, 3, 1, 1, 1}}) {
    SCOPED_TRACE("convT " + std::to_string(s.c_in) + "→" + std::to_string(s.c_out));
    const ConvTCase c(s);
    DeviceBuffer<float> x(c.x), w(c.w), b(c.b), dy(c.dy), y(c.y.size()), dx(c.dx.size()), dw(c.dw.size()),
        db(c.db.size());
    cuda::conv_transpose3d_forward(s, x.get(), w.get(), b.get(), y.get(), nullptr);
    cuda::conv_transpose3d_backward_data(s, dy.get(), w.get(), dx.get(), nullptr);
    cuda::conv_transpose3d_backward_weight(s, x.get(), dy.get(), dw.get(), db.get(), nullptr);
    EXPECT_TRUE(test::all_close(y.to_host(), c.y, fp32_rtol(s.c_in))) << "forward";
    EXPECT_TRUE(test::all_close(dx.to_host(), c.dx, fp32_rtol(s.c_out * 8))) << "backward data";
    EXPECT_TRUE(test::all_close(dw.to_host(), c.dw, fp32_rtol(s.n * s.in_voxels()))) << "backward weight";
    EXPECT_TRUE(test::all_close(db.to_host(), c.db, fp32_rtol(s.n * s.out_voxels()))) << "bias gradient";
  }
}

// Under TensorTF32 / TensorBF16 the transposed convolution's three GEMMs run on the tensor cores (in
// the emulator: their SIMT twin, rounding its operands alike). Against the CPU on inputs rounded the
// same way (x and w forward, dy and w backward data, x and dy backward weight; not the bias):
// products of rounded values are exact in fp32, so only the order of the additions differs — the fp32
// tolerance, 8× on a GPU for the tensor cores' own accumulation rounding. c_out = 5 and 3 keep the
// weight gradient on the GEMM (c_out ≥ 8 takes the brick kernel, tested in cuda_wgrad_test.cpp); 20
// input channels cross the K-slices; the unrounded result differs from the rounded one (the rounding
// is applied).
TEST_F(CudaConv, ConvTranspose3dTensorCoresMatchCpuOnRoundedInputs) {
  const double slack = real_gpu() ? 8.0 : 1.0;
  for (auto [algo, math] : {std::pair{ConvAlgo::TensorTF32, cuda::BrickMath::TF32},
                            std::pair{ConvAlgo::TensorBF16, cuda::BrickMath::BF16}}) {
    cuda::set_conv_algo(algo);
    for (const ConvT3dShape& s : {ConvT3dShape{2, 3, 5, 2, 3, 1}, ConvT3dShape{1, 20, 3, 3, 2, 5}}) {
      SCOPED_TRACE(std::string(algo == ConvAlgo::TensorTF32 ? "TF32" : "BF16") + " convT " + std::to_string(s.c_in) +
                   "→" + std::to_string(s.c_out));
      const ConvTCase c(s);
      const std::vector<float> x = test::rounded(c.x, math), w = test::rounded(c.w, math),
                               dy = test::rounded(c.dy, math);
      std::vector<float> y(c.y.size()), dx(c.dx.size()), dw(c.dw.size()), db(c.db.size());
      cpu::conv_transpose3d_forward(s, x.data(), w.data(), c.b.data(), y.data());
      cpu::conv_transpose3d_backward_data(s, dy.data(), w.data(), dx.data());
      cpu::conv_transpose3d_backward_weight(s, x.data(), dy.data(), dw.data(), db.data());

      DeviceBuffer<float> d_x(c.x), d_w(c.w), d_b(c.b), d_dy(c.dy), d_y(y.size()), d_dx(dx.size()), d_dw(dw.size()),
          d_db(db.size());
      cuda::conv_transpose3d_forward(s, d_x.get(), d_w.get(), d_b.get(), d_y.get(), nullptr);
      cuda::conv_transpose3d_backward_data(s, d_dy.get(), d_w.get(), d_dx.get(), nullptr);
      cuda::conv_transpose3d_backward_weight(s, d_x.get(), d_dy.get(), d_dw.get(), d_db.get(), nullptr);
      const auto got_y = d_y.to_host();
      EXPECT_TRUE(test::all_close(got_y, y, slack * fp32_rtol(s.c_in))) << "forward";
      EXPECT_TRUE(test::all_close(d_dx.to_host(), dx, slack * fp32_rtol(s.c_out * 8))) << "backward data";
      EXPECT_TRUE(test::all_close(d_dw.to_host(), dw, slack * fp32_rtol(s.n * s.in_voxels()))) << "backward weight";
      EXPECT_FALSE(test::all_close(got_y, c.y, fp32_rtol(s.c_in))) << "the operands were not rounded";
    }
  }
}

// ---- real GPU only: U-Net-sized layers, tensor cores, cuDNN ------------------------------------------

// Layers of the default U-Net at S = 16 (deep levels at their real channel counts): large enough to
// take the 128 × 128 tiles and many split-K slices.
const Conv3dShape kUnetShapes[] = {
    {1, 1, 32, 16, 16, 16, 3},  {1, 64, 128, 8, 8, 8, 3},  {1, 384, 128, 8, 8, 8, 3},
    {2, 128, 256, 4, 4, 4, 3},  {1, 64, 3, 16, 16, 16, 1}, {1, 192, 64, 16, 16, 16, 3},
};

TEST_F(CudaConv, UnetLayersMatchCpuOnGpu) {
  if (!real_gpu()) GTEST_SKIP() << "U-Net-sized layers run on a real GPU only";
  for (const Conv3dShape& s : kUnetShapes) {
    SCOPED_TRACE(str(s));
    const ConvCase c(s);
    expect_matches_cpu(c, run_cuda(c));
  }
  const ConvTCase t(ConvT3dShape{1, 256, 256, 4, 4, 4});
  DeviceBuffer<float> x(t.x), w(t.w), b(t.b), y(t.y.size());
  cuda::conv_transpose3d_forward(t.s, x.get(), w.get(), b.get(), y.get(), nullptr);
  EXPECT_TRUE(test::all_close(y.to_host(), t.y, fp32_rtol(256)));
}

// Tensor-core results against the SIMT twin, relative to the output's RMS (see the header comment).
void expect_close_to_twin(const std::vector<float>& got, const std::vector<float>& twin, double u, const char* what) {
  EXPECT_TRUE(test::all_close(got, twin, 8.0 * std::sqrt(2.0) * u, rms(twin))) << what;
}

TEST_F(CudaConv, TensorCoreTwinsAgreeWithSimt) {
  if (!real_gpu()) GTEST_SKIP() << "tensor cores need a real GPU (the emulator runs the SIMT twin)";
  std::vector<Conv3dShape> shapes(std::begin(kSmallShapes), std::end(kSmallShapes));
  shapes.insert(shapes.end(), std::begin(kUnetShapes), std::end(kUnetShapes));
  for (const Conv3dShape& s : shapes) {
    SCOPED_TRACE(str(s));
    const ConvCase c(s);
    cuda::set_conv_algo(ConvAlgo::Simt);
    const ConvResults simt = run_cuda(c);
    for (auto [algo, u] : {std::pair{ConvAlgo::TensorTF32, 0x1p-11}, std::pair{ConvAlgo::TensorBF16, 0x1p-8}}) {
      cuda::set_conv_algo(algo);
      const ConvResults tc = run_cuda(c), again = run_cuda(c);
      expect_close_to_twin(tc.y, simt.y, u, "forward");
      expect_close_to_twin(tc.dx, simt.dx, u, "backward data");
      expect_close_to_twin(tc.dw, simt.dw, u, "backward weight");
      EXPECT_TRUE(bit_equal(tc.dw, again.dw)) << "tensor-core weight gradient repeats bit for bit";
    }
  }
}

// The U-Net's transposed convolutions at width 64 (256 → 128 and 128 → 64 channels, small volumes)
// on the tensor cores, forward and backward data, against the unrounded CPU result.
TEST_F(CudaConv, ConvTranspose3dTensorCoresOnUnetLayers) {
  if (!real_gpu()) GTEST_SKIP() << "tensor cores need a real GPU (the emulator runs the SIMT twin)";
  for (const ConvT3dShape& s : {ConvT3dShape{1, 256, 128, 4, 4, 4}, ConvT3dShape{1, 128, 64, 8, 8, 8}}) {
    SCOPED_TRACE("convT " + std::to_string(s.c_in) + "→" + std::to_string(s.c_out));
    const ConvTCase c(s);
    DeviceBuffer<float> x(c.x), w(c.w), b(c.b), dy(c.dy), y(c.y.size()), dx(c.dx.size());
    for (auto [algo, u] : {std::pair{ConvAlgo::TensorTF32, 0x1p-11}, std::pair{ConvAlgo::TensorBF16, 0x1p-8}}) {
      cuda::set_conv_algo(algo);
      cuda::conv_transpose3d_forward(s, x.get(), w.get(), b.get(), y.get(), nullptr);
      cuda::conv_transpose3d_backward_data(s, dy.get(), w.get(), dx.get(), nullptr);
      expect_close_to_twin(y.to_host(), c.y, u, "forward");
      expect_close_to_twin(dx.to_host(), c.dx, u, "backward data");
    }
  }
}

TEST_F(CudaConv, CudnnMatchesCpu) {
  if (!real_gpu()) GTEST_SKIP() << "cuDNN needs a real GPU";
#if !defined(SSE_HAVE_CUDNN)
  GTEST_SKIP() << "built without cuDNN";
#endif
  cuda::set_conv_algo(ConvAlgo::Cudnn);
  for (const Conv3dShape& s : {kSmallShapes[0], kSmallShapes[4], kUnetShapes[1]}) {
    SCOPED_TRACE(str(s));
    const ConvCase c(s);
    expect_matches_cpu(c, run_cuda(c));
  }
}

#if SSE_CUDA_SIM
// ---- emulator only ------------------------------------------------------------------------------------

// Every SIMT tile shape of igemm.cuh on the same small problems (on a GPU the layer sizes choose
// them; here the sizes are too small to reach the large tiles, so they are instantiated directly).
template <class Cfg> void check_tile_shape(const char* name) {
  SCOPED_TRACE(name);
  const ConvCase c(Conv3dShape{2, 5, 70, 3, 5, 4, 3});
  const Conv3dShape& s = c.s;
  const int vol = static_cast<int>(s.voxels()), K = static_cast<int>(s.c_in * 27);
  const cuda::ConvGeom<3> g{static_cast<int>(s.d), static_cast<int>(s.h), static_cast<int>(s.w), vol};
  DeviceBuffer<float> x(c.x), w(c.w), wt(c.w.size()), b(c.b), y(c.y.size()), dy(c.dy), dw(c.dw.size());
  cuda::weight_to_tap_major(w.get(), static_cast<int>(s.c_out), static_cast<int>(s.c_in), 27, false, wt.get(), nullptr);
  const cuda::ConvWxProblem<3> fwd{g, x.get(), wt.get(), b.get(), y.get(), static_cast<int>(s.c_out), vol,
                                   static_cast<int>(s.c_in), K, false};
  cuda::run_igemm_simt<Cfg>(fwd, static_cast<int>(s.n), nullptr);
  EXPECT_TRUE(test::all_close(y.to_host(), c.y, fp32_rtol(K))) << "forward";
  const cuda::ConvWgradProblem<3> wg{g, x.get(), dy.get(), dw.get(), static_cast<int>(s.c_out), K, s.n * vol,
                                     s.n * vol, false};
  cuda::run_igemm_simt<Cfg>(wg, 1, nullptr);
  EXPECT_TRUE(test::all_close(dw.to_host(), c.dw, fp32_rtol(s.n * vol))) << "backward weight";
}

TEST_F(CudaConv, EveryTileShapeMatchesCpuInTheEmulator) {
  check_tile_shape<cuda::TileCfg<128, 128, 8, 8, 8>>("128x128x8");
  check_tile_shape<cuda::TileCfg<64, 128, 8, 4, 8>>("64x128x8");
  check_tile_shape<cuda::TileCfg<64, 64, 8, 4, 4>>("64x64x8");
  check_tile_shape<cuda::TileCfg<32, 128, 8, 4, 4>>("32x128x8");
  check_tile_shape<cuda::TileCfg<16, 256, 16, 4, 4>>("16x256x16");
  check_tile_shape<cuda::TileCfg<128, 128, 16, 8, 8>>("128x128x16");
  check_tile_shape<cuda::TileCfg<64, 64, 16, 4, 4>>("64x64x16");
  check_tile_shape<cuda::TileCfg<32, 64, 16, 4, 4>>("32x64x16");
}

// A missing barrier shows as a result that depends on the order threads run in: the emulator runs
// the kernels with threads resumed forward, reversed and shuffled, and the results must not change.
TEST_F(CudaConv, ResultsDoNotDependOnThreadOrder) {
  const ConvCase c(Conv3dShape{2, 5, 6, 4, 5, 3, 3});
  const ConvResults base = run_cuda(c);
  for (const sim::Schedule& sched : {sim::Schedule::reverse(), sim::Schedule::shuffled(7)}) {
    const sim::ScopedSchedule scoped(sched);
    const ConvResults r = run_cuda(c);
    EXPECT_TRUE(bit_equal(r.y, base.y));
    EXPECT_TRUE(bit_equal(r.dx, base.dx));
    EXPECT_TRUE(bit_equal(r.dw, base.dw));
    EXPECT_TRUE(bit_equal(r.db, base.db));
  }
}
#endif  // SSE_CUDA_SIM

}  // namespace
}  // namespace sse

#endif  // SSE_WITH_CUDA
