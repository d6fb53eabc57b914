// sseunet — finds alpha-helices and beta-sheets in medium-resolution cryo-EM maps with a 3D U-Net.
// This file only wires the subcommands (apps/<name>.cpp), the --config file, and maps failures to
// exit codes (apps/app.h): 0 ok, 1 one line "sseunet: <file>: <problem>" on stderr, 2 usage,
// 130 interrupted by Ctrl-C, unfinished outputs removed (apps/interrupt.h).
#include <iostream>
#include <new>
#include <vector>

#include "apps/app.h"
#include "apps/interrupt.h"
#include "engine/profiler.h"

int main(int argc, char** argv) {
  using namespace sse::app;
  CLI::App app{"sseunet " SSEUNET_VERSION
               " - finds alpha-helices and beta-sheets in 5-10 A cryo-EM density maps with a 3D U-Net."};
  app.set_version_flag("--version", std::string("sseunet ") + SSEUNET_VERSION);
  // Options may also come from a TOML file: top-level keys for global options, a [predict] (etc.)
  // section for a subcommand's options; the command line wins over the file.
  app.set_config("--config", "", "read options from a TOML file (sections named after subcommands)");
  app.require_subcommand(0, 1);
  app.footer(
      "Example:\n  sseunet predict examples/emd_35448_crop.mrc -o out/ --model run/best.ckpt\n"
      "Run `sseunet <command> --help` for a command's options.");
  GlobalOptions g;
  add_global_options(app, g);
  const std::vector<Command> commands{add_predict(app, g), add_train(app, g), add_evaluate(app, g),
                                      add_label(app, g),   add_build(app, g), add_info(app, g),
                                      add_simulate(app, g), add_calibrate(app, g), add_reproduce(app, g)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kOk : kUsage;
  }
  for (const Command& c : commands) {
    if (!c.sub->parsed()) continue;
    try {
      const int code = c.run();
      if (g.profile) std::cerr << sse::profile_report();
      return code;
    } catch (const Interrupted& e) {
      std::cerr << "sseunet: " << e.what() << "\n";
      return kInterrupted;  // the shell's convention for SIGINT
    } catch (const UsageError& e) {
      std::cerr << "sseunet " << c.sub->get_name() << ": " << e.what() << "\nRun with --help for more information.\n";
      return kUsage;
    } catch (const std::bad_alloc&) {
      std::cerr << "sseunet: out of memory (try a smaller --tile, or fewer --threads)\n";
      return kFailure;
    } catch (const std::exception& e) {
      std::cerr << "sseunet: " << e.what() << "\n";
      return kFailure;
    }
  }
  std::cout << app.help();
  return kOk;
}
