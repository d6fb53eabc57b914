// Options shared by every subcommand (contract in apps/app.h).
#include <omp.h>

#include "apps/app.h"
#include "engine/device.h"
#include "engine/precision.h"
#include "engine/profiler.h"
#include "kernels/cpu/blas.h"


namespace sse::app {

void add_global_options(CLI::App& app, GlobalOptions& g) {
  const char* group = "Global options";
  app.add_option("--threads", g.threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber)->group(group);
  app.add_option("--seed", g.seed, "random seed (initialization, shuffling, augmentation, dropout)")->group(group);
  app.add_flag("--quiet,-q", g.quiet, "no progress bars or log lines (errors still go to stderr)")->group(group);
  app.add_flag("--log-json", g.log_json, "log and progress lines on stderr as JSON objects")->group(group);
  app.add_option("--device", g.device, "cpu, cuda or cuda:N (default: cuda when usable, else cpu)")->group(group);
  app.add_flag("--profile", g.profile, "print per-op times at the end")->group(group);
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

void check_precision(const std::string& precision, Device dev, const std::string& what) {
  if (dev.is_cpu() && precision != "fp32") throw UsageError(what + " needs a CUDA device (the CPU computes in fp32)");
  if (dev.is_cuda()) set_precision(parse_precision(precision));
}

CLI::App* add_subcommand(CLI::App& app, GlobalOptions& g, const std::string& name, const std::string& what,
                         const std::string& example) {
  CLI::App* sub = app.add_subcommand(name, what);
  sub->footer("Example:\n  " + example);
  add_global_options(*sub, g);
  return sub;
}

void add_zone_options(CLI::App& sub, double& radius, double& cutoff) {
  sub.add_option("--radius", radius, "zone radius around the chain's atoms (A)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub.add_option("--cutoff", cutoff, "label a voxel by its nearest Ca within this distance (A)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

}  // namespace sse::app
