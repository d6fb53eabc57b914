// sseunet — finds alpha-helices and beta-sheets in medium-resolution cryo-EM maps with a 3D U-Net.
// This file only wires the subcommands (apps/<name>.cpp) and maps failures to exit codes.
#include <iostream>
#include <vector>

#include "apps/app.h"

int main(int argc, char** argv) {
  using namespace sse::app;
  CLI::App app{"sseunet " SSEUNET_VERSION
               " - finds alpha-helices and beta-sheets in 5-10 A cryo-EM density maps with a 3D U-Net."};
  app.set_version_flag("--version", std::string("sseunet ") + SSEUNET_VERSION);
  app.require_subcommand(0, 1);
  GlobalOptions g;
  add_global_options(app, g);
  std::vector<Command> commands;  // filled by the subcommand files as they land
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kOk : kUsage;
  }
  for (const Command& c : commands)
    if (c.sub->parsed()) {
      try {
        return c.run();
      } catch (const std::exception& e) {
        std::cerr << "sseunet: " << e.what() << "\n";
        return kFailure;
      }
    }
  std::cout << app.help();
  return kOk;
}
