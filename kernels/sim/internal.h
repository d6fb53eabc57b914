// kernels/sim/internal.h — what the emulator's translation units share; not for kernels or tests.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>

#include "kernels/sim/sim.h"

namespace sse::sim::detail {

// One grid being run. Every OS thread that takes part claims blocks from `next` until none are
// left or one of them failed.
struct Job {
  LaunchConfig cfg;
  unsigned threads_per_block = 0;
  std::uint64_t blocks = 0;
  void (*body)(void*) = nullptr;
  void* ctx = nullptr;
  Schedule schedule;
  FiberBackend backend = FiberBackend::Ucontext;

  std::atomic<std::uint64_t> next{0};
  std::atomic<bool> abort{false};
  std::mutex error_mutex;
  std::exception_ptr error;  // the first failure; rethrown by launch

  std::atomic<std::uint64_t> threads{0}, fiber_switches{0}, block_barriers{0}, warp_ops{0};

  std::uint64_t shuffle_a = 1, shuffle_c = 0;

  // The linear index of the i-th block to run: the schedule applies to block order as well.
  void plan_block_order();
  std::uint64_t block_at(std::uint64_t i) const;
  void fail(std::exception_ptr e);
};

// Runs blocks of `job` on the calling OS thread until there are none left (scheduler.cpp).
void run_blocks(Job& job);
// Whether the calling OS thread is executing a CUDA thread (a fiber) right now.
bool in_kernel();

// Dynamic shared memory allowed for `kernel` (cudaFuncSetAttribute raises it; runtime.cpp).
std::size_t max_dynamic_shared(const void* kernel);

}  // namespace sse::sim::detail
