// kernels/cuda/conv_transpose3d_problems.cuh — the transposed convolution k2 s2 (kernels/
// conv_transpose3d.h) as three implicit-GEMM problems in the interface of igemm.cuh, run by the SIMT
// engine and by the tensor-core engine (conv3d_tc.cu) through conv_engine.cuh.
//
// With m = o·8 + tap (tap = (a, b, c) ∈ {0,1}³), the input voxel v = (z, y, x) and its output site
// s(v) = (2z, 2y, 2x), each output voxel has exactly one (v, tap):
//   forward         C[m, v]  = Σ_ci w[ci, m] · x[ci, v]           scattered to y[o, s(v) + tap] (+ bias)
//   backward data   dx[ci, v] = Σ_m  w[ci, m] · dy[o, s(v) + tap]  (gathered, K = c_out·8)
//   backward weight dw[ci, m] = Σ_{n,v} x[n, ci, v] · dy[n, o, s(v) + tap]   (split-K over every voxel)
#pragma once

#include "kernels/cuda/conv3d_problems.cuh"

namespace sse::cuda {

// Input-volume geometry and the output sites it maps to.
struct UpGeom {
  int d, h, w, vin;  // input dims, d·h·w
  int oh, ow, ovol;  // output plane dims and volume (2h, 2w, 8·vin)

  // Flat output index of site s(v) (the tap (0,0,0) output of input voxel v).
  __device__ int site(int v) const {
    const int hw = h * w, z = v / hw, r = v - z * hw, y = r / w, x = r - y * w;
    return (2 * z * oh + 2 * y) * ow + 2 * x;
  }
  // Offset of output channel o, tap (a, b, c) from a site: o·ovol + (a·2h + b)·2w + c.
  __device__ int tap_offset(int m) const {
    const int o = m >> 3, a = (m >> 2) & 1, b = (m >> 1) & 1, c = m & 1;
    return o * ovol + (a * oh + b) * ow + c;
  }
};

// Shared shape of the two weights × activations problems: one image per blockIdx.z, the whole K.
struct PlainK {
  struct KTile {
    int k0;
  };
  struct KPos {
    int k;
    bool ok;
  };
};

// Forward: A = w viewed as (c_in × M) read transposed (lanes along m: contiguous), B = x.
struct UpForwardProblem : PlainK {
  static constexpr bool kALanesK = false, kBLanesK = false;
  UpGeom g;
  const float* x;     // (images, c_in, vin)
  const float* w;     // (c_in, M)
  const float* bias;  // (c_out) or null
  float* y;           // (images, c_out, ovol)
  int M, N, K;        // c_out·8, vin, c_in

  struct Slice {
    const float* x;
    float* y;
    index_t k_begin, k_end;
  };
  struct ARef {
    int m;  // −1 beyond M
  };
  struct BRef {
    int v;  // −1 beyond N
  };
  __device__ Slice slice(int z) const {
    return Slice{x + static_cast<index_t>(z) * K * g.vin, y + static_cast<index_t>(z) * (M / 8) * g.ovol, 0, K};
  }
  __device__ ARef a_ref(const Slice&, int m) const { return ARef{m < M ? m : -1}; }
  __device__ BRef b_ref(const Slice&, int n) const { return BRef{n < N ? n : -1}; }
  __device__ KTile ktile(const Slice&, index_t k0) const { return KTile{static_cast<int>(k0)}; }
  __device__ KPos kpos(const Slice&, const KTile& kt, int kk) const { return KPos{kt.k0 + kk, kt.k0 + kk < K}; }
  __device__ const float* a_ptr(const Slice&, const ARef& r, const KPos& kp) const {
    return kp.ok && r.m >= 0 ? &w[static_cast<index_t>(kp.k) * M + r.m] : nullptr;
  }
  __device__ const float* b_ptr(const Slice& sl, const BRef& r, const KPos& kp) const {
    return kp.ok && r.v >= 0 ? &sl.x[static_cast<index_t>(kp.k) * g.vin + r.v] : nullptr;
  }
  __device__ void store(const Slice& sl, int m, int n, float4 v) const {
    if (m >= M) return;
    const float add = bias ? bias[m >> 3] : 0.0f, e[4] = {v.x, v.y, v.z, v.w};
    const int off = g.tap_offset(m);
#pragma unroll
    for (int i = 0; i < 4; ++i)
      if (n + i < N) sl.y[off + g.site(n + i)] = e[i] + add;
  }
};

// Backward data: A = w (c_in × K, lanes along k), B[k, v] = dy[o, s(v) + tap] for k = o·8 + tap.
struct UpBackwardDataProblem : PlainK {
  static constexpr bool kALanesK = true, kBLanesK = false;
  UpGeom g;
  const float* dy;  // (images, c_out, ovol)
  const float* w;   // (c_in, K)
  float* dx;        // (images, c_in, vin)
  int M, N, K;      // c_in, vin, c_out·8
  bool vec;

  struct Slice {
    const float* dy;
    float* dx;
    index_t k_begin, k_end;
  };
  struct ARef {
    const float* p;  // row m of w, null beyond M
  };
  struct BRef {
    int site;  // −1 beyond N
  };
  __device__ Slice slice(int z) const {
    return Slice{dy + static_cast<index_t>(z) * (K / 8) * g.ovol, dx + static_cast<index_t>(z) * M * g.vin, 0, K};
  }
  __device__ ARef a_ref(const Slice&, int m) const { return ARef{m < M ? w + static_cast<index_t>(m) * K : nullptr}; }
  __device__ BRef b_ref(const Slice&, int n) const { return BRef{n < N ? g.site(n) : -1}; }
  __device__ KTile ktile(const Slice&, index_t k0) const { return KTile{static_cast<int>(k0)}; }
  __device__ KPos kpos(const Slice&, const KTile& kt, int kk) const { return KPos{kt.k0 + kk, kt.k0 + kk < K}; }
  __device__ const float* a_ptr(const Slice&, const ARef& r, const KPos& kp) const {
    return kp.ok && r.p ? &r.p[kp.k] : nullptr;
  }
  __device__ const float* b_ptr(const Slice& sl, const BRef& r, const KPos& kp) const {
    return kp.ok && r.site >= 0 ? &sl.dy[g.tap_offset(kp.k) + r.site] : nullptr;
  }
  __device__ void store(const Slice& sl, int m, int n, float4 v) const {
    if (m < M) store_row4(sl.dx + static_cast<index_t>(m) * N, n, N, vec, 0.0f, v);
  }
};

// Backward weight: C (c_in × c_out·8) = Σ over K = (image, voxel) of x[n, ci, v] · dy[n, o, s(v) + tap].
struct UpWgradProblem {
  static constexpr bool kALanesK = true, kBLanesK = true;
  UpGeom g;
  const float* x;   // (images, c_in, vin)
  const float* dy;  // (images, c_out, ovol)
  float* out;       // slices × (M × N) partials, or dw itself
  int M, N;         // c_in, c_out·8
  index_t k_total;  // images·vin
  index_t chunk;
  bool vec;

  struct Slice {
    float* out;
    index_t k_begin, k_end;
  };
  struct ARef {
    int off;  // ci·vin, −1 beyond M
  };
  struct BRef {
    int off;  // tap_offset(m), −1 beyond N
  };
  struct KTile {
    index_t k0, k_end;
  };
  struct KPos {
    index_t x_img, dy_img;
    int v, site;
    bool ok;
  };
  __device__ Slice slice(int z) const {
    const index_t b = z * chunk, e = b + chunk < k_total ? b + chunk : k_total;
    return Slice{out + static_cast<index_t>(z) * M * N, b, e};
  }
  __device__ ARef a_ref(const Slice&, int m) const { return ARef{m < M ? m * g.vin : -1}; }
  __device__ BRef b_ref(const Slice&, int n) const { return BRef{n < N ? g.tap_offset(n) : -1}; }
  __device__ KTile ktile(const Slice& sl, index_t k0) const { return KTile{k0, sl.k_end}; }
  __device__ KPos kpos(const Slice&, const KTile& kt, int kk) const {
    const index_t k = kt.k0 + kk;
    if (k >= kt.k_end) return KPos{0, 0, 0, 0, false};
    const index_t img = image_of(k, g.vin);
    const int v = static_cast<int>(k - img * g.vin);
    return KPos{img * M * g.vin, img * (N / 8) * g.ovol, v, g.site(v), true};
  }
  __device__ const float* a_ptr(const Slice&, const ARef& r, const KPos& kp) const {
    return kp.ok && r.off >= 0 ? &x[kp.x_img + r.off + kp.v] : nullptr;
  }
  __device__ const float* b_ptr(const Slice&, const BRef& r, const KPos& kp) const {
    return kp.ok && r.off >= 0 ? &dy[kp.dy_img + r.off + kp.site] : nullptr;
  }
  __device__ void store(const Slice& sl, int m, int n, float4 v) const {
    if (m < M) store_row4(sl.out + static_cast<index_t>(m) * N, n, N, vec, 0.0f, v);
  }
};

}  // namespace sse::cuda
