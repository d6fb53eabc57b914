// `sseunet reproduce` without training: the grid's names, the requests it refuses, and --report on
// a study folder made by hand from `evaluate`'s scores of DeepSSETracer's published masks (the
// whole pipeline runs in reproduce_slow_test.cpp).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/apps/apps_test_util.h"
#include "train/trainer.h"

namespace sse::app::test {
namespace {

TEST(Reproduce, ListsTheGridAndRefusesBadRequests) {
  Scratch s;
  const RunResult list = sseunet("reproduce --list --losses fce_dl,ce --gammas 2,5", s.path());
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_EQ(list.out, "ce\nfce_dl_g2\nfce_dl_g5\n");
  EXPECT_EQ(sseunet("reproduce --list", s.path()).out,
            "ce\nfce_g1\nfce_g2\nfce_g5\nfce_g8\ndl\nce_dl\nfce_dl_g1\nfce_dl_g2\nfce_dl_g5\nfce_dl_g8\n");
  EXPECT_EQ(sseunet("reproduce --quick --only fce_g3 -o q", s.path()).code, 2);
  EXPECT_EQ(sseunet("reproduce -o q --losses bce", s.path()).code, 2);
  EXPECT_EQ(sseunet("reproduce -o q", s.path()).code, 2);  // no manifest
  const RunResult none = sseunet("reproduce -o q --report", s.path());
  EXPECT_EQ(none.code, 1);
  EXPECT_TRUE(one_line(none.err)) << none.err;
  // A manifest without validation rows: γ could only be chosen on the test rows, which is refused.
  std::ofstream(s.path("m.tsv")) << "map\tmodel\tchain\tresolution\tsplit\n"
                                 << io_data("real/3491_5mdx_X/X-1.0APIX.mrc.gz") << "\t"
                                 << io_data("real/3491_5mdx_X/X_fitted.pdb.gz") << "\tX\t5.3\ttrain\n";
  const RunResult noval = sseunet("reproduce -m m.tsv -o q -q", s.path());
  EXPECT_EQ(noval.code, 1);
  EXPECT_NE(noval.err.find("no rows with split val"), std::string::npos) << noval.err;
  EXPECT_FALSE(fs::exists(s.path("q")));
}

// A finished configuration as reproduce leaves it: run.json, and evaluate's val.json and test.json
// (here the published masks of the authors' chains, the same for every configuration).
void finished_config(const Scratch& s, const std::string& name, const std::string& loss, int width) {
  fs::create_directories(s.path("q/" + name));
  train::TrainConfig c;
  c.loss.name = loss;
  c.model.width = width;
  const nlohmann::json run{{"manifest", example_manifest()}, {"samples", nlohmann::json::array()}, {"device", "cpu"},
                           {"config", nlohmann::json::parse(c.to_json())}};
  std::ofstream(s.path("q/" + name + "/run.json")) << run.dump(2);
  for (const char* split : {"val", "test"})
    ASSERT_EQ(sseunet("evaluate -m " + example_manifest() + " --pred-dir " + io_data("real") + " --split " + split +
                          " -q --json q/" + name + "/" + split + ".json",
                      s.path())
                  .code,
              0);
}

TEST(Reproduce, ReportGathersTheFinishedConfigurations) {
  Scratch s;
  finished_config(s, "ce", "ce", 4);
  finished_config(s, "dl", "dl", 4);
  const RunResult r = sseunet("reproduce -o q --report --losses ce,dl,fce --gammas 2", s.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("not finished, left out of the report: fce_g2"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("| CE | – | – | 0.792 | NA | 25.3 | 60.1 | 34.2 | 45.4 | 1 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no test (no chain where the two differ)"), std::string::npos) << r.out;  // the same masks
  const nlohmann::json t2 = nlohmann::json::parse(slurp(s.path("q/table2.json")));
  EXPECT_EQ(t2["chains"][0]["name"], "6149_3j8g_X");
  EXPECT_NEAR(t2["chains"][0]["f1"]["dl"]["sheet"].get<double>(), 0.34194626558683633, 1e-12);  // evaluate's figure
  for (const char* f : {"table1.csv", "table2.md", "wilcoxon.csv", "report.html", "figure5/ce_vs_dl.svg", "figure5/ce_vs_dl.png"})
    EXPECT_TRUE(fs::exists(s.path(std::string("q/") + f))) << f;
  // Configurations trained with other settings than their loss are not one study.
  finished_config(s, "ce_dl", "ce_dl", 8);
  const RunResult mixed = sseunet("reproduce -o q --report --losses ce,dl,ce_dl", s.path());
  EXPECT_EQ(mixed.code, 1);
  EXPECT_NE(mixed.err.find("trained with another config.model.width (8 there, 4 here)"), std::string::npos) << mixed.err;
}

}  // namespace
}  // namespace sse::app::test
