// apps/app.h — how subcommands plug into the `sseunet` binary.
//
// Each subcommand lives in apps/<name>.cpp with a `Command add_<name>(CLI::App&, GlobalOptions&)`
// that adds its CLI11 subcommand (with an example line in its description) and returns the action to
// run when it was chosen; apps/main.cpp lists them. Exit codes: 0 success, 1 a failure reported as
// one clear line on stderr, 2 a usage error.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

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

constexpr int kOk = 0, kFailure = 1, kUsage = 2;

}  // namespace sse::app

namespace sse {
struct Device;
}

namespace sse::app {

// Adds --threads, --seed, --quiet, --log-json, --device, --profile to `app` (inherited by subcommands).
void add_global_options(CLI::App& app, GlobalOptions& g);
// Applies --threads (OpenMP and BLAS) and --profile; call first in every action.
void apply_global_options(const GlobalOptions& g);
// The device to run on: --device if given (validated), else cuda:0 when usable, else cpu.
Device choose_device(const GlobalOptions& g);

}  // namespace sse::app
