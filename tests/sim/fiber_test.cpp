// The fiber machinery: both context-switch backends give the same results, the counters add up,
// fiber stacks hold a reasonable frame, and the cost of a switch is measured (printed, not asserted;
// kernels/sim/README.md records it).
#include <chrono>
#include <cstdio>
#include <vector>

#include "kernels/sim/fiber.h"
#include "tests/sim/sim_test_util.h"

namespace {

using sse::sim::FiberBackend;
using sse::sim::test::DeviceBuffer;
using sse::sim::test::ScopedThreads;

class ScopedBackend {
 public:
  explicit ScopedBackend(FiberBackend b) : saved_(sse::sim::fiber_backend()) { sse::sim::set_fiber_backend(b); }
  ~ScopedBackend() { sse::sim::set_fiber_backend(saved_); }

 private:
  FiberBackend saved_;
};

std::vector<FiberBackend> backends() {
  std::vector<FiberBackend> v{FiberBackend::Ucontext};
  if (sse::sim::fiber_backend_available(FiberBackend::Assembly)) v.push_back(FiberBackend::Assembly);
  return v;
}

// A block-wide tree reduction through shared memory, then a warp reduction: barriers and warp
// collectives in one kernel.
__global__ void block_sum(const float* in, float* out) {
  __shared__ float s[256];
  const unsigned t = threadIdx.x;
  s[t] = in[blockIdx.x * blockDim.x + t];
  __syncthreads();
  for (unsigned stride = blockDim.x / 2; stride >= 32; stride /= 2) {
    if (t < stride) s[t] += s[t + stride];
    __syncthreads();
  }
  if (t < 32) {
    float v = s[t];
    for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xffffffffu, v, o);
    if (t == 0) out[blockIdx.x] = v;
  }
}

TEST(SimFiber, BothBackendsAgree) {
  const int n = 256, blocks = 8;
  std::vector<float> in(n * blocks);
  for (int i = 0; i < n * blocks; ++i) in[i] = static_cast<float>(i % 13);
  DeviceBuffer<float> d_in(in), out(blocks);
  for (FiberBackend b : backends()) {
    ScopedBackend scoped(b);
    sse::launch(block_sum, blocks, n, 0, nullptr, d_in.get(), out.get());
    const std::vector<float> h = out.download();
    for (int k = 0; k < blocks; ++k) {
      float expected = 0;
      for (int i = 0; i < n; ++i) expected += in[k * n + i];
      EXPECT_EQ(h[k], expected) << "backend " << static_cast<int>(b) << " block " << k;
    }
  }
}

TEST(SimFiber, CountersAddUp) {
  ScopedThreads threads(1);
  const int n = 256, blocks = 3;
  DeviceBuffer<float> in(n * blocks), out(blocks);
  in.fill_zero();
  sse::sim::reset_stats();
  sse::launch(block_sum, blocks, n, 0, nullptr, in.get(), out.get());
  const sse::sim::Stats s = sse::sim::stats();
  EXPECT_EQ(s.launches, 1u);
  EXPECT_EQ(s.blocks, 3u);
  EXPECT_EQ(s.threads, 3u * n);
  EXPECT_EQ(s.block_barriers, 3u * 4);  // strides 128, 64, 32 plus the first barrier
  EXPECT_EQ(s.warp_ops, 3u * 5);        // one warp, five shuffles
  // Every thread starts once and resumes after each of the 4 barriers; warp 0 after 5 shuffles.
  EXPECT_EQ(s.fiber_switches, 3u * (n * 5 + 32 * 5));
}

__global__ void no_barrier(float* x) { x[blockIdx.x * blockDim.x + threadIdx.x] += 1.0f; }

__global__ void early_exit(float* x, int active) {
  if (static_cast<int>(threadIdx.x) >= active) return;
  __syncthreads();
  x[threadIdx.x] = 1.0f;
}

// A fiber whose thread returns carries on with the next thread that has not started yet.
TEST(SimFiber, ThreadsWithoutBarriersShareOneFiber) {
  ScopedThreads threads(1);
  DeviceBuffer<float> x(4 * 256);
  x.fill_zero();
  sse::sim::reset_stats();
  sse::launch(no_barrier, 4, 256, 0, nullptr, x.get());
  EXPECT_EQ(sse::sim::stats().fiber_switches, 4u);  // one per block
  EXPECT_EQ(sse::sim::stats().threads, 4u * 256);
  for (float v : x.download()) ASSERT_EQ(v, 1.0f);

  for (const sse::sim::Schedule& s : sse::sim::test::all_schedules()) {
    sse::sim::ScopedSchedule scoped(s);
    sse::sim::reset_stats();
    sse::launch(early_exit, 1, 256, 0, nullptr, x.get(), 100);
    // 100 threads block at the barrier, each on its own fiber; the 156 that return early ride along
    // (one more fiber if the order ends with them). Then the 100 resume once.
    EXPECT_GE(sse::sim::stats().fiber_switches, 200u);
    EXPECT_LE(sse::sim::stats().fiber_switches, 201u);
    EXPECT_EQ(sse::sim::stats().threads, 256u);
  }
}

// Deep-ish recursion with a local array: a few KB of stack per CUDA thread must be fine.
__device__ int recurse(int depth, int seed) {
  volatile int local[32];
  for (int i = 0; i < 32; ++i) local[i] = seed + i;
  return depth == 0 ? local[31] : recurse(depth - 1, local[seed % 32]) + 1;
}

__global__ void use_stack(int* out) {
  __syncthreads();
  out[threadIdx.x] = recurse(60, static_cast<int>(threadIdx.x));
}

TEST(SimFiber, StacksHoldSeveralKilobytes) {
  DeviceBuffer<int> out(64);
  sse::launch(use_stack, 1, 64, 0, nullptr, out.get());
  const std::vector<int> h = out.download();
  EXPECT_EQ(h[0], 31 + 60);  // thread 0 keeps seed 0 all the way down
}

// ~2 switches (scheduler -> fiber -> scheduler) per barrier per thread.
__global__ void barrier_loop(int iterations) {
  for (int i = 0; i < iterations; ++i) __syncthreads();
}

TEST(SimFiber, MeasureSwitchCost) {
  ScopedThreads threads(1);
  for (FiberBackend b : backends()) {
    ScopedBackend scoped(b);
    const int iterations = b == FiberBackend::Assembly ? 2000 : 200;
    sse::launch(barrier_loop, 1, 256, 0, nullptr, 10);  // warm up stacks
    sse::sim::reset_stats();
    const auto t0 = std::chrono::steady_clock::now();
    sse::launch(barrier_loop, 1, 256, 0, nullptr, iterations);
    const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    const sse::sim::Stats s = sse::sim::stats();
    std::printf("[ switch ] %s: %.1f ns per resumption (switch in + out, scheduling included), %.1f ns per "
                "context switch, %llu resumptions\n",
                b == FiberBackend::Assembly ? "assembly" : "ucontext", ns / s.fiber_switches,
                ns / s.fiber_switches / 2, static_cast<unsigned long long>(s.fiber_switches));
    EXPECT_EQ(s.fiber_switches, 256u * (iterations + 1));
  }
}

// The bare context switch, without the scheduler: a fiber that switches straight back.
namespace raw {
sse::sim::detail::Context main_context, fiber_context;
FiberBackend backend;
long pings = 0;

[[noreturn]] void ping() {
  for (;;) {
    ++pings;
    sse::sim::detail::context_switch(fiber_context, main_context, backend);
  }
}
}  // namespace raw

TEST(SimFiber, MeasureBareContextSwitch) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "switches without AddressSanitizer's fiber annotations";
#endif
  sse::sim::detail::Fiber fiber(64 * 1024);
  const sse::sim::detail::Stack stack = fiber.stack;
  for (FiberBackend b : backends()) {
    const long n = b == FiberBackend::Assembly ? 1000000 : 50000;
    raw::backend = b;
    raw::pings = 0;
    sse::sim::detail::context_init(raw::fiber_context, stack, raw::ping, b);
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < n; ++i) sse::sim::detail::context_switch(raw::main_context, raw::fiber_context, b);
    const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    std::printf("[ switch ] %s: %.1f ns per bare context switch\n", b == FiberBackend::Assembly ? "assembly" : "ucontext",
                ns / (2.0 * n));
    EXPECT_EQ(raw::pings, n);
  }
}

}  // namespace
