// kernels/sim/fiber.cpp — fiber stacks and context switching (see fiber.h).
#include "kernels/sim/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace sse::sim::detail {

// ---- stacks -------------------------------------------------------------------------------------------
std::size_t stack_bytes() {
#if defined(__SANITIZE_ADDRESS__)
  std::size_t kb = 256;  // AddressSanitizer's redzones make frames several times larger
#else
  std::size_t kb = 64;
#endif
  if (const char* env = std::getenv("SSE_SIM_STACK_KB")) {
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    if (*end != '\0' || v < 16) throw SimError(std::string("sse::sim: SSE_SIM_STACK_KB=") + env + ": expected >= 16");
    kb = static_cast<std::size_t>(v);
  }
  return kb * 1024;
}

static std::size_t page_size() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

// The guard page below the stack turns an overflow into an immediate SIGSEGV rather than silently
// corrupting the memory of a neighbouring fiber.
Fiber::Fiber(std::size_t stack_bytes) {
  const std::size_t guard = page_size();
  const std::size_t size = (stack_bytes + guard - 1) / guard * guard;
  void* mem = mmap(nullptr, size + guard, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                   -1, 0);
  if (mem == MAP_FAILED) throw std::bad_alloc();
  if (mprotect(mem, guard, PROT_NONE) != 0) {
    munmap(mem, size + guard);
    throw std::bad_alloc();
  }
  stack = Stack{static_cast<char*>(mem) + guard, size};
}

Fiber::~Fiber() {
  const std::size_t guard = page_size();
  munmap(static_cast<char*>(stack.base) - guard, stack.size + guard);
}

// ---- assembly backend (x86-64 System V) -----------------------------------------------------------------
// sse_sim_switch(void** save_sp, void* load_sp) pushes the callee-saved registers on the current
// stack, stores the stack pointer, loads the other one and pops its registers: a switch costs a
// handful of instructions and no system call (swapcontext saves the signal mask, which is one).
// MXCSR and the x87 control word are not switched: fibers share them, and kernels don't change them.
//
// A new fiber's stack is laid out as if it had been switched out at sse_sim_fiber_start, with the
// entry function in rbx; the start stub aligns the stack and calls it. The entry never returns.
#if defined(__x86_64__) && defined(__ELF__)
#define SSE_SIM_HAVE_ASM_FIBERS 1
extern "C" void sse_sim_switch(void** save_sp, void* load_sp);
extern "C" void sse_sim_fiber_start();
asm(R"(
  .text
  .globl sse_sim_switch
  .hidden sse_sim_switch
  .type sse_sim_switch, @function
  .p2align 4
sse_sim_switch:
  .cfi_startproc
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .cfi_endproc
  .size sse_sim_switch, .-sse_sim_switch

  .globl sse_sim_fiber_start
  .hidden sse_sim_fiber_start
  .type sse_sim_fiber_start, @function
  .p2align 4
sse_sim_fiber_start:
  .cfi_startproc
  .cfi_undefined rip
  andq $-16, %rsp
  callq *%rbx
  ud2
  .cfi_endproc
  .size sse_sim_fiber_start, .-sse_sim_fiber_start
)");

static void asm_init(Context& c, Stack stack, void (*entry)()) {
  auto* top = reinterpret_cast<std::uintptr_t*>(
      (reinterpret_cast<std::uintptr_t>(stack.base) + stack.size) & ~std::uintptr_t{15});
  std::uintptr_t* sp = top - 8;  // r15 r14 r13 r12 rbx rbp, return address, padding
  for (int i = 0; i < 8; ++i) sp[i] = 0;
  sp[4] = reinterpret_cast<std::uintptr_t>(entry);                 // -> rbx
  sp[6] = reinterpret_cast<std::uintptr_t>(&sse_sim_fiber_start);  // `ret` lands here
  c.sp = sp;
}
#else
#define SSE_SIM_HAVE_ASM_FIBERS 0
#endif

// ---- ucontext backend (portable POSIX) ---------------------------------------------------------------
static ucontext_t& ucontext_of(Context& c) {
  if (!c.uc) c.uc = std::make_unique<ucontext_t>();
  return *c.uc;
}

static void ucontext_init(Context& c, Stack stack, void (*entry)()) {
  ucontext_t& uc = ucontext_of(c);
  if (getcontext(&uc) != 0) throw SimError("sse::sim: getcontext failed");
  uc.uc_stack.ss_sp = stack.base;
  uc.uc_stack.ss_size = stack.size;
  uc.uc_link = nullptr;  // entry never returns
  makecontext(&uc, entry, 0);
}

// ---- dispatch -------------------------------------------------------------------------------------------
void context_init(Context& c, Stack stack, void (*entry)(), FiberBackend backend) {
#if defined(__SANITIZE_ADDRESS__)
  // The stack's previous user never returned from its entry function (or was abandoned): clear
  // the redzones of its frames before the stack runs anything else.
  __asan_unpoison_memory_region(stack.base, stack.size);
#endif
#if SSE_SIM_HAVE_ASM_FIBERS
  if (backend == FiberBackend::Assembly) return asm_init(c, stack, entry);
#endif
  (void)backend;
  ucontext_init(c, stack, entry);
}

void context_switch(Context& from, Context& to, FiberBackend backend) {
#if SSE_SIM_HAVE_ASM_FIBERS
  if (backend == FiberBackend::Assembly) return sse_sim_switch(&from.sp, to.sp);
#endif
  (void)backend;
  if (swapcontext(&ucontext_of(from), &ucontext_of(to)) != 0) throw SimError("sse::sim: swapcontext failed");
}

}  // namespace sse::sim::detail

bool sse::sim::fiber_backend_available(FiberBackend b) {
  return b == FiberBackend::Ucontext || SSE_SIM_HAVE_ASM_FIBERS;
}
