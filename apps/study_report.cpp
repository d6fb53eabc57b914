// The study's tables, figure and paired tests (contract in apps/study_report.h).
#include "apps/study_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <stdexcept>

#include "apps/evaluate_report.h"
#include "apps/figures.h"
#include "io/error.h"
#include "losses/loss.h"
#include "plot/chart.h"
#include "plot/html.h"
#include "stats/wilcoxon.h"

namespace sse::app {

namespace {

using nlohmann::json;
using Opt = std::optional<double>;
const char* const kClasses[] = {"helix", "sheet"};

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string number(double v, const char* format = "%g") {
  char buf[48];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// ---- reading evaluate's JSON -------------------------------------------------------------------

Opt num(const json& j) { return j.is_number() ? Opt(j.get<double>()) : std::nullopt; }
json opt_json(Opt v) { return v ? json(*v) : json(); }
Opt weighted(const json& split, const std::string& cls) { return num(split["averages"]["voxel"]["weighted_f1_" + cls]); }
Opt pooled(const json& split, const std::string& cls) { return num(split["averages"]["voxel"]["micro_f1_" + cls]); }
Opt chain_f1(const json& chain, const std::string& cls) { return num(chain["voxel"][cls]["f1"]); }
std::size_t chains(const json& split) { return split["chains"].size(); }

// ---- tables as text ----------------------------------------------------------------------------

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

std::string markdown(const Table& t) {
  const auto line = [](const std::vector<std::string>& cells) {
    std::string s = "|";
    for (const std::string& c : cells) s += " " + c + " |";
    return s + "\n";
  };
  std::string out = line(t.header) + "|";
  for (std::size_t i = 0; i < t.header.size(); ++i) out += "---|";
  out += "\n";
  for (const auto& r : t.rows) out += line(r);
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string csv(const Table& t) {
  const auto line = [](const std::vector<std::string>& cells) {
    std::string s;
    for (std::size_t i = 0; i < cells.size(); ++i) s += (i ? "," : "") + csv_field(cells[i]);
    return s + "\n";
  };
  std::string out = line(t.header);
  for (const auto& r : t.rows) out += line(r);
  return out;
}

// A score in a table: 3 decimals in Markdown, 6 in CSV; CSV leaves NA empty.
std::string cell(Opt v, bool for_csv) { return for_csv ? (v ? number(*v, "%.6f") : "") : format_score(v, 3); }
std::string percent(Opt v, bool for_csv) {
  return v ? number(100 * *v, for_csv ? "%.4f" : "%.1f") : (for_csv ? "" : "NA");
}

const Published* published(const std::string& loss) {
  for (const Published& p : published_table1())
    if (p.loss == loss) return &p;
  return nullptr;
}

// ---- Table I -----------------------------------------------------------------------------------

std::string gammas_of(const std::vector<ConfigScores>& s, const std::string& loss) {
  std::string out;
  for (const ConfigScores& c : s)
    if (c.config.loss == loss) out += (out.empty() ? "" : " ") + number(c.config.gamma);
  return out;
}

Table table1(const std::vector<ConfigScores>& s, const std::vector<std::size_t>& chosen, bool for_csv) {
  Table t{{"loss", "gamma", "gammas_tried", "val_helix_f1", "val_sheet_f1", "test_helix_f1_pct", "published_helix_f1_pct",
           "test_sheet_f1_pct", "published_sheet_f1_pct", "test_chains"},
          {}};
  if (!for_csv)
    t.header = {"loss", "γ (chosen on validation)", "γ tried", "validation F1 helix", "validation F1 sheet",
                "test F1 helix (%)", "published helix (%)", "test F1 sheet (%)", "published sheet (%)", "test chains"};
  for (std::size_t i : chosen) {
    const ConfigScores& c = s[i];
    const bool focal = losses::has_focal(c.config.loss);
    const Published* p = published(c.config.loss);
    const std::string pg = p && p->gamma > 0 && !for_csv ? " (γ=" + number(p->gamma) + ")" : "";
    t.rows.push_back({upper(c.config.loss), focal ? number(c.config.gamma) : (for_csv ? "" : "–"),
                      focal ? gammas_of(s, c.config.loss) : (for_csv ? "" : "–"), cell(weighted(c.val, "helix"), for_csv),
                      cell(weighted(c.val, "sheet"), for_csv), percent(weighted(c.test, "helix"), for_csv),
                      p ? number(p->helix, "%.1f") + pg : "", percent(weighted(c.test, "sheet"), for_csv),
                      p ? number(p->sheet, "%.1f") : "", std::to_string(chains(c.test))});
  }
  return t;
}

// Every configuration's validation and test scores: the γ sweep behind Table I.
Table sweep(const std::vector<ConfigScores>& s, const std::vector<std::size_t>& chosen, bool for_csv) {
  Table t{{"configuration", "val_helix_f1", "val_sheet_f1", "val_score", "test_helix_f1", "test_sheet_f1", "chosen"}, {}};
  if (!for_csv)
    t.header = {"configuration", "validation F1 helix", "validation F1 sheet", "validation score", "test F1 helix",
                "test F1 sheet", "in Table I"};
  for (std::size_t i = 0; i < s.size(); ++i) {
    const double v = validation_score(s[i]);
    const bool picked = std::find(chosen.begin(), chosen.end(), i) != chosen.end();
    t.rows.push_back({for_csv ? s[i].config.name : s[i].config.label(), cell(weighted(s[i].val, "helix"), for_csv),
                      cell(weighted(s[i].val, "sheet"), for_csv), cell(v < 0 ? Opt() : Opt(v), for_csv),
                      cell(weighted(s[i].test, "helix"), for_csv), cell(weighted(s[i].test, "sheet"), for_csv),
                      picked ? "yes" : ""});
  }
  return t;
}

std::size_t val_chains(const std::vector<ConfigScores>& s) { return s.empty() ? 0 : chains(s.front().val); }

std::string table1_note(const std::vector<ConfigScores>& s) {
  return "\nWeighted F1: each test chain's voxel-level F1 weighted by its number of helix (sheet) Cα atoms, as in the "
         "study's Table II. γ of FCE and FCE_DL chosen on the " +
         std::to_string(val_chains(s)) +
         " validation chains, not on the test chains: the γ with the highest mean of the weighted helix and sheet F1 "
         "there (ties: the smaller γ). Published: Mu et al., IEEE BIBM 2022, Table I (65 test chains).\n";
}

json table1_json(const std::vector<ConfigScores>& s, const std::vector<std::size_t>& chosen) {
  json losses = json::array(), all = json::array();
  for (std::size_t i : chosen) {
    const ConfigScores& c = s[i];
    const Published* p = published(c.config.loss);
    losses.push_back({{"loss", c.config.loss},
                      {"configuration", c.config.name},
                      {"gamma", c.config.gamma},
                      {"test", {{"weighted_f1_helix", opt_json(weighted(c.test, "helix"))},
                                {"weighted_f1_sheet", opt_json(weighted(c.test, "sheet"))},
                                {"chains", chains(c.test)}}},
                      {"published", p ? json{{"gamma", p->gamma}, {"weighted_f1_helix_pct", p->helix},
                                             {"weighted_f1_sheet_pct", p->sheet}}
                                      : json()}});
  }
  for (const ConfigScores& c : s)
    all.push_back({{"configuration", c.config.name},
                   {"loss", c.config.loss},
                   {"gamma", c.config.gamma},
                   {"validation", {{"weighted_f1_helix", opt_json(weighted(c.val, "helix"))},
                                   {"weighted_f1_sheet", opt_json(weighted(c.val, "sheet"))},
                                   {"score", validation_score(c)},
                                   {"chains", chains(c.val)}}},
                   {"test", {{"weighted_f1_helix", opt_json(weighted(c.test, "helix"))},
                             {"weighted_f1_sheet", opt_json(weighted(c.test, "sheet"))}}}});
  return {{"level", "voxel"}, {"gamma_chosen_on", "validation"}, {"table1", losses}, {"configurations", all}};
}

// ---- Table II ----------------------------------------------------------------------------------

long ca_sum(const json& split, const char* key) {
  long n = 0;
  for (const json& c : split["chains"]) n += c[key].get<long>();
  return n;
}

Table table2(const std::vector<ConfigScores>& s, const std::vector<std::size_t>& which, bool for_csv) {
  const json& ref = s[which.front()].test;
  Table t{for_csv ? std::vector<std::string>{"chain", "resolution", "helix_ca", "sheet_ca", "other_ca"}
                  : std::vector<std::string>{"EMDB_PDB_chain", "resolution (Å)", "Cα H/S/O"},
          {}};
  for (std::size_t i : which)
    for (const char* cls : kClasses)
      t.header.push_back(for_csv ? s[i].config.name + "_" + cls + "_f1" : s[i].config.label() + " " + cls);
  const auto counts = [&](long h, long sh, long o) {
    return for_csv ? std::vector<std::string>{std::to_string(h), std::to_string(sh), std::to_string(o)}
                   : std::vector<std::string>{std::to_string(h) + "/" + std::to_string(sh) + "/" + std::to_string(o)};
  };
  for (std::size_t k = 0; k < chains(ref); ++k) {
    const json& c = ref["chains"][k];
    std::vector<std::string> row{c["name"].get<std::string>(), c["resolution"].is_number() ? number(c["resolution"].get<double>(), "%.1f") : "NA"};
    for (const std::string& v : counts(c["helix_ca"].get<long>(), c["sheet_ca"].get<long>(), c["other_ca"].get<long>())) row.push_back(v);
    for (std::size_t i : which)
      for (const char* cls : kClasses) row.push_back(cell(chain_f1(s[i].test["chains"][k], cls), for_csv));
    t.rows.push_back(row);
  }
  std::vector<std::string> avg{for_csv ? "weighted average" : "**weighted average** (by helix / sheet Cα)", ""},
      micro{"pooled (micro) F1", ""};
  for (const std::string& v : counts(ca_sum(ref, "helix_ca"), ca_sum(ref, "sheet_ca"), ca_sum(ref, "other_ca"))) {
    avg.push_back(v);
    micro.push_back("");
  }
  for (std::size_t i : which)
    for (const char* cls : kClasses) {
      avg.push_back(cell(weighted(s[i].test, cls), for_csv));
      micro.push_back(cell(pooled(s[i].test, cls), for_csv));
    }
  t.rows.push_back(avg);
  t.rows.push_back(micro);
  return t;
}

json table2_json(const std::vector<ConfigScores>& s) {
  json out_chains = json::array(), averages = json::object();
  const json& ref = s.front().test;
  for (std::size_t k = 0; k < chains(ref); ++k) {
    const json& c = ref["chains"][k];
    json f1 = json::object();
    for (const ConfigScores& x : s)
      f1[x.config.name] = {{"helix", opt_json(chain_f1(x.test["chains"][k], "helix"))},
                           {"sheet", opt_json(chain_f1(x.test["chains"][k], "sheet"))}};
    out_chains.push_back({{"name", c["name"]}, {"resolution", c["resolution"]}, {"helix_ca", c["helix_ca"]},
                          {"sheet_ca", c["sheet_ca"]}, {"other_ca", c["other_ca"]}, {"f1", f1}});
  }
  for (const ConfigScores& x : s) averages[x.config.name] = x.test["averages"]["voxel"];
  return {{"level", "voxel"}, {"chains", out_chains}, {"averages", averages}};
}

// ---- paired tests ----------------------------------------------------------------------------

struct PairTest {
  std::size_t a, b;
  std::string cls;
  std::vector<double> fa, fb;  // the chains where both F1 are defined
  stats::WilcoxonResult r;
  double holm = NAN;
};

std::vector<PairTest> paired_tests(const std::vector<ConfigScores>& s, const std::vector<std::size_t>& chosen) {
  std::vector<PairTest> out;
  for (std::size_t i = 0; i < chosen.size(); ++i)
    for (std::size_t j = i + 1; j < chosen.size(); ++j)
      for (const char* cls : kClasses) {
        PairTest t{chosen[i], chosen[j], cls, {}, {}, {}, NAN};
        const json &a = s[t.a].test["chains"], &b = s[t.b].test["chains"];
        for (std::size_t k = 0; k < a.size(); ++k) {
          const Opt x = chain_f1(a[k], cls), y = chain_f1(b[k], cls);
          if (!x || !y) continue;
          t.fa.push_back(*x);
          t.fb.push_back(*y);
        }
        t.r = stats::wilcoxon(t.fa, t.fb);
        out.push_back(std::move(t));
      }
  std::vector<double> p;
  for (const PairTest& t : out) p.push_back(t.r.p);
  const std::vector<double> adjusted = stats::holm(p);
  for (std::size_t i = 0; i < out.size(); ++i) out[i].holm = adjusted[i];
  return out;
}

std::string reading(const std::vector<ConfigScores>& s, const PairTest& t) {
  if (t.r.n == 0) return "no test (no chain where the two differ)";
  if (!(t.holm < 0.05)) return "no difference shown (Holm p ≥ 0.05)";
  const std::string better = t.r.rank_biserial > 0 ? s[t.b].config.label() : s[t.a].config.label();
  return better + " higher on " + t.cls + " (Holm p < 0.05)";
}

Table tests_table(const std::vector<ConfigScores>& s, const std::vector<PairTest>& tests, bool for_csv) {
  Table t{{"a", "b", "class", "n", "zeros", "median_diff_b_minus_a", "w_plus", "w_minus", "p", "p_holm",
           "rank_biserial", "method"},
          {}};
  if (!for_csv)
    t.header = {"A", "B", "class", "chains (n ≠ 0)", "median F1 B − A", "W+ / W−", "p", "p (Holm)",
                "rank-biserial r", "method", "reading"};
  const auto p = [&](double v) { return std::isnan(v) ? (for_csv ? "" : "NA") : number(v, for_csv ? "%.6g" : "%.3g"); };
  for (const PairTest& x : tests) {
    const stats::WilcoxonResult& r = x.r;
    const std::string a = for_csv ? s[x.a].config.name : s[x.a].config.label(),
                      b = for_csv ? s[x.b].config.name : s[x.b].config.label();
    const std::string med = std::isnan(r.median_difference) ? "" : number(r.median_difference, for_csv ? "%.6f" : "%+.3f");
    const std::string rbc = std::isnan(r.rank_biserial) ? (for_csv ? "" : "NA") : number(r.rank_biserial, for_csv ? "%.6f" : "%+.2f");
    const std::string method = stats::method_name(r.method) + std::string(r.ties ? (for_csv ? "" : " (ties)") : "");
    if (for_csv)
      t.rows.push_back({a, b, x.cls, std::to_string(r.n), std::to_string(r.zeros), med, number(r.w_plus),
                        number(r.w_minus), p(r.p), p(x.holm), rbc, method});
    else
      t.rows.push_back({a, b, x.cls, std::to_string(r.n + r.zeros) + " (" + std::to_string(r.n) + ")", med,
                        number(r.w_plus) + " / " + number(r.w_minus), p(r.p), p(x.holm), rbc, method, reading(s, x)});
  }
  return t;
}

const char* const kTestsNote =
    "\nWilcoxon signed-rank test per pair of losses (their Table I configurations) over the test chains where both "
    "F1 are defined; chains with equal F1 are dropped (n counts the others). p is two-sided: exact for n ≤ 50 (with "
    "tied ranks, the exact conditional distribution), else the normal approximation with tie and continuity "
    "correction. p (Holm): adjusted for all the tests of this table together. r: matched-pairs rank-biserial "
    "correlation, positive when B scores higher; median F1 B − A over the same chains.\n";

json tests_json(const std::vector<ConfigScores>& s, const std::vector<PairTest>& tests) {
  json out = json::array();
  const auto nan_null = [](double v) { return std::isnan(v) ? json() : json(v); };
  for (const PairTest& x : tests)
    out.push_back({{"a", s[x.a].config.name}, {"b", s[x.b].config.name}, {"class", x.cls},
                   {"n", x.r.n}, {"zeros", x.r.zeros}, {"ties", x.r.ties},
                   {"w_plus", x.r.w_plus}, {"w_minus", x.r.w_minus}, {"statistic", x.r.statistic},
                   {"p", nan_null(x.r.p)}, {"p_holm", nan_null(x.holm)}, {"z", nan_null(x.r.z)},
                   {"method", stats::method_name(x.r.method)}, {"rank_biserial", nan_null(x.r.rank_biserial)},
                   {"median_difference", nan_null(x.r.median_difference)}, {"f1_a", x.fa}, {"f1_b", x.fb}});
  return {{"level", "voxel"}, {"split", "test"}, {"tests", out}};
}

// ---- Figure 5 ----------------------------------------------------------------------------------

plot::ScatterPlot dot_plot(const std::vector<ConfigScores>& s, const PairTest& t) {
  plot::ScatterPlot sp;
  const std::string differ = t.r.zeros > 0 ? " (" + std::to_string(t.r.n) + " differ)" : "";
  sp.axes.title = t.cls + " F1, " + std::to_string(t.fa.size()) + " chains" + differ + ": p = " +
                  (std::isnan(t.r.p) ? "NA" : number(t.r.p, "%.3g")) + ", r = " +
                  (std::isnan(t.r.rank_biserial) ? "NA" : number(t.r.rank_biserial, "%+.2f"));
  sp.axes.xlabel = s[t.a].config.label();
  sp.axes.ylabel = s[t.b].config.label();
  sp.axes.xmin = sp.axes.ymin = 0;
  sp.axes.xmax = sp.axes.ymax = 1;
  sp.series.push_back({"", t.cls == "helix" ? fig::kHelix : fig::kSheet, t.fa, t.fb, 4.0});
  return sp;
}

// Helix and sheet panels of one pair side by side.
std::string figure(const std::vector<ConfigScores>& s, const PairTest& helix, const PairTest& sheet, plot::Format f) {
  constexpr double kPanel = 380;
  plot::Canvas c(2 * kPanel, kPanel, f, f == plot::Format::png ? 2.0 : 1.0);
  c.fill(plot::kWhite);
  plot::draw(c, {0, 0, kPanel, kPanel}, dot_plot(s, helix));
  plot::draw(c, {kPanel, 0, kPanel, kPanel}, dot_plot(s, sheet));
  return c.finish();
}

std::string figure_name(const std::vector<ConfigScores>& s, const PairTest& t) {
  return "figure5/" + s[t.a].config.name + "_vs_" + s[t.b].config.name;
}

// ---- the page ----------------------------------------------------------------------------------

void html_table(plot::HtmlPage& page, const Table& t) {
  std::vector<plot::Cell> header(t.header.begin(), t.header.end());
  std::vector<std::vector<plot::Cell>> rows;
  for (const auto& r : t.rows) rows.emplace_back(r.begin(), r.end());
  page.table(header, rows);
}

}  // namespace

// ---- public ------------------------------------------------------------------------------------

std::string StudyConfig::label() const {
  return upper(loss) + (losses::has_focal(loss) ? " (γ=" + number(gamma) + ")" : "");
}

std::vector<StudyConfig> study_grid(const std::vector<std::string>& losses, const std::vector<float>& gammas) {
  for (const std::string& l : losses)
    if (std::find(losses::loss_names().begin(), losses::loss_names().end(), l) == losses::loss_names().end())
      throw std::invalid_argument("unknown loss " + l + " (ce, fce, dl, ce_dl, fce_dl)");
  for (float g : gammas)
    if (!(g >= 0)) throw std::invalid_argument("a focal γ must be 0 or more");
  std::vector<StudyConfig> grid;
  for (const std::string& l : losses::loss_names()) {
    if (std::find(losses.begin(), losses.end(), l) == losses.end()) continue;
    if (!losses::has_focal(l)) {
      grid.push_back({l, l, 0});
      continue;
    }
    if (gammas.empty()) throw std::invalid_argument("fce and fce_dl need at least one γ");
    for (float g : gammas) grid.push_back({l + "_g" + number(g), l, g});
  }
  return grid;
}

const std::vector<Published>& published_table1() {
  static const std::vector<Published> p{{"ce", 0, 60.1, 45.4},
                                        {"fce", 2, 62.1, 48.7},
                                        {"dl", 0, 60.0, 48.5},
                                        {"ce_dl", 0, 62.1, 50.2},
                                        {"fce_dl", 5, 61.9, 52.1}};
  return p;
}

double validation_score(const ConfigScores& s) {
  const Opt h = weighted(s.val, "helix"), sh = weighted(s.val, "sheet");
  if (h && sh) return 0.5 * (*h + *sh);
  return h ? *h : sh ? *sh : -1.0;
}

std::vector<std::size_t> choose_per_loss(const std::vector<ConfigScores>& scores) {
  std::vector<std::size_t> chosen;
  for (const std::string& loss : losses::loss_names()) {
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < scores.size(); ++i) {
      if (scores[i].config.loss != loss) continue;
      const double v = validation_score(scores[i]);
      const bool better = !best || v > validation_score(scores[*best]) ||
                          (v == validation_score(scores[*best]) && scores[i].config.gamma < scores[*best].config.gamma);
      if (better) best = i;
    }
    if (best) chosen.push_back(*best);
  }
  return chosen;
}

namespace {

void check_same_chains(const std::vector<ConfigScores>& s) {
  for (const ConfigScores& c : s) {
    if (c.test["chains"].size() != s.front().test["chains"].size())
      throw io::file_error(c.config.name + "/test.json", "scored on other test rows than " + s.front().config.name);
    for (std::size_t k = 0; k < c.test["chains"].size(); ++k)
      if (c.test["chains"][k]["name"] != s.front().test["chains"][k]["name"])
        throw io::file_error(c.config.name + "/test.json", "chain " + c.test["chains"][k]["name"].get<std::string>() +
                          " where " + s.front().config.name + " has " +
                          s.front().test["chains"][k]["name"].get<std::string>());
  }
}

std::string report_page(const std::vector<ConfigScores>& s, const std::vector<std::size_t>& chosen,
                        const std::vector<PairTest>& tests, const std::vector<std::pair<std::string, std::string>>& settings) {
  plot::HtmlPage page("sseunet reproduce: Mu et al. 2022, Tables I and II, Figure 5");
  page.heading("Table I: weighted F1 on the test chains, best γ per loss");
  html_table(page, table1(s, chosen, false));
  page.paragraph(table1_note(s));
  page.heading("Every configuration (validation chooses γ)", 3);
  html_table(page, sweep(s, chosen, false));
  page.heading("Table II: F1 per test chain");
  html_table(page, table2(s, chosen, false));
  page.heading("Paired tests");
  html_table(page, tests_table(s, tests, false));
  page.paragraph(kTestsNote);
  page.heading("Figure 5: per-chain F1, loss A against loss B");
  page.paragraph("One dot per test chain; above the diagonal, B (y axis) scores higher.");
  for (std::size_t i = 0; i + 1 < tests.size(); i += 2)
    page.image(figure(s, tests[i], tests[i + 1], plot::Format::png), figure_name(s, tests[i]), 760);
  page.heading("Settings");
  page.settings(settings);
  return page.str();
}

}  // namespace

StudyReport study_report(const std::vector<ConfigScores>& s,
                         const std::vector<std::pair<std::string, std::string>>& settings) {
  if (s.empty()) throw std::invalid_argument("study_report: no scored configuration");
  check_same_chains(s);
  const std::vector<std::size_t> chosen = choose_per_loss(s);
  std::vector<std::size_t> every(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) every[i] = i;
  const std::vector<PairTest> tests = paired_tests(s, chosen);
  StudyReport r;
  const std::string t1 = markdown(table1(s, chosen, false)) + table1_note(s);
  const std::string tests_md = markdown(tests_table(s, tests, false)) + kTestsNote;
  r.files = {{"table1.md", t1 + "\n" + markdown(sweep(s, chosen, false))},
             {"table1.csv", csv(table1(s, chosen, true))},
             {"table1.json", table1_json(s, chosen).dump(2) + "\n"},
             {"table2.md", markdown(table2(s, chosen, false))},
             {"table2.csv", csv(table2(s, every, true))},
             {"table2.json", table2_json(s).dump(2) + "\n"},
             {"wilcoxon.md", tests_md},
             {"wilcoxon.csv", csv(tests_table(s, tests, true))},
             {"wilcoxon.json", tests_json(s, tests).dump(2) + "\n"}};
  for (std::size_t i = 0; i + 1 < tests.size(); i += 2)
    for (const plot::Format f : {plot::Format::svg, plot::Format::png})
      r.files.push_back({figure_name(s, tests[i]) + (f == plot::Format::svg ? ".svg" : ".png"),
                         figure(s, tests[i], tests[i + 1], f)});
  r.files.push_back({"report.html", report_page(s, chosen, tests, settings)});
  r.summary = "Table I\n\n" + t1 + "\nPaired tests\n\n" + tests_md;
  return r;
}

}  // namespace sse::app
