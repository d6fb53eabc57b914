// Atomics under multi-threaded block execution: blocks of one grid run concurrently on several OS
// threads, so every read-modify-write must be a real atomic.
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "tests/sim/sim_test_util.h"

namespace {

using sse::sim::test::DeviceBuffer;
using sse::sim::test::ScopedThreads;

__global__ void hammer(unsigned long long* counter, float* fsum, double* dsum, int* imax, unsigned* umin, int* isub) {
  atomicAdd(counter, 1ull);
  atomicAdd(fsum, 1.0f);
  atomicAdd(dsum, 0.5);
  const int id = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  atomicMax(imax, id);
  atomicMin(umin, static_cast<unsigned>(id) + 7u);
  atomicSub(isub, 2);
}

TEST(SimAtomic, ManyBlocksOnManyThreadsAreExact) {
  ScopedThreads threads(4);
  const unsigned blocks = 400, n = 256, total = blocks * n;  // 102400 updates of each
  DeviceBuffer<unsigned long long> counter(1);
  DeviceBuffer<float> fsum(1);
  DeviceBuffer<double> dsum(1);
  DeviceBuffer<int> imax(1), isub(1);
  DeviceBuffer<unsigned> umin(1);
  counter.fill_zero(), fsum.fill_zero(), dsum.fill_zero(), imax.fill_zero(), isub.fill_zero();
  umin.upload({~0u});
  sse::launch(hammer, blocks, n, 0, nullptr, counter.get(), fsum.get(), dsum.get(), imax.get(), umin.get(), isub.get());
  EXPECT_EQ(counter.download()[0], total);
  EXPECT_EQ(fsum.download()[0], static_cast<float>(total));
  EXPECT_EQ(dsum.download()[0], total * 0.5);
  EXPECT_EQ(imax.download()[0], static_cast<int>(total) - 1);
  EXPECT_EQ(umin.download()[0], 7u);
  EXPECT_EQ(isub.download()[0], -2 * static_cast<int>(total));
}

// Block 0 waits until some block has run on another OS thread: proof that blocks really run
// concurrently (with a timeout, so that a regression fails instead of hanging).
std::mutex g_ids_mutex;
std::set<std::thread::id> g_ids;

std::size_t distinct_threads() {
  std::lock_guard<std::mutex> lock(g_ids_mutex);
  return g_ids.size();
}

__global__ void wait_for_company(int* seen) {
  if (threadIdx.x != 0) return;
  {
    std::lock_guard<std::mutex> lock(g_ids_mutex);
    g_ids.insert(std::this_thread::get_id());
  }
  if (blockIdx.x != 0) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (distinct_threads() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  *seen = static_cast<int>(distinct_threads());
}

TEST(SimAtomic, BlocksRunConcurrently) {
  ScopedThreads threads(2);
  sse::sim::ScopedSchedule forward(sse::sim::Schedule::forward());  // block 0 is claimed first
  g_ids.clear();
  DeviceBuffer<int> seen(1);
  seen.fill_zero();
  sse::launch(wait_for_company, 64, 32, 0, nullptr, seen.get());
  EXPECT_EQ(seen.download()[0], 2);
}

__global__ void cas_lock_counter(int* lock, int* plain) {
  if (threadIdx.x != 0) return;  // one thread per block contends: no intra-block spin deadlock
  while (atomicCAS(lock, 0, 1) != 0) {
  }
  __threadfence();
  *plain += 1;  // protected by the lock
  __threadfence();
  atomicExch(lock, 0);
}

TEST(SimAtomic, CompareAndSwapLock) {
  ScopedThreads threads(4);
  DeviceBuffer<int> lock(1), plain(1);
  lock.fill_zero(), plain.fill_zero();
  sse::launch(cas_lock_counter, 2000, 32, 0, nullptr, lock.get(), plain.get());
  EXPECT_EQ(plain.download()[0], 2000);
}

__global__ void shared_histogram(const int* in, unsigned* hist, int n) {
  __shared__ unsigned local[8];
  if (threadIdx.x < 8) local[threadIdx.x] = 0;
  __syncthreads();
  for (int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x); i < n; i += static_cast<int>(gridDim.x * blockDim.x))
    atomicAdd(&local[in[i] % 8], 1u);
  __syncthreads();
  if (threadIdx.x < 8) atomicAdd(&hist[threadIdx.x], local[threadIdx.x]);
}

TEST(SimAtomic, SharedThenGlobalHistogram) {
  ScopedThreads threads(3);
  const int n = 100000;
  std::vector<int> in(n);
  for (int i = 0; i < n; ++i) in[i] = i * 7 + i / 3;
  std::vector<unsigned> expected(8, 0);
  for (int v : in) ++expected[v % 8];
  DeviceBuffer<int> d_in(in);
  DeviceBuffer<unsigned> hist(8);
  hist.fill_zero();
  sse::launch(shared_histogram, 37, 128, 0, nullptr, d_in.get(), hist.get(), n);
  EXPECT_EQ(hist.download(), expected);
}

__global__ void wrap_and_bits(unsigned* inc, unsigned* dec, unsigned* bits, unsigned long long* cas) {
  atomicInc(inc, 9u);   // counts 0..9 then wraps to 0
  atomicDec(dec, 9u);
  atomicOr(bits, 1u << (threadIdx.x % 32));
  atomicAnd(bits + 1, ~(1u << (threadIdx.x % 32)));
  atomicXor(bits + 2, 1u << (threadIdx.x % 4));
  atomicCAS(cas, 0ull, 42ull + threadIdx.x);  // only the first thread's swap succeeds
}

TEST(SimAtomic, WrappingAndBitwise) {
  DeviceBuffer<unsigned> inc(1), dec(1), bits(3);
  DeviceBuffer<unsigned long long> cas(1);
  inc.fill_zero(), dec.fill_zero(), cas.fill_zero();
  bits.upload({0u, ~0u, 0u});
  sse::launch(wrap_and_bits, 1, 25, 0, nullptr, inc.get(), dec.get(), bits.get(), cas.get());
  EXPECT_EQ(inc.download()[0], 25u % 10u);
  EXPECT_EQ(dec.download()[0], (10u - 25u % 10u) % 10u);  // 0 -> 9 -> 8 ...
  EXPECT_EQ(bits.download(), (std::vector<unsigned>{0x1ffffffu, ~0x1ffffffu, 0x1u}));
  const unsigned long long winner = cas.download()[0];  // exactly one swap succeeded
  EXPECT_GE(winner, 42ull);
  EXPECT_LT(winner, 42ull + 25);
}

TEST(SimAtomic, TheScheduleDecidesWhoWinsARace) {
  DeviceBuffer<unsigned> inc(1), dec(1), bits(3);
  DeviceBuffer<unsigned long long> cas(1);
  for (const sse::sim::Schedule& s : {sse::sim::Schedule::forward(), sse::sim::Schedule::reverse()}) {
    sse::sim::ScopedSchedule scoped(s);
    cas.fill_zero();
    sse::launch(wrap_and_bits, 1, 25, 0, nullptr, inc.get(), dec.get(), bits.get(), cas.get());
    EXPECT_EQ(cas.download()[0], 42ull + (s.order == sse::sim::Order::Forward ? 0 : 24));
  }
}

}  // namespace
