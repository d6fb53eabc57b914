// kernels/cuda/device_util.cuh — small pieces every .cu kernel file shares: grid sizing for
// grid-stride loops, the current device's multiprocessor count, and deterministic warp/block sums.
//
// Determinism contract: warp_sum / block_sum add in a fixed tree whose shape depends only on
// blockDim, never on timing, so a kernel built on them repeats bit for bit. They must be called by
// every thread of the block (full warps, blockDim.x a multiple of 32, ≤ 1024): they contain
// barriers and full-mask shuffles.
#pragma once

#include "kernels/cuda/cuda_common.cuh"

namespace sse::cuda {

constexpr int kBlock = 256;  // default block size of the bandwidth-bound kernels

// Multiprocessors of the current device (cached per device).
int sm_count();

// Blocks for a grid-stride loop over `items` with `block` threads: enough to fill the device a few
// times over, never more than the work needs, at least one.
inline unsigned grid_for(index_t items, int block = kBlock) {
  const index_t needed = (items + block - 1) / block;
  const index_t cap = static_cast<index_t>(sm_count()) * 8;
  return static_cast<unsigned>(needed < 1 ? 1 : (needed < cap ? needed : cap));
}

// Grid for kernels that put independent rows (images, planes) on grid.y — strided beyond 65535 —
// and a grid-stride loop over `per_row` items on x: blocks enough to fill the device in total.
inline dim3 rows_grid(index_t rows, index_t per_row, int block = kBlock) {
  const index_t gy = rows < 1 ? 1 : (rows < 65535 ? rows : 65535);
  const index_t want = (8 * static_cast<index_t>(sm_count()) + gy - 1) / gy;
  const index_t need = (per_row + block - 1) / block;
  const index_t gx = want < need ? want : need;
  return dim3(static_cast<unsigned>(gx < 1 ? 1 : gx), static_cast<unsigned>(gy));
}

// Kernels over many short rows (box copies, pooling: rows of tens of elements) use 32 × 8 blocks:
// a warp takes 32 consecutive elements of one row (coalesced), a block 8 rows, so rows shorter than
// a block waste no threads. Both loops are grid-strided.
constexpr int kRowLanes = 32, kRowsPerBlock = 8;
inline dim3 short_rows_block() { return dim3(kRowLanes, kRowsPerBlock); }
inline dim3 short_rows_grid(index_t rows, index_t per_row) {
  const index_t gx = (per_row + kRowLanes - 1) / kRowLanes, gy = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  return dim3(static_cast<unsigned>(gx < 1 ? 1 : (gx < 64 ? gx : 64)),
              static_cast<unsigned>(gy < 1 ? 1 : (gy < 65535 ? gy : 65535)));
}
__device__ inline index_t short_row_first() {
  return static_cast<index_t>(blockIdx.y) * kRowsPerBlock + threadIdx.y;
}
__device__ inline index_t short_row_stride() { return static_cast<index_t>(gridDim.y) * kRowsPerBlock; }
__device__ inline index_t short_col_first() { return static_cast<index_t>(blockIdx.x) * kRowLanes + threadIdx.x; }
__device__ inline index_t short_col_stride() { return static_cast<index_t>(gridDim.x) * kRowLanes; }

__device__ inline index_t global_thread() {
  return static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline index_t grid_threads() { return static_cast<index_t>(gridDim.x) * blockDim.x; }

// Sum over the 32 lanes of a warp (butterfly: every lane ends with the same bits).
template <typename T> __device__ inline T warp_sum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Sum over the block; the result is returned to every thread. `scratch` holds 32 T in shared memory
// and may be reused after the call (the trailing barrier protects it).
template <typename T> __device__ inline T block_sum(T v, T* scratch) {
  const int lane = static_cast<int>(threadIdx.x) & 31, warp = static_cast<int>(threadIdx.x) >> 5;
  const int warps = static_cast<int>(blockDim.x) >> 5;
  v = warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  T total = lane < warps ? scratch[lane] : T(0);
  total = warp_sum(total);  // every warp combines the per-warp sums the same way
  __syncthreads();
  return total;
}

}  // namespace sse::cuda
