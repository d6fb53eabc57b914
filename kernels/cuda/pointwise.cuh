// kernels/cuda/pointwise.cuh — one grid-stride kernel for every element-wise map of the engine
// (fill, unary, binary, axpby, dropout, cast): out[i] = f(i, a[i], b[i]) over n elements.
//
// Elements are stored as In (inputs) and Out (output), float or bf16_t; f always sees and returns
// floats (to_f32 / from_f32, kernels/low_precision.h), so a bf16 map rounds once, as it stores.
// F is a functor with `__device__ float operator()(index_t i, float a, float b) const`; `kIn` (0, 1
// or 2) says how many of a, b are read (the others are passed as 0). When n ≥ 4 and every pointer
// is 16-byte aligned, elements move as float4 (one 16-byte load per input and one store per four
// elements), the remaining n % 4 as scalars; maps with a bf16 side go element by element. In-place use (out == a or out == b) is allowed: each
// element is read before it is written by the same thread.
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/cuda/device_util.cuh"
#include "kernels/low_precision.h"

namespace sse::cuda {

template <int kIn, class F, class In = float, class Out = float> struct Map {
  const In* a;
  const In* b;
  Out* out;
  index_t n;
  F f;
};

namespace detail {

template <int kIn, class F, class In, class Out>
__device__ inline Out map_one(const Map<kIn, F, In, Out>& m, index_t i) {
  const float a = kIn > 0 ? to_f32(m.a[i]) : 0.0f;
  const float b = kIn > 1 ? to_f32(m.b[i]) : 0.0f;
  return from_f32<Out>(m.f(i, a, b));
}

template <int kIn> __device__ inline float4 load4(const float* p, index_t v) {
  return kIn ? reinterpret_cast<const float4*>(p)[v] : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
}

template <int kIn, class F, class In, class Out> __global__ void map_kernel(Map<kIn, F, In, Out> m, bool vec) {
  index_t first_scalar = 0;
  if constexpr (std::is_same_v<In, float> && std::is_same_v<Out, float>) {
    if (vec) {
      const index_t nv = m.n / 4;
      for (index_t v = global_thread(); v < nv; v += grid_threads()) {
        const float4 a = load4<(kIn > 0)>(m.a, v), b = load4<(kIn > 1)>(m.b, v);
        const index_t i = 4 * v;
        reinterpret_cast<float4*>(m.out)[v] =
            make_float4(m.f(i, a.x, b.x), m.f(i + 1, a.y, b.y), m.f(i + 2, a.z, b.z), m.f(i + 3, a.w, b.w));
      }
      first_scalar = 4 * nv;
    }
  }
  for (index_t i = first_scalar + global_thread(); i < m.n; i += grid_threads()) m.out[i] = map_one(m, i);
}

inline bool aligned16(const void* p) { return (reinterpret_cast<std::uintptr_t>(p) & 15u) == 0; }

}  // namespace detail

template <int kIn, class F, class In, class Out> void run_map(const Map<kIn, F, In, Out>& m, cudaStream_t st) {
  if (m.n <= 0) return;
  constexpr bool kFloats = std::is_same_v<In, float> && std::is_same_v<Out, float>;
  const bool vec = kFloats && m.n >= 4 && detail::aligned16(m.out) && (kIn < 1 || detail::aligned16(m.a)) &&
                   (kIn < 2 || detail::aligned16(m.b));
  launch(detail::map_kernel<kIn, F, In, Out>, dim3(grid_for(vec ? m.n / 4 : m.n)), dim3(kBlock), 0, st, m, vec);
}

}  // namespace sse::cuda
