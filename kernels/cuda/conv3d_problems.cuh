// kernels/cuda/conv3d_problems.cuh — the three GEMMs of a stride-1 "same" 3-D convolution as
// implicit-GEMM problems (the interface is described in igemm.cuh). Shared by the SIMT kernels
// (conv3d.cu) and the tensor-core kernels (conv3d_tc.cu), which differ only in how they multiply.
//
//   forward         y[o, v]  = Σ_{ci,t} w[o, ci, t] · x[ci, v + δt]        M = c_out, K = c_in·k³,  N = voxels
//   backward data   dx[ci, v] = Σ_{o,t} w[o, ci, k³−1−t] · dy[o, v + δt]   M = c_in,  K = c_out·k³, N = voxels
//                   (a forward convolution of dy with the flipped, transposed weight)
//   backward weight dw[o, ci, t] = Σ_{n,v} dy[n, o, v] · x[n, ci, v + δt]  M = c_out, N = c_in·k³,  K = n·voxels
// where δt is the offset of tap t = (kz, ky, kx) and a term is zero when v + δt falls outside the
// volume (zero padding). The weight gradient's K runs over every voxel of every image and is split
// into slices (split-K) whose partials are added in a fixed order afterwards.
#pragma once

#include <cstdint>

#include "kernels/conv3d.h"
#include "kernels/cuda/device_util.cuh"

namespace sse::cuda {

// Bit k of z (y, x) is set when coordinate + k − pad of a voxel lies inside the volume.
struct AxisBits {
  unsigned z, y, x;
};

template <int KS> struct ConvGeom {
  static constexpr int kTaps = KS * KS * KS, kPad = KS / 2;
  int d, h, w;
  int vol;  // d·h·w (< 2^31, checked by the host)

  __device__ static int tap_z(int t) { return t / (KS * KS); }
  __device__ static int tap_y(int t) { return t / KS % KS; }
  __device__ static int tap_x(int t) { return t % KS; }

  // Offset of tap t's input voxel from the output voxel.
  __device__ int delta(int t) const {
    return ((tap_z(t) - kPad) * h + (tap_y(t) - kPad)) * w + (tap_x(t) - kPad);
  }
  __device__ static unsigned bits(int c, int n) {
    unsigned b = 0;
#pragma unroll
    for (int k = 0; k < KS; ++k) b |= (c + k - kPad >= 0 && c + k - kPad < n) ? (1u << k) : 0u;
    return b;
  }
  __device__ AxisBits axis_bits(int v) const {
    const int hw = h * w, z = v / hw, r = v - z * hw, y = r / w, x = r - y * w;
    return AxisBits{bits(z, d), bits(y, h), bits(x, w)};
  }
  __device__ static bool inside(const AxisBits& b, int kz, int ky, int kx) {
    return ((b.z >> kz) & (b.y >> ky) & (b.x >> kx) & 1u) != 0;
  }
};

// Writes C[m, n..n+3] of a row-major (rows, cols) matrix at `row` (already offset to row m), plus
// `bias`; float4 when allowed (cols % 4 == 0 and the base 16-byte aligned: `vec`), else scalars
// within cols.
__device__ inline void store_row4(float* row, int n, int cols, bool vec, float bias, float4 v) {
  v.x += bias; v.y += bias; v.z += bias; v.w += bias;
  if (vec && n + 3 < cols) {
    *reinterpret_cast<float4*>(row + n) = v;
    return;
  }
  const float e[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int i = 0; i < 4; ++i)
    if (n + i < cols) row[n + i] = e[i];
}

inline bool aligned16(const void* p) { return (reinterpret_cast<std::uintptr_t>(p) & 15u) == 0; }

// k / vol for a split-K position k over (image, voxel): in 32 bits when k fits (a 64-bit division
// is a long software routine on the GPU, and this one runs once per K-slice and thread).
__device__ inline index_t image_of(index_t k, int vol) {
  return k < 0x7fffffff ? static_cast<index_t>(static_cast<int>(k) / vol) : k / vol;
}

// Forward and backward data: C = W' · im2col(src) for one image (blockIdx.z). K runs tap-major,
// k = t·c_k + ci, so a slice of BK consecutive k usually shares one tap: its offset δt and bounds
// test are decoded once per slice (ktile), and each element costs an add and a predicated load.
// A slice that crosses into the next tap (c_k not a multiple of BK) re-decodes per element.
// W' is the weight rearranged by weight_to_tap_major (conv3d.cu) into (M, k³, c_k) order, for
// backward data also flipped and transposed, so A is a plain row-major M × K matrix.
template <int KS> struct ConvWxProblem {
  static constexpr bool kALanesK = true, kBLanesK = false;
  static constexpr int kTaps = ConvGeom<KS>::kTaps;
  ConvGeom<KS> g;
  const float* src;   // (images, c_k, vol): x, or dy for backward data
  const float* wt;    // (M, k³, c_k)
  const float* bias;  // (M) or null
  float* dst;         // (images, M, vol)
  int M, N;           // M output channels of this GEMM, N = vol
  int c_k;            // channels of src; K = k³·c_k
  int K;
  bool vec;           // dst rows allow float4 stores

  struct Slice {
    const float* src;
    float* dst;
    index_t k_begin, k_end;
  };
  struct ARef {
    const float* p;  // row m of W', null beyond M
  };
  struct BRef {
    int v;  // the column's voxel
    AxisBits bits;
  };
  struct Tap {
    int t, off;  // tap and its offset δt
    int kz, ky, kx;
  };
  struct KTile {
    int k0, ci0;
    Tap tap;
  };
  struct KPos {
    int k;    // global k
    int off;  // ci·vol + δt
    int kz, ky, kx;
    bool ok;
  };

  __device__ Tap tap(int t) const {
    return Tap{t, g.delta(t), ConvGeom<KS>::tap_z(t), ConvGeom<KS>::tap_y(t), ConvGeom<KS>::tap_x(t)};
  }
  __device__ Slice slice(int z) const {
    return Slice{src + static_cast<index_t>(z) * c_k * g.vol, dst + static_cast<index_t>(z) * M * g.vol, 0, K};
  }
  __device__ ARef a_ref(const Slice&, int m) const {
    return ARef{m < M ? wt + static_cast<index_t>(m) * K : nullptr};
  }
  __device__ BRef b_ref(const Slice&, int n) const {
    if (n >= N) return BRef{0, AxisBits{0, 0, 0}};
    return BRef{n, g.axis_bits(n)};
  }
  __device__ KTile ktile(const Slice&, index_t k0) const {
    const int k = static_cast<int>(k0), t = k / c_k;
    return KTile{k, k - t * c_k, tap(t < kTaps ? t : 0)};
  }
  __device__ KPos kpos(const Slice&, const KTile& kt, int kk) const {
    int ci = kt.ci0 + kk;
    Tap tp = kt.tap;
    if (ci >= c_k) {  // this element belongs to a later tap than the slice's first
      const int q = ci / c_k;
      ci -= q * c_k;
      tp = tap(tp.t + q < kTaps ? tp.t + q : 0);
    }
    const int k = kt.k0 + kk;
    return KPos{k, ci * g.vol + tp.off, tp.kz, tp.ky, tp.kx, k < K};
  }
  __device__ const float* a_ptr(const Slice&, const ARef& r, const KPos& kp) const {
    return r.p && kp.ok ? &r.p[kp.k] : nullptr;
  }
  __device__ const float* b_ptr(const Slice& sl, const BRef& r, const KPos& kp) const {
    return kp.ok && ConvGeom<KS>::inside(r.bits, kp.kz, kp.ky, kp.kx) ? &sl.src[kp.off + r.v] : nullptr;
  }
  __device__ void store(const Slice& sl, int m, int n, float4 v) const {
    if (m < M) store_row4(sl.dst + static_cast<index_t>(m) * N, n, N, vec, bias ? bias[m] : 0.0f, v);
  }
};

// wt[m, t, c] = flip ? w[c, m, k³−1−t] : w[m, c, t] for m < rows, c < c_k: the weight as the
// tap-major A operand of ConvWxProblem (flip: backward data's flipped, transposed kernel).
void weight_to_tap_major(const float* w, int rows, int c_k, int taps, bool flip, float* wt, cudaStream_t st);

// Backward weight: C (c_out × c_in·k³) = Σ over K = (image, voxel) of dy[n, o, v] · x[n, ci, v + δt];
// slice z covers K positions [z·chunk, (z+1)·chunk) and writes its own partial C. Both operands are
// contiguous along K (voxels), so both load with lanes along k; a thread's slots share one k, whose
// image, voxel and bounds bits are decoded once per slice.
template <int KS> struct ConvWgradProblem {
  static constexpr bool kALanesK = true, kBLanesK = true;
  static constexpr int kTaps = ConvGeom<KS>::kTaps;
  ConvGeom<KS> g;
  const float* x;   // (images, c_in, vol)
  const float* dy;  // (images, c_out, vol)
  float* out;       // slices × (M × N) partials, or dw itself with one slice
  int M, N;         // c_out, c_in·k³
  index_t k_total;  // images·vol
  index_t chunk;
  bool vec;

  struct Slice {
    float* out;
    index_t k_begin, k_end;
  };
  struct ARef {
    int off;  // o·vol, or −1 beyond M
  };
  struct BRef {
    int off;         // ci·vol + δt
    int kz, ky, kx;  // kz = −1 beyond N
  };
  struct KTile {
    index_t k0, k_end;
  };
  struct KPos {
    index_t x_img, dy_img;  // image offsets into x and dy
    int v;
    AxisBits bits;
    bool ok;
  };

  __device__ Slice slice(int z) const {
    const index_t b = z * chunk, e = b + chunk < k_total ? b + chunk : k_total;
    return Slice{out + static_cast<index_t>(z) * M * N, b, e};
  }
  __device__ ARef a_ref(const Slice&, int m) const { return ARef{m < M ? m * g.vol : -1}; }
  __device__ BRef b_ref(const Slice&, int n) const {
    if (n >= N) return BRef{0, -1, 0, 0};
    const int ci = n / kTaps, t = n - ci * kTaps;
    return BRef{ci * g.vol + g.delta(t), ConvGeom<KS>::tap_z(t), ConvGeom<KS>::tap_y(t), ConvGeom<KS>::tap_x(t)};
  }
  __device__ KTile ktile(const Slice& sl, index_t k0) const { return KTile{k0, sl.k_end}; }
  __device__ KPos kpos(const Slice&, const KTile& kt, int kk) const {
    const index_t k = kt.k0 + kk;
    if (k >= kt.k_end) return KPos{0, 0, 0, AxisBits{0, 0, 0}, false};
    const index_t img = image_of(k, g.vol);
    const int v = static_cast<int>(k - img * g.vol);
    return KPos{img * (N / kTaps) * g.vol, img * M * g.vol, v, g.axis_bits(v), true};
  }
  __device__ const float* a_ptr(const Slice&, const ARef& r, const KPos& kp) const {
    return kp.ok && r.off >= 0 ? &dy[kp.dy_img + r.off + kp.v] : nullptr;
  }
  __device__ const float* b_ptr(const Slice&, const BRef& r, const KPos& kp) const {
    const bool inside = kp.ok && r.kz >= 0 && ConvGeom<KS>::inside(kp.bits, r.kz, r.ky, r.kx);
    return inside ? &x[kp.x_img + r.off + kp.v] : nullptr;
  }
  __device__ void store(const Slice& sl, int m, int n, float4 v) const {
    if (m < M) store_row4(sl.out + static_cast<index_t>(m) * N, n, N, vec, 0.0f, v);
  }
};

}  // namespace sse::cuda
