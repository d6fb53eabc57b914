// Options shared by every subcommand (contract in apps/app.h).
#include <omp.h>

#include "apps/app.h"
#include "engine/device.h"
#include "engine/profiler.h"
#include "kernels/cpu/blas.h"


namespace sse::app {

void add_global_options(CLI::App& app, GlobalOptions& g) {
  app.add_option("--threads", g.threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--seed", g.seed, "random seed (initialization, shuffling, augmentation, dropout)");
  app.add_flag("--quiet,-q", g.quiet, "no progress output");
  app.add_flag("--log-json", g.log_json, "log lines as JSON objects");
  app.add_option("--device", g.device, "cpu, cuda or cuda:N (default: cuda when usable, else cpu)");
  app.add_flag("--profile", g.profile, "print per-op times at the end");
}

void apply_global_options(const GlobalOptions& g) {
  if (g.threads > 0) {
    sse::cpu::set_num_threads(g.threads);
  }
  set_profiling(g.profile);
}

Device choose_device(const GlobalOptions& g) {
  if (g.device.empty()) return default_device();
  const Device d = Device::parse(g.device);
  if (d.is_cuda() && d.index >= cuda_device_count())
    throw EngineError("--device " + g.device + ": no such CUDA device (" + std::to_string(cuda_device_count()) +
                      " visible)");
  return d;
}

}  // namespace sse::app
