// `sseunet reproduce --quick` end to end on a reduced grid (CE, FCE_DL with γ 2 and 5; 26 steps of a
// width-4 network): one configuration alone (--only), Ctrl-C during the next one's training, the same
// command again — the finished configuration untouched, the stopped one continued bit-exactly (equal
// to an uninterrupted `sseunet train` of the same configuration) — and the tables equal to what
// `sseunet evaluate` reports for the same checkpoints.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "tests/apps/apps_test_util.h"
#include "tests/support/png.h"

namespace sse::app::test {
namespace {

using nlohmann::json;

// Runs `sseunet <args> --log-json` in `cwd` and sends it SIGINT (as Ctrl-C would) once the
// configuration `config` has finished its first training step: the signal lands inside training
// whatever the machine's speed. Returns the exit status and the log (stderr).
RunResult interrupt_during_training(const std::string& args, const std::string& cwd, const std::string& config,
                                    bool* sent) {
  // The inner shell prints its pid, then becomes sseunet (exec keeps the pid).
  const std::string cmd = "cd '" + cwd + "' && exec sh -c 'echo $$; exec env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \"" +
                          SSE_BINARY_DIR + "/sseunet\" " + args + " --log-json 2>&1 >/dev/null'";
  FILE* pipe = popen(cmd.c_str(), "r");
  RunResult r;
  if (!pipe) return r;
  char line[1 << 16];
  const pid_t pid = std::fgets(line, sizeof line, pipe) ? static_cast<pid_t>(std::atol(line)) : 0;
  bool in_config = false;
  *sent = false;
  while (std::fgets(line, sizeof line, pipe)) {
    r.err += line;
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    const std::string event = j.value("event", "");
    if (event == "config") in_config = j.value("config", "") == config;
    if (!*sent && in_config && event == "progress" && j.value("what", "") == "train" && pid > 0) {
      *sent = kill(pid, SIGINT) == 0;
    }
  }
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

json read_json(const std::string& path) { return json::parse(slurp(path)); }

long long checkpoint_step(const std::string& path) { return load_checkpoint(path).meta.at("step").get<long long>(); }

// The tables hold `evaluate --json`'s numbers for configuration `name` (its test.json is that file).
void expect_tables_hold(const std::string& dir, const std::string& name, const json& evaluated) {
  const json t2 = read_json(dir + "/table2.json");
  ASSERT_EQ(t2["chains"].size(), evaluated["chains"].size());
  for (std::size_t k = 0; k < evaluated["chains"].size(); ++k) {
    const json& e = evaluated["chains"][k];
    EXPECT_EQ(t2["chains"][k]["name"], e["name"]);
    EXPECT_EQ(t2["chains"][k]["f1"][name]["helix"], e["voxel"]["helix"]["f1"]) << name << " " << e["name"];
    EXPECT_EQ(t2["chains"][k]["f1"][name]["sheet"], e["voxel"]["sheet"]["f1"]) << name << " " << e["name"];
  }
  EXPECT_EQ(t2["averages"][name], evaluated["averages"]["voxel"]);
}

TEST(Reproduce, QuickStudyResumesAfterCtrlCAndItsTablesAreEvaluatesNumbers) {
  Scratch s;
  const std::string study = "reproduce --quick -o q --losses ce,fce_dl --gammas 2,5 --max-steps 26";
  // 1. One configuration alone, as a task of a SLURM array runs it: trained and scored, no report.
  const RunResult only = sseunet(study + " --only ce -q", s.path());
  ASSERT_EQ(only.code, 0) << only.err;
  ASSERT_TRUE(fs::exists(s.path("q/ce/test.json")));
  EXPECT_FALSE(fs::exists(s.path("q/table1.md")));
  const std::string ce_scores = slurp(s.path("q/ce/test.json")), ce_ckpt = slurp(s.path("q/ce/last.ckpt"));
  const auto ce_time = fs::last_write_time(s.path("q/ce/test.json"));

  // 2. The whole grid, Ctrl-C during fce_dl_g2's training: exit 130, its checkpoint saved.
  bool sent = false;
  const RunResult stopped = interrupt_during_training(study, s.path(), "fce_dl_g2", &sent);
  ASSERT_TRUE(sent) << stopped.err;
  EXPECT_EQ(stopped.code, 130) << stopped.err;
  EXPECT_NE(stopped.err.find("ce: finished"), std::string::npos) << stopped.err;
  EXPECT_NE(stopped.err.find("interrupted in configuration fce_dl_g2"), std::string::npos) << stopped.err;
  EXPECT_FALSE(fs::exists(s.path("q/fce_dl_g2/test.json")));
  const long long at = checkpoint_step(s.path("q/fce_dl_g2/last.ckpt"));
  EXPECT_GE(at, 1);
  EXPECT_LT(at, 26);

  // 3. The same command continues: ce untouched, fce_dl_g2 resumed where it stopped, then the rest.
  const RunResult rest = sseunet(study, s.path());
  ASSERT_EQ(rest.code, 0) << rest.err;
  EXPECT_NE(rest.err.find("ce: finished"), std::string::npos) << rest.err;
  EXPECT_NE(rest.err.find("resuming at step " + std::to_string(at) + " in q/fce_dl_g2"), std::string::npos) << rest.err;
  EXPECT_EQ(slurp(s.path("q/ce/test.json")), ce_scores);
  EXPECT_EQ(slurp(s.path("q/ce/last.ckpt")), ce_ckpt);
  EXPECT_EQ(fs::last_write_time(s.path("q/ce/test.json")), ce_time);
  // Bit-exact: the interrupted and resumed run ends where an uninterrupted `train` of it ends.
  const RunResult ref = sseunet("train -m " + repo_path("examples/quick.tsv") +
                                    " --samples q/sim --cache q/cache --out ref --loss fce_dl --gamma 2 --width 4 "
                                    "--max-steps 26 -q",
                                s.path());
  ASSERT_EQ(ref.code, 0) << ref.err;
  EXPECT_EQ(slurp(s.path("ref/last.ckpt")), slurp(s.path("q/fce_dl_g2/last.ckpt")));

  // 4. The outputs, and Table I's γ chosen on the validation rows.
  for (const char* f : {"table1.md", "table1.csv", "table1.json", "table2.md", "table2.csv", "table2.json",
                        "wilcoxon.md", "wilcoxon.csv", "wilcoxon.json", "report.html"})
    EXPECT_TRUE(fs::exists(s.path(std::string("q/") + f))) << f;
  const json t1 = read_json(s.path("q/table1.json"));
  ASSERT_EQ(t1["table1"].size(), 2u);
  const auto val_score = [&](const std::string& name) {
    const json a = read_json(s.path("q/" + name + "/val.json"))["averages"]["voxel"];
    return (a["weighted_f1_helix"].get<double>() + a["weighted_f1_sheet"].get<double>()) / 2;
  };
  const std::string chosen = val_score("fce_dl_g5") > val_score("fce_dl_g2") ? "fce_dl_g5" : "fce_dl_g2";
  EXPECT_EQ(t1["table1"][1]["configuration"], chosen);
  EXPECT_TRUE(fs::exists(s.path("q/figure5/ce_vs_" + chosen + ".svg")));
  EXPECT_EQ(sse::test::decode_png(slurp(s.path("q/figure5/ce_vs_" + chosen + ".png"))).width, 1520);
  EXPECT_NE(rest.out.find("| CE | – | – |"), std::string::npos) << rest.out;  // Table I on stdout

  // 5. `sseunet evaluate` of the same checkpoints writes the very test.json the tables are made of.
  for (const std::string& name : {std::string("ce"), chosen}) {
    const RunResult e = sseunet("evaluate -m " + repo_path("examples/quick.tsv") + " --model q/" + name +
                                    "/best.ckpt --json " + name + ".json -q",
                                s.path());
    ASSERT_EQ(e.code, 0) << e.err;
    EXPECT_EQ(slurp(s.path(name + ".json")), slurp(s.path("q/" + name + "/test.json"))) << name;
    expect_tables_hold(s.path("q"), name, read_json(s.path(name + ".json")));
    EXPECT_EQ(t1["table1"][name == "ce" ? 0 : 1]["test"]["weighted_f1_helix"],
              read_json(s.path(name + ".json"))["averages"]["voxel"]["weighted_f1_helix"]);
  }
  // A study folder is only continued with its own options.
  const RunResult other = sseunet(study + " --width 6 -q", s.path());
  EXPECT_EQ(other.code, 1);
  EXPECT_NE(other.err.find("model.width (4 there, 6 here)"), std::string::npos) << other.err;
}

}  // namespace
}  // namespace sse::app::test
