#include "engine/profiler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <vector>

#if SSE_WITH_CUDA
#include "engine/cuda_context.h"
#include "kernels/cuda/cuda_common.cuh"
#endif
#if SSE_HAVE_NVTX
#include <nvtx3/nvToolsExt.h>
#endif

namespace sse {
namespace {

struct Entry {
  long long calls = 0;
  double ms = 0.0;
};

bool g_profiling = false;
std::mutex g_mu;
std::map<std::pair<std::string, std::string>, Entry> g_table;

double now_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

void nvtx_push(const char* name) {
#if SSE_HAVE_NVTX
  nvtxRangePushA(name);
#else
  (void)name;
#endif
}
void nvtx_pop() {
#if SSE_HAVE_NVTX
  nvtxRangePop();
#endif
}
#if SSE_HAVE_NVTX
constexpr bool kNvtx = true;
#else
constexpr bool kNvtx = false;
#endif

}  // namespace

void set_profiling(bool on) { g_profiling = on; }
bool profiling() { return g_profiling; }
void profile_reset() {
  std::lock_guard<std::mutex> lock(g_mu);
  g_table.clear();
}

std::string profile_report() {
  std::lock_guard<std::mutex> lock(g_mu);
  std::vector<std::pair<std::pair<std::string, std::string>, Entry>> rows(g_table.begin(), g_table.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.ms > b.second.ms; });
  double total = 0.0;
  for (const auto& r : rows) total += r.second.ms;
  std::string out = "op                                   device   calls    total ms   mean ms   share\n";
  char line[256];
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line, "%-36s %-8s %6lld %11.3f %9.4f %6.1f%%\n", r.first.first.c_str(),
                  r.first.second.c_str(), r.second.calls, r.second.ms, r.second.ms / r.second.calls,
                  total > 0 ? 100.0 * r.second.ms / total : 0.0);
    out += line;
  }
  return out;
}

OpScope::OpScope(const char* name, Device dev) : name_(name), dev_(dev), active_(g_profiling), nvtx_(kNvtx) {
  if (nvtx_) nvtx_push(name);
  if (!active_) return;
#if SSE_WITH_CUDA
  if (dev.is_cuda()) {
    for (void*& e : events_) SSE_CUDA_CHECK(cudaEventCreate(reinterpret_cast<cudaEvent_t*>(&e)));
    SSE_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(events_[0]), cuda_stream(dev)));
    return;
  }
#endif
  t0_ = now_ms();
}

OpScope::~OpScope() {
  if (nvtx_) nvtx_pop();
  if (!active_) return;
  double ms = 0.0;
#if SSE_WITH_CUDA
  if (dev_.is_cuda()) {
    float f = 0.0f;
    auto* ev = reinterpret_cast<cudaEvent_t*>(events_);
    // A destructor must not throw: failures here only lose a profile sample.
    if (cudaEventRecord(ev[1], cuda_stream(dev_)) == cudaSuccess && cudaEventSynchronize(ev[1]) == cudaSuccess)
      (void)cudaEventElapsedTime(&f, ev[0], ev[1]);
    (void)cudaEventDestroy(ev[0]);
    (void)cudaEventDestroy(ev[1]);
    ms = f;
  } else
#endif
  {
    ms = now_ms() - t0_;
  }
  std::lock_guard<std::mutex> lock(g_mu);
  Entry& e = g_table[{name_, dev_.str()}];
  ++e.calls;
  e.ms += ms;
}

LayerScope::LayerScope(const std::string& name) : nvtx_(kNvtx) {
  if (nvtx_) nvtx_push(name.c_str());
}
LayerScope::~LayerScope() {
  if (nvtx_) nvtx_pop();
}

}  // namespace sse
