// kernels/sim/sim_device.h — the device side of the CUDA emulator: qualifiers, built-in index
// variables, vector types, math intrinsics, barriers, warp intrinsics and atomics, all in the global
// namespace where CUDA puts them so that kernel source compiles unchanged under nvcc and g++.
// Included through kernels/sim/sim.h; see the contract there.
#pragma once

// Standard headers that spell `__attribute__((__noinline__))` must be seen before the
// `__noinline__` macro below exists (include guards then keep them from being re-expanded).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <type_traits>

// ---- qualifiers ----------------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __device_builtin__
#define __forceinline__ __inline__ __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
// One OS thread runs one block at a time, its CUDA threads as fibers; a function-level
// `static thread_local` is therefore one object per block in flight: exactly shared memory.
// Unlike the GPU, its contents survive from one block to the next on that OS thread.
#define __shared__ static thread_local

// ---- vector types (CUDA's layouts and alignments) -------------------------------------------------
#define SSE_SIM_VEC1(T, N, A) \
  struct __attribute__((aligned(A))) N##1 { T x; };                                            \
  inline N##1 make_##N##1(T x) { return N##1{x}; }
#define SSE_SIM_VEC2(T, N, A)                                                                     \
  struct __attribute__((aligned(A))) N##2 { T x, y; };                                         \
  inline N##2 make_##N##2(T x, T y) { return N##2{x, y}; }
#define SSE_SIM_VEC3(T, N)                                                                        \
  struct N##3 { T x, y, z; };                                                                   \
  inline N##3 make_##N##3(T x, T y, T z) { return N##3{x, y, z}; }
#define SSE_SIM_VEC4(T, N, A)                                                                     \
  struct __attribute__((aligned(A))) N##4 { T x, y, z, w; };                                   \
  inline N##4 make_##N##4(T x, T y, T z, T w) { return N##4{x, y, z, w}; }
#define SSE_SIM_VECS(T, N, A1, A2, A4) \
  SSE_SIM_VEC1(T, N, A1) SSE_SIM_VEC2(T, N, A2) SSE_SIM_VEC3(T, N) SSE_SIM_VEC4(T, N, A4)

SSE_SIM_VECS(signed char, char, 1, 2, 4)
SSE_SIM_VECS(unsigned char, uchar, 1, 2, 4)
SSE_SIM_VECS(short, short, 2, 4, 8)
SSE_SIM_VECS(unsigned short, ushort, 2, 4, 8)
SSE_SIM_VECS(int, int, 4, 8, 16)
SSE_SIM_VECS(unsigned int, uint, 4, 8, 16)
SSE_SIM_VECS(long long, longlong, 8, 16, 16)
SSE_SIM_VECS(unsigned long long, ulonglong, 8, 16, 16)
SSE_SIM_VECS(float, float, 4, 8, 16)
SSE_SIM_VECS(double, double, 8, 16, 16)
#undef SSE_SIM_VECS
#undef SSE_SIM_VEC1
#undef SSE_SIM_VEC2
#undef SSE_SIM_VEC3
#undef SSE_SIM_VEC4

struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

// ---- built-in variables ----------------------------------------------------------------------------
// Per OS thread; the scheduler rewrites threadIdx before every switch into a fiber and the other
// three once per block. Kernels must treat them as read-only (nvcc rejects writes; g++ cannot).
inline thread_local uint3 threadIdx{0, 0, 0};
inline thread_local uint3 blockIdx{0, 0, 0};
inline thread_local dim3 blockDim{1, 1, 1};
inline thread_local dim3 gridDim{1, 1, 1};
constexpr int warpSize = 32;

// ---- the emulator's device-side entry points (implemented in sim.cpp) ---------------------------------
namespace sse::sim::detail {

enum class BarrierKind : std::uint8_t { Sync, Count, And, Or };
enum class WarpOpKind : std::uint8_t {
  SyncWarp, ShflIdx, ShflUp, ShflDown, ShflXor, Ballot, Any, All,
  ReduceAdd, ReduceMinU, ReduceMaxU, ReduceMinI, ReduceMaxI, ReduceAnd, ReduceOr, ReduceXor,
  MatchAny, MatchAll, ActiveMask
};

// One lane's contribution to a warp-collective operation.
struct WarpOp {
  WarpOpKind kind;
  unsigned mask;        // the lanes that take part (the `mask` argument)
  std::uint64_t value;  // the lane's operand, as bits
  int arg;              // srcLane / delta / laneMask for shuffles
  int width;            // shuffle segment width
};

// Suspends the calling CUDA thread until the whole block arrives; returns the block-wide
// reduction of `pred` that `kind` asks for. file/line name the call site (divergence check).
int block_barrier(BarrierKind kind, int pred, const char* file, unsigned line);
// Suspends the calling lane until every lane of op.mask arrives; returns this lane's result.
std::uint64_t warp_op(const WarpOp& op);
// The lanes of the caller's warp that reach this call site together (see __activemask).
unsigned active_mask(const char* file, unsigned line);

template <class T>
std::uint64_t to_bits(T v) {
  static_assert(std::is_arithmetic_v<T> && sizeof(T) <= 8, "warp intrinsics take scalars of <= 8 bytes");
  std::uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(T));
  return b;
}
template <class T>
T from_bits(std::uint64_t b) {
  T v;
  std::memcpy(&v, &b, sizeof(T));
  return v;
}
template <class T>
T shuffle(WarpOpKind kind, unsigned mask, T var, int arg, int width) {
  return from_bits<T>(warp_op(WarpOp{kind, mask, to_bits(var), arg, width}));
}

}  // namespace sse::sim::detail

// ---- barriers and fences -----------------------------------------------------------------------------
// The call site is recorded so that threads waiting at different __syncthreads are reported.
inline void __syncthreads(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) {
  sse::sim::detail::block_barrier(sse::sim::detail::BarrierKind::Sync, 0, file, line);
}
inline int __syncthreads_count(int pred, const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) {
  return sse::sim::detail::block_barrier(sse::sim::detail::BarrierKind::Count, pred, file, line);
}
inline int __syncthreads_and(int pred, const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) {
  return sse::sim::detail::block_barrier(sse::sim::detail::BarrierKind::And, pred, file, line);
}
inline int __syncthreads_or(int pred, const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) {
  return sse::sim::detail::block_barrier(sse::sim::detail::BarrierKind::Or, pred, file, line);
}
// Blocks may run on different OS threads: a device-wide fence is a real fence. Inside a block all
// fibers share one OS thread, so only the compiler must not reorder.
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_system() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_signal_fence(__ATOMIC_SEQ_CST); }

// ---- warp intrinsics -----------------------------------------------------------------------------------
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  sse::sim::detail::warp_op({sse::sim::detail::WarpOpKind::SyncWarp, mask, 0, 0, warpSize});
}
// Without lock-step execution "the lanes executing this instruction now" is approximated as: the
// lanes of the warp that arrive at this same __activemask call while no lane of the block can make
// progress otherwise (the others have exited or wait at a barrier or other collective). So it is a
// scheduling point, and lanes on another branch are excluded as on the GPU.
inline unsigned __activemask(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) {
  return sse::sim::detail::active_mask(file, line);
}

template <class T>
T __shfl_sync(unsigned mask, T var, int srcLane, int width = warpSize) {
  return sse::sim::detail::shuffle(sse::sim::detail::WarpOpKind::ShflIdx, mask, var, srcLane, width);
}
template <class T>
T __shfl_up_sync(unsigned mask, T var, unsigned int delta, int width = warpSize) {
  return sse::sim::detail::shuffle(sse::sim::detail::WarpOpKind::ShflUp, mask, var, static_cast<int>(delta), width);
}
template <class T>
T __shfl_down_sync(unsigned mask, T var, unsigned int delta, int width = warpSize) {
  return sse::sim::detail::shuffle(sse::sim::detail::WarpOpKind::ShflDown, mask, var, static_cast<int>(delta), width);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T var, int laneMask, int width = warpSize) {
  return sse::sim::detail::shuffle(sse::sim::detail::WarpOpKind::ShflXor, mask, var, laneMask, width);
}

inline unsigned __ballot_sync(unsigned mask, int pred) {
  return static_cast<unsigned>(sse::sim::detail::warp_op({sse::sim::detail::WarpOpKind::Ballot, mask, pred != 0, 0, warpSize}));
}
inline int __any_sync(unsigned mask, int pred) {
  return static_cast<int>(sse::sim::detail::warp_op({sse::sim::detail::WarpOpKind::Any, mask, pred != 0, 0, warpSize}));
}
inline int __all_sync(unsigned mask, int pred) {
  return static_cast<int>(sse::sim::detail::warp_op({sse::sim::detail::WarpOpKind::All, mask, pred != 0, 0, warpSize}));
}

template <class T>
unsigned __match_any_sync(unsigned mask, T value) {
  using sse::sim::detail::WarpOpKind;
  return static_cast<unsigned>(sse::sim::detail::warp_op({WarpOpKind::MatchAny, mask, sse::sim::detail::to_bits(value), 0, warpSize}));
}
template <class T>
unsigned __match_all_sync(unsigned mask, T value, int* pred) {
  using sse::sim::detail::WarpOpKind;
  const std::uint64_t r = sse::sim::detail::warp_op({WarpOpKind::MatchAll, mask, sse::sim::detail::to_bits(value), 0, warpSize});
  *pred = static_cast<int>(r >> 32);
  return static_cast<unsigned>(r);
}

#define SSE_SIM_WARP_REDUCE(name, T, kind)                                                                  \
  inline T name(unsigned mask, T value) {                                                                   \
    using sse::sim::detail::WarpOpKind;                                                                     \
    return sse::sim::detail::from_bits<T>(                                                                  \
        sse::sim::detail::warp_op({WarpOpKind::kind, mask, sse::sim::detail::to_bits(value), 0, warpSize})); \
  }
SSE_SIM_WARP_REDUCE(__reduce_add_sync, unsigned, ReduceAdd)
SSE_SIM_WARP_REDUCE(__reduce_add_sync, int, ReduceAdd)
SSE_SIM_WARP_REDUCE(__reduce_min_sync, unsigned, ReduceMinU)
SSE_SIM_WARP_REDUCE(__reduce_min_sync, int, ReduceMinI)
SSE_SIM_WARP_REDUCE(__reduce_max_sync, unsigned, ReduceMaxU)
SSE_SIM_WARP_REDUCE(__reduce_max_sync, int, ReduceMaxI)
SSE_SIM_WARP_REDUCE(__reduce_and_sync, unsigned, ReduceAnd)
SSE_SIM_WARP_REDUCE(__reduce_or_sync, unsigned, ReduceOr)
SSE_SIM_WARP_REDUCE(__reduce_xor_sync, unsigned, ReduceXor)
#undef SSE_SIM_WARP_REDUCE

// ---- atomics (real atomics: blocks run concurrently on several OS threads) ----------------------------
namespace sse::sim::detail {

// Compare-and-swap loop for the read-modify-writes the hardware has but the host does not
// (float/double add, min/max, inc/dec). Works on the object representation.
template <class T, class Op>
T atomic_update(T* address, Op op) {
  T old;
  __atomic_load(address, &old, __ATOMIC_RELAXED);
  T desired = op(old);
  while (!__atomic_compare_exchange(address, &old, &desired, true, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
    desired = op(old);
  }
  return old;
}

}  // namespace sse::sim::detail

#define SSE_SIM_ATOMIC_INT(T)                                                                                      \
  inline T atomicAdd(T* a, T v) { return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST); }                           \
  inline T atomicSub(T* a, T v) { return __atomic_fetch_sub(a, v, __ATOMIC_SEQ_CST); }                           \
  inline T atomicExch(T* a, T v) { return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST); }                         \
  inline T atomicAnd(T* a, T v) { return __atomic_fetch_and(a, v, __ATOMIC_SEQ_CST); }                           \
  inline T atomicOr(T* a, T v) { return __atomic_fetch_or(a, v, __ATOMIC_SEQ_CST); }                             \
  inline T atomicXor(T* a, T v) { return __atomic_fetch_xor(a, v, __ATOMIC_SEQ_CST); }                           \
  inline T atomicMin(T* a, T v) { return sse::sim::detail::atomic_update(a, [v](T o) { return v < o ? v : o; }); } \
  inline T atomicMax(T* a, T v) { return sse::sim::detail::atomic_update(a, [v](T o) { return v > o ? v : o; }); } \
  inline T atomicCAS(T* a, T compare, T v) {                                                                     \
    __atomic_compare_exchange_n(a, &compare, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);                       \
    return compare; /* the old value, whether or not the swap happened */                                        \
  }
SSE_SIM_ATOMIC_INT(int)
SSE_SIM_ATOMIC_INT(unsigned int)
SSE_SIM_ATOMIC_INT(unsigned long long)
SSE_SIM_ATOMIC_INT(long long)
#undef SSE_SIM_ATOMIC_INT

inline float atomicAdd(float* a, float v) { return sse::sim::detail::atomic_update(a, [v](float o) { return o + v; }); }
inline double atomicAdd(double* a, double v) { return sse::sim::detail::atomic_update(a, [v](double o) { return o + v; }); }
inline float atomicExch(float* a, float v) {
  float old;
  __atomic_exchange(a, &v, &old, __ATOMIC_SEQ_CST);
  return old;
}
// ((old >= limit) ? 0 : old + 1) and (((old == 0) | (old > limit)) ? limit : old - 1), as in CUDA.
inline unsigned atomicInc(unsigned* a, unsigned limit) {
  return sse::sim::detail::atomic_update(a, [limit](unsigned o) { return o >= limit ? 0u : o + 1u; });
}
inline unsigned atomicDec(unsigned* a, unsigned limit) {
  return sse::sim::detail::atomic_update(a, [limit](unsigned o) { return (o == 0u || o > limit) ? limit : o - 1u; });
}

// ---- math intrinsics that the host library lacks ---------------------------------------------------------
// The fast-math variants are computed at full precision: results can differ from the GPU in the
// last bits, so comparisons against the GPU need the usual float tolerances. glibc declares some
// of these names (__expf, __sinf, ... as unexported internals, noexcept): these definitions then
// complete its declarations, hence noexcept throughout. exp10f comes from glibc itself.
inline float __expf(float x) noexcept { return ::expf(x); }
inline float __exp10f(float x) noexcept { return ::powf(10.0f, x); }
inline float __logf(float x) noexcept { return ::logf(x); }
inline float __log2f(float x) noexcept { return ::log2f(x); }
inline float __log10f(float x) noexcept { return ::log10f(x); }
inline float __powf(float x, float y) noexcept { return ::powf(x, y); }
inline float __sinf(float x) noexcept { return ::sinf(x); }
inline float __cosf(float x) noexcept { return ::cosf(x); }
inline float __tanf(float x) noexcept { return ::tanf(x); }
inline void __sincosf(float x, float* s, float* c) noexcept { *s = ::sinf(x); *c = ::cosf(x); }
inline float __fdividef(float x, float y) noexcept { return x / y; }
inline float __frcp_rn(float x) noexcept { return 1.0f / x; }
inline float __fsqrt_rn(float x) noexcept { return ::sqrtf(x); }
inline float __fadd_rn(float x, float y) noexcept { return x + y; }
inline float __fsub_rn(float x, float y) noexcept { return x - y; }
inline float __fmul_rn(float x, float y) noexcept { return x * y; }
inline float __fmaf_rn(float x, float y, float z) noexcept { return ::fmaf(x, y, z); }
inline double __fma_rn(double x, double y, double z) noexcept { return ::fma(x, y, z); }
inline float rsqrtf(float x) noexcept { return 1.0f / ::sqrtf(x); }
inline double rsqrt(double x) noexcept { return 1.0 / ::sqrt(x); }
inline float __saturatef(float x) noexcept { return x >= 1.0f ? 1.0f : (x > 0.0f ? x : 0.0f); }  // NaN -> 0

inline int __float_as_int(float x) noexcept { int r; std::memcpy(&r, &x, 4); return r; }
inline unsigned __float_as_uint(float x) noexcept { unsigned r; std::memcpy(&r, &x, 4); return r; }
inline float __int_as_float(int x) noexcept { float r; std::memcpy(&r, &x, 4); return r; }
inline float __uint_as_float(unsigned x) noexcept { float r; std::memcpy(&r, &x, 4); return r; }
inline long long __double_as_longlong(double x) noexcept { long long r; std::memcpy(&r, &x, 8); return r; }
inline double __longlong_as_double(long long x) noexcept { double r; std::memcpy(&r, &x, 8); return r; }
inline int __float2int_rn(float x) noexcept { return static_cast<int>(::nearbyintf(x)); }
inline int __float2int_rz(float x) noexcept { return static_cast<int>(x); }
inline int __float2int_rd(float x) noexcept { return static_cast<int>(::floorf(x)); }
inline int __float2int_ru(float x) noexcept { return static_cast<int>(::ceilf(x)); }
inline float __int2float_rn(int x) noexcept { return static_cast<float>(x); }

inline int __popc(unsigned x) noexcept { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) noexcept { return __builtin_popcountll(x); }
inline int __clz(int x) noexcept { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __clzll(long long x) noexcept { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }
inline int __ffs(int x) noexcept { return __builtin_ffs(x); }
inline int __ffsll(long long x) noexcept { return __builtin_ffsll(x); }
inline unsigned __brev(unsigned x) noexcept {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i, x >>= 1) r = (r << 1) | (x & 1u);
  return r;
}
inline unsigned __umulhi(unsigned x, unsigned y) noexcept { return static_cast<unsigned>((1ull * x * y) >> 32); }
inline int __mulhi(int x, int y) noexcept { return static_cast<int>((1ll * x * y) >> 32); }

template <class T>
T __ldg(const T* p) { return *p; }

// min/max overloads exactly as CUDA's math_functions.h declares them, so that unqualified calls
// resolve the same way under nvcc and g++. Being non-templates, they win over std::min/std::max.
#define SSE_SIM_MINMAX(R, A, B)                                      \
  inline R min(A a, B b) { return static_cast<R>(a) < static_cast<R>(b) ? static_cast<R>(a) : static_cast<R>(b); } \
  inline R max(A a, B b) { return static_cast<R>(a) > static_cast<R>(b) ? static_cast<R>(a) : static_cast<R>(b); }
SSE_SIM_MINMAX(int, int, int)
SSE_SIM_MINMAX(unsigned int, unsigned int, unsigned int)
SSE_SIM_MINMAX(unsigned int, int, unsigned int)
SSE_SIM_MINMAX(unsigned int, unsigned int, int)
SSE_SIM_MINMAX(long, long, long)
SSE_SIM_MINMAX(unsigned long, unsigned long, unsigned long)
SSE_SIM_MINMAX(unsigned long, long, unsigned long)
SSE_SIM_MINMAX(unsigned long, unsigned long, long)
SSE_SIM_MINMAX(long long, long long, long long)
SSE_SIM_MINMAX(unsigned long long, unsigned long long, unsigned long long)
SSE_SIM_MINMAX(unsigned long long, long long, unsigned long long)
SSE_SIM_MINMAX(unsigned long long, unsigned long long, long long)
#undef SSE_SIM_MINMAX
// CUDA's floating-point min/max are fmin/fmax: a NaN operand is ignored.
inline float min(float a, float b) { return ::fminf(a, b); }
inline float max(float a, float b) { return ::fmaxf(a, b); }
inline double min(double a, double b) { return ::fmin(a, b); }
inline double max(double a, double b) { return ::fmax(a, b); }
inline double min(float a, double b) { return ::fmin(a, b); }
inline double max(float a, double b) { return ::fmax(a, b); }
inline double min(double a, float b) { return ::fmin(a, b); }
inline double max(double a, float b) { return ::fmax(a, b); }
