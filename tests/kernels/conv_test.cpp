// The CPU convolution kernels against direct-loop oracles in double (the definition, written as
// plainly as possible), at odd sizes, k = 1 and 3, with slabs forced small so the chunked paths run.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/conv3d.h"
#include "kernels/conv_transpose3d.h"
#include "tests/support/test_util.h"

namespace sse {
namespace {

std::vector<float> rnd(index_t n, std::uint64_t seed) { return test::uniform(Shape{n}, seed).to_vector<float>(); }

// y[n,o,z,y,x] = b[o] + Σ_{c,dz,dy,dx} x[n,c,z+dz−p,y+dy−p,x+dx−p]·w[o,c,dz,dy,dx]
std::vector<float> conv_oracle(const Conv3dShape& s, const std::vector<float>& x, const std::vector<float>& w,
                               const std::vector<float>& b) {
  const int k = s.k, p = s.pad();
  std::vector<float> y(static_cast<std::size_t>(s.n * s.c_out * s.voxels()));
  for (index_t n = 0; n < s.n; ++n)
    for (index_t o = 0; o < s.c_out; ++o)
      for (index_t z = 0; z < s.d; ++z)
        for (index_t yy = 0; yy < s.h; ++yy)
          for (index_t xx = 0; xx < s.w; ++xx) {
            double acc = b[o];
            for (index_t c = 0; c < s.c_in; ++c)
              for (int dz = 0; dz < k; ++dz)
                for (int dy = 0; dy < k; ++dy)
                  for (int dx = 0; dx < k; ++dx) {
                    const index_t iz = z + dz - p, iy = yy + dy - p, ix = xx + dx - p;
                    if (iz < 0 || iz >= s.d || iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
                    acc += double(x[((n * s.c_in + c) * s.d + iz) * s.h * s.w + iy * s.w + ix]) *
                           w[(((o * s.c_in + c) * k + dz) * k + dy) * k + dx];
                  }
            y[((n * s.c_out + o) * s.d + z) * s.h * s.w + yy * s.w + xx] = static_cast<float>(acc);
          }
  return y;
}

class ConvCpu : public ::testing::TestWithParam<std::size_t> {  // param: workspace bytes
 protected:
  void SetUp() override { cpu::set_conv_workspace_bytes(GetParam()); }
  void TearDown() override { cpu::set_conv_workspace_bytes(kConvWorkspaceBytes); }
};

TEST_P(ConvCpu, ForwardMatchesDirectLoops) {
  for (int k : {1, 3, 5}) {
    const Conv3dShape s{2, 3, 4, 5, 7, 6, k};
    const auto x = rnd(s.n * s.c_in * s.voxels(), 1), w = rnd(s.c_out * s.c_in * s.kvol(), 2), b = rnd(s.c_out, 3);
    std::vector<float> y(static_cast<std::size_t>(s.n * s.c_out * s.voxels()));
    cpu::conv3d_forward(s, x.data(), w.data(), b.data(), y.data());
    EXPECT_TRUE(test::all_close(y, conv_oracle(s, x, w, b), 1e-5)) << "k=" << k;
  }
}

// Backward kernels are the adjoints of forward: <dy, conv(x)> = <conv_bwd_data(dy), x> and the weight
// gradient is linear in (x, dy). Checked against the oracle by probing with basis-like random vectors.
TEST_P(ConvCpu, BackwardIsTheAdjointOfForward) {
  for (int k : {1, 3}) {
    const Conv3dShape s{2, 3, 4, 5, 7, 6, k};
    const index_t nx = s.n * s.c_in * s.voxels(), ny = s.n * s.c_out * s.voxels(), nw = s.c_out * s.c_in * s.kvol();
    const auto x = rnd(nx, 4), w = rnd(nw, 5), dy = rnd(ny, 6);
    const std::vector<float> zero_b(static_cast<std::size_t>(s.c_out), 0.0f);
    std::vector<float> dx(static_cast<std::size_t>(nx)), dw(static_cast<std::size_t>(nw)), db(static_cast<std::size_t>(s.c_out));
    cpu::conv3d_backward_data(s, dy.data(), w.data(), dx.data());
    cpu::conv3d_backward_weight(s, x.data(), dy.data(), dw.data(), db.data());
    // <dy, conv(x, w)> is bilinear: its gradient in x is dx, in w is dw.
    auto inner = [&](const std::vector<float>& xx, const std::vector<float>& ww) {
      const auto y = conv_oracle(s, xx, ww, zero_b);
      double a = 0;
      for (std::size_t i = 0; i < y.size(); ++i) a += double(y[i]) * dy[i];
      return a;
    };
    const double base = inner(x, w);
    double dot_x = 0, dot_w = 0;
    for (index_t i = 0; i < nx; ++i) dot_x += double(dx[i]) * x[i];
    for (index_t i = 0; i < nw; ++i) dot_w += double(dw[i]) * w[i];
    EXPECT_NEAR(dot_x, base, 1e-4 * std::max(1.0, std::fabs(base))) << "k=" << k;
    EXPECT_NEAR(dot_w, base, 1e-4 * std::max(1.0, std::fabs(base))) << "k=" << k;
    // Single-element probes: dw[i] = <dy, conv(x, e_i)>.
    for (index_t i = 0; i < nw; i += 17) {
      std::vector<float> e(static_cast<std::size_t>(nw), 0.0f);
      e[i] = 1.0f;
      EXPECT_NEAR(dw[i], inner(x, e), 1e-4 * std::max(1.0, std::fabs(double(dw[i])))) << "k=" << k << " i=" << i;
    }
    double sdy = 0;
    for (index_t n = 0; n < s.n; ++n)
      for (index_t v = 0; v < s.voxels(); ++v) sdy += dy[(n * s.c_out + 1) * s.voxels() + v];
    EXPECT_NEAR(db[1], sdy, 1e-4);
  }
}

INSTANTIATE_TEST_SUITE_P(Workspace, ConvCpu, ::testing::Values(kConvWorkspaceBytes, std::size_t{4096}),
                         [](const auto& info) { return info.param == kConvWorkspaceBytes ? "default" : "tiny_slabs"; });

TEST(ConvTransposeCpu, ForwardMatchesDefinitionAndAdjoint) {
  cpu::set_conv_workspace_bytes(1024);  // many chunks
  const ConvT3dShape s{2, 3, 2, 3, 5, 4};
  const index_t nx = s.n * s.c_in * s.in_voxels(), ny = s.n * s.c_out * s.out_voxels(), nw = s.c_in * s.c_out * 8;
  const auto x = rnd(nx, 7), w = rnd(nw, 8), b = rnd(s.c_out, 9), dy = rnd(ny, 10);
  std::vector<float> y(static_cast<std::size_t>(ny));
  cpu::conv_transpose3d_forward(s, x.data(), w.data(), b.data(), y.data());
  const index_t od = 2 * s.d, oh = 2 * s.h, ow = 2 * s.w;
  std::vector<float> want(static_cast<std::size_t>(ny));
  for (index_t n = 0; n < s.n; ++n)
    for (index_t o = 0; o < s.c_out; ++o)
      for (index_t z = 0; z < od; ++z)
        for (index_t yy = 0; yy < oh; ++yy)
          for (index_t xx = 0; xx < ow; ++xx) {
            double acc = b[o];
            for (index_t c = 0; c < s.c_in; ++c)
              acc += double(x[((n * s.c_in + c) * s.d + z / 2) * s.h * s.w + (yy / 2) * s.w + xx / 2]) *
                     w[(c * s.c_out + o) * 8 + (z % 2) * 4 + (yy % 2) * 2 + xx % 2];
            want[((n * s.c_out + o) * od + z) * oh * ow + yy * ow + xx] = static_cast<float>(acc);
          }
  EXPECT_TRUE(test::all_close(y, want, 1e-5));
  std::vector<float> dx(static_cast<std::size_t>(nx)), dw(static_cast<std::size_t>(nw)), db(static_cast<std::size_t>(s.c_out));
  cpu::conv_transpose3d_backward_data(s, dy.data(), w.data(), dx.data());
  cpu::conv_transpose3d_backward_weight(s, x.data(), dy.data(), dw.data(), db.data());
  double base = 0, bsum = 0, dot_x = 0, dot_w = 0, dot_b = 0;
  for (index_t i = 0; i < ny; ++i) base += double(want[i]) * dy[i];
  for (index_t n = 0; n < s.n; ++n)
    for (index_t o = 0; o < s.c_out; ++o)
      for (index_t v = 0; v < s.out_voxels(); ++v) bsum += double(b[o]) * dy[(n * s.c_out + o) * s.out_voxels() + v];
  for (index_t i = 0; i < nx; ++i) dot_x += double(dx[i]) * x[i];
  for (index_t i = 0; i < nw; ++i) dot_w += double(dw[i]) * w[i];
  for (index_t o = 0; o < s.c_out; ++o) dot_b += double(db[o]) * b[o];
  EXPECT_NEAR(dot_x, base - bsum, 1e-4 * std::fabs(base));  // y − b is linear in x and in w
  EXPECT_NEAR(dot_w, base - bsum, 1e-4 * std::fabs(base));
  EXPECT_NEAR(dot_b, bsum, 1e-4 * std::max(1.0, std::fabs(bsum)));
  cpu::set_conv_workspace_bytes(kConvWorkspaceBytes);
}

}  // namespace
}  // namespace sse
