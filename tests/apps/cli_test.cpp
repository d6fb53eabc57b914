// The binary's surface: help with an example line for every subcommand, --version, exit code 2 for
// usage errors, options from a --config TOML file, the "no default model" sentence, and the
// all-or-nothing output sets (apps/output.h) in-process.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "apps/output.h"
#include "io/error.h"
#include "io/file_util.h"
#include "tests/apps/apps_test_util.h"

namespace sse::app::test {
namespace {

TEST(Cli, EverySubcommandsHelpShowsAnExample) {
  Scratch s;
  for (const char* cmd : {"predict", "train", "evaluate", "label", "build", "info"}) {
    const RunResult r = sseunet(std::string(cmd) + " --help", s.path());
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_NE(r.out.find("Example:\n  sseunet " + std::string(cmd) + " "), std::string::npos) << cmd << "\n" << r.out;
    EXPECT_NE(r.out.find("--threads"), std::string::npos) << cmd;  // global options are shown too
  }
  const RunResult top = sseunet("--help", s.path());
  EXPECT_EQ(top.code, 0);
  EXPECT_NE(top.out.find("Example:"), std::string::npos);
}

TEST(Cli, VersionAndNoSubcommand) {
  Scratch s;
  const RunResult v = sseunet("--version", s.path());
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("sseunet " SSEUNET_VERSION), std::string::npos);
  const RunResult none = sseunet("", s.path());
  EXPECT_EQ(none.code, 0);
  EXPECT_NE(none.out.find("Subcommands:"), std::string::npos);
}

TEST(Cli, UsageErrorsExitWithTwo) {
  Scratch s;
  const std::string map = example_map();
  for (const std::string& args : std::vector<std::string>{
           "predict", "predict " + map + " --bogus", "frobnicate", "predict " + map + " --tile abc",
           "evaluate --manifest m.tsv --pred-dir d --model c", "label " + map, "train --loss nope --manifest m --out o",
           "predict " + map + " --chain A", "predict " + map + " --tile 8",
           "predict " + map + " --tile 32 --overlap 16", "train --manifest m.tsv", "train --resume r --width 8",
           "train --loss ce --gamma 2 --manifest m --out o", "evaluate --manifest m --pred-dir d --split nope",
           "train --precision fp16 --manifest m --out o", "train --precision bf16 --device cpu --manifest m --out o",
           "predict " + map + " --precision fp16", "predict " + map + " --precision tf32 --device cpu -o out"}) {
    const RunResult r = sseunet(args, s.path());
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_FALSE(r.err.empty()) << args;
  }
  EXPECT_TRUE(files_in(s.path()).empty());
}

TEST(Cli, DefaultModelPredictsTheShippedExample) {
  // The README's main command: the shipped model (models/default.ckpt, found through the source tree)
  // on the shipped map.
  ASSERT_TRUE(std::filesystem::exists(repo_path("models/default.ckpt")));
  Scratch s;
  const RunResult r = sseunet("predict " + example_map() + " -o out -q", s.path(), "SSEUNET_MODEL=");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* f : {"helix.mrc", "sheet.mrc", "helix_prob.mrc", "sheet_prob.mrc"})
    EXPECT_TRUE(std::filesystem::exists(s.path(std::string("out/") + f))) << f;
  const io::Grid helix = io::read_map(s.path("out/helix.mrc"));
  double found = 0;
  for (float v : helix.data) found += v;
  EXPECT_GT(found, 0) << "the crop is mostly histone helices: a trained model finds some";
}

TEST(Cli, ModelFromTheEnvironment) {
  Scratch s;
  write_checkpoint(s.path("tiny.ckpt"));
  const RunResult ok = sseunet("predict " + example_map() + " -o out -q", s.path(), "SSEUNET_MODEL=tiny.ckpt");
  EXPECT_EQ(ok.code, 0) << ok.err;
  const RunResult missing = sseunet("predict " + example_map() + " -o out2 -q", s.path(), "SSEUNET_MODEL=nothere.ckpt");
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "sseunet: nothere.ckpt: model checkpoint not found\n");
}

TEST(Cli, OptionsFromAConfigFile) {
  Scratch s;
  std::ofstream(s.path("run.toml")) << "quiet = true\n[info]\njson = true\n";
  const RunResult r = sseunet("--config run.toml info " + example_map(), s.path());
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);  // --json came from the file
  EXPECT_EQ(j["size"], nlohmann::json({44, 46, 42}));
  const RunResult bad = sseunet("--config nothere.toml info " + example_map(), s.path());
  EXPECT_EQ(bad.code, 2);
}

TEST(Cli, LogJsonPrintsJsonLines) {
  Scratch s;
  write_checkpoint(s.path("tiny.ckpt"));
  const RunResult r = sseunet("predict " + example_map() + " -o out --model tiny.ckpt --log-json", s.path());
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.err);
  std::string line;
  int progress = 0, n = 0;
  while (std::getline(lines, line)) {
    const nlohmann::json j = nlohmann::json::parse(line);  // throws on a non-JSON line
    progress += j.at("event") == "progress";
    ++n;
  }
  EXPECT_GE(progress, 1);
  EXPECT_GE(n, 3);
}

// ---- OutputDir ------------------------------------------------------------------------------

TEST(OutputDir, NothingAppearsUntilCommitAndFailuresLeaveNothing) {
  Scratch s;
  const std::string dir = s.path("a/b");
  {
    OutputDir out(dir);
    io::write_file_atomically(out.stage("one.txt"), "1");
    io::write_file_atomically(out.stage("two.txt"), "2");
    EXPECT_TRUE(files_in(dir).size() == 2 && files_in(dir)[0][0] == '.');  // hidden temporaries only
  }                                                                        // no commit: an error happened
  EXPECT_FALSE(std::filesystem::exists(s.path("a")));                      // created folders are removed again
  {
    OutputDir out(dir);
    io::write_file_atomically(out.stage("one.txt"), "1");
    out.commit();
  }
  EXPECT_EQ(files_in(dir), std::vector<std::string>{"one.txt"});
}

TEST(OutputDir, RefusesAFolderThatCannotBeWritten) {
  Scratch s;
  std::ofstream(s.path("file")) << "x";
  try {
    OutputDir out(s.path("file/sub"));
    FAIL() << "no error";
  } catch (const io::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create the output directory"), std::string::npos) << e.what();
  }
  EXPECT_THROW(OutputDir out(s.path("file")), io::IoError);
}

}  // namespace
}  // namespace sse::app::test
