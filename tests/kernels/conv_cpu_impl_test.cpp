// Both CPU convolution implementations (cpu::ConvImpl::Blas: im2col + sgemm; cpu::ConvImpl::Avx2: the
// AVX2+FMA kernels of kernels/cpu/conv3d_avx2.cpp and gemm_avx2.cpp) against direct-loop oracles in
// double, at odd sizes chosen to hit every edge of the AVX2 blocking: output-channel tails (MR = 1..3),
// several input-channel blocks, several output-channel blocks, tail tiles, planes too small for
// per-plane tiles, one-plane slabs, batch 2. Plus: the two implementations agree, and the AVX2 results
// do not depend on the thread count (bit for bit). Avx2 cases skip on CPUs without AVX2+FMA.
//
// Winograd F(2,3)³ and F(4,3)³ (kernels/cpu/conv3d_winograd.cpp), each with the AVX2 and (where the CPU
// has it) the AVX-512 kernels: forward, data and weight gradients against the same oracles on volumes that are
// no multiple of the tile (edge tiles cut in every direction), output-channel tails of both
// micro-kernels, one input channel, several chunks of tiles, batch 2; the inference form (two-part
// input, batch-norm epilogue, ReLU) against the direct kernel; thread-count independence (the weight
// gradient: repeatability); and the transform matrices' identity Aᵀ[(G g) ⊙ (Bᵀ d)] = correlation.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/conv3d.h"
#include "kernels/conv_transpose3d.h"
#include "kernels/cpu/conv3d_winograd.h"
#include "kernels/cpu/winograd_kernels.h"
#include "tests/support/test_util.h"

namespace sse {
namespace {

using Vec = std::vector<float>;

Vec rnd(index_t n, std::uint64_t seed) { return test::uniform(Shape{n}, seed).to_vector<float>(); }

// Float sums of K products carry errors that grow with the size of the sums, not of each result:
// compare relative to the largest reference value.
::testing::AssertionResult close(const Vec& got, const Vec& want, double tol = 1e-5) {
  double scale = 1.0;
  for (float v : want) scale = std::max(scale, static_cast<double>(std::fabs(v)));
  return test::all_close(got, want, tol, scale);
}
std::size_t sz(index_t n) { return static_cast<std::size_t>(n); }

std::string describe(const Conv3dShape& s) {
  return "n=" + std::to_string(s.n) + " c_in=" + std::to_string(s.c_in) + " c_out=" + std::to_string(s.c_out) +
         " dhw=" + std::to_string(s.d) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w) + " k=" + std::to_string(s.k);
}

// ---- oracles ----------------------------------------------------------------------------------

index_t xi(const Conv3dShape& s, index_t n, index_t c, index_t z, index_t y, index_t x) {
  return (((n * s.c_in + c) * s.d + z) * s.h + y) * s.w + x;
}
index_t yi(const Conv3dShape& s, index_t n, index_t o, index_t z, index_t y, index_t x) {
  return (((n * s.c_out + o) * s.d + z) * s.h + y) * s.w + x;
}
index_t wi(const Conv3dShape& s, index_t o, index_t c, int dz, int dy, int dx) {
  return (((o * s.c_in + c) * s.k + dz) * s.k + dy) * s.k + dx;
}

// Calls f(n, o, c, output site, input site, tap) for every in-range term of the convolution.
template <typename F> void for_terms(const Conv3dShape& s, F&& f) {
  const int k = s.k, p = s.pad();
  for (index_t n = 0; n < s.n; ++n)
    for (index_t o = 0; o < s.c_out; ++o)
      for (index_t c = 0; c < s.c_in; ++c)
        for (index_t z = 0; z < s.d; ++z)
          for (index_t y = 0; y < s.h; ++y)
            for (index_t x = 0; x < s.w; ++x)
              for (int dz = 0; dz < k; ++dz)
                for (int dy = 0; dy < k; ++dy)
                  for (int dx = 0; dx < k; ++dx) {
                    const index_t iz = z + dz - p, iy = y + dy - p, ix = x + dx - p;
                    if (iz < 0 || iz >= s.d || iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
                    f(yi(s, n, o, z, y, x), xi(s, n, c, iz, iy, ix), wi(s, o, c, dz, dy, dx));
                  }
}

struct ConvRef {
  Vec y, dx, dw, db;
};

ConvRef conv_ref(const Conv3dShape& s, const Vec& x, const Vec& w, const Vec& b, const Vec& dy) {
  std::vector<double> y(sz(s.n * s.c_out * s.voxels())), dx(sz(s.n * s.c_in * s.voxels())), dw(w.size()),
      db(sz(s.c_out));
  for (index_t n = 0; n < s.n; ++n)
    for (index_t o = 0; o < s.c_out; ++o)
      for (index_t v = 0; v < s.voxels(); ++v) {
        y[sz((n * s.c_out + o) * s.voxels() + v)] = b[sz(o)];
        db[sz(o)] += dy[sz((n * s.c_out + o) * s.voxels() + v)];
      }
  for_terms(s, [&](index_t yo, index_t xo, index_t wo) {
    y[sz(yo)] += double(x[sz(xo)]) * w[sz(wo)];
    dx[sz(xo)] += double(dy[sz(yo)]) * w[sz(wo)];
    dw[sz(wo)] += double(dy[sz(yo)]) * x[sz(xo)];
  });
  auto f = [](const std::vector<double>& v) { return Vec(v.begin(), v.end()); };
  return {f(y), f(dx), f(dw), f(db)};
}

struct ConvTRef {
  Vec y, dx, dw;
};

ConvTRef convt_ref(const ConvT3dShape& s, const Vec& x, const Vec& w, const Vec& b, const Vec& dy) {
  const index_t od = 2 * s.d, oh = 2 * s.h, ow = 2 * s.w;
  std::vector<double> y(sz(s.n * s.c_out * s.out_voxels())), dx(x.size()), dw(w.size());
  for (index_t n = 0; n < s.n; ++n)
    for (index_t o = 0; o < s.c_out; ++o)
      for (index_t z = 0; z < od; ++z)
        for (index_t yy = 0; yy < oh; ++yy)
          for (index_t xx = 0; xx < ow; ++xx) {
            const index_t yo = ((n * s.c_out + o) * od + z) * oh * ow + yy * ow + xx;
            double acc = b[sz(o)];
            for (index_t c = 0; c < s.c_in; ++c) {
              const index_t xo = ((n * s.c_in + c) * s.d + z / 2) * s.h * s.w + (yy / 2) * s.w + xx / 2;
              const index_t wo = (c * s.c_out + o) * 8 + (z % 2) * 4 + (yy % 2) * 2 + xx % 2;
              acc += double(x[sz(xo)]) * w[sz(wo)];
              dx[sz(xo)] += double(dy[sz(yo)]) * w[sz(wo)];
              dw[sz(wo)] += double(dy[sz(yo)]) * x[sz(xo)];
            }
            y[sz(yo)] = acc;
          }
  auto f = [](const std::vector<double>& v) { return Vec(v.begin(), v.end()); };
  return {f(y), f(dx), f(dw)};
}

// ---- fixture: runs each case under one implementation ------------------------------------------

class ConvImplCpu : public ::testing::TestWithParam<cpu::ConvImpl> {
 protected:
  void SetUp() override {
    if (GetParam() == cpu::ConvImpl::Avx2 && !cpu::conv_avx2_supported()) GTEST_SKIP() << "no AVX2+FMA on this CPU";
    cpu::set_conv_impl(GetParam());
  }
  void TearDown() override {
    cpu::set_conv_impl(cpu::ConvImpl::Auto);
    cpu::set_conv_workspace_bytes(kConvWorkspaceBytes);
  }

  void check_conv(const Conv3dShape& s, std::uint64_t seed) {
    const Vec x = rnd(s.n * s.c_in * s.voxels(), seed), w = rnd(s.c_out * s.c_in * s.kvol(), seed + 1),
              b = rnd(s.c_out, seed + 2), dy = rnd(s.n * s.c_out * s.voxels(), seed + 3);
    const ConvRef r = conv_ref(s, x, w, b, dy);
    Vec y(r.y.size()), dx(r.dx.size()), dw(r.dw.size(), 7.0f), db(r.db.size());
    cpu::conv3d_forward(s, x.data(), w.data(), b.data(), y.data());
    cpu::conv3d_backward_data(s, dy.data(), w.data(), dx.data());
    cpu::conv3d_backward_weight(s, x.data(), dy.data(), dw.data(), db.data());
    const std::string what = describe(s);
    EXPECT_TRUE(close(y, r.y)) << "forward " << what;
    EXPECT_TRUE(close(dx, r.dx)) << "backward-data " << what;
    EXPECT_TRUE(close(dw, r.dw)) << "backward-weight " << what;
    EXPECT_TRUE(close(db, r.db)) << "bias gradient " << what;
  }

  void check_convt(const ConvT3dShape& s, std::uint64_t seed) {
    const Vec x = rnd(s.n * s.c_in * s.in_voxels(), seed), w = rnd(s.c_in * s.c_out * 8, seed + 1),
              b = rnd(s.c_out, seed + 2), dy = rnd(s.n * s.c_out * s.out_voxels(), seed + 3);
    const ConvTRef r = convt_ref(s, x, w, b, dy);
    Vec y(r.y.size()), dx(r.dx.size()), dw(r.dw.size(), 7.0f), db(sz(s.c_out));
    cpu::conv_transpose3d_forward(s, x.data(), w.data(), b.data(), y.data());
    cpu::conv_transpose3d_backward_data(s, dy.data(), w.data(), dx.data());
    cpu::conv_transpose3d_backward_weight(s, x.data(), dy.data(), dw.data(), db.data());
    const std::string what = "n=" + std::to_string(s.n) + " c_in=" + std::to_string(s.c_in) + " c_out=" +
                             std::to_string(s.c_out) + " dhw=" + std::to_string(s.d) + "x" + std::to_string(s.h) +
                             "x" + std::to_string(s.w);
    EXPECT_TRUE(close(y, r.y)) << "forward " << what;
    EXPECT_TRUE(close(dx, r.dx)) << "backward-data " << what;
    EXPECT_TRUE(close(dw, r.dw)) << "backward-weight " << what;
  }
};

TEST_P(ConvImplCpu, Conv3x3x3OddShapes) {
  // c_out 1..9 covers every output-channel tail; c_in 19 and 37 give 2 and 3 input-channel blocks.
  check_conv({1, 3, 9, 5, 7, 6, 3}, 11);
  check_conv({2, 19, 5, 4, 6, 9, 3}, 12);
  check_conv({1, 37, 2, 3, 5, 11, 3}, 13);
  check_conv({1, 1, 7, 6, 5, 4, 3}, 14);   // the U-Net's first layer: one input channel
  check_conv({1, 2, 3, 1, 1, 1, 3}, 15);   // a single voxel
  check_conv({1, 4, 6, 3, 2, 3, 3}, 16);   // planes too small for per-plane tiles
  check_conv({1, 5, 4, 2, 30, 29, 3}, 17); // long rows: many tiles per plane, a partial last one
}

TEST_P(ConvImplCpu, Conv3x3x3ManyBlocks) {
  // 120 outputs = 30 groups of 4: two output-channel blocks of the forward; 40 inputs = 3 blocks.
  check_conv({1, 40, 120, 3, 9, 11, 3}, 21);
}

TEST_P(ConvImplCpu, Conv3x3x3OnePlaneSlabs) {
  cpu::set_conv_workspace_bytes(4096);  // forces one output plane per slab
  check_conv({2, 6, 5, 5, 4, 7, 3}, 31);
}

TEST_P(ConvImplCpu, Conv1x1x1) {
  check_conv({1, 64, 3, 4, 5, 6, 1}, 41);   // the U-Net's output layer
  check_conv({2, 7, 9, 3, 5, 7, 1}, 42);
  check_conv({1, 130, 5, 2, 3, 25, 1}, 43); // two k blocks of the GEMM, a tail of columns
}

TEST_P(ConvImplCpu, ConvTranspose) {
  check_convt({1, 5, 7, 3, 5, 4}, 51);
  check_convt({2, 3, 2, 3, 5, 4}, 52);
  check_convt({1, 33, 5, 2, 3, 9}, 53);    // 40 GEMM rows (10 groups), odd rows
  check_convt({1, 16, 16, 4, 4, 4}, 54);   // the U-Net's shape, small
  check_convt({1, 2, 3, 1, 1, 1}, 55);
}

TEST_P(ConvImplCpu, ConvTransposeSmallWorkspace) {
  cpu::set_conv_workspace_bytes(1024);
  check_convt({2, 4, 3, 5, 3, 6}, 61);
}

INSTANTIATE_TEST_SUITE_P(Impl, ConvImplCpu, ::testing::Values(cpu::ConvImpl::Blas, cpu::ConvImpl::Avx2),
                         [](const auto& info) { return info.param == cpu::ConvImpl::Blas ? "blas" : "avx2"; });

// The AVX2 kernels agree with the Blas path on U-Net-like shapes and give the same bits with 1 and 2
// threads (each output element is summed by one thread in a fixed order).
TEST(ConvAvx2Cpu, MatchesBlasAndIndependentOfThreads) {
  if (!cpu::conv_avx2_supported()) GTEST_SKIP() << "no AVX2+FMA on this CPU";
  const int threads = omp_get_max_threads();
  const Conv3dShape s{1, 24, 16, 10, 12, 14, 3};
  const ConvT3dShape t{1, 16, 8, 5, 6, 7};
  const Vec x = rnd(s.c_in * s.voxels(), 71), w = rnd(s.c_out * s.c_in * 27, 72), b = rnd(s.c_out, 73),
            dy = rnd(s.c_out * s.voxels(), 74);
  const Vec tx = rnd(t.c_in * t.in_voxels(), 75), tw = rnd(t.c_in * t.c_out * 8, 76), tdy = rnd(t.c_out * t.out_voxels(), 77);
  auto run = [&] {
    std::vector<Vec> out{Vec(dy.size()), Vec(x.size()), Vec(w.size()), Vec(sz(s.c_out)),
                         Vec(tdy.size()), Vec(tx.size()), Vec(tw.size()), Vec(sz(t.c_out))};
    cpu::conv3d_forward(s, x.data(), w.data(), b.data(), out[0].data());
    cpu::conv3d_backward_data(s, dy.data(), w.data(), out[1].data());
    cpu::conv3d_backward_weight(s, x.data(), dy.data(), out[2].data(), out[3].data());
    cpu::conv_transpose3d_forward(t, tx.data(), tw.data(), b.data(), out[4].data());
    cpu::conv_transpose3d_backward_data(t, tdy.data(), tw.data(), out[5].data());
    cpu::conv_transpose3d_backward_weight(t, tx.data(), tdy.data(), out[6].data(), out[7].data());
    return out;
  };
  cpu::set_conv_impl(cpu::ConvImpl::Blas);
  const auto blas = run();
  cpu::set_conv_impl(cpu::ConvImpl::Avx2);
  omp_set_num_threads(1);
  const auto one = run();
  omp_set_num_threads(2);
  const auto two = run();
  omp_set_num_threads(threads);
  cpu::set_conv_impl(cpu::ConvImpl::Auto);
  for (std::size_t i = 0; i < blas.size(); ++i) {
    EXPECT_TRUE(close(one[i], blas[i])) << "output " << i;
    EXPECT_EQ(one[i], two[i]) << "output " << i << " differs between 1 and 2 threads";
  }
}

// ---- Winograd ----------------------------------------------------------------------------------

// Tolerance relative to the largest |output|. F(2,3)³ rounds no worse than the direct sum, which the
// tests above hold to 1e-5. F(4,3)³'s transforms amplify rounding: its largest error is ≈ 5× the
// direct sum's (bench/winograd_points.py; ≤ 1.1e-5 on the U-Net's layers with up to 384 input
// channels, bench/RESULTS.md), so it gets the same headroom at 5× the bound.
double winograd_tol(int m) { return m == 2 ? 1e-5 : 5e-5; }

using WinoParam = std::tuple<int, cpu::winograd::Isa>;

class ConvWinogradCpu : public ::testing::TestWithParam<WinoParam> {
 protected:
  void SetUp() override {
    if (!cpu::winograd::supported()) GTEST_SKIP() << "no AVX2+FMA on this CPU";
    if (isa() == cpu::winograd::Isa::Avx512 && !cpu::winograd::avx512_supported()) GTEST_SKIP() << "no AVX-512F";
    cpu::set_conv_winograd(m() == 2 ? cpu::ConvWinograd::F2 : cpu::ConvWinograd::F4);
    cpu::winograd::set_isa(isa());
  }
  void TearDown() override {
    cpu::set_conv_winograd(cpu::ConvWinograd::Auto);
    cpu::winograd::set_isa(cpu::winograd::Isa::Auto);
  }
  int m() const { return std::get<0>(GetParam()); }
  cpu::winograd::Isa isa() const { return std::get<1>(GetParam()); }

  void check(const Conv3dShape& s, std::uint64_t seed) {
    const Vec x = rnd(s.n * s.c_in * s.voxels(), seed), w = rnd(s.c_out * s.c_in * 27, seed + 1),
              b = rnd(s.c_out, seed + 2), dy = rnd(s.n * s.c_out * s.voxels(), seed + 3);
    const ConvRef r = conv_ref(s, x, w, b, dy);
    Vec y(r.y.size(), 7.0f), dx(r.dx.size(), 7.0f), dw(r.dw.size(), 7.0f), db(r.db.size());
    cpu::conv3d_forward(s, x.data(), w.data(), b.data(), y.data());
    cpu::conv3d_backward_data(s, dy.data(), w.data(), dx.data());
    cpu::conv3d_backward_weight(s, x.data(), dy.data(), dw.data(), db.data());
    const std::string what = describe(s);
    EXPECT_TRUE(close(y, r.y, winograd_tol(m()))) << "forward " << what;
    EXPECT_TRUE(close(dx, r.dx, winograd_tol(m()))) << "backward-data " << what;
    EXPECT_TRUE(close(dw, r.dw, winograd_tol(m()))) << "backward-weight " << what;
    EXPECT_TRUE(close(db, r.db)) << "bias gradient " << what;
  }
};

TEST_P(ConvWinogradCpu, OddShapes) {
  check({1, 3, 9, 5, 7, 6, 3}, 111); // every axis cut by the tile; 9 outputs: tails of 4- and 8-row micro-tiles
  check({2, 6, 5, 4, 6, 9, 3}, 112); // batch 2
  check({1, 1, 7, 6, 5, 4, 3}, 113); // one input channel
  check({1, 2, 3, 1, 1, 1, 3}, 114); // a single voxel: one tile, mostly outside
  check({1, 5, 4, 2, 30, 29, 3}, 115);
}

TEST_P(ConvWinogradCpu, ManyChunks) {
  // 7·8·9 tiles of 2³ (504) or 4·4·5 of 4³ (80) over chunks of 24 to 128 tiles; 21 outputs: tails.
  check({1, 5, 21, 13, 15, 18, 3}, 121);
}

// The inference form: input in two parts, eval batch norm folded to scale/shift, ReLU — against the
// direct kernel's result.
TEST_P(ConvWinogradCpu, FusedTwoPartInputAndEpilogue) {
  const Conv3dShape s{2, 11, 10, 7, 9, 10, 3};
  const index_t c1 = 4;
  const Vec x1 = rnd(s.n * c1 * s.voxels(), 131), x2 = rnd(s.n * (s.c_in - c1) * s.voxels(), 132),
            w = rnd(s.c_out * s.c_in * 27, 133), b = rnd(s.c_out, 134), scale = rnd(s.c_out, 135),
            shift = rnd(s.c_out, 136);
  for (const bool relu : {false, true}) {
    const ConvEpilogue ep{scale.data(), shift.data(), relu};
    Vec want(sz(s.n * s.c_out * s.voxels())), got(want.size());
    cpu::set_conv_winograd(cpu::ConvWinograd::Off);
    cpu::conv3d_forward_fused(s, x1.data(), c1, x2.data(), w.data(), b.data(), ep, want.data());
    cpu::set_conv_winograd(m() == 2 ? cpu::ConvWinograd::F2 : cpu::ConvWinograd::F4);
    cpu::conv3d_forward_fused(s, x1.data(), c1, x2.data(), w.data(), b.data(), ep, got.data());
    EXPECT_TRUE(close(got, want, winograd_tol(m()))) << "relu " << relu;
    if (relu) {
      EXPECT_EQ(*std::min_element(got.begin(), got.end()), 0.0f);
    }
  }
}

TEST_P(ConvWinogradCpu, IndependentOfThreads) {
  const int threads = omp_get_max_threads();
  const Conv3dShape s{1, 16, 16, 16, 17, 18, 3};  // enough work for two threads, several chunks
  const Vec x = rnd(s.c_in * s.voxels(), 141), w = rnd(s.c_out * s.c_in * 27, 142), b = rnd(s.c_out, 143),
            dy = rnd(s.c_out * s.voxels(), 144);
  auto run = [&] {
    std::vector<Vec> out{Vec(dy.size()), Vec(x.size()), Vec(w.size())};
    cpu::conv3d_forward(s, x.data(), w.data(), b.data(), out[0].data());
    cpu::conv3d_backward_data(s, dy.data(), w.data(), out[1].data());
    cpu::conv3d_backward_weight(s, x.data(), dy.data(), out[2].data(), nullptr);
    return out;
  };
  omp_set_num_threads(1);
  const auto one = run();
  omp_set_num_threads(2);
  const auto two = run(), again = run();
  omp_set_num_threads(threads);
  EXPECT_EQ(one[0], two[0]) << "forward differs between 1 and 2 threads";
  EXPECT_EQ(one[1], two[1]) << "data gradient differs between 1 and 2 threads";
  // The weight gradient sums each thread's share of the tiles: the same bits run to run, and within
  // rounding across thread counts.
  EXPECT_EQ(two[2], again[2]) << "weight gradient differs between two runs";
  EXPECT_TRUE(close(one[2], two[2], winograd_tol(m()))) << "weight gradient, 1 vs 2 threads";
}

INSTANTIATE_TEST_SUITE_P(Wino, ConvWinogradCpu,
                         ::testing::Combine(::testing::Values(2, 4),
                                            ::testing::Values(cpu::winograd::Isa::Avx2, cpu::winograd::Isa::Avx512)),
                         [](const auto& info) {
                           return "F" + std::to_string(std::get<0>(info.param)) +
                                  (std::get<1>(info.param) == cpu::winograd::Isa::Avx2 ? "_avx2" : "_avx512");
                         });

// The tables of kernels/cpu/winograd_kernels.h: in one dimension, Aᵀ[(G g) ⊙ (Bᵀ d)] is the correlation
// y_i = Σ_k g_k d_{i+k} (exactly up to double rounding: a wrong coefficient shows as an O(1) error).
template <int M> void check_matrices() {
  using W = cpu::winograd::Matrices<M>;
  constexpr int A = W::kAlpha;
  for (int trial = 0; trial < 20; ++trial) {
    double d[A], g[3], u[A], v[A];
    for (int i = 0; i < A; ++i) d[i] = std::sin(1.7 * trial + 0.9 * i) * 3;
    for (int k = 0; k < 3; ++k) g[k] = std::cos(2.3 * trial + 1.1 * k);
    for (int i = 0; i < A; ++i) {
      u[i] = W::kG[i][0] * g[0] + W::kG[i][1] * g[1] + W::kG[i][2] * g[2];
      v[i] = 0;
      for (int j = 0; j < A; ++j) v[i] += double(W::kBT[i][j]) * d[j];
    }
    for (int i = 0; i < M; ++i) {
      double y = 0;
      for (int j = 0; j < A; ++j) y += double(W::kAT[i][j]) * u[j] * v[j];
      EXPECT_NEAR(y, g[0] * d[i] + g[1] * d[i + 1] + g[2] * d[i + 2], 1e-12) << "F(" << M << ",3) output " << i;
    }
  }
}

TEST(ConvWinogradMatrices, OneDimensionalIdentity) {
  check_matrices<2>();
  check_matrices<4>();
}

TEST(ConvAvx2Cpu, ForcingWithoutAvx2Throws) {
  if (cpu::conv_avx2_supported()) GTEST_SKIP() << "this CPU has AVX2";
  EXPECT_THROW(cpu::set_conv_impl(cpu::ConvImpl::Avx2), KernelError);
}

}  // namespace
}  // namespace sse
