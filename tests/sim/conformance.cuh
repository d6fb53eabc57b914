// tests/sim/conformance.cuh — kernels whose results are fully defined by the CUDA programming model
// (warp collectives in all modes and widths, barrier votes, atomics' wrap-around, integer and
// bit intrinsics, unqualified min/max overload resolution), and a report of their outputs.
//
// The same source is compiled by nvcc (tests/sim/conformance_main.cu, run on a GPU) and by the host
// compiler against the emulator (conformance_test.cpp); the emulator's report must equal the
// GPU's, which is committed in conformance_golden.inc. Only defined behaviour belongs here: no
// shuffles from lanes outside the mask, no fast-math intrinsics, no floating-point atomics order.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "kernels/cuda/cuda_common.cuh"

namespace sse_conformance {

constexpr int kIntrinsics = 32;  // slots for atomics_and_intrinsics' scalar results

__global__ void shuffles(int* out, int width) {
  const int lane = static_cast<int>(threadIdx.x);
  const unsigned full = 0xffffffffu;
  const int sources[] = {0, 5, 37, -1};  // taken modulo width
  const unsigned deltas[] = {1, 3, 16};
  const int lane_masks[] = {1, 9, 16, 31};
  int row = 0;
  for (int src : sources) out[32 * row++ + lane] = __shfl_sync(full, lane * 10, src, width);
  for (unsigned d : deltas) out[32 * row++ + lane] = __shfl_up_sync(full, lane * 10, d, width);
  for (unsigned d : deltas) out[32 * row++ + lane] = __shfl_down_sync(full, lane * 10, d, width);
  for (int m : lane_masks) out[32 * row++ + lane] = __shfl_xor_sync(full, lane * 10, m, width);
  const double dv = __shfl_xor_sync(full, 0.25 + lane, 3, width);
  const long long lv = __shfl_down_sync(full, (1ll << 40) * lane + lane, 1, width);
  const float fv = __shfl_sync(full, __int_as_float(0x7fc00000 + lane), 2, width);  // NaN payloads survive
  out[32 * row++ + lane] = static_cast<int>(dv * 4);
  out[32 * row++ + lane] = static_cast<int>(lv >> 40) * 100 + static_cast<int>(lv & 0xff);
  out[32 * row++ + lane] = __float_as_int(fv);
}

// The second warp of a 48-thread block has 16 lanes; it names exactly those in its mask.
__global__ void partial_warp(int* out) {
  const unsigned t = threadIdx.x, lane = t % 32;
  const unsigned mask = t < 32 ? 0xffffffffu : 0x0000ffffu;
  const int v = static_cast<int>(t) * 3 + 1;
  int s = v;
  for (int o = 8; o > 0; o /= 2) s += __shfl_xor_sync(mask, s, o, 16);
  out[0 * 48 + t] = s;
  out[1 * 48 + t] = __shfl_down_sync(mask, v, 5, 16);
  out[2 * 48 + t] = __shfl_up_sync(mask, v, 2, 16);
  out[3 * 48 + t] = static_cast<int>(__ballot_sync(mask, lane % 5 == 1));
  out[4 * 48 + t] = __all_sync(mask, v > 0) * 10 + __any_sync(mask, lane == 15);
  out[5 * 48 + t] = static_cast<int>(__reduce_add_sync(mask, static_cast<unsigned>(v)));
}

__global__ void votes_and_matches(int* out) {
  const unsigned lane = threadIdx.x;
  const unsigned half = lane % 2 ? 0xaaaaaaaau : 0x55555555u;
  int pred = -1;
  out[0 * 32 + lane] = static_cast<int>(__ballot_sync(0xffffffffu, lane * 7 % 5 < 2));
  out[1 * 32 + lane] = static_cast<int>(__ballot_sync(half, lane < 21));
  out[2 * 32 + lane] = __any_sync(half, lane == 4) * 10 + __all_sync(half, lane != 9);
  out[3 * 32 + lane] = static_cast<int>(__match_any_sync(0xffffffffu, lane * lane % 7));
  out[4 * 32 + lane] = static_cast<int>(__match_all_sync(0xffffffffu, 42ll, &pred));
  out[5 * 32 + lane] = pred;
  out[6 * 32 + lane] = static_cast<int>(__match_all_sync(0xffffffffu, lane / 16, &pred));
  out[7 * 32 + lane] = pred;
  out[8 * 32 + lane] = static_cast<int>(__reduce_add_sync(0xffffffffu, lane * lane));
  out[9 * 32 + lane] = __reduce_min_sync(0xffffffffu, 20 - static_cast<int>(lane));
  out[10 * 32 + lane] = __reduce_max_sync(0xffffffffu, static_cast<int>(lane * 37 % 11) - 5);
  out[11 * 32 + lane] = static_cast<int>(__reduce_min_sync(0xffffffffu, 100u - lane));
  out[12 * 32 + lane] = static_cast<int>(__reduce_max_sync(0xffffffffu, lane ^ 21u));
  out[13 * 32 + lane] = static_cast<int>(__reduce_and_sync(0xffffffffu, ~(1u << lane)));
  out[14 * 32 + lane] = static_cast<int>(__reduce_or_sync(half, 1u << lane));
  out[15 * 32 + lane] = static_cast<int>(__reduce_xor_sync(0xffffffffu, lane * 0x01010101u));
  __syncwarp();
}

__global__ void barrier_votes(int* out) {
  const int t = static_cast<int>(threadIdx.x);
  out[0 * 100 + t] = __syncthreads_count(t % 3 == 0);
  out[1 * 100 + t] = __syncthreads_and(t < 100);
  out[2 * 100 + t] = __syncthreads_and(t != 57);
  out[3 * 100 + t] = __syncthreads_or(t == 99);
  out[4 * 100 + t] = __syncthreads_or(0);
}

// Static and dynamic shared memory, shared-memory atomics and 3-D indexing.
__global__ void shared_memory(int* out) {
  __shared__ int counts[4];
  SSE_DYNAMIC_SHARED(int, s);
  const unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned n = blockDim.x * blockDim.y * blockDim.z;
  if (t < 4) counts[t] = 0;
  s[t] = static_cast<int>(t * 100 + b);
  __syncthreads();
  atomicAdd(&counts[(t * 5 + b) % 4], static_cast<int>(t));
  const int neighbour = s[(t * 7 + 3) % n];
  __syncthreads();
  s[t] = neighbour + counts[t % 4] * 1000;
  __syncthreads();
  out[b * n + t] = s[n - 1 - t];
}

__global__ void atomics_and_intrinsics(unsigned* wrap, int* out) {
  atomicInc(&wrap[0], 6u);
  atomicDec(&wrap[1], 6u);
  atomicCAS(&wrap[2], 0u, 100u + threadIdx.x);
  atomicMax(reinterpret_cast<int*>(&wrap[3]), static_cast<int>(threadIdx.x) - 50);
  atomicMin(&wrap[4], 1000u - threadIdx.x);
  atomicOr(&wrap[5], 1u << (threadIdx.x % 32));
  atomicXor(&wrap[6], threadIdx.x);
  atomicSub(reinterpret_cast<int*>(&wrap[7]), 3);
  if (threadIdx.x != 0) return;
  int i = 0;
  out[i++] = static_cast<int>(min(-1, 5u));  // CUDA's overloads: int vs unsigned compares unsigned
  out[i++] = max(-1, 5);
  out[i++] = static_cast<int>(max(3u, -2));
  out[i++] = static_cast<int>(min(-7ll, 2ll));
  out[i++] = __float_as_int(min(1.5f, __int_as_float(0x7fc00000)));  // NaN ignored
  out[i++] = __float_as_int(max(-0.0f, 2.0f));
  out[i++] = __float_as_int(__saturatef(__int_as_float(0x7fc00000)));
  out[i++] = __float_as_int(__saturatef(1.5f));
  out[i++] = __float_as_int(__saturatef(-3.0f));
  out[i++] = __float2int_rn(2.5f);
  out[i++] = __float2int_rn(-3.5f);
  out[i++] = __float2int_rz(-2.7f);
  out[i++] = __float2int_rd(-2.1f);
  out[i++] = __float2int_ru(2.1f);
  out[i++] = static_cast<int>(__brev(0x12345678u));
  out[i++] = __clz(0);
  out[i++] = __clz(1);
  out[i++] = __clz(-1);
  out[i++] = __clzll(1ll);
  out[i++] = __ffs(0);
  out[i++] = __ffs(0x50);
  out[i++] = __ffsll(1ll << 40);
  out[i++] = __popc(0xf0f0f0f1u);
  out[i++] = __popcll(~0ull);
  out[i++] = static_cast<int>(__umulhi(0xffffffffu, 0x80000000u));
  out[i++] = __mulhi(-0x40000000, 0x40000000);
  out[i++] = __float_as_int(__fmaf_rn(1.0f + 0x1p-23f, 1.0f - 0x1p-23f, -1.0f));
  out[i++] = __float_as_int(__int2float_rn(16777217));
  out[i++] = static_cast<int>(__double_as_longlong(1.0) >> 32);
  out[i++] = __float_as_int(fminf(__int_as_float(0x7fc00000), 3.0f));
  out[i++] = warpSize;
}

struct Buffer {
  int* p = nullptr;
  explicit Buffer(std::size_t n) {
    SSE_CUDA_CHECK(cudaMalloc(&p, n * sizeof(int)));
    SSE_CUDA_CHECK(cudaMemset(p, 0, n * sizeof(int)));
  }
  ~Buffer() { cudaFree(p); }
  std::vector<int> get(std::size_t n) const {
    std::vector<int> h(n);
    SSE_CUDA_CHECK(cudaMemcpy(h.data(), p, n * sizeof(int), cudaMemcpyDeviceToHost));
    return h;
  }
};

inline void print_rows(std::string& report, const char* name, const std::vector<int>& v, std::size_t row) {
  char buf[16];
  for (std::size_t r = 0; r * row < v.size(); ++r) {
    report += name;
    report += "[" + std::to_string(r) + "]:";
    for (std::size_t i = r * row; i < (r + 1) * row && i < v.size(); ++i) {
      std::snprintf(buf, sizeof buf, " %x", static_cast<unsigned>(v[i]));
      report += buf;
    }
    report += "\n";
  }
}

// Runs every kernel above and prints its outputs, one line per row of results.
inline std::string report() {
  std::string r;
  for (int width : {32, 16, 8, 4, 2, 1}) {
    Buffer b(17 * 32);
    sse::launch(shuffles, 1, 32, 0, nullptr, b.p, width);
    print_rows(r, ("shuffles/w" + std::to_string(width)).c_str(), b.get(17 * 32), 32);
  }
  {
    Buffer b(6 * 48);
    sse::launch(partial_warp, 1, 48, 0, nullptr, b.p);
    print_rows(r, "partial_warp", b.get(6 * 48), 48);
  }
  {
    Buffer b(16 * 32);
    sse::launch(votes_and_matches, 1, 32, 0, nullptr, b.p);
    print_rows(r, "votes_and_matches", b.get(16 * 32), 32);
  }
  {
    Buffer b(5 * 100);
    sse::launch(barrier_votes, 1, 100, 0, nullptr, b.p);
    print_rows(r, "barrier_votes", b.get(5 * 100), 100);
  }
  {
    const dim3 grid(2, 3, 1), block(8, 4, 2);
    Buffer b(6 * 64);
    sse::launch(shared_memory, grid, block, 64 * sizeof(int), nullptr, b.p);
    print_rows(r, "shared_memory", b.get(6 * 64), 64);
  }
  {
    Buffer wrap(8), out(kIntrinsics);
    const unsigned init[8] = {0, 0, 0, 0x80000000u, ~0u, 0, 0, 0};
    SSE_CUDA_CHECK(cudaMemcpy(wrap.p, init, sizeof init, cudaMemcpyHostToDevice));
    sse::launch(atomics_and_intrinsics, 1, 75, 0, nullptr, reinterpret_cast<unsigned*>(wrap.p), out.p);
    std::vector<int> w = wrap.get(8);
    w[2] = w[2] >= 100 && w[2] < 175;  // which thread won the CAS is not defined, only that one did
    print_rows(r, "atomics", w, 8);
    print_rows(r, "intrinsics", out.get(kIntrinsics), kIntrinsics);
  }
  return r;
}

}  // namespace sse_conformance
