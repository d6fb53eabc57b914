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
#if SSE_CUDA_SIM
#include "kernels/cuda/conv3d_problems.cuh"
#include "kernels/cuda/igemm.cuh"
#include "kernels/sim/sim.h"
#endif

namespace sse {
namespace {

using test::bit_equal;
using test::DeviceBuffer;
using test::rnd;

double fp32_rtol(index_t k_terms) { return 1e-5 * std::sqrt(static_cast<double>(k_terms)); }

double rms(const std::vector<float>& v) {
  double s = 0.0;
  for (float x : v) s += static_cast<double>(x) * x;
  return v.empty() ? 0.0 : std::sqrt(s / static_cast<double>(v.size()));
}

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
  cuda::conv3d_backward_weight(s, nullptr, nullptr, dw.get(), db.get(), nullptr);
  EXPECT_TRUE(bit_equal(dw.to_host(), std::vector<float>(dw.size(), 0.0f)));
  EXPECT_TRUE(bit_equal(db.to_host(), std::vector<float>(3, 0.0f)));
}

TEST_F(CudaConv, RejectsUnsupportedKernelSizes) {
  EXPECT_THROW(cuda::conv3d_forward(Conv3dShape{1, 1, 1, 4, 4, 4, 5}, nullptr, nullptr, nullptr, nullptr, nullptr),
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

// ---- real GPU only: U-Net-sized layers, tensor cores, cuDNN ------------------------------------------

bool real_gpu() { return test::cuda_usable() && !cuda_emulated(); }

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
