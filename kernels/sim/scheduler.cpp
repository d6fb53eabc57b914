// kernels/sim/scheduler.cpp — runs one block at a time on an OS thread.
//
// A block's CUDA threads are resumed in rounds. In a round every runnable thread runs, in the
// schedule's order, until it reaches a barrier or warp collective (or returns); then the barriers
// and collectives whose participants have all arrived complete, and their threads become runnable
// for the next round. A round that completes nothing while threads still wait is a deadlock.
//
// Threads run on fibers. A fiber whose thread returns goes straight on with the next thread in the
// round's order if that one has not started yet, so a kernel without barriers costs one switch
// per block rather than two per thread; a thread that blocks keeps its fiber until it returns.
//
// Warp collectives need no exchange buffer that a fast lane could overwrite: each lane leaves its
// operand in its own thread record and is suspended; when the whole group has arrived the scheduler
// computes every lane's result into that lane's record before any of them runs again.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/sim/fiber.h"
#include "kernels/sim/internal.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

namespace sse::sim::detail {
namespace {

enum class State : std::uint8_t { Fresh, Runnable, Running, AtBarrier, AtWarpOp, Done };

// One CUDA thread of the running block.
struct Thread {
  uint3 tid{0, 0, 0};
  unsigned linear = 0;  // x + y*Dx + z*Dx*Dy: lane = linear % 32, warp = linear / 32
  State state = State::Fresh;
  Fiber* fiber = nullptr;  // from its start until it returns
  // What the thread waits for, and the result it gets when released.
  BarrierKind barrier = BarrierKind::Sync;
  bool pred = false;
  const char* file = "";  // call site of __syncthreads* / __activemask
  unsigned line = 0;
  WarpOp op{};
  std::uint64_t result = 0;
};

// splitmix64: a small, good-enough generator for schedule permutations.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

const char* op_name(WarpOpKind k) {
  switch (k) {
    case WarpOpKind::SyncWarp: return "__syncwarp";
    case WarpOpKind::ShflIdx: return "__shfl_sync";
    case WarpOpKind::ShflUp: return "__shfl_up_sync";
    case WarpOpKind::ShflDown: return "__shfl_down_sync";
    case WarpOpKind::ShflXor: return "__shfl_xor_sync";
    case WarpOpKind::Ballot: return "__ballot_sync";
    case WarpOpKind::Any: return "__any_sync";
    case WarpOpKind::All: return "__all_sync";
    case WarpOpKind::ReduceAdd: return "__reduce_add_sync";
    case WarpOpKind::ReduceMinU:
    case WarpOpKind::ReduceMinI: return "__reduce_min_sync";
    case WarpOpKind::ReduceMaxU:
    case WarpOpKind::ReduceMaxI: return "__reduce_max_sync";
    case WarpOpKind::ReduceAnd: return "__reduce_and_sync";
    case WarpOpKind::ReduceOr: return "__reduce_or_sync";
    case WarpOpKind::ReduceXor: return "__reduce_xor_sync";
    case WarpOpKind::MatchAny: return "__match_any_sync";
    case WarpOpKind::MatchAll: return "__match_all_sync";
    case WarpOpKind::ActiveMask: return "__activemask";
  }
  return "warp collective";
}

const char* barrier_name(BarrierKind k) {
  switch (k) {
    case BarrierKind::Sync: return "__syncthreads";
    case BarrierKind::Count: return "__syncthreads_count";
    case BarrierKind::And: return "__syncthreads_and";
    case BarrierKind::Or: return "__syncthreads_or";
  }
  return "__syncthreads";
}

bool is_shuffle(WarpOpKind k) {
  return k == WarpOpKind::ShflIdx || k == WarpOpKind::ShflUp || k == WarpOpKind::ShflDown || k == WarpOpKind::ShflXor;
}

bool same_site(const Thread& a, const Thread& b) {
  return a.line == b.line && a.barrier == b.barrier && std::strcmp(a.file, b.file) == 0;
}

// The lane a shuffle reads from, following PTX `shfl.sync`: the segment of `width` lanes is given
// by segmask, lanes outside the allowed range read their own value.
int shuffle_source(WarpOpKind kind, int lane, int arg, int width) {
  const int b = arg & 31;
  const int segmask = (32 - width) & 31;
  const int clamp = kind == WarpOpKind::ShflUp ? 0 : 31;
  const int max_lane = (lane & segmask) | (clamp & ~segmask);
  const int min_lane = lane & segmask;
  switch (kind) {
    case WarpOpKind::ShflUp: return lane - b >= max_lane ? lane - b : lane;
    case WarpOpKind::ShflDown: return lane + b <= max_lane ? lane + b : lane;
    case WarpOpKind::ShflXor: return (lane ^ b) <= max_lane ? (lane ^ b) : lane;
    default: {
      const int j = min_lane | (b & ~segmask);
      return j <= max_lane ? j : lane;
    }
  }
}

std::string hex(unsigned v) {
  std::ostringstream os;
  os << "0x" << std::hex << v;
  return os.str();
}

std::string coords(uint3 v) {
  std::ostringstream os;
  os << "(" << v.x << "," << v.y << "," << v.z << ")";
  return os.str();
}

}  // namespace

// ---- the per-OS-thread scheduler ------------------------------------------------------------------------
class Worker {
 public:
  Worker() : stack_bytes_(stack_bytes()), smem_(static_cast<unsigned char*>(std::aligned_alloc(128, kMaxSharedMemory))) {
    if (!smem_) throw std::bad_alloc();
  }
  ~Worker() { std::free(smem_); }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void run_job(Job& job);
  [[noreturn]] void fiber_main();
  // Called by the barrier and warp intrinsics of the running CUDA thread.
  int arrive_at_barrier(BarrierKind kind, int pred, const char* file, unsigned line);
  std::uint64_t arrive_at_warp_op(const WarpOp& op);
  unsigned arrive_at_active_mask(const char* file, unsigned line);
  bool in_kernel() const { return current_ != nullptr; }
  void* dynamic_shared() { return smem_; }

 private:
  void run_block(std::uint64_t linear_block);
  void start_block(std::uint64_t linear_block);
  void reorder(std::uint64_t linear_block, unsigned round);
  void start(Thread& t);
  void resume(Thread& t);
  void after_switch_back(Fiber& f);
  bool next_is_fresh() const;
  void abandon_block();
  Fiber* take_fiber();

  bool release_waiters();
  bool release_warp_groups(unsigned warp_begin);
  unsigned group_of(unsigned warp_begin, unsigned exists, const Thread& t) const;
  bool group_ready(unsigned warp_begin, unsigned group, const WarpOp& op) const;
  void complete_warp_group(unsigned warp_begin, unsigned group);
  bool release_block_barrier();

  Thread& current(const char* what);
  void suspend(Thread& t);
  void switch_to_fiber(Fiber& f);
  void switch_to_scheduler(Fiber& f, bool finished);

  [[noreturn]] void throw_deadlock() const;
  [[noreturn]] void throw_divergence() const;
  std::string block_name() const;
  std::string describe_warp_waiter(const Thread& t) const;

  Job* job_ = nullptr;
  std::size_t stack_bytes_;
  unsigned char* smem_;
  Context scheduler_;
  std::vector<std::unique_ptr<Fiber>> fibers_;  // every fiber this OS thread made
  std::vector<Fiber*> idle_;                     // those not carrying a thread
  std::vector<Thread> threads_;
  std::vector<unsigned> order_;  // this round's order of thread indices
  unsigned cursor_ = 0;          // position in order_; fibers advance it when they chain threads
  unsigned n_ = 0;               // threads per block
  Thread* current_ = nullptr;
  Fiber* finished_ = nullptr;  // set by a fiber that comes back with no thread left to carry
  std::exception_ptr thread_error_;
  std::uint64_t started_ = 0, switches_ = 0, barriers_ = 0, warp_ops_ = 0;
#if defined(__SANITIZE_ADDRESS__)
  const void* scheduler_stack_ = nullptr;
  std::size_t scheduler_stack_size_ = 0;
#endif
};

namespace {
thread_local Worker* tl_worker = nullptr;

Worker& this_worker() {
  thread_local std::unique_ptr<Worker> owner;
  if (!owner) {
    owner = std::make_unique<Worker>();
    tl_worker = owner.get();
  }
  return *owner;
}

[[noreturn]] void fiber_entry() { tl_worker->fiber_main(); }
}  // namespace

// ---- switching (with AddressSanitizer's fiber annotations) -------------------------------------------
void Worker::switch_to_fiber(Fiber& f) {
  ++switches_;
#if defined(__SANITIZE_ADDRESS__)
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, f.stack.base, f.stack.size);
  context_switch(scheduler_, f.ctx, job_->backend);
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
  context_switch(scheduler_, f.ctx, job_->backend);
#endif
}

void Worker::switch_to_scheduler(Fiber& f, bool finished) {
#if defined(__SANITIZE_ADDRESS__)
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(finished ? nullptr : &fake, scheduler_stack_, scheduler_stack_size_);
  context_switch(f.ctx, scheduler_, job_->backend);
  __sanitizer_finish_switch_fiber(fake, &scheduler_stack_, &scheduler_stack_size_);
#else
  (void)finished;
  context_switch(f.ctx, scheduler_, job_->backend);
#endif
}

// The body of every fiber: run the kernel for the current CUDA thread; when it returns, carry on
// with the next thread of the round if that one has not started, else hand control back. The
// switch back happens outside the catch block, so no exception is in flight on this OS thread
// while another fiber runs.
void Worker::fiber_main() {
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_finish_switch_fiber(nullptr, &scheduler_stack_, &scheduler_stack_size_);
#endif
  Fiber& f = *current_->fiber;
  for (;;) {
    Thread& t = *current_;
    try {
      job_->body(job_->ctx);
    } catch (...) {
      thread_error_ = std::current_exception();
    }
    t.state = State::Done;
    t.fiber = nullptr;
    if (thread_error_ || !next_is_fresh()) break;
    Thread& next = threads_[order_[++cursor_]];
    next.fiber = &f;
    next.state = State::Running;
    threadIdx = next.tid;
    current_ = &next;
    ++started_;
  }
  finished_ = &f;
  switch_to_scheduler(f, true);
  std::abort();  // a finished fiber is only ever restarted from its entry
}

bool Worker::next_is_fresh() const {
  return cursor_ + 1 < n_ && threads_[order_[cursor_ + 1]].state == State::Fresh;
}

// ---- running blocks ---------------------------------------------------------------------------------------
void Worker::run_job(Job& job) {
  job_ = &job;
  blockDim = job.cfg.block;
  gridDim = job.cfg.grid;
  n_ = job.threads_per_block;
  if (threads_.size() < n_) threads_.resize(n_);
  const dim3 b = job.cfg.block;
  for (unsigned i = 0; i < n_; ++i) {  // the same for every block of the grid
    threads_[i].tid = uint3{i % b.x, i / b.x % b.y, i / (b.x * b.y)};
    threads_[i].linear = i;
  }
  try {
    while (!job.abort.load(std::memory_order_relaxed)) {
      const std::uint64_t i = job.next.fetch_add(1, std::memory_order_relaxed);
      if (i >= job.blocks) break;
      run_block(job.block_at(i));
    }
  } catch (...) {
    abandon_block();
    job.fail(std::current_exception());
  }
  job.threads += started_;
  job.fiber_switches += switches_;
  job.block_barriers += barriers_;
  job.warp_ops += warp_ops_;
  started_ = switches_ = barriers_ = warp_ops_ = 0;
  job_ = nullptr;
}

void Worker::run_block(std::uint64_t linear_block) {
  start_block(linear_block);
  for (unsigned round = 0;; ++round) {
    reorder(linear_block, round);
    bool live = false;
    for (cursor_ = 0; cursor_ < n_; ++cursor_) {
      Thread& t = threads_[order_[cursor_]];
      if (t.state == State::Fresh) start(t);
      else if (t.state == State::Runnable) resume(t);
      // The cursor may have moved: threads a fiber chained before this one have all returned.
      live |= threads_[order_[cursor_]].state != State::Done;
    }
    if (!live) return;
    if (!release_waiters()) throw_deadlock();
  }
}

void Worker::start_block(std::uint64_t linear_block) {
  const dim3 g = job_->cfg.grid;
  blockIdx = uint3{static_cast<unsigned>(linear_block % g.x), static_cast<unsigned>(linear_block / g.x % g.y),
                   static_cast<unsigned>(linear_block / (std::uint64_t{g.x} * g.y))};
  std::memset(smem_, 0xFF, job_->cfg.smem);  // NaN: reads of unwritten shared memory show
  for (unsigned i = 0; i < n_; ++i) {
    threads_[i].state = State::Fresh;
    threads_[i].fiber = nullptr;
  }
  order_.resize(n_);
  for (unsigned i = 0; i < n_; ++i) order_[i] = job_->schedule.order == Order::Reverse ? n_ - 1 - i : i;
}

// Shuffled schedules draw a new permutation for every round of every block.
void Worker::reorder(std::uint64_t linear_block, unsigned round) {
  if (job_->schedule.order != Order::Shuffled) return;
  std::uint64_t state = mix(job_->schedule.seed ^ mix(linear_block * 0x100000001b3ull + round));
  for (unsigned i = n_; i > 1; --i) {
    state = mix(state);
    std::swap(order_[i - 1], order_[state % i]);
  }
}

Fiber* Worker::take_fiber() {
  if (idle_.empty()) {
    fibers_.push_back(std::make_unique<Fiber>(stack_bytes_));
    idle_.push_back(fibers_.back().get());
  }
  Fiber* f = idle_.back();
  idle_.pop_back();
  return f;
}

void Worker::start(Thread& t) {
  Fiber& f = *take_fiber();
  context_init(f.ctx, f.stack, fiber_entry, job_->backend);
  t.fiber = &f;
  ++started_;
  resume(t);
}

void Worker::resume(Thread& t) {
  Fiber& f = *t.fiber;
  t.state = State::Running;
  threadIdx = t.tid;
  current_ = &t;
  switch_to_fiber(f);
  after_switch_back(f);
}

// The fiber came back: its thread blocked (it keeps the fiber), or it ran out of threads to carry.
void Worker::after_switch_back(Fiber& f) {
  current_ = nullptr;
  if (finished_ != &f) return;
  finished_ = nullptr;
  idle_.push_back(&f);
  if (thread_error_) {
    std::exception_ptr e = thread_error_;
    thread_error_ = nullptr;
    std::rethrow_exception(e);
  }
}

// After a failure the block's suspended threads are dropped where they stand: their frames are
// never unwound, their fibers go back to the idle list.
void Worker::abandon_block() {
  for (unsigned i = 0; i < n_; ++i) {
    Thread& t = threads_[i];
    if (t.fiber) idle_.push_back(t.fiber);
    t.fiber = nullptr;
    t.state = State::Done;
  }
  current_ = nullptr;
}

// ---- completing barriers and collectives -------------------------------------------------------------------
bool Worker::release_waiters() {
  bool released = false;
  for (unsigned w = 0; w < n_; w += 32) released |= release_warp_groups(w);
  return released || release_block_barrier();
}

// A lane at a collective names its group in its mask (lanes past the end of a partial last warp
// do not exist and are ignored). The group completes once every lane in it waits at the same
// collective with the same mask; lanes that exited or wait elsewhere hold it back.
bool Worker::release_warp_groups(unsigned warp_begin) {
  const unsigned lanes = std::min(32u, n_ - warp_begin);
  const unsigned exists = lanes == 32 ? ~0u : (1u << lanes) - 1u;
  unsigned waiting = 0;
  for (unsigned l = 0; l < lanes; ++l)
    if (threads_[warp_begin + l].state == State::AtWarpOp) waiting |= 1u << l;
  bool released = false;
  while (waiting) {
    const Thread& t = threads_[warp_begin + __builtin_ctz(waiting)];
    const unsigned group = group_of(warp_begin, exists, t);
    if (group_ready(warp_begin, group, t.op)) {
      complete_warp_group(warp_begin, group);
      released = true;
    }
    waiting &= ~(group | (1u << (t.linear & 31)));  // checked, whether or not it completed
  }
  return released;
}

// The lanes the collective of `t` waits for. __activemask waits for nobody: it takes whoever is at
// the same call site now (at the end of a round, when no lane can run further).
unsigned Worker::group_of(unsigned warp_begin, unsigned exists, const Thread& t) const {
  if (t.op.kind != WarpOpKind::ActiveMask) return t.op.mask & exists;
  unsigned group = 0;
  for (unsigned g = exists; g; g &= g - 1) {
    const Thread& o = threads_[warp_begin + __builtin_ctz(g)];
    if (o.state == State::AtWarpOp && o.op.kind == WarpOpKind::ActiveMask && same_site(o, t))
      group |= 1u << __builtin_ctz(g);
  }
  return group;
}

bool Worker::group_ready(unsigned warp_begin, unsigned group, const WarpOp& op) const {
  if (op.kind == WarpOpKind::ActiveMask) return true;
  for (unsigned g = group; g; g &= g - 1) {
    const Thread& t = threads_[warp_begin + __builtin_ctz(g)];
    if (t.state != State::AtWarpOp || t.op.mask != op.mask || t.op.kind != op.kind) return false;
  }
  return true;
}

void Worker::complete_warp_group(unsigned warp_begin, unsigned group) {
  std::uint64_t v[32];
  unsigned votes = 0;
  for (unsigned g = group; g; g &= g - 1) {
    const int l = __builtin_ctz(g);
    v[l] = threads_[warp_begin + l].op.value;
    if (v[l]) votes |= 1u << l;
  }
  const WarpOpKind kind = threads_[warp_begin + __builtin_ctz(group)].op.kind;
  // Group-wide reductions, on the operands' low 32 bits.
  std::uint32_t sum = 0, umin = ~0u, umax = 0, band = ~0u, bor = 0, bxor = 0;
  std::int32_t imin = INT32_MAX, imax = INT32_MIN;
  bool all_equal = true;
  const std::uint64_t first = v[__builtin_ctz(group)];
  for (unsigned g = group; g; g &= g - 1) {
    const std::uint32_t u = static_cast<std::uint32_t>(v[__builtin_ctz(g)]);
    const std::int32_t s = static_cast<std::int32_t>(u);
    sum += u, umin = std::min(umin, u), umax = std::max(umax, u), band &= u, bor |= u, bxor ^= u;
    imin = std::min(imin, s), imax = std::max(imax, s);
    all_equal &= v[__builtin_ctz(g)] == first;
  }
  for (unsigned g = group; g; g &= g - 1) {
    const int l = __builtin_ctz(g);
    Thread& t = threads_[warp_begin + l];
    std::uint64_t r = 0;
    switch (kind) {
      case WarpOpKind::SyncWarp: break;
      case WarpOpKind::ShflIdx:
      case WarpOpKind::ShflUp:
      case WarpOpKind::ShflDown:
      case WarpOpKind::ShflXor: {
        const int src = shuffle_source(kind, l, t.op.arg, t.op.width);
        r = (group >> src & 1u) ? v[src] : v[l];  // a lane outside the group: undefined; own value
        break;
      }
      case WarpOpKind::Ballot: r = votes; break;
      case WarpOpKind::Any: r = votes != 0; break;
      case WarpOpKind::All: r = votes == group; break;
      case WarpOpKind::ReduceAdd: r = sum; break;
      case WarpOpKind::ReduceMinU: r = umin; break;
      case WarpOpKind::ReduceMaxU: r = umax; break;
      case WarpOpKind::ReduceMinI: r = static_cast<std::uint32_t>(imin); break;
      case WarpOpKind::ReduceMaxI: r = static_cast<std::uint32_t>(imax); break;
      case WarpOpKind::ReduceAnd: r = band; break;
      case WarpOpKind::ReduceOr: r = bor; break;
      case WarpOpKind::ReduceXor: r = bxor; break;
      case WarpOpKind::MatchAny:
        for (unsigned h = group; h; h &= h - 1)
          if (v[__builtin_ctz(h)] == v[l]) r |= 1u << __builtin_ctz(h);
        break;
      case WarpOpKind::MatchAll: r = all_equal ? (std::uint64_t{1} << 32) | group : 0; break;
      case WarpOpKind::ActiveMask: r = group; break;
    }
    t.result = r;
    t.state = State::Runnable;
  }
  ++warp_ops_;
}

// Threads that returned count as arrived (as on current GPUs); everyone else must wait at the same
// __syncthreads call site.
bool Worker::release_block_barrier() {
  const Thread* first = nullptr;
  unsigned waiting = 0, votes = 0;
  for (unsigned i = 0; i < n_; ++i) {
    const Thread& t = threads_[i];
    if (t.state == State::Done) continue;
    if (t.state != State::AtBarrier) return false;
    if (!first) first = &t;
    ++waiting;
    votes += t.pred;
  }
  if (!first) return false;
  for (unsigned i = 0; i < n_; ++i)
    if (threads_[i].state == State::AtBarrier && !same_site(threads_[i], *first)) throw_divergence();
  std::uint64_t r = 0;
  switch (first->barrier) {
    case BarrierKind::Sync: break;
    case BarrierKind::Count: r = votes; break;
    case BarrierKind::And: r = votes == waiting; break;
    case BarrierKind::Or: r = votes != 0; break;
  }
  for (unsigned i = 0; i < n_; ++i) {
    Thread& t = threads_[i];
    if (t.state != State::AtBarrier) continue;
    t.result = r;
    t.state = State::Runnable;
  }
  ++barriers_;
  return true;
}

// ---- diagnostics ------------------------------------------------------------------------------------------
std::string Worker::block_name() const {
  const dim3 g = job_->cfg.grid, b = job_->cfg.block;
  return "block " + coords(blockIdx) + " of a grid " + coords(uint3{g.x, g.y, g.z}) + " x block " +
         coords(uint3{b.x, b.y, b.z});
}

std::string Worker::describe_warp_waiter(const Thread& t) const {
  const unsigned warp_begin = t.linear & ~31u;
  const unsigned lanes = std::min(32u, n_ - warp_begin);
  unsigned exited = 0, at_barrier = 0, elsewhere = 0;
  for (unsigned g = t.op.mask & (lanes == 32 ? ~0u : (1u << lanes) - 1u); g; g &= g - 1) {
    const Thread& o = threads_[warp_begin + __builtin_ctz(g)];
    const unsigned bit = 1u << __builtin_ctz(g);
    if (o.state == State::Done) exited |= bit;
    else if (o.state == State::AtBarrier) at_barrier |= bit;
    else if (o.op.mask != t.op.mask || o.op.kind != t.op.kind) elsewhere |= bit;
  }
  std::ostringstream os;
  os << "thread " << coords(t.tid) << " (warp " << t.linear / 32 << ", lane " << t.linear % 32 << ") waits at "
     << op_name(t.op.kind) << "(mask " << hex(t.op.mask) << ")";
  if (exited) os << "; lanes " << hex(exited) << " of its mask have exited";
  if (at_barrier) os << "; lanes " << hex(at_barrier) << " wait at __syncthreads";
  if (elsewhere) os << "; lanes " << hex(elsewhere) << " wait at a different warp collective or mask";
  return os.str();
}

void Worker::throw_deadlock() const {
  unsigned at_barrier = 0, at_warp = 0, exited = 0;
  const Thread* barrier_waiter = nullptr;
  std::vector<const Thread*> warp_waiters;
  for (unsigned i = 0; i < n_; ++i) {
    const Thread& t = threads_[i];
    if (t.state == State::Done) ++exited;
    if (t.state == State::AtBarrier && !barrier_waiter) barrier_waiter = &t;
    if (t.state == State::AtBarrier) ++at_barrier;
    if (t.state == State::AtWarpOp && warp_waiters.size() < 3) warp_waiters.push_back(&t);
    if (t.state == State::AtWarpOp) ++at_warp;
  }
  std::ostringstream os;
  os << "sse::sim: deadlock in " << block_name() << ": " << at_barrier << " thread(s) wait at a block barrier, "
     << at_warp << " at warp collectives, " << exited << " exited.";
  if (barrier_waiter)
    os << "\n  thread " << coords(barrier_waiter->tid) << " waits at " << barrier_name(barrier_waiter->barrier)
       << " (" << barrier_waiter->file << ":" << barrier_waiter->line << ")";
  for (const Thread* t : warp_waiters) os << "\n  " << describe_warp_waiter(*t);
  throw SimError(os.str());
}

void Worker::throw_divergence() const {
  std::ostringstream os;
  os << "sse::sim: divergent __syncthreads in " << block_name()
     << ": the block's threads wait at different barriers:";
  std::vector<const Thread*> sites;
  for (unsigned i = 0; i < n_; ++i) {
    const Thread& t = threads_[i];
    if (t.state != State::AtBarrier) continue;
    if (std::any_of(sites.begin(), sites.end(), [&](const Thread* s) { return same_site(*s, t); })) continue;
    sites.push_back(&t);
    const auto count = std::count_if(threads_.begin(), threads_.begin() + n_, [&](const Thread& o) {
      return o.state == State::AtBarrier && same_site(o, t);
    });
    os << "\n  " << count << " thread(s), first " << coords(t.tid) << ", at " << barrier_name(t.barrier) << " ("
       << t.file << ":" << t.line << ")";
  }
  throw SimError(os.str());
}

// ---- the CUDA-thread side ----------------------------------------------------------------------------------
Thread& Worker::current(const char* what) {
  if (!current_) throw SimError(std::string("sse::sim: ") + what + " called outside a kernel");
  return *current_;
}

void Worker::suspend(Thread& t) {
  switch_to_scheduler(*t.fiber, false);
}

int Worker::arrive_at_barrier(BarrierKind kind, int pred, const char* file, unsigned line) {
  Thread& t = current(barrier_name(kind));
  t.barrier = kind;
  t.pred = pred != 0;
  t.file = file;
  t.line = line;
  t.state = State::AtBarrier;
  suspend(t);
  return static_cast<int>(t.result);
}

std::uint64_t Worker::arrive_at_warp_op(const WarpOp& op) {
  Thread& t = current(op_name(op.kind));
  const unsigned lane = t.linear & 31;
  if (!(op.mask >> lane & 1u))
    throw SimError(std::string("sse::sim: ") + op_name(op.kind) + " with mask " + hex(op.mask) +
                   " called by lane " + std::to_string(lane) + ", which the mask does not include");
  if (is_shuffle(op.kind) && (op.width < 1 || op.width > 32 || (op.width & (op.width - 1))))
    throw SimError(std::string("sse::sim: ") + op_name(op.kind) + " with width " + std::to_string(op.width) +
                   ": width must be a power of two in [1, 32]");
  t.op = op;
  t.state = State::AtWarpOp;
  suspend(t);
  return t.result;
}

unsigned Worker::arrive_at_active_mask(const char* file, unsigned line) {
  Thread& t = current("__activemask");
  t.file = file;
  t.line = line;
  t.barrier = BarrierKind::Sync;  // so that same_site compares call sites only
  return static_cast<unsigned>(arrive_at_warp_op({WarpOpKind::ActiveMask, 1u << (t.linear & 31), 0, 0, 32}));
}

// ---- entry points ------------------------------------------------------------------------------------
void run_blocks(Job& job) { this_worker().run_job(job); }

bool in_kernel() { return tl_worker && tl_worker->in_kernel(); }

static Worker& kernel_worker(const char* what) {
  if (!tl_worker) throw SimError(std::string("sse::sim: ") + what + " called outside a kernel");
  return *tl_worker;
}

int block_barrier(BarrierKind kind, int pred, const char* file, unsigned line) {
  return kernel_worker(barrier_name(kind)).arrive_at_barrier(kind, pred, file, line);
}

std::uint64_t warp_op(const WarpOp& op) { return kernel_worker(op_name(op.kind)).arrive_at_warp_op(op); }

unsigned active_mask(const char* file, unsigned line) {
  return kernel_worker("__activemask").arrive_at_active_mask(file, line);
}

}  // namespace sse::sim::detail

void* sse::sim::dynamic_shared() {
  return detail::in_kernel() ? detail::tl_worker->dynamic_shared() : nullptr;
}
