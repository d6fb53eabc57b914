// kernels/sim/sim.h — the CUDA programming model emulated on the CPU, so that every custom kernel in
// kernels/cuda/*.cu is compiled by the host compiler and run in CI without a GPU.
//
// Contract
//   * Included by kernels/cuda/cuda_common.cuh when SSE_CUDA_SIM=1, in place of <cuda_runtime.h>.
//     Kernel source is unchanged: __global__/__device__/__shared__, threadIdx..gridDim, barriers,
//     warp intrinsics, atomics and math intrinsics live in the global namespace as under nvcc
//     (sim_device.h); the runtime subset the engine uses maps onto host memory (sim_runtime.h).
//   * sse::sim::launch runs the whole grid before it returns. Blocks are spread over OS threads
//     (SSE_SIM_THREADS, default: all hardware threads; 1 = sequential), each running one block at
//     a time. Inside a block every CUDA thread runs on a fiber of the block's OS thread, one at a
//     time, and switches only at __syncthreads*, __syncwarp, the warp collectives and __activemask
//     (a thread that returns hands its fiber to the next thread). So `__shared__` (a function-level
//     `static thread_local`) is exactly per-block shared memory.
//   * Scheduling is deterministic for a given schedule (set_schedule / SSE_SIM_SCHEDULE): after every
//     barrier the block's fibers resume in Forward, Reverse or seeded Shuffled order, and blocks are
//     claimed in that order too. Running a kernel under several orders and comparing exposes
//     missing barriers.
//   * Faults are loud. Bad launch configurations are reported through cudaGetLastError as by the
//     real runtime. An exception thrown by a CUDA thread leaves launch() (the block's other threads
//     are abandoned without unwinding). Deadlocks — threads waiting at __syncthreads while others
//     wait at a warp collective, warp collectives whose lanes exited or never come — and threads
//     waiting at two different __syncthreads call sites throw sse::sim::SimError naming the block,
//     the threads and the call sites. A fiber stack overflow hits a guard page (SIGSEGV); raise
//     SSE_SIM_STACK_KB.
//
// Not modelled
//   * Real concurrency inside a block: a thread runs until it reaches a barrier or collective, so
//     warp-synchronous code that relies on lock-step execution without __syncwarp (volatile shared
//     memory reductions) gives wrong results here — as it may on Volta and later GPUs.
//   * Memory ordering between blocks beyond atomics and __threadfence (x86 is stronger than PTX).
//   * Performance: coalescing, bank conflicts, occupancy, caches, register limits, clock().
//   * Tensor cores (wmma/mma), cp.async/TMA, inline PTX, __half/__nv_bfloat16, cooperative groups,
//     dynamic parallelism, textures. __CUDA_ARCH__ is not defined: arch-specific paths take their
//     generic branch.
//   * Fast-math intrinsics (__expf, __fdividef, ...) are computed at full precision.
//   * Static __shared__ keeps the previous block's contents (undefined on a GPU); dynamic shared
//     memory and cudaMalloc memory are filled with 0xFF bytes (NaN) so uninitialised reads show.
//   * Divergence: __activemask() returns the lanes that reach the same call together.
//   * Streams and events exist, but all work is synchronous.
//
// Limits: 1024 threads per block (x, y <= 1024, z <= 64), grid y/z <= 65535; dynamic shared memory
// up to 48 KB, or 227 KB for a kernel that raised cudaFuncAttributeMaxDynamicSharedMemorySize
// (checked only by the launch overload that is given the kernel's address); fiber stacks of
// SSE_SIM_STACK_KB (default 64 KB). Launches from several host threads are serialised.
// More in kernels/sim/README.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "kernels/sim/sim_device.h"
#include "kernels/sim/sim_runtime.h"

namespace sse::sim {

// A fault of the emulated program that the GPU would show as a hang or a wrong result.
struct SimError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr std::size_t kDefaultSharedMemory = 48 * 1024;  // cudaDeviceProp::sharedMemPerBlock
constexpr std::size_t kMaxSharedMemory = 227 * 1024;     // cudaDeviceProp::sharedMemPerBlockOptin

// ---- scheduling ---------------------------------------------------------------------------------
enum class Order { Forward, Reverse, Shuffled };

// The order in which a block's threads are resumed after each barrier (and blocks are claimed).
// Shuffled draws a fresh permutation per round, per block, from `seed`.
struct Schedule {
  Order order = Order::Forward;
  std::uint64_t seed = 0;
  static Schedule forward() { return {Order::Forward, 0}; }
  static Schedule reverse() { return {Order::Reverse, 0}; }
  static Schedule shuffled(std::uint64_t seed) { return {Order::Shuffled, seed}; }
};

// Process-wide; read at each launch. The default comes from SSE_SIM_SCHEDULE
// ("forward", "reverse" or "shuffled:<seed>"), else Forward.
void set_schedule(Schedule s);
Schedule schedule();

// Restores the previous schedule when it goes out of scope.
class ScopedSchedule {
 public:
  explicit ScopedSchedule(Schedule s) : saved_(schedule()) { set_schedule(s); }
  ~ScopedSchedule() { set_schedule(saved_); }
  ScopedSchedule(const ScopedSchedule&) = delete;
  ScopedSchedule& operator=(const ScopedSchedule&) = delete;

 private:
  Schedule saved_;
};

// Number of OS threads that run blocks; 0 restores the default (SSE_SIM_THREADS, else all
// hardware threads). Returns the previous setting.
int set_num_threads(int n);
int num_threads();

// How fibers switch: a few instructions of x86-64 assembly, or POSIX ucontext (portable, but a
// system call per switch). Default: Assembly where available; SSE_SIM_FIBER=ucontext forces it.
enum class FiberBackend { Assembly, Ucontext };
bool fiber_backend_available(FiberBackend b);
void set_fiber_backend(FiberBackend b);  // throws SimError if unavailable
FiberBackend fiber_backend();

// ---- counters -----------------------------------------------------------------------------------
struct Stats {
  std::uint64_t launches = 0;        // grids run to completion (or fault)
  std::uint64_t blocks = 0;
  std::uint64_t threads = 0;         // CUDA threads started
  std::uint64_t fiber_switches = 0;  // switches from a scheduler into a fiber (each followed by
                                     // one back); a barrier-free block needs one
  std::uint64_t block_barriers = 0;  // completed __syncthreads*
  std::uint64_t warp_ops = 0;        // completed warp collectives (one per participating group)
};
Stats stats();
void reset_stats();

// ---- emulated device memory ------------------------------------------------------------------------
// Capacity that cudaMalloc counts against (default 16 GiB, or SSE_SIM_DEVICE_MEMORY_MB), so that
// out-of-memory paths can be tested. Returns the previous capacity.
std::size_t set_device_memory_capacity(std::size_t bytes);
std::size_t device_memory_in_use();

// ---- the launcher ---------------------------------------------------------------------------------
// The running block's dynamic shared memory: 16-byte aligned (128 in fact), kMaxSharedMemory bytes,
// the launch's `smem` first bytes set to 0xFF at block start. Null outside a kernel.
void* dynamic_shared();

struct LaunchConfig {
  const void* kernel;  // the kernel's address, or null when unknown
  dim3 grid;
  dim3 block;
  std::size_t smem;
};

namespace detail {
// Runs body(ctx) once per CUDA thread of the grid. Throws what a thread threw, or SimError.
void launch_erased(const LaunchConfig& cfg, void (*body)(void*), void* ctx);
}  // namespace detail

// Runs `body` (the kernel call for the current CUDA thread) on grid × block threads and returns
// when all have finished. `kernel`, where given, identifies the kernel for the dynamic shared
// memory limit that cudaFuncSetAttribute raises (48 KB otherwise; without it: 227 KB). A bad configuration (empty or too large dims, too much shared memory)
// runs nothing and is reported by cudaGetLastError, as by the real runtime. `body` is called
// concurrently from several OS threads. `stream` is accepted and ignored: work is synchronous.
template <class F>
void launch(const void* kernel, dim3 grid, dim3 block, std::size_t smem, cudaStream_t /*stream*/, F&& body) {
  using Body = std::remove_reference_t<F>;
  void* ctx = const_cast<void*>(static_cast<const void*>(std::addressof(body)));
  detail::launch_erased({kernel, grid, block, smem}, [](void* b) { (*static_cast<Body*>(b))(); }, ctx);
}
template <class F>
void launch(dim3 grid, dim3 block, std::size_t smem, cudaStream_t stream, F&& body) {
  launch(nullptr, grid, block, smem, stream, std::forward<F>(body));
}

}  // namespace sse::sim
