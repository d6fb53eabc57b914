// The study's report in-process (apps/study_report.h): the grid's names, γ chosen on the validation
// rows and never on the test rows, Tables I and II from evaluate's JSON, the paired tests and the
// Figure 5 pictures. The scores are made with evaluate's own JSON writer (scores_json) from known
// counts, so the format is the one reproduce reads.
#include "apps/study_report.h"

#include <gtest/gtest.h>

#include <map>

#include "apps/evaluate.h"
#include "io/error.h"
#include "tests/support/png.h"

namespace sse::app {
namespace {

using nlohmann::json;

// A chain whose helix F1 is 2tp / (2tp + 10) (fp + fn = 10) and whose sheet F1 is `sheet_tp` / 10.
RowScores chain(const std::string& name, long helix_tp, long sheet_tp) {
  RowScores r;
  r.s.name = name;
  r.s.voxel.helix = {helix_tp, 5, 5};
  r.s.voxel.sheet = {sheet_tp, 10 - sheet_tp, 10 - sheet_tp};
  r.s.helix_ca = 10;
  r.s.sheet_ca = 5;
  r.resolution = 5;
  return r;
}

// Seven chains; `better` adds k + 1 to the helix TP of chain k (distinct differences, no ties).
json scores(int better, long sheet_tp = 5) {
  std::vector<RowScores> rows;
  for (int k = 0; k < 7; ++k) rows.push_back(chain("chain" + std::to_string(k), 10 + k + better * (k + 1), sheet_tp));
  return scores_json(rows);
}

ConfigScores config(const std::string& loss, float gamma, int val_better, int test_better) {
  const std::vector<StudyConfig> grid = study_grid({loss}, {gamma});
  return {grid.front(), scores(val_better), scores(test_better)};
}

std::map<std::string, std::string> files(const StudyReport& r) { return {r.files.begin(), r.files.end()}; }

TEST(StudyGrid, NamesConfigurationsInTheStudysOrder) {
  std::vector<std::string> names;
  for (const StudyConfig& c : study_grid({"fce_dl", "ce", "fce"}, {2, 0.5f})) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"ce", "fce_g2", "fce_g0.5", "fce_dl_g2", "fce_dl_g0.5"}));
  EXPECT_EQ(study_grid({"fce_dl"}, {5}).front().label(), "FCE_DL (γ=5)");
  EXPECT_EQ(study_grid({"ce_dl"}, {}).front().label(), "CE_DL");
  EXPECT_EQ(study_grid({"ce", "fce", "dl", "ce_dl", "fce_dl"}, {1, 2, 5, 8}).size(), 11u);
  EXPECT_THROW(study_grid({"bce"}, {1}), std::invalid_argument);
  EXPECT_THROW(study_grid({"fce"}, {}), std::invalid_argument);
  EXPECT_THROW(study_grid({"fce"}, {-1}), std::invalid_argument);
}

// γ = 1 wins on validation although γ = 2 would win on the test chains: the choice never looks at
// the test rows. Equal validation scores go to the smaller γ.
TEST(StudyReport, ChoosesGammaOnValidationRowsOnly) {
  const std::vector<ConfigScores> s{config("fce", 1, 3, 0), config("fce", 2, 1, 6), config("fce_dl", 8, 2, 0),
                                    config("fce_dl", 5, 2, 0)};
  EXPECT_GT(validation_score(s[0]), validation_score(s[1]));
  EXPECT_EQ(choose_per_loss(s), (std::vector<std::size_t>{0, 3}));
  const json t1 = json::parse(files(study_report(s, {}))["table1.json"]);
  EXPECT_EQ(t1["gamma_chosen_on"], "validation");
  EXPECT_EQ(t1["table1"][0]["configuration"], "fce_g1");
  EXPECT_EQ(t1["table1"][1]["configuration"], "fce_dl_g5");
  EXPECT_EQ(t1["configurations"].size(), 4u);
}

// The validation score is the mean of the weighted helix and sheet F1, or the one defined.
TEST(StudyReport, ValidationScoreUsesTheDefinedAverages) {
  ConfigScores c = config("ce", 0, 0, 0);
  const double h = c.val["averages"]["voxel"]["weighted_f1_helix"], sh = c.val["averages"]["voxel"]["weighted_f1_sheet"];
  EXPECT_DOUBLE_EQ(validation_score(c), 0.5 * (h + sh));
  c.val["averages"]["voxel"]["weighted_f1_sheet"] = nullptr;
  EXPECT_DOUBLE_EQ(validation_score(c), h);
  c.val["averages"]["voxel"]["weighted_f1_helix"] = nullptr;
  EXPECT_DOUBLE_EQ(validation_score(c), -1);
}

// FCE_DL scores higher helix F1 than CE on all 7 chains: the exact two-sided p is 2/2^7 and r = 1;
// sheet F1 are equal everywhere, so there is no sheet test.
TEST(StudyReport, TablesTestsAndFiguresFromTheScores) {
  const std::vector<ConfigScores> s{config("ce", 0, 0, 0), config("fce_dl", 5, 0, 1)};
  const StudyReport r = study_report(s, {{"manifest", "study.tsv"}});
  std::map<std::string, std::string> f = files(r);
  for (const char* name : {"table1.md", "table1.csv", "table1.json", "table2.md", "table2.csv", "table2.json", "wilcoxon.md",
                           "wilcoxon.csv", "wilcoxon.json", "figure5/ce_vs_fce_dl_g5.svg", "figure5/ce_vs_fce_dl_g5.png",
                           "report.html"})
    EXPECT_EQ(f.count(name), 1u) << name;
  const json w = json::parse(f["wilcoxon.json"]);
  ASSERT_EQ(w["tests"].size(), 2u);
  const json& helix = w["tests"][0];
  EXPECT_EQ(helix["class"], "helix");
  EXPECT_EQ(helix["n"], 7);
  EXPECT_DOUBLE_EQ(helix["p"].get<double>(), 2.0 / 128);
  EXPECT_DOUBLE_EQ(helix["p_holm"].get<double>(), 2.0 / 128);  // the sheet test has no p: a family of one
  EXPECT_DOUBLE_EQ(helix["rank_biserial"].get<double>(), 1.0);
  EXPECT_EQ(w["tests"][1]["n"], 0);
  EXPECT_TRUE(w["tests"][1]["p"].is_null());
  EXPECT_NE(f["wilcoxon.md"].find("FCE_DL (γ=5) higher on helix (Holm p < 0.05)"), std::string::npos) << f["wilcoxon.md"];
  EXPECT_NE(r.summary.find("| CE | – | – |"), std::string::npos) << r.summary;
  // Table II: chain0's helix F1 is 20/30 under CE and 22/32 under FCE_DL; CSV holds every configuration.
  EXPECT_NE(f["table2.csv"].find("chain0,5.0,10,5,0,0.666667,0.500000,0.687500,0.500000\n"), std::string::npos)
      << f["table2.csv"];
  const json t2 = json::parse(f["table2.json"]);
  EXPECT_DOUBLE_EQ(t2["chains"][0]["f1"]["fce_dl_g5"]["helix"].get<double>(), 22.0 / 32);
  EXPECT_EQ(t2["averages"]["ce"], s[0].test["averages"]["voxel"]);
  EXPECT_NE(f["table1.md"].find("| FCE_DL | 5 | 5 |"), std::string::npos) << f["table1.md"];
  EXPECT_NE(f["table1.md"].find("61.9 (γ=5) |"), std::string::npos);
  const sse::test::DecodedPng png = sse::test::decode_png(f["figure5/ce_vs_fce_dl_g5.png"]);
  EXPECT_EQ(png.width, 1520);  // two 380-point panels at 2 pixels per point
  EXPECT_EQ(png.height, 760);
  EXPECT_GT(png.count(255, 85, 72, 12), 100);  // helix dots: the helix colour at alpha 0.8 on white
  EXPECT_NE(f["figure5/ce_vs_fce_dl_g5.svg"].find("<svg"), std::string::npos);
  EXPECT_EQ(sse::test::inlined_pngs(f["report.html"]).size(), 1u);
}

TEST(StudyReport, RefusesConfigurationsScoredOnOtherChains) {
  std::vector<ConfigScores> s{config("ce", 0, 0, 0), config("dl", 0, 0, 0)};
  s[1].test["chains"][3]["name"] = "other";
  EXPECT_THROW(study_report(s, {}), io::IoError);
}

}  // namespace
}  // namespace sse::app
