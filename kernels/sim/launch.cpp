// kernels/sim/launch.cpp — the launcher: settings, configuration checks, and the pool of OS threads
// that share a grid's blocks.
#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "kernels/sim/internal.h"

namespace sse::sim {
namespace {

// ---- settings ------------------------------------------------------------------------------------------
// A misspelt variable must not silently fall back to the default (a CI job would test nothing new).
[[noreturn]] void bad_env(const char* name, const char* value, const char* expected) {
  throw SimError(std::string("sse::sim: ") + name + "=" + value + ": expected " + expected);
}

Schedule schedule_from_env() {
  const char* env = std::getenv("SSE_SIM_SCHEDULE");
  if (!env || std::strcmp(env, "forward") == 0) return Schedule::forward();
  if (std::strcmp(env, "reverse") == 0) return Schedule::reverse();
  if (std::strcmp(env, "shuffled") == 0) return Schedule::shuffled(0);
  if (std::strncmp(env, "shuffled:", 9) == 0 && env[9]) {
    char* end = nullptr;
    const unsigned long long seed = std::strtoull(env + 9, &end, 10);
    if (*end == '\0') return Schedule::shuffled(seed);
  }
  bad_env("SSE_SIM_SCHEDULE", env, "forward, reverse, shuffled or shuffled:<seed>");
}

int threads_from_env() {
  const char* env = std::getenv("SSE_SIM_THREADS");
  if (!env) return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  char* end = nullptr;
  const long v = std::strtol(env, &end, 10);
  if (*end != '\0' || v < 1 || v > 4096) bad_env("SSE_SIM_THREADS", env, "a number of threads >= 1");
  return static_cast<int>(v);
}

FiberBackend backend_from_env() {
  const char* env = std::getenv("SSE_SIM_FIBER");
  const bool have_asm = fiber_backend_available(FiberBackend::Assembly);
  if (!env) return have_asm ? FiberBackend::Assembly : FiberBackend::Ucontext;
  if (std::strcmp(env, "ucontext") == 0) return FiberBackend::Ucontext;
  if (std::strcmp(env, "asm") == 0 && have_asm) return FiberBackend::Assembly;
  bad_env("SSE_SIM_FIBER", env, have_asm ? "asm or ucontext" : "ucontext (no assembly backend on this platform)");
}

struct Settings {
  std::mutex mutex;
  Schedule schedule = schedule_from_env();
  int threads = 0;  // 0: the default
  int default_threads = threads_from_env();
  FiberBackend backend = backend_from_env();
};

Settings& settings() {
  static Settings s;
  return s;
}

struct Counters {
  std::atomic<std::uint64_t> launches{0}, blocks{0}, threads{0}, fiber_switches{0}, block_barriers{0}, warp_ops{0};
};

Counters& counters() {
  static Counters c;
  return c;
}

// ---- the thread pool ---------------------------------------------------------------------------------
// Persistent helper threads (so their fiber stacks and shared memory survive between launches).
// run() wakes `helpers` of them; the caller works too and returns once all of them are done.
class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  void run(detail::Job& job, unsigned helpers) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      while (threads_.size() < helpers) threads_.emplace_back([this, g = generation_] { loop(g); });
      job_ = &job;
      wanted_ = helpers;
      pending_ = helpers;
      ++generation_;
    }
    wake_.notify_all();
    detail::run_blocks(job);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
    job_ = nullptr;
  }

 private:
  void loop(std::uint64_t seen) {
    for (;;) {
      detail::Job* job = nullptr;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        if (wanted_ == 0) continue;  // enough helpers already took this job
        --wanted_;
        job = job_;
      }
      detail::run_blocks(*job);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  detail::Job* job_ = nullptr;
  std::uint64_t generation_ = 0;
  unsigned wanted_ = 0, pending_ = 0;
  bool stop_ = false;
};

Pool& pool() {
  static Pool p;
  return p;
}

// ---- configuration checks (the real runtime's limits for sm_90) -------------------------------------------
cudaError_t check_config(const LaunchConfig& c) {
  const dim3 g = c.grid, b = c.block;
  if (!g.x || !g.y || !g.z || !b.x || !b.y || !b.z) return cudaErrorInvalidConfiguration;
  if (g.x > 2147483647u || g.y > 65535u || g.z > 65535u) return cudaErrorInvalidConfiguration;
  if (b.x > 1024u || b.y > 1024u || b.z > 64u || std::uint64_t{b.x} * b.y * b.z > 1024u)
    return cudaErrorInvalidConfiguration;
  const std::size_t smem_limit = c.kernel ? detail::max_dynamic_shared(c.kernel) : kMaxSharedMemory;
  if (c.smem > smem_limit) return cudaErrorInvalidValue;
  return cudaSuccess;
}

}  // namespace

// ---- public settings ---------------------------------------------------------------------------------------
void set_schedule(Schedule s) {
  std::lock_guard<std::mutex> lock(settings().mutex);
  settings().schedule = s;
}

Schedule schedule() {
  std::lock_guard<std::mutex> lock(settings().mutex);
  return settings().schedule;
}

int set_num_threads(int n) {
  std::lock_guard<std::mutex> lock(settings().mutex);
  const int previous = settings().threads;
  settings().threads = std::max(0, n);
  return previous;
}

int num_threads() {
  std::lock_guard<std::mutex> lock(settings().mutex);
  return settings().threads > 0 ? settings().threads : settings().default_threads;
}

void set_fiber_backend(FiberBackend b) {
  if (!fiber_backend_available(b)) throw SimError("sse::sim: this fiber backend is not available on this platform");
  std::lock_guard<std::mutex> lock(settings().mutex);
  settings().backend = b;
}

FiberBackend fiber_backend() {
  std::lock_guard<std::mutex> lock(settings().mutex);
  return settings().backend;
}

Stats stats() {
  const Counters& c = counters();
  return Stats{c.launches.load(), c.blocks.load(), c.threads.load(), c.fiber_switches.load(), c.block_barriers.load(),
               c.warp_ops.load()};
}

void reset_stats() {
  Counters& c = counters();
  for (auto* a : {&c.launches, &c.blocks, &c.threads, &c.fiber_switches, &c.block_barriers, &c.warp_ops}) a->store(0);
}

// ---- jobs -------------------------------------------------------------------------------------------------
namespace detail {

// Reverse runs blocks last to first; Shuffled walks them in the order i -> (a*i + c) mod N with
// a coprime to N, a cheap permutation that needs no table for grids of millions of blocks.
void Job::plan_block_order() {
  if (schedule.order != Order::Shuffled) return;
  shuffle_a = (schedule.seed * 0x9e3779b97f4a7c15ull) % blocks | 1u;
  while (std::gcd(shuffle_a, blocks) != 1) ++shuffle_a;
  shuffle_c = (schedule.seed ^ 0x5bd1e995u) % blocks;
}

std::uint64_t Job::block_at(std::uint64_t i) const {
  switch (schedule.order) {
    case Order::Forward: return i;
    case Order::Reverse: return blocks - 1 - i;
    case Order::Shuffled: break;
  }
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(shuffle_a) * i + shuffle_c) % blocks);
}

void Job::fail(std::exception_ptr e) {
  std::lock_guard<std::mutex> lock(error_mutex);
  if (!error) error = e;
  abort.store(true);
}

void launch_erased(const LaunchConfig& cfg, void (*body)(void*), void* ctx) {
  if (in_kernel()) throw SimError("sse::sim: a kernel launched a kernel (dynamic parallelism is not emulated)");
  if (const cudaError_t e = check_config(cfg); e != cudaSuccess) {
    record_error(e);
    return;
  }
  Job job;
  job.cfg = cfg;
  job.threads_per_block = cfg.block.x * cfg.block.y * cfg.block.z;
  job.blocks = std::uint64_t{cfg.grid.x} * cfg.grid.y * cfg.grid.z;
  job.body = body;
  job.ctx = ctx;
  job.schedule = schedule();
  job.backend = fiber_backend();
  job.plan_block_order();
  const unsigned workers = static_cast<unsigned>(std::min<std::uint64_t>(num_threads(), job.blocks));

  static std::mutex serial;  // one grid at a time: the pool and the stats are shared
  {
    std::lock_guard<std::mutex> lock(serial);
    if (workers <= 1) run_blocks(job);
    else pool().run(job, workers - 1);
  }
  Counters& c = counters();
  c.launches += 1;
  c.blocks += std::min(job.next.load(), job.blocks);
  c.threads += job.threads.load();
  c.fiber_switches += job.fiber_switches.load();
  c.block_barriers += job.block_barriers.load();
  c.warp_ops += job.warp_ops.load();
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace detail
}  // namespace sse::sim
