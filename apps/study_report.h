// apps/study_report.h — the study's results from the scores of its configurations (what
// `sseunet reproduce` writes): Table I (best γ per loss, weighted F1 beside the published figures),
// Table II (per test chain, every loss), Figure 5 (per-chain F1 of loss A against loss B) and a
// Wilcoxon signed-rank test per pair of losses.
//
// Contract:
//  * The grid: losses in the study's order CE, FCE, DL, CE_DL, FCE_DL; fce and fce_dl once per γ.
//    A configuration is named "ce", "dl", "ce_dl", "fce_g2", "fce_dl_g5" (γ as %g), labelled
//    "CE", "FCE (γ=2)". study_grid() refuses an unknown loss and an empty or negative γ list.
//  * ConfigScores: a configuration's `evaluate --json` of the validation rows (`val`) and of the
//    test rows (`test`) — the files reproduce writes beside each run. Every number below comes from
//    their voxel-level F1 (the level of the study's tables), NA (null) where evaluate says NA.
//  * Choosing γ (choose_per_loss): per loss, the configuration with the highest validation score =
//    the mean of its Cα-weighted helix F1 and sheet F1 on the validation rows (the one present if
//    the other is NA; a configuration with neither scores lowest); ties go to the smaller γ. The
//    test rows never take part in the choice.
//  * study_report(): every output as (relative path, bytes), for the caller to stage and commit:
//    table1.{md,csv,json} (Table I, then the validation and test scores of every configuration),
//    table2.{md,csv,json} (Markdown: the chosen configuration of each loss; CSV and JSON: every
//    configuration; per test chain the Cα counts and helix/sheet F1, then the Cα-weighted and pooled
//    averages), wilcoxon.{md,csv,json} (per pair of chosen configurations and class: the chains
//    where both F1 are defined, median difference, W+, W−, two-sided p, Holm-adjusted p over the
//    whole family, matched-pairs rank-biserial r, exact or normal method; stats/wilcoxon.h),
//    figure5/<A>_vs_<B>.{svg,png} (helix and sheet panels, one dot per chain, the diagonal; points
//    above it favour B) and report.html (all of it on one self-contained page). `summary` is
//    Table I and the test table in Markdown, for stdout.
//  * Configurations must have been scored on the same test chains (same names in the same order);
//    otherwise IoError naming the first that differs.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace sse::app {

struct StudyConfig {
  std::string name, loss;  // loss: ce, fce, dl, ce_dl, fce_dl
  float gamma = 0;         // 0 for the non-focal losses
  std::string label() const;
};
std::vector<StudyConfig> study_grid(const std::vector<std::string>& losses, const std::vector<float>& gammas);

// Published weighted F1 (%) of Mu et al. 2022, Table I (65 test chains).
struct Published {
  std::string loss;
  float gamma;  // the γ the study reports for fce and fce_dl
  double helix, sheet;
};
const std::vector<Published>& published_table1();

struct ConfigScores {
  StudyConfig config;
  nlohmann::json val, test;  // `evaluate --json` of the validation and test rows
};

// Index into `scores` of each loss's chosen configuration, in the study's order of losses (losses
// without a scored configuration are left out).
std::vector<std::size_t> choose_per_loss(const std::vector<ConfigScores>& scores);
double validation_score(const ConfigScores& s);  // -1 when both weighted F1 are NA

struct StudyReport {
  std::vector<std::pair<std::string, std::string>> files;  // relative path, contents
  std::string summary;
};
StudyReport study_report(const std::vector<ConfigScores>& scores,
                         const std::vector<std::pair<std::string, std::string>>& settings);

}  // namespace sse::app
