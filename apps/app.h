// apps/app.h — how subcommands plug into the `sseunet` binary.
//
// Each subcommand lives in apps/<name>.cpp with a `Command add_<name>(CLI::App&, GlobalOptions&)`
// that adds its CLI11 subcommand (with an example line in its help footer) and returns the action to
// run when it was chosen; apps/main.cpp lists them.
//
// Exit codes: 0 success, 1 a failure reported as one line "sseunet: <file>: <problem>" on stderr,
// 2 a usage error (CLI11 parse errors, and UsageError thrown by an action for option combinations
// CLI11 cannot express), 130 a `predict`, `evaluate` or `reproduce` stopped by Ctrl-C (unfinished outputs
// removed; reproduce keeps its finished configurations and the stopped one's checkpoint).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <stdexcept>
#include <string>

namespace sse {
struct Device;
}

namespace sse::app {

struct GlobalOptions {
  int threads = 0;  // 0: all cores
  unsigned long long seed = 0;
  bool quiet = false;
  bool log_json = false;
  std::string device;  // "" = default (cuda when usable, else cpu)
  bool profile = false;
};

struct Command {
  CLI::App* sub;
  std::function<int()> run;
};

constexpr int kOk = 0, kFailure = 1, kUsage = 2, kInterrupted = 130;

// A combination of options that makes no sense (exit code 2, like a CLI11 parse error).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Adds --threads, --seed, --quiet, --log-json, --device, --profile to `app`. Called on the main app
// and on every subcommand (bound to the same variables), so they work before or after the
// subcommand's name and show in each subcommand's --help.
void add_global_options(CLI::App& app, GlobalOptions& g);
// Applies --threads (OpenMP and BLAS) and --profile; call first in every action.
void apply_global_options(const GlobalOptions& g);
// The device to run on: --device if given (validated), else cuda:0 when usable, else cpu.
Device choose_device(const GlobalOptions& g);
// --precision (engine/precision.h): anything but fp32 needs a CUDA device this build can run it on
// (UsageError naming `what`, the option or the run that holds it); on a CUDA device it sets the
// convolutions' precision.
void check_precision(const std::string& precision, Device dev, const std::string& what);
// Makes a subcommand with its one-line description, global options, and an example in --help.
CLI::App* add_subcommand(CLI::App& app, GlobalOptions& g, const std::string& name, const std::string& what,
                         const std::string& example);

// --radius (the chain zone around the chain's atoms, Å) and --cutoff (a voxel takes the class of its
// nearest Cα within this distance, Å): how `label` and `build` cut and label a chain.
void add_zone_options(CLI::App& sub, double& radius, double& cutoff);

// The subcommands (apps/<name>.cpp).
Command add_predict(CLI::App& app, GlobalOptions& g);
Command add_train(CLI::App& app, GlobalOptions& g);
Command add_evaluate(CLI::App& app, GlobalOptions& g);
Command add_label(CLI::App& app, GlobalOptions& g);
Command add_build(CLI::App& app, GlobalOptions& g);
Command add_info(CLI::App& app, GlobalOptions& g);
Command add_simulate(CLI::App& app, GlobalOptions& g);
Command add_calibrate(CLI::App& app, GlobalOptions& g);
Command add_reproduce(CLI::App& app, GlobalOptions& g);

}  // namespace sse::app
