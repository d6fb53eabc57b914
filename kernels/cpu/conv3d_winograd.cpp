// Winograd F(m,3)³ convolution: the driver (see kernels/cpu/conv3d_winograd.h; buffer layouts in
// kernels/cpu/winograd_kernels.h; vector kernels in kernels/cpu/winograd_simd.h).
//
// Per call: the weights are transformed once (in double, rounded once) into U. Threads then take chunks
// of tb consecutive tiles (dynamic schedule) and run each through the three stages: the input
// transform (straight from the input volume) into V, the α³ GEMMs into M, the output transform into y.
// Memory: U plus, per thread, one chunk's V, M and input work buffer — never the transformed volume.
// Each output value is computed by one chunk in a fixed order, so results do not depend on the thread
// count.
#include "kernels/cpu/conv3d_winograd.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/conv3d_avx2.h"
#include "kernels/cpu/winograd_kernels.h"

namespace sse::cpu::winograd {

bool supported() { return avx2::supported(); }
bool avx512_supported() {
  static const bool ok = avx2::supported() && __builtin_cpu_supports("avx512f");
  return ok;
}

namespace {
Isa g_isa = Isa::Auto;

// AVX-512's only gain here would be width: on the CPUs measured (bench/RESULTS.md) one 512-bit FMA
// issues per cycle where two 256-bit ones do, at a lower clock, so AVX2 is the default everywhere.
Isa isa_for_cpu() { return Isa::Avx2; }

const Kernels& kernels() {
  const Isa i = g_isa == Isa::Auto ? isa_for_cpu() : g_isa;
  return i == Isa::Avx512 ? kernels_avx512() : kernels_avx2();
}

index_t ceil_div(index_t a, index_t b) { return (a + b - 1) / b; }

// The input channels of one image: [0, c1) at x1, the rest at x2 (a concatenation's two parts).
struct Channels {
  const float* x1;
  index_t c1;
  const float* x2;
  index_t vol;
  const float* at(index_t c) const { return c < c1 ? x1 + c * vol : x2 + (c - c1) * vol; }
};

// The weights of a forward-shaped convolution: g(o, c, tap) = w[o][c][tap], or for the data gradient
// (flip) w[c][o][26 − tap] of the original (c_out, c_in) weights.
struct Weights {
  const float* w;
  index_t c_in;  // of the original weights
  bool flip;
  float operator()(index_t o, index_t c, int tap) const {
    return flip ? w[(c * c_in + o) * 27 + 26 - tap] : w[(o * c_in + c) * 27 + tap];
  }
};

// U[ξ][group][c][mr] = (G g Gᵀ along each axis), in double, rounded once.
template <int M>
void transform_weights(const Weights& wt, index_t kout, index_t kin, int mr, float* u) {
  constexpr int A = Matrices<M>::kAlpha;
  const auto& G = Matrices<M>::kG;
  const index_t groups = ceil_div(kout, mr), xi_stride = groups * kin * mr;
#pragma omp parallel for schedule(static) if (kout * kin >= 256)
  for (index_t o = 0; o < groups * mr; ++o)
    for (index_t c = 0; c < kin; ++c) {
      float* dst = u + ((o / mr) * kin + c) * mr + o % mr;
      if (o >= kout) {
        for (int e = 0; e < A * A * A; ++e) dst[e * xi_stride] = 0.0f;
        continue;
      }
      double g[3][3][3], t1[3][3][A], t2[3][A][A];
      for (int tap = 0; tap < 27; ++tap) g[tap / 9][(tap / 3) % 3][tap % 3] = wt(o, c, tap);
      for (int z = 0; z < 3; ++z)
        for (int y = 0; y < 3; ++y)
          for (int i = 0; i < A; ++i) t1[z][y][i] = G[i][0] * g[z][y][0] + G[i][1] * g[z][y][1] + G[i][2] * g[z][y][2];
      for (int z = 0; z < 3; ++z)
        for (int j = 0; j < A; ++j)
          for (int i = 0; i < A; ++i) t2[z][j][i] = G[j][0] * t1[z][0][i] + G[j][1] * t1[z][1][i] + G[j][2] * t1[z][2][i];
      for (int l = 0; l < A; ++l)
        for (int j = 0; j < A; ++j)
          for (int i = 0; i < A; ++i)
            dst[((l * A + j) * A + i) * xi_stride] =
                static_cast<float>(G[l][0] * t2[0][j][i] + G[l][1] * t2[1][j][i] + G[l][2] * t2[2][j][i]);
    }
}

// Bytes of V and M per thread (one chunk); the chunk holds as many GEMM panels as fit, up to kMaxPanels.
constexpr std::size_t kChunkBytes = 8u << 20;
constexpr index_t kMaxPanels = 4;

void run(const Conv3dShape& s, int m, index_t kin, index_t kout, const Channels& x, const Weights& wt,
         const float* bias, const ConvEpilogue& ep, float* y) {
  const Kernels& K = kernels();
  const int a = m + 2;
  const index_t xi = index_t{a} * a * a, groups = ceil_div(kout, K.mr);
  float* u = scratch(static_cast<std::size_t>(xi * groups * K.mr * kin), 2);
  if (m == 2) transform_weights<2>(wt, kout, kin, K.mr, u);
  else transform_weights<4>(wt, kout, kin, K.mr, u);

  Geometry g;
  g.m = m;
  g.alpha = a;
  g.d = s.d;
  g.h = s.h;
  g.w = s.w;
  g.nzt = ceil_div(s.d, m);
  g.nyt = ceil_div(s.h, m);
  g.nxt = ceil_div(s.w, m);
  g.tiles = g.nzt * g.nyt * g.nxt;
  const index_t panels = std::clamp<index_t>(
      static_cast<index_t>(kChunkBytes / (sizeof(float) * xi * (kin + kout) * K.nr)), 1, kMaxPanels);
  const index_t tb = panels * K.nr, chunks = ceil_div(g.tiles, tb), items = s.n * chunks, vol = s.voxels();
  std::vector<const float*> chans(static_cast<std::size_t>(s.n * kin));
  for (index_t n = 0; n < s.n; ++n)
    for (index_t c = 0; c < kin; ++c)
      chans[static_cast<std::size_t>(n * kin + c)] =
          c < x.c1 ? x.x1 + (n * x.c1 + c) * vol : x.x2 + (n * (kin - x.c1) + c - x.c1) * vol;
  const double flops = 2.0 * xi * kin * kout * g.tiles * s.n;
#pragma omp parallel if (flops > 4e6 && items > 1)
  {
    float* v = scratch(static_cast<std::size_t>(xi * kin * tb), 0);
    float* mb = scratch(static_cast<std::size_t>(xi * kout * tb), 1);
    float* work = scratch(static_cast<std::size_t>(input_work_floats(g, tb)), 3);
#pragma omp for schedule(dynamic, 1)
    for (index_t it = 0; it < items; ++it) {
      const index_t n = it / chunks, t0 = (it % chunks) * tb;
      K.input(g, chans.data() + n * kin, kin, t0, tb, v, work);
      K.gemm(g, u, kin, kout, v, tb, mb);
      K.output(g, mb, kout, t0, tb, bias, ep, y + n * kout * vol);
    }
  }
}

void check_args(const Conv3dShape& s, int m, const char* op) {
  kernel_check(s.k == 3, op, "Winograd convolution needs k = 3");
  kernel_check(m == 2 || m == 4, op, "tile must be 2 or 4");
  kernel_check(supported(), op, "this CPU has no AVX2+FMA");
}

}  // namespace

void set_isa(Isa isa) {
  kernel_check(isa != Isa::Avx512 || avx512_supported(), "winograd::set_isa", "this CPU has no AVX-512F");
  g_isa = isa;
}
Isa isa() { return g_isa; }

void conv3_forward(const Conv3dShape& s, int m, const float* x1, index_t c_in1, const float* x2, const float* w,
                   const float* b, const ConvEpilogue& ep, float* y) {
  check_args(s, m, "winograd::conv3_forward");
  run(s, m, s.c_in, s.c_out, Channels{x1, c_in1, x2, s.voxels()}, Weights{w, s.c_in, false}, b, ep, y);
}

void conv3_backward_data(const Conv3dShape& s, int m, const float* dy, const float* w, float* dx) {
  check_args(s, m, "winograd::conv3_backward_data");
  run(s, m, s.c_out, s.c_in, Channels{dy, s.c_out, nullptr, s.voxels()}, Weights{w, s.c_in, true}, nullptr,
      ConvEpilogue{}, dx);
}

int choose_tile(index_t kin, index_t kout, index_t d, index_t h, index_t w) {
  (void)kin;
  (void)kout;
  (void)d;
  (void)h;
  (void)w;
  return 0;
}

}  // namespace sse::cpu::winograd
