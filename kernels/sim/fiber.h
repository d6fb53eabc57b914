// kernels/sim/fiber.h — internal to the emulator: fiber stacks and the two context-switch backends.
//
// A fiber is a stack plus a saved context. The scheduler of each OS thread switches into a fiber
// and the fiber switches back; fibers never switch to each other and never migrate between OS
// threads (the compiler may cache addresses of thread_local variables across a switch).
#pragma once

#include <ucontext.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "kernels/sim/sim.h"

namespace sse::sim::detail {

// Usable stack memory [base, base + size); a PROT_NONE guard page lies just below base.
struct Stack {
  void* base = nullptr;
  std::size_t size = 0;
};

// Stacks of one OS thread, kept for reuse across blocks and launches. LIFO, so a kernel without
// barriers runs all its threads on the same, cache-hot stack.
class StackPool {
 public:
  explicit StackPool(std::size_t stack_bytes) : stack_bytes_(stack_bytes) {}
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  Stack acquire();
  void release(Stack s) { free_.push_back(s); }

 private:
  std::size_t stack_bytes_;
  std::vector<Stack> free_;
  std::vector<Stack> all_;
};

// Stack size from SSE_SIM_STACK_KB (default 64 KB; 256 KB under AddressSanitizer).
std::size_t stack_bytes();

// A suspended execution: the saved stack pointer (assembly backend) or a ucontext, allocated on
// first use (a ucontext_t is about 1 KB, and the scheduler walks its fibers' records every round).
struct Context {
  void* sp = nullptr;
  std::unique_ptr<ucontext_t> uc;
};

// Prepares `c` to run entry() on `stack` when first switched to. entry must never return.
void context_init(Context& c, Stack stack, void (*entry)(), FiberBackend backend);
// Saves the current execution in `from` and resumes `to`.
void context_switch(Context& from, Context& to, FiberBackend backend);

}  // namespace sse::sim::detail
