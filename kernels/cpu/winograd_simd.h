// kernels/cpu/winograd_simd.h — the vector kernels of the Winograd convolution (the Kernels table of
// kernels/cpu/winograd_kernels.h), written once for a vector of SSE_WG_LANES floats and compiled twice:
// kernels/cpu/conv3d_winograd_avx2.cpp (8 lanes, AVX2+FMA) and conv3d_winograd_avx512.cpp (16 lanes,
// AVX-512F). The including file defines SSE_WG_NS (the namespace) and SSE_WG_LANES, includes every
// standard header first, then this file between `#pragma GCC push_options / target(...)` and
// `pop_options`. Everything here has internal linkage, so no vector code of one instruction set can
// stand in for a generic inline function elsewhere.
//
// Vectors hold SSE_WG_LANES consecutive tiles (tiles in lanes), so every transform is plain vector
// arithmetic, one axis at a time, with the matrices' coefficients folded in at compile time (zeros
// skipped, ±1 as additions). Input: per channel and chunk, the rows of each input plane split by x
// phase (so a tile row's stride-m reads become contiguous vectors), the transform along x and y per
// plane into the planes buffer. The transform along z is done one ξ at a time into the GEMM's B
// operand right before the micro-kernels use it (AVX2: the 4×24 assembly kernel of
// kernels/cpu/gemm_avx2.cpp; AVX-512: an 8×32 one here), so the transformed input is never stored whole.
//
// Output: each tile's m³ values go to y with bias and epilogue, transposed 8 tiles at a time so that
// a tile's m values along x leave in one store; tiles cut by the volume's edge go value by value.

namespace sse::cpu::winograd::SSE_WG_NS {
namespace {

constexpr int L = SSE_WG_LANES;
#define SSE_WG_INLINE __attribute__((always_inline)) inline

#if SSE_WG_LANES == 8
using vf = __m256;
#define SSE_WG_V(op) _mm256_##op
#else
using vf = __m512;
#define SSE_WG_V(op) _mm512_##op
#endif
SSE_WG_INLINE vf ld(const float* p) { return SSE_WG_V(loadu_ps)(p); }
SSE_WG_INLINE void st(float* p, vf v) { SSE_WG_V(storeu_ps)(p, v); }
SSE_WG_INLINE vf set1(float v) { return SSE_WG_V(set1_ps)(v); }
SSE_WG_INLINE vf add(vf a, vf b) { return SSE_WG_V(add_ps)(a, b); }
SSE_WG_INLINE vf sub(vf a, vf b) { return SSE_WG_V(sub_ps)(a, b); }
SSE_WG_INLINE vf mul(vf a, vf b) { return SSE_WG_V(mul_ps)(a, b); }
SSE_WG_INLINE vf fma(vf a, vf b, vf c) { return SSE_WG_V(fmadd_ps)(a, b, c); }
SSE_WG_INLINE vf vmax(vf a, vf b) { return SSE_WG_V(max_ps)(a, b); }
SSE_WG_INLINE vf zero() { return SSE_WG_V(setzero_ps)(); }
#undef SSE_WG_V

// out[i] = Σ_j c[i][j] · in[j] for a constant matrix c (R × C): after inlining and unrolling, zero
// coefficients vanish and ±1 become additions and subtractions.
template <int R, int C>
SSE_WG_INLINE void lincomb(const float (&c)[R][C], const vf* in, vf* out) {
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    vf acc = zero();
    bool first = true;
#pragma GCC unroll 8
    for (int j = 0; j < C; ++j) {
      const float k = c[i][j];
      if (k == 0.0f) continue;
      if (first) acc = k == 1.0f ? in[j] : mul(set1(k), in[j]);
      else acc = k == 1.0f ? add(acc, in[j]) : k == -1.0f ? sub(acc, in[j]) : fma(set1(k), in[j], acc);
      first = false;
    }
    out[i] = acc;
  }
}

// The x-phase split of one input row: out[j·rx_n + rx] = x[m·rx + j − 1] (zero outside the row), for
// rx < rx_n (a multiple of 8). pad: the row copied to pad[1 ..] between zeros (pad[0] and everything past
// the row are zero and stay so), so every block of 8 rx is one run of 8·m floats of pad: a 2×8 or 4×8
// transpose (AVX2; the AVX-512 build runs the same code).
template <int M>
SSE_WG_INLINE void split_row(const float* pad, index_t rx_n, float* out) {
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (index_t rx = 0; rx < rx_n; rx += 8) {
    const float* p = pad + M * rx;
    if constexpr (M == 4) {
      const __m256 a0 = _mm256_loadu_ps(p), a1 = _mm256_loadu_ps(p + 8), a2 = _mm256_loadu_ps(p + 16),
                   a3 = _mm256_loadu_ps(p + 24);
      const __m256 t0 = _mm256_unpacklo_ps(a0, a1), t1 = _mm256_unpackhi_ps(a0, a1);
      const __m256 t2 = _mm256_unpacklo_ps(a2, a3), t3 = _mm256_unpackhi_ps(a2, a3);
      // phase j of rx .. rx + 7 in the order 0, 2, 4, 6, 1, 3, 5, 7; `order` puts it right
      _mm256_storeu_ps(out + rx, _mm256_permutevar8x32_ps(_mm256_shuffle_ps(t0, t2, 0x44), order));
      _mm256_storeu_ps(out + rx_n + rx, _mm256_permutevar8x32_ps(_mm256_shuffle_ps(t0, t2, 0xEE), order));
      _mm256_storeu_ps(out + 2 * rx_n + rx, _mm256_permutevar8x32_ps(_mm256_shuffle_ps(t1, t3, 0x44), order));
      _mm256_storeu_ps(out + 3 * rx_n + rx, _mm256_permutevar8x32_ps(_mm256_shuffle_ps(t1, t3, 0xEE), order));
    } else {
      const __m256 a0 = _mm256_loadu_ps(p), a1 = _mm256_loadu_ps(p + 8);
      // evens and odds within 128-bit lanes (order 0, 1, 4, 5, 2, 3, 6, 7), then the lanes' halves swapped
      const __m256 ev = _mm256_shuffle_ps(a0, a1, 0x88), od = _mm256_shuffle_ps(a0, a1, 0xDD);
      _mm256_storeu_ps(out + rx, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), 0xD8)));
      _mm256_storeu_ps(out + rx_n + rx, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(od), 0xD8)));
    }
  }
}

// The 2-D transform Bᵀ d B of the α×α patches (input plane, y from m·ty − 1, x from m·(tx0 + c) − 1) of
// the L tiles c .. of a tile row, from the phase-split rows ph (row dy at ph + dy·m·rx_n), stored at
// dst + (ξy·α + ξx)·ps.
template <int M>
SSE_WG_INLINE void plane_tiles(const float* ph, index_t rx_n, index_t c, float* dst, index_t ps) {
  constexpr int A = Matrices<M>::kAlpha;
  const auto& bt = Matrices<M>::kBT;
  vf e[A][A], in[A], out[A];
#pragma GCC unroll 6
  for (int dy = 0; dy < A; ++dy) {
    const float* row = ph + dy * M * rx_n + c;
#pragma GCC unroll 6
    for (int dx = 0; dx < A; ++dx) in[dx] = ld(row + (dx % M) * rx_n + dx / M);
    lincomb(bt, in, e[dy]);
  }
#pragma GCC unroll 6
  for (int x = 0; x < A; ++x) {
#pragma GCC unroll 6
    for (int dy = 0; dy < A; ++dy) in[dy] = e[dy][x];
    lincomb(bt, in, out);
#pragma GCC unroll 6
    for (int y = 0; y < A; ++y) st(dst + (y * A + x) * ps, out[y]);
  }
}

// The x-y transforms of input plane z (of channel x) for the tiles of block b, into dst (P layout).
// pad: zero except where split rows are copied (the same range for every row of the block).
template <int M>
void block_plane(const Geometry& g, const float* x, const Block& b, index_t z, float* dst, index_t ps, float* ph,
                 float* pad) {
  constexpr int A = Matrices<M>::kAlpha;
  const index_t rx_n = phase_row_floats(b.cols), xs = M * b.tx0 - 1;  // x of pad[0]
  const index_t qa = std::max<index_t>(0, -xs), qb = std::min<index_t>(M * rx_n, g.w - xs);
  for (index_t r = 0; r < b.rows && b.ty0 + r < g.nyt; ++r) {
    float* out = dst + r * b.cols;
    if (z < 0 || z >= g.d) {
      for (int e = 0; e < A * A; ++e) std::memset(out + e * ps, 0, static_cast<std::size_t>(b.cols) * sizeof(float));
      continue;
    }
    for (int dy = 0; dy < A; ++dy) {
      const index_t y = M * (b.ty0 + r) + dy - 1;
      float* phr = ph + dy * M * rx_n;
      if (y < 0 || y >= g.h) {
        std::memset(phr, 0, static_cast<std::size_t>(M * rx_n) * sizeof(float));
        continue;
      }
      std::memcpy(pad + qa, x + (z * g.h + y) * g.w + xs + qa, static_cast<std::size_t>(qb - qa) * sizeof(float));
      split_row<M>(pad, rx_n, phr);
    }
    // A vector past the row's end spills into the next row's place, written after (or past the block).
    for (index_t c = 0; c < b.cols; c += L) plane_tiles<M>(ph, rx_n, c, out + c, ps);
  }
}

// Prefetches (into L2) the input rows block_plane will read from plane z of channel x: rows
// m·ty0 − 1 .. m·(ty0 + rows) + α − m − 1 are contiguous in memory.
template <int M>
SSE_WG_INLINE void prefetch_plane(const Geometry& g, const float* x, const Block& b, index_t z) {
  if (z < 0 || z >= g.d) return;
  const index_t y0 = std::max<index_t>(0, M * b.ty0 - 1), y1 = std::min(g.h, M * (b.ty0 + b.rows) + 2);
  const char* p = reinterpret_cast<const char*>(x + (z * g.h + y0) * g.w);
  const char* e = reinterpret_cast<const char*>(x + (z * g.h + y1) * g.w);
  for (; p < e; p += 64) _mm_prefetch(p, _MM_HINT_T1);
}

template <int M>
void input(const Geometry& g, const float* const* xc, index_t kin, const Block& b, index_t tb, float* planes,
           float* work) {
  constexpr int A = Matrices<M>::kAlpha, E = A * A;
  const index_t ps = plane_stride(tb), rx_n = phase_row_floats(b.cols), cs = channel_planes_floats(g, tb);
  float* ph = work;
  float* pad = ph + A * M * rx_n;
  std::memset(pad, 0, static_cast<std::size_t>(M * rx_n + 64) * sizeof(float));
  for (index_t c = 0; c < kin; ++c)
    for (int dz = b.first ? 0 : A - M; dz < A; ++dz) {  // planes below dz = α − m: from the layer below
      const index_t z = M * b.tz + dz - 1;
      if (c + 1 < kin) prefetch_plane<M>(g, xc[c + 1], b, z);  // the next channel's rows
      block_plane<M>(g, xc[c], b, z, planes + c * cs + plane_slot(M, dz, b.tz) * E * ps, ps, ph, pad);
    }
}

// One pass of a separable transform: for each of the P×Q lines, the C vectors get(p, q, i) mapped by the
// matrix c to the R vectors handed to put(p, q, r, v).
template <int P, int Q, int R, int C, typename Get, typename Put>
SSE_WG_INLINE void along(const float (&c)[R][C], Get get, Put put) {
  vf v[C], w[R];
#pragma GCC unroll 6
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 6
    for (int q = 0; q < Q; ++q) {
#pragma GCC unroll 6
      for (int i = 0; i < C; ++i) v[i] = get(p, q, i);
      lincomb(c, v, w);
#pragma GCC unroll 6
      for (int r = 0; r < R; ++r) put(p, q, r, w[r]);
    }
}

// out(z, y, x, ·) = Σ c[z][k]·c[y][j]·c[x][i]·in(k, j, i): a C³ → R³ separable map, the matrix c along
// x, then y, then z (the output transform, and the weight gradient's adjoint of it). in(k, j, i) loads
// an input vector; out(z, y, x, v) takes a result.
template <int R, int C, typename In, typename Out>
SSE_WG_INLINE void separable3(const float (&c)[R][C], In in, Out out) {
  vf b1[C][C][R], b2[C][R][R];
  along<C, C>(c, in, [&](int k, int j, int x, vf v) __attribute__((always_inline)) { b1[k][j][x] = v; });
  along<C, R>(
      c, [&](int k, int x, int j) __attribute__((always_inline)) { return b1[k][j][x]; },
      [&](int k, int x, int y, vf v) __attribute__((always_inline)) { b2[k][y][x] = v; });
  along<R, R>(
      c, [&](int y, int x, int k) __attribute__((always_inline)) { return b2[k][y][x]; },
      [&](int y, int x, int z, vf v) __attribute__((always_inline)) { out(z, y, x, v); });
}

// Aᵀ m A of one output channel for the L tiles of a vector: α³ loads of M (stride ms), then bias and
// epilogue; res[oz][oy][ox] holds the m³ result vectors.
template <int M>
SSE_WG_INLINE void output_tile(const float* mb, index_t ms, float bias, float scale, float shift, bool affine,
                               bool relu, vf (&res)[M][M][M]) {
  constexpr int A = Matrices<M>::kAlpha;
  const vf vb = set1(bias), vs = set1(scale), vh = set1(shift);
  separable3(
      Matrices<M>::kAT, [&](int z, int y, int x) __attribute__((always_inline)) { return ld(mb + ((z * A + y) * A + x) * ms); },
      [&](int oz, int oy, int ox, vf v) __attribute__((always_inline)) {
        vf r = add(v, vb);
        if (affine) {
          r = fma(r, vs, vh);
          if (relu) r = vmax(r, zero());
        }
        res[oz][oy][ox] = r;
      });
}

// One output row (oz, oy) of 8 tiles: r[ox] (ox < M) the vectors over the tiles; tile k's M values go
// to p[k] + off where full[k] (a 4×8 or 2×8 transpose, then 16- or 8-byte stores).
template <int M>
SSE_WG_INLINE void store_row8(const __m256* r, float* const* p, const bool* full, index_t off) {
  if constexpr (M == 4) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 u[4] = {_mm256_shuffle_ps(t0, t2, 0x44), _mm256_shuffle_ps(t0, t2, 0xEE),
                         _mm256_shuffle_ps(t1, t3, 0x44), _mm256_shuffle_ps(t1, t3, 0xEE)};
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      if (full[k]) _mm_storeu_ps(p[k] + off, _mm256_castps256_ps128(u[k]));
      if (full[k + 4]) _mm_storeu_ps(p[k + 4] + off, _mm256_extractf128_ps(u[k], 1));
    }
  } else {
    const __m256 t[2] = {_mm256_unpacklo_ps(r[0], r[1]), _mm256_unpackhi_ps(r[0], r[1])};
#pragma GCC unroll 2
    for (int k = 0; k < 2; ++k) {
      const __m128 lo = _mm256_castps256_ps128(t[k]), hi = _mm256_extractf128_ps(t[k], 1);
      if (full[2 * k]) _mm_storel_pi(reinterpret_cast<__m64*>(p[2 * k] + off), lo);
      if (full[2 * k + 1]) _mm_storeh_pi(reinterpret_cast<__m64*>(p[2 * k + 1] + off), lo);
      if (full[2 * k + 4]) _mm_storel_pi(reinterpret_cast<__m64*>(p[2 * k + 4] + off), hi);
      if (full[2 * k + 5]) _mm_storeh_pi(reinterpret_cast<__m64*>(p[2 * k + 5] + off), hi);
    }
  }
}

// The 8-lane half h of v.
SSE_WG_INLINE __m256 half(vf v, int h) {
#if SSE_WG_LANES == 8
  (void)h;
  return v;
#else
  return _mm512_castps512_ps256(h == 0 ? v : _mm512_shuffle_f32x4(v, v, 0xEE));
#endif
}

template <int M>
void output(const Geometry& g, const float* mb, index_t kout, const Block& b, index_t tb, const float* bias,
            const ConvEpilogue& ep, float* y) {
  const index_t vol = g.d * g.h * g.w, ms = m_stride(kout, tb), end = b.rows * b.cols;
  alignas(64) float buf[M][M][M][L];
  float* p[L];
  bool full[L];
  index_t nv[L][3];
  for (index_t i = 0; i < end; i += L) {
    // Where each tile's m³ block starts in channel 0 of y, and how much of it lies inside the volume.
    const index_t n = std::min<index_t>(L, end - i);
    bool any_partial = false;
    for (index_t j = 0; j < L; ++j) {
      if (j >= n) {
        full[j] = false;
        nv[j][0] = 0;
        continue;
      }
      const index_t ty = b.ty0 + (i + j) / b.cols, tx = b.tx0 + (i + j) % b.cols;
      if (ty >= g.nyt) {  // a row past the volume: computed, dropped
        full[j] = false;
        nv[j][0] = 0;
        any_partial = true;
        continue;
      }
      const index_t z0 = M * b.tz, y0 = M * ty, x0 = M * tx;
      p[j] = y + (z0 * g.h + y0) * g.w + x0;
      nv[j][0] = std::min<index_t>(M, g.d - z0);
      nv[j][1] = std::min<index_t>(M, g.h - y0);
      nv[j][2] = std::min<index_t>(M, g.w - x0);
      full[j] = nv[j][0] == M && nv[j][1] == M && nv[j][2] == M;
      any_partial |= !full[j];
    }
    for (index_t o = 0; o < kout; ++o) {
      const float bo = bias ? bias[o] : 0.0f, sc = ep.scale ? ep.scale[o] : 1.0f, sh = ep.scale ? ep.shift[o] : 0.0f;
      if (o + 1 < kout && !any_partial && p[n - 1] == p[0] + M * (n - 1)) {  // the next channel's rows, for writing
        const float* first = p[0] + (o + 1) * vol;
        const float* last = p[n - 1] + (o + 1) * vol + M;
        for (int oz = 0; oz < M; ++oz)
          for (int oy = 0; oy < M; ++oy)
            for (const float* q = first + (oz * g.h + oy) * g.w; q < last + (oz * g.h + oy) * g.w; q += 16)
              __builtin_prefetch(q, 1, 3);
      }
      vf res[M][M][M];
      output_tile<M>(mb + o * tb + i, ms, bo, sc, sh, ep.scale != nullptr, ep.relu, res);
      for (int hh = 0; hh < L / 8; ++hh)
        for (int oz = 0; oz < M; ++oz)
          for (int oy = 0; oy < M; ++oy) {
            __m256 r[M];
            for (int ox = 0; ox < M; ++ox) r[ox] = half(res[oz][oy][ox], hh);
            store_row8<M>(r, p + 8 * hh, full + 8 * hh, o * vol + (oz * g.h + oy) * g.w);
          }
      if (!any_partial) continue;
      for (int oz = 0; oz < M; ++oz)
        for (int oy = 0; oy < M; ++oy)
          for (int ox = 0; ox < M; ++ox) st(buf[oz][oy][ox], res[oz][oy][ox]);
      for (index_t j = 0; j < n; ++j) {
        if (full[j]) continue;
        for (index_t oz = 0; oz < nv[j][0]; ++oz)
          for (index_t oy = 0; oy < nv[j][1]; ++oy) {
            float* row = p[j] + o * vol + (oz * g.h + oy) * g.w;
            for (index_t ox = 0; ox < nv[j][2]; ++ox) row[ox] = buf[oz][oy][ox][j];
          }
      }
    }
  }
}

#if SSE_WG_LANES == 16
// c (MR × 32, ldc) (+)= Σ_p a[p][8] · b[p][32]: 2·MR zmm accumulators.
template <int MR>
__attribute__((noinline)) void micro8x32(const float* __restrict a, const float* __restrict b, index_t kc,
                                         float* __restrict c, index_t ldc) {
  vf acc[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = zero();
  for (index_t p = 0; p < kc; ++p) {
    const vf b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const vf av = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
    }
    a += 8;
    b += 32;
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    _mm512_storeu_ps(c + i * ldc, acc[i][0]);
    _mm512_storeu_ps(c + i * ldc + 16, acc[i][1]);
  }
}

void micro(int mr, const float* a, const float* b, index_t kc, float* c, index_t ldc) {
  switch (mr) {
    case 8: return micro8x32<8>(a, b, kc, c, ldc);
    case 7: return micro8x32<7>(a, b, kc, c, ldc);
    case 6: return micro8x32<6>(a, b, kc, c, ldc);
    case 5: return micro8x32<5>(a, b, kc, c, ldc);
    case 4: return micro8x32<4>(a, b, kc, c, ldc);
    case 3: return micro8x32<3>(a, b, kc, c, ldc);
    case 2: return micro8x32<2>(a, b, kc, c, ldc);
    default: return micro8x32<1>(a, b, kc, c, ldc);
  }
}
constexpr int kNR = 32, kMR = 8;
#else
void micro(int mr, const float* a, const float* b, index_t kc, float* c, index_t ldc) {
  avx2::gemm_micro(mr, a, b, 24, kc, c, ldc, false);
}
constexpr int kNR = 24, kMR = 4;
#endif

// B (one ξ = (ξz, ξ')) = Bᵀ along z of the planes: row ξz of Bᵀ applied to plane dz of ξ' of every
// channel, into bbuf[panel][c][nr].
template <int M, int Z>
SSE_WG_INLINE void build_b(const float* planes, index_t cs, const index_t* slot, index_t e, index_t ps, index_t kin,
                           index_t tb, float* bbuf) {
  constexpr int A = Matrices<M>::kAlpha;
  const auto& bt = Matrices<M>::kBT;
  for (index_t c = 0; c < kin; ++c) {
    const float* pc = planes + c * cs + e * ps;
    for (index_t i = 0; i < tb; i += L) {
      vf acc = zero();
      bool first = true;
#pragma GCC unroll 6
      for (int dz = 0; dz < A; ++dz) {
        const float k = bt[Z][dz];
        if (k == 0.0f) continue;
        const vf in = ld(pc + slot[dz] + i);
        if (first) acc = k == 1.0f ? in : mul(set1(k), in);
        else acc = k == 1.0f ? add(acc, in) : k == -1.0f ? sub(acc, in) : fma(set1(k), in, acc);
        first = false;
      }
      st(bbuf + ((i / kNR) * kin + c) * kNR + i % kNR, acc);
    }
  }
}

template <int M>
void gemm(const Geometry& g, const float* u, index_t kin, index_t kout, index_t tz, const float* planes, index_t tb,
          float* bbuf, float* mb) {
  constexpr int A = Matrices<M>::kAlpha, E = A * A;
  const index_t groups = (kout + kMR - 1) / kMR, panels = tb / kNR, ps = plane_stride(tb), ms = m_stride(kout, tb);
  const index_t cs = channel_planes_floats(g, tb);
  index_t slot[A];
  for (int dz = 0; dz < A; ++dz) slot[dz] = plane_slot(M, dz, tz) * E * ps;
  auto products = [&](index_t xi) {  // M[ξ] = U[ξ] · B
    const float* ue = u + xi * groups * kin * kMR;
    for (index_t p = 0; p < panels; ++p)
      for (index_t gi = 0; gi < groups; ++gi)
        micro(static_cast<int>(std::min<index_t>(kMR, kout - gi * kMR)), ue + gi * kin * kMR, bbuf + p * kin * kNR, kin,
              mb + xi * ms + gi * kMR * tb + p * kNR, tb);
  };
  for (index_t e = 0; e < E; ++e) {  // ξ' outer: its α planes of every channel stay in cache for the α ξz
    build_b<M, 0>(planes, cs, slot, e, ps, kin, tb, bbuf);
    products(0 * E + e);
    build_b<M, 1>(planes, cs, slot, e, ps, kin, tb, bbuf);
    products(1 * E + e);
    build_b<M, 2>(planes, cs, slot, e, ps, kin, tb, bbuf);
    products(2 * E + e);
    build_b<M, 3>(planes, cs, slot, e, ps, kin, tb, bbuf);
    products(3 * E + e);
    if constexpr (M == 4) {
      build_b<M, 4>(planes, cs, slot, e, ps, kin, tb, bbuf);
      products(4 * E + e);
      build_b<M, 5>(planes, cs, slot, e, ps, kin, tb, bbuf);
      products(5 * E + e);
    }
  }
}

void gemm_any(const Geometry& g, const float* u, index_t kin, index_t kout, index_t tz, const float* planes,
              index_t tb, float* bbuf, float* mb) {
  if (g.m == 2) gemm<2>(g, u, kin, kout, tz, planes, tb, bbuf, mb);
  else gemm<4>(g, u, kin, kout, tz, planes, tb, bbuf, mb);
}

void input_any(const Geometry& g, const float* const* xc, index_t kin, const Block& b, index_t tb, float* planes,
               float* work) {
  if (g.m == 2) input<2>(g, xc, kin, b, tb, planes, work);
  else input<4>(g, xc, kin, b, tb, planes, work);
}

void output_any(const Geometry& g, const float* mb, index_t kout, const Block& b, index_t tb, const float* bias,
                const ConvEpilogue& ep, float* y) {
  if (g.m == 2) output<2>(g, mb, kout, b, tb, bias, ep, y);
  else output<4>(g, mb, kout, b, tb, bias, ep, y);
}

// U = G g Gᵀ along each axis, in double, rounded once; 8 input channels at a time (the lanes of the
// compiler's vectors).
template <int M>
void weights(const WeightSource& ws, index_t kout, index_t kin, index_t o0, index_t o1, float* u, int mr) {
  constexpr int A = Matrices<M>::kAlpha, P = 8;
  const auto& G = Matrices<M>::kG;
  const index_t groups = (kout + mr - 1) / mr, xi_stride = groups * kin * mr;
  for (index_t o = o0; o < o1; ++o)
    for (index_t c0 = 0; c0 < kin; c0 += P) {
      const int np = static_cast<int>(std::min<index_t>(P, kin - c0));
      double g[27][P], t1[3][3][A][P], t2[3][A][A][P];
      for (int tap = 0; tap < 27; ++tap)
        for (int p = 0; p < P; ++p) g[tap][p] = o < kout && p < np ? ws(o, c0 + p, tap) : 0.0;
      for (int z = 0; z < 3; ++z)
        for (int y = 0; y < 3; ++y)
          for (int i = 0; i < A; ++i)
            for (int p = 0; p < P; ++p)
              t1[z][y][i][p] = G[i][0] * g[z * 9 + y * 3][p] + G[i][1] * g[z * 9 + y * 3 + 1][p] + G[i][2] * g[z * 9 + y * 3 + 2][p];
      for (int z = 0; z < 3; ++z)
        for (int j = 0; j < A; ++j)
          for (int i = 0; i < A; ++i)
            for (int p = 0; p < P; ++p)
              t2[z][j][i][p] = G[j][0] * t1[z][0][i][p] + G[j][1] * t1[z][1][i][p] + G[j][2] * t1[z][2][i][p];
      float* dst = u + ((o / mr) * kin + c0) * mr + o % mr;
      for (int l = 0; l < A; ++l)
        for (int j = 0; j < A; ++j)
          for (int i = 0; i < A; ++i) {
            float r[P];
            for (int p = 0; p < P; ++p)
              r[p] = static_cast<float>(G[l][0] * t2[0][j][i][p] + G[l][1] * t2[1][j][i][p] + G[l][2] * t2[2][j][i][p]);
            float* d = dst + ((l * A + j) * A + i) * xi_stride;
            for (int p = 0; p < np; ++p) d[p * mr] = r[p];
          }
    }
}

void weights_any(const WeightSource& ws, int m, index_t kout, index_t kin, index_t o0, index_t o1, float* u) {
  if (m == 2) weights<2>(ws, kout, kin, o0, o1, u, kMR);
  else weights<4>(ws, kout, kin, o0, o1, u, kMR);
}

// ---- weight gradient ----------------------------------------------------------------------------

// Ŷ = A d Aᵀ along each axis of the m³ dy values of the L tiles c .. of a tile row: phase-split dy rows
// at ph (row (oz, oy) at ph + (oz·m + oy)·m·rx_n, phase ox), the α³ results stored at dst + ξ·ms.
template <int M>
SSE_WG_INLINE void adjoint_tiles(const float* ph, index_t rx_n, index_t c, float* dst, index_t ms) {
  constexpr int A = Matrices<M>::kAlpha;
  separable3(
      kAdjoint<M>.a,
      [&](int oz, int oy, int ox) __attribute__((always_inline)) { return ld(ph + ((oz * M + oy) * M + ox) * rx_n + c); },
      [&](int z, int y, int x, vf v) __attribute__((always_inline)) { st(dst + ((z * A + y) * A + x) * ms, v); });
}

template <int M>
void adjoint(const Geometry& g, const float* const* dyc, index_t n, const Block& b, index_t tb, float* mh,
             index_t ms, float* work) {
  constexpr int A = Matrices<M>::kAlpha;
  const index_t rx_n = phase_row_floats(b.cols), x0 = M * b.tx0;  // pad[q] = dy row at x0 + q
  const index_t qb = std::min<index_t>(M * rx_n, g.w - x0);
  const index_t valid = std::min(b.rows, g.nyt - b.ty0) * b.cols;
  float* ph = work;
  float* pad = ph + M * M * M * rx_n;
  std::memset(pad, 0, static_cast<std::size_t>(M * rx_n + 64) * sizeof(float));
  for (index_t o = 0; o < n; ++o) {
    float* mo = mh + o * adjoint_row(tb);
    for (index_t r = 0; r < b.rows && b.ty0 + r < g.nyt; ++r) {
      for (int oz = 0; oz < M; ++oz)
        for (int oy = 0; oy < M; ++oy) {
          const index_t z = M * b.tz + oz, y = M * (b.ty0 + r) + oy;
          float* phr = ph + (oz * M + oy) * M * rx_n;
          if (z >= g.d || y >= g.h) {
            std::memset(phr, 0, static_cast<std::size_t>(M * rx_n) * sizeof(float));
            continue;
          }
          std::memcpy(pad, dyc[o] + (z * g.h + y) * g.w + x0, static_cast<std::size_t>(qb) * sizeof(float));
          split_row<M>(pad, rx_n, phr);
        }
      // A vector past the row's end spills into the next row's place, written after (or zeroed below).
      for (index_t c = 0; c < b.cols; c += L) adjoint_tiles<M>(ph, rx_n, c, mo + r * b.cols + c, ms);
    }
    for (int e = 0; e < A * A * A; ++e)
      std::memset(mo + e * ms + valid, 0, static_cast<std::size_t>(tb - valid) * sizeof(float));
  }
}

// 4 vectors (channels k = 0..3) of 8 tiles → dst[4t + k]: the 4×8 transpose of store_row8.
SSE_WG_INLINE void store_4x8(const __m256* r, float* dst) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u1, 0x20));       // tiles 0, 1
  _mm256_storeu_ps(dst + 8, _mm256_permute2f128_ps(u2, u3, 0x20));   // tiles 2, 3
  _mm256_storeu_ps(dst + 16, _mm256_permute2f128_ps(u0, u1, 0x31));  // tiles 4, 5
  _mm256_storeu_ps(dst + 24, _mm256_permute2f128_ps(u2, u3, 0x31));  // tiles 6, 7
}

// V of ξ = (Z, e) (Bᵀ along z of the planes, as build_b) packed [⌈kin/4⌉][tb][4], zero past kin.
template <int M, int Z>
void v_packed_z(index_t kin, const float* planes, index_t cs, const index_t* slot, index_t e, index_t ps, index_t tb,
                float* apack) {
  constexpr int A = Matrices<M>::kAlpha;
  const auto& bt = Matrices<M>::kBT;
  for (index_t c0 = 0; c0 < kin; c0 += 4)
    for (index_t i = 0; i < tb; i += L) {
      vf v[4];
      for (int k = 0; k < 4; ++k) {
        v[k] = zero();
        if (c0 + k >= kin) continue;
        const float* pc = planes + (c0 + k) * cs + e * ps + i;
        bool first = true;
#pragma GCC unroll 6
        for (int dz = 0; dz < A; ++dz) {
          const float w = bt[Z][dz];
          if (w == 0.0f) continue;
          const vf in = ld(pc + slot[dz]);
          if (first) v[k] = w == 1.0f ? in : mul(set1(w), in);
          else v[k] = w == 1.0f ? add(v[k], in) : w == -1.0f ? sub(v[k], in) : fma(set1(w), in, v[k]);
          first = false;
        }
      }
      for (int hh = 0; hh < L / 8; ++hh) {
        const __m256 r[4] = {half(v[0], hh), half(v[1], hh), half(v[2], hh), half(v[3], hh)};
        store_4x8(r, apack + (c0 * tb + (i + 8 * hh) * 4));
      }
    }
}

template <int M>
void v_packed(const Geometry& g, index_t kin, index_t tz, const float* planes, index_t tb, index_t xi, float* apack) {
  constexpr int A = Matrices<M>::kAlpha, E = A * A;
  const index_t ps = plane_stride(tb), cs = channel_planes_floats(g, tb), e = xi % E;
  index_t slot[A];
  for (int dz = 0; dz < A; ++dz) slot[dz] = plane_slot(M, dz, tz) * E * ps;
  switch (xi / E) {
    case 0: return v_packed_z<M, 0>(kin, planes, cs, slot, e, ps, tb, apack);
    case 1: return v_packed_z<M, 1>(kin, planes, cs, slot, e, ps, tb, apack);
    case 2: return v_packed_z<M, 2>(kin, planes, cs, slot, e, ps, tb, apack);
    case 3: return v_packed_z<M, 3>(kin, planes, cs, slot, e, ps, tb, apack);
  }
  if constexpr (M == 4) {
    if (xi / E == 4) return v_packed_z<M, 4>(kin, planes, cs, slot, e, ps, tb, apack);
    return v_packed_z<M, 5>(kin, planes, cs, slot, e, ps, tb, apack);
  }
}

// dw = Gᵀ dU G along each axis, in double, 8 output channels at a time (contiguous in dut).
template <int M>
void weights_grad(const float* dut, index_t ldo, index_t kin, index_t o0, index_t o1, float* dw) {
  constexpr int A = Matrices<M>::kAlpha, P = 8;
  const auto& G = Matrices<M>::kG;
  const index_t xs = kin * ldo;  // dut's ξ stride
  for (index_t c = 0; c < kin; ++c)
    for (index_t ob = o0; ob < o1; ob += P) {
      const int np = static_cast<int>(std::min<index_t>(P, o1 - ob));
      double t1[A][A][3][P], t2[A][3][3][P];
      for (int l = 0; l < A; ++l)
        for (int j = 0; j < A; ++j) {
          double d[A][P];
          for (int i = 0; i < A; ++i)
            for (int p = 0; p < P; ++p) d[i][p] = p < np ? dut[((l * A + j) * A + i) * xs + c * ldo + ob + p] : 0.0;
          for (int k = 0; k < 3; ++k)
            for (int p = 0; p < P; ++p) {
              double acc = 0.0;
              for (int i = 0; i < A; ++i) acc += G[i][k] * d[i][p];
              t1[l][j][k][p] = acc;
            }
        }
      for (int l = 0; l < A; ++l)
        for (int ky = 0; ky < 3; ++ky)
          for (int kx = 0; kx < 3; ++kx)
            for (int p = 0; p < P; ++p) {
              double acc = 0.0;
              for (int j = 0; j < A; ++j) acc += G[j][ky] * t1[l][j][kx][p];
              t2[l][ky][kx][p] = acc;
            }
      for (int kz = 0; kz < 3; ++kz)
        for (int ky = 0; ky < 3; ++ky)
          for (int kx = 0; kx < 3; ++kx) {
            double r[P];
            for (int p = 0; p < P; ++p) {
              double acc = 0.0;
              for (int l = 0; l < A; ++l) acc += G[l][kz] * t2[l][ky][kx][p];
              r[p] = acc;
            }
            for (int p = 0; p < np; ++p) dw[((ob + p) * kin + c) * 27 + (kz * 3 + ky) * 3 + kx] = static_cast<float>(r[p]);
          }
    }
}

void adjoint_any(const Geometry& g, const float* const* dyc, index_t n, const Block& b, index_t tb, float* mh,
                 index_t ms, float* work) {
  if (g.m == 2) adjoint<2>(g, dyc, n, b, tb, mh, ms, work);
  else adjoint<4>(g, dyc, n, b, tb, mh, ms, work);
}

void v_packed_any(const Geometry& g, index_t kin, index_t tz, const float* planes, index_t tb, index_t xi,
                  float* apack) {
  if (g.m == 2) v_packed<2>(g, kin, tz, planes, tb, xi, apack);
  else v_packed<4>(g, kin, tz, planes, tb, xi, apack);
}

void weights_grad_any(int m, const float* dut, index_t ldo, index_t kin, index_t o0, index_t o1, float* dw) {
  if (m == 2) weights_grad<2>(dut, ldo, kin, o0, o1, dw);
  else weights_grad<4>(dut, ldo, kin, o0, o1, dw);
}

#undef SSE_WG_INLINE
}  // namespace

const Kernels& table() {
  static const Kernels k{L, kNR, kMR, input_any, gemm_any, output_any, weights_any, adjoint_any, v_packed_any, weights_grad_any};
  return k;
}

}  // namespace sse::cpu::winograd::SSE_WG_NS
