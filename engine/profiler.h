// engine/profiler.h — per-op timing and NVTX ranges.
//
// Every kernel dispatch opens an OpScope. When profiling is enabled (set_profiling(true), the CLI's
// --profile) the scope records the op's time — CUDA events on a CUDA device, the host clock on the
// CPU — into a table printed by profile_report(). In the real CUDA build with NVTX available, each
// scope is also an NVTX range, so Nsight Systems shows the run op by op; LayerScope names the
// layer (e.g. "down_1.conv.0") around the ops it runs.
#pragma once

#include <string>

#include "engine/device.h"

namespace sse {

void set_profiling(bool on);
bool profiling();
void profile_reset();
// A table: op, device, calls, total ms, mean ms, share — sorted by total time.
std::string profile_report();

class OpScope {
 public:
  OpScope(const char* name, Device dev);
  ~OpScope();
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;

 private:
  const char* name_;
  Device dev_;
  bool active_;
  bool nvtx_;
  double t0_ = 0.0;
  void* events_[2] = {nullptr, nullptr};
};

// An NVTX range only (no timing): for layers and losses.
class LayerScope {
 public:
  explicit LayerScope(const std::string& name);
  ~LayerScope();
  LayerScope(const LayerScope&) = delete;
  LayerScope& operator=(const LayerScope&) = delete;

 private:
  bool nvtx_;
};

}  // namespace sse
