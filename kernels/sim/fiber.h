// kernels/sim/fiber.h — internal to the emulator: fiber stacks and the two context-switch backends.
//
// A fiber is a stack plus a saved context; it carries one CUDA thread after another. The scheduler of each OS thread switches into a fiber
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

// Stack size from SSE_SIM_STACK_KB (default 64 KB; 256 KB under AddressSanitizer).
std::size_t stack_bytes();

// A suspended execution: the saved stack pointer (assembly backend) or a ucontext, allocated on
// first use (a ucontext_t is about 1 KB).
struct Context {
  void* sp = nullptr;
  std::unique_ptr<ucontext_t> uc;
};

// A fiber: its own mmap'ed stack, and its context while it is switched out. Fibers are kept and
// reused across blocks and launches by their OS thread.
struct Fiber {
  explicit Fiber(std::size_t stack_bytes);
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  Stack stack;
  Context ctx;
};

// Prepares `c` to run entry() from the top of `stack` when next switched to, discarding whatever
// ran there before. entry must never return.
void context_init(Context& c, Stack stack, void (*entry)(), FiberBackend backend);
// Saves the current execution in `from` and resumes `to`.
void context_switch(Context& from, Context& to, FiberBackend backend);

}  // namespace sse::sim::detail
