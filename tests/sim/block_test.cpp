// Block-level semantics: barriers, static and dynamic shared memory, index math, and the detection of
// a missing barrier by comparing schedules.
#include <cstdint>
#include <numeric>
#include <vector>

#include "tests/sim/sim_test_util.h"

namespace {

using sse::sim::Schedule;
using sse::sim::ScopedSchedule;
using sse::sim::test::all_schedules;
using sse::sim::test::DeviceBuffer;
using sse::sim::test::ScopedThreads;

// Several phases that each read what other threads wrote in the previous phase.
__global__ void rotate_phases(int* out, int phases) {
  __shared__ int s[256];
  const unsigned t = threadIdx.x, n = blockDim.x;
  s[t] = static_cast<int>(t + 1000 * blockIdx.x);
  for (int p = 0; p < phases; ++p) {
    __syncthreads();
    const int v = s[(t + 1) % n];  // written by another thread before the barrier
    __syncthreads();
    s[t] = v;
  }
  __syncthreads();
  out[blockIdx.x * n + t] = s[t];
}

TEST(SimBlock, WritesBeforeABarrierAreVisibleAfterItInEveryOrder) {
  const int n = 256, blocks = 3, phases = 5;
  for (const Schedule& s : all_schedules()) {
    ScopedSchedule scoped(s);
    DeviceBuffer<int> out(n * blocks);
    sse::launch(rotate_phases, blocks, n, 0, nullptr, out.get(), phases);
    const std::vector<int> h = out.download();
    for (int b = 0; b < blocks; ++b)
      for (int t = 0; t < n; ++t) ASSERT_EQ(h[b * n + t], (t + phases) % n + 1000 * b) << "block " << b << " thread " << t;
  }
}

// Every block publishes its own index through shared memory; with many blocks on several OS
// threads, a block must never see another block's value.
__global__ void publish_block_index(int* out, int* sums) {
  __shared__ int tag;
  __shared__ int partial[128];
  if (threadIdx.x == 0) tag = static_cast<int>(blockIdx.x);
  partial[threadIdx.x] = static_cast<int>(blockIdx.x);
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = tag;
  if (threadIdx.x == 0) {
    int sum = 0;
    for (unsigned i = 0; i < blockDim.x; ++i) sum += partial[i];
    sums[blockIdx.x] = sum;
  }
}

TEST(SimBlock, SharedMemoryIsPerBlock) {
  ScopedThreads threads(4);
  const int n = 128, blocks = 200;
  DeviceBuffer<int> out(n * blocks), sums(blocks);
  sse::launch(publish_block_index, blocks, n, 0, nullptr, out.get(), sums.get());
  const std::vector<int> h = out.download(), s = sums.download();
  for (int b = 0; b < blocks; ++b) {
    ASSERT_EQ(s[b], b * n);
    for (int t = 0; t < n; ++t) ASSERT_EQ(h[b * n + t], b);
  }
}

// Dynamic shared memory: aligned, as large as asked, poisoned at block start, private per block.
__global__ void dynamic_reverse(const float* in, float* out, unsigned* first_bits, int* misaligned) {
  SSE_DYNAMIC_SHARED(float, s);
  const unsigned t = threadIdx.x, n = blockDim.x;
  if (t == 0) {
    first_bits[blockIdx.x] = __float_as_uint(s[0]);
    *misaligned |= (reinterpret_cast<std::uintptr_t>(s) % 16) != 0;
  }
  __syncthreads();
  s[t] = in[blockIdx.x * n + t];
  __syncthreads();
  out[blockIdx.x * n + t] = s[n - 1 - t];
}

TEST(SimBlock, DynamicSharedMemory) {
  const int n = 200, blocks = 4;
  std::vector<float> in(n * blocks);
  std::iota(in.begin(), in.end(), 0.0f);
  DeviceBuffer<float> d_in(in), d_out(n * blocks);
  DeviceBuffer<unsigned> first(blocks);
  DeviceBuffer<int> misaligned(1);
  misaligned.fill_zero();
  sse::launch(dynamic_reverse, blocks, n, n * sizeof(float), nullptr, d_in.get(), d_out.get(), first.get(),
              misaligned.get());
  const std::vector<float> out = d_out.download();
  for (int b = 0; b < blocks; ++b)
    for (int t = 0; t < n; ++t) ASSERT_EQ(out[b * n + t], in[b * n + n - 1 - t]);
  for (unsigned bits : first.download()) EXPECT_EQ(bits, 0xFFFFFFFFu);  // fresh for every block
  EXPECT_EQ(misaligned.download()[0], 0);
}

__global__ void touch_dynamic_shared(int* out, int n) {
  SSE_DYNAMIC_SHARED(int, s);
  if (threadIdx.x == 0) {
    for (int i = 0; i < n; ++i) s[i] = i;
    int sum = 0;
    for (int i = 0; i < n; ++i) sum += s[i];
    *out = sum;
  }
}

TEST(SimBlock, DynamicSharedMemoryUpToTheOptInLimit) {
  const int n = static_cast<int>(sse::sim::kMaxSharedMemory / sizeof(int));
  DeviceBuffer<int> out(1);
  SSE_CUDA_CHECK(cudaFuncSetAttribute(touch_dynamic_shared, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                      static_cast<int>(sse::sim::kMaxSharedMemory)));
  sse::launch(touch_dynamic_shared, 1, 32, sse::sim::kMaxSharedMemory, nullptr, out.get(), n);
  EXPECT_EQ(out.download()[0], n / 2 * (n - 1));
}

// Every (block, thread) coordinate of a 3-D launch appears exactly once and agrees with its
// linear index.
__global__ void index_3d(unsigned* hits, uint4* coords) {
  const unsigned bx = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned tx = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned id = bx * (blockDim.x * blockDim.y * blockDim.z) + tx;
  atomicAdd(&hits[id], 1u);
  coords[id] = make_uint4(blockIdx.x * blockDim.x + threadIdx.x, blockIdx.y * blockDim.y + threadIdx.y,
                          blockIdx.z * blockDim.z + threadIdx.z, gridDim.x * 100 + blockDim.z);
}

TEST(SimBlock, ThreeDimensionalGridsAndBlocks) {
  ScopedThreads threads(3);
  const dim3 grid(3, 2, 4), block(4, 3, 2);
  const unsigned total = 3 * 2 * 4 * 4 * 3 * 2;
  DeviceBuffer<unsigned> hits(total);
  DeviceBuffer<uint4> coords(total);
  hits.fill_zero();
  sse::launch(index_3d, grid, block, 0, nullptr, hits.get(), coords.get());
  const std::vector<unsigned> h = hits.download();
  const std::vector<uint4> c = coords.download();
  std::vector<int> seen(12 * 6 * 8, 0);
  for (unsigned i = 0; i < total; ++i) {
    ASSERT_EQ(h[i], 1u) << i;
    ASSERT_LT(c[i].x, 12u);
    ASSERT_LT(c[i].y, 6u);
    ASSERT_LT(c[i].z, 8u);
    EXPECT_EQ(c[i].w, 302u);
    ++seen[c[i].x + 12 * (c[i].y + 6 * c[i].z)];
  }
  for (int s : seen) ASSERT_EQ(s, 1);
}

__global__ void barrier_votes(const int* pred, int* out) {
  const int p = pred[threadIdx.x];
  out[0 * blockDim.x + threadIdx.x] = __syncthreads_count(p);
  out[1 * blockDim.x + threadIdx.x] = __syncthreads_and(p);
  out[2 * blockDim.x + threadIdx.x] = __syncthreads_or(p);
}

TEST(SimBlock, BarrierReductions) {
  const int n = 96;
  std::vector<int> pred(n, 0);
  for (int i = 0; i < n; i += 7) pred[i] = 1;
  DeviceBuffer<int> d_pred(pred), out(3 * n);
  sse::launch(barrier_votes, 1, n, 0, nullptr, d_pred.get(), out.get());
  std::vector<int> h = out.download();
  for (int t = 0; t < n; ++t) {
    EXPECT_EQ(h[t], 14);
    EXPECT_EQ(h[n + t], 0);
    EXPECT_EQ(h[2 * n + t], 1);
  }
  std::fill(pred.begin(), pred.end(), 3);
  d_pred.upload(pred);
  sse::launch(barrier_votes, 1, n, 0, nullptr, d_pred.get(), out.get());
  h = out.download();
  EXPECT_EQ(h[0], n);
  EXPECT_EQ(h[n], 1);
}

// Threads that return early count as arrived at later barriers.
__global__ void early_exit_then_barrier(int* out, int active) {
  __shared__ int s[64];
  if (static_cast<int>(threadIdx.x) >= active) return;
  s[threadIdx.x] = static_cast<int>(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = s[active - 1 - static_cast<int>(threadIdx.x)];
}

TEST(SimBlock, ExitedThreadsCountAsArrived) {
  DeviceBuffer<int> out(64);
  sse::launch(early_exit_then_barrier, 1, 64, 0, nullptr, out.get(), 40);
  const std::vector<int> h = out.download();
  for (int t = 0; t < 40; ++t) EXPECT_EQ(h[t], 39 - t);
}

// The classic missing barrier: each thread reads its neighbour's slot right after writing its own.
__global__ void neighbour_sum(const int* in, int* out, int with_barrier) {
  SSE_DYNAMIC_SHARED(int, s);
  const unsigned t = threadIdx.x;
  s[t] = in[blockIdx.x * blockDim.x + t];
  if (with_barrier) __syncthreads();
  out[blockIdx.x * blockDim.x + t] = s[t] + s[(t + 1) % blockDim.x];
}

std::vector<int> run_neighbour_sum(const Schedule& s, bool with_barrier) {
  ScopedSchedule scoped(s);
  const int n = 64, blocks = 2;
  std::vector<int> in(n * blocks);
  std::iota(in.begin(), in.end(), 1);
  DeviceBuffer<int> d_in(in), d_out(n * blocks);
  sse::launch(neighbour_sum, blocks, n, n * sizeof(int), nullptr, d_in.get(), d_out.get(), with_barrier ? 1 : 0);
  return d_out.download();
}

TEST(SimBlock, AMissingBarrierIsExposedByDifferentSchedules) {
  const std::vector<int> forward = run_neighbour_sum(Schedule::forward(), false);
  const std::vector<int> reverse = run_neighbour_sum(Schedule::reverse(), false);
  EXPECT_NE(forward, reverse) << "the race went unnoticed";

  const std::vector<int> reference = run_neighbour_sum(Schedule::forward(), true);
  for (const Schedule& s : all_schedules()) EXPECT_EQ(run_neighbour_sum(s, true), reference);
  EXPECT_EQ(reference[0], 1 + 2);
  EXPECT_EQ(reference[63], 64 + 1);
}

TEST(SimBlock, ScheduleComesBackAfterScope) {
  sse::sim::set_schedule(Schedule::forward());
  {
    ScopedSchedule scoped(Schedule::shuffled(7));
    EXPECT_EQ(sse::sim::schedule().order, sse::sim::Order::Shuffled);
    EXPECT_EQ(sse::sim::schedule().seed, 7u);
  }
  EXPECT_EQ(sse::sim::schedule().order, sse::sim::Order::Forward);
}

}  // namespace
