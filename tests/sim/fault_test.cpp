// Faults the emulator must report loudly: bad launch configurations (through cudaGetLastError, like
// the real runtime), exceptions thrown by a CUDA thread, deadlocks, divergent barriers and misuse
// of the warp intrinsics.
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/sim/sim_test_util.h"

namespace {

using sse::sim::SimError;
using sse::sim::test::DeviceBuffer;
using sse::sim::test::ScopedThreads;

int g_runs = 0;

__global__ void count_runs() {
  if (threadIdx.x == 0 && blockIdx.x == 0) ++g_runs;
}

void expect_launch_error(dim3 grid, dim3 block, std::size_t smem, cudaError_t expected) {
  g_runs = 0;
  sse::sim::launch(grid, block, smem, nullptr, [] { count_runs(); });
  EXPECT_EQ(cudaPeekAtLastError(), expected);
  EXPECT_EQ(cudaGetLastError(), expected);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "cudaGetLastError must clear the error";
  EXPECT_EQ(g_runs, 0) << "a rejected launch must run nothing";
}

TEST(SimFault, BadConfigurationsAreReportedThroughGetLastError) {
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  expect_launch_error(1, 1025, 0, cudaErrorInvalidConfiguration);
  expect_launch_error(1, dim3(32, 32, 2), 0, cudaErrorInvalidConfiguration);
  expect_launch_error(1, dim3(1, 1, 65), 0, cudaErrorInvalidConfiguration);
  expect_launch_error(1, dim3(0, 1, 1), 0, cudaErrorInvalidConfiguration);
  expect_launch_error(dim3(1, 65536, 1), 32, 0, cudaErrorInvalidConfiguration);
  expect_launch_error(dim3(1, 1, 0), 32, 0, cudaErrorInvalidConfiguration);
  expect_launch_error(1, 32, sse::sim::kMaxSharedMemory + 1, cudaErrorInvalidValue);

  g_runs = 0;
  sse::sim::launch(1, 1024, sse::sim::kMaxSharedMemory, nullptr, [] { count_runs(); });
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(g_runs, 1);
}

TEST(SimFault, SseLaunchThrowsOnABadConfiguration) {
  EXPECT_THROW(sse::launch(count_runs, 1, 1025, 0, nullptr), sse::CudaError);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  try {
    sse::launch(count_runs, 1, 2048, 0, nullptr);
  } catch (const sse::CudaError& e) {
    EXPECT_NE(std::string(e.what()).find("invalid configuration argument"), std::string::npos) << e.what();
  }
}

__global__ void big_dynamic_shared() {}

// With the kernel's address, the 48 KB default and cudaFuncSetAttribute's opt-in are enforced.
TEST(SimFault, DynamicSharedMemoryAboveTheDefaultNeedsTheAttribute) {
  const void* k = reinterpret_cast<const void*>(big_dynamic_shared);
  sse::sim::launch(k, 1, 32, 64 * 1024, nullptr, [] { big_dynamic_shared(); });
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  ASSERT_EQ(cudaFuncSetAttribute(big_dynamic_shared, cudaFuncAttributeMaxDynamicSharedMemorySize, 100 * 1024),
            cudaSuccess);
  sse::sim::launch(k, 1, 32, 64 * 1024, nullptr, [] { big_dynamic_shared(); });
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  sse::sim::launch(k, 1, 32, 101 * 1024, nullptr, [] { big_dynamic_shared(); });
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaFuncSetAttribute(big_dynamic_shared, cudaFuncAttributeMaxDynamicSharedMemorySize, 300 * 1024),
            cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
}

__global__ void throw_from(int block, int thread, int* after) {
  __syncthreads();
  if (static_cast<int>(blockIdx.x) == block && static_cast<int>(threadIdx.x) == thread)
    throw std::runtime_error("boom from thread " + std::to_string(thread));
  __syncthreads();
  atomicAdd(after, 1);
}

TEST(SimFault, AnExceptionInAThreadLeavesTheLaunch) {
  for (const int threads : {1, 3}) {
    ScopedThreads scoped(threads);
    DeviceBuffer<int> after(1);
    try {
      sse::launch(throw_from, 16, 64, 0, nullptr, 5, 37, after.get());
      ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), "boom from thread 37");
    }
    // The emulator is usable afterwards: stacks and workers were recovered.
    after.fill_zero();
    sse::launch(throw_from, 16, 64, 0, nullptr, -1, -1, after.get());
    EXPECT_EQ(after.download()[0], 16 * 64);
  }
}

template <class F>
std::string sim_error_of(F&& f) {
  try {
    f();
  } catch (const SimError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

__global__ void shuffle_with_exited_lanes(int* out) {
  if (threadIdx.x % 32 >= 16) return;
  out[threadIdx.x] = __shfl_sync(0xffffffffu, static_cast<int>(threadIdx.x), 0);
}

TEST(SimFault, WarpCollectiveWaitingForExitedLanesIsADeadlock) {
  DeviceBuffer<int> out(32);
  const std::string e = sim_error_of([&] { sse::launch(shuffle_with_exited_lanes, 1, 32, 0, nullptr, out.get()); });
  EXPECT_TRUE(contains(e, "deadlock in block (0,0,0)")) << e;
  EXPECT_TRUE(contains(e, "__shfl_sync(mask 0xffffffff)")) << e;
  EXPECT_TRUE(contains(e, "lanes 0xffff0000 of its mask have exited")) << e;
}

__global__ void barrier_against_syncwarp() {
  if (threadIdx.x < 16) __syncthreads();
  else __syncwarp();
}

TEST(SimFault, BlockBarrierAgainstWarpBarrierIsADeadlock) {
  const std::string e = sim_error_of([] { sse::launch(barrier_against_syncwarp, 1, 32, 0, nullptr); });
  EXPECT_TRUE(contains(e, "deadlock")) << e;
  EXPECT_TRUE(contains(e, "16 thread(s) wait at a block barrier, 16 at warp collectives")) << e;
  EXPECT_TRUE(contains(e, "lanes 0xffff wait at __syncthreads")) << e;
}

__global__ void divergent_barriers(int* out) {
  if (threadIdx.x < 16) {
    __syncthreads();
    out[threadIdx.x] = 1;
  } else {
    __syncthreads();
    out[threadIdx.x] = 2;
  }
}

TEST(SimFault, DivergentSyncthreadsIsReported) {
  DeviceBuffer<int> out(64);
  const std::string e = sim_error_of([&] { sse::launch(divergent_barriers, 2, 64, 0, nullptr, out.get()); });
  EXPECT_TRUE(contains(e, "divergent __syncthreads")) << e;
  EXPECT_TRUE(contains(e, "16 thread(s), first (0,0,0)")) << e;
  EXPECT_TRUE(contains(e, "48 thread(s), first (16,0,0)")) << e;
  EXPECT_TRUE(contains(e, "fault_test.cpp")) << e;
}

__global__ void mask_without_me(int* out) { out[threadIdx.x] = __shfl_sync(0x1u, 1, 0); }
__global__ void bad_width(int* out) { out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1, 1, 12); }

TEST(SimFault, MisusedWarpIntrinsicsAreReported) {
  DeviceBuffer<int> out(32);
  std::string e = sim_error_of([&] { sse::launch(mask_without_me, 1, 32, 0, nullptr, out.get()); });
  EXPECT_TRUE(contains(e, "called by lane 1, which the mask does not include")) << e;
  e = sim_error_of([&] { sse::launch(bad_width, 1, 32, 0, nullptr, out.get()); });
  EXPECT_TRUE(contains(e, "width 12")) << e;
}

__global__ void nested_launch() { sse::launch(count_runs, 1, 1, 0, nullptr); }

TEST(SimFault, IntrinsicsOutsideAKernelAndNestedLaunchesAreReported) {
  EXPECT_TRUE(contains(sim_error_of([] { __syncthreads(); }), "__syncthreads called outside a kernel"));
  EXPECT_TRUE(contains(sim_error_of([] { __syncwarp(); }), "__syncwarp called outside a kernel"));
  EXPECT_TRUE(contains(sim_error_of([] { sse::launch(nested_launch, 1, 1, 0, nullptr); }), "dynamic parallelism"));
  EXPECT_EQ(sse::sim::dynamic_shared(), nullptr);
}

}  // namespace
