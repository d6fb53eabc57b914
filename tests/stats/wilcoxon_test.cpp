// The Wilcoxon signed-rank test against scipy.stats.wilcoxon (exact without ties; normal
// approximation with tie and continuity correction) and brute-force enumeration of the 2^n sign
// patterns (exact with tied ranks): tests/reference/make_wilcoxon_fixtures.py wrote the numbers.
#include "stats/wilcoxon.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace sse::stats {
namespace {

struct Reference {
  std::string name;
  std::vector<double> a, b;
  std::string method;
  double w_plus, w_minus, p, z, rank_biserial, median_difference;
};

const std::vector<Reference>& references() {
  static const std::vector<Reference> cases{
#include "tests/data/stats/wilcoxon_reference.inc"
  };
  return cases;
}

// p-values: the exact ones are ratios of integer counts (scipy sums a pmf in double), the normal
// ones a few erfc evaluations: 1e-12 relative is far above either rounding and far below any
// difference a wrong rank, tie or correction would make (the smallest such effect here is ~1e-3).
TEST(Wilcoxon, MatchesScipyAndEnumeration) {
  ASSERT_EQ(references().size(), 8u);
  for (const Reference& ref : references()) {
    SCOPED_TRACE(ref.name);
    const Method m = ref.method == "exact" ? Method::exact : Method::normal;
    const WilcoxonResult r = wilcoxon(ref.a, ref.b, m);
    EXPECT_EQ(r.method, m);
    EXPECT_DOUBLE_EQ(r.w_plus, ref.w_plus);
    EXPECT_DOUBLE_EQ(r.w_minus, ref.w_minus);
    EXPECT_DOUBLE_EQ(r.statistic, std::min(ref.w_plus, ref.w_minus));
    EXPECT_NEAR(r.p, ref.p, 1e-12 * ref.p);
    if (m == Method::normal) {
      EXPECT_NEAR(r.z, ref.z, 1e-12 * std::fabs(ref.z));
    }
    EXPECT_NEAR(r.rank_biserial, ref.rank_biserial, 1e-15);
    EXPECT_DOUBLE_EQ(r.median_difference, ref.median_difference);
  }
}

TEST(Wilcoxon, AutomaticIsExactUpTo50PairsThenNormal) {
  for (const Reference& ref : references()) {
    const WilcoxonResult r = wilcoxon(ref.a, ref.b);
    EXPECT_EQ(r.method, r.n <= kExactMaxN ? Method::exact : Method::normal) << ref.name;
    if (ref.method == "exact" || r.n > kExactMaxN) {
      EXPECT_NEAR(r.p, ref.p, 1e-12 * ref.p) << ref.name;
    }
  }
}

TEST(Wilcoxon, CountsZerosAndTies) {
  const WilcoxonResult r = wilcoxon({0.5, 0.5, 0.25, 0.1}, {0.5, 0.75, 0.5, 0.3});
  EXPECT_EQ(r.n, 3);
  EXPECT_EQ(r.zeros, 1);
  EXPECT_TRUE(r.ties);  // 0.25 and 0.25
  EXPECT_DOUBLE_EQ(r.w_plus, 6);
  EXPECT_DOUBLE_EQ(r.rank_biserial, 1);
  EXPECT_DOUBLE_EQ(r.median_difference, 0.225);  // of 0, 0.25, 0.25, 0.2
  EXPECT_DOUBLE_EQ(r.p, 0.25);                   // 2 of 8 sign patterns are as extreme
  EXPECT_FALSE(wilcoxon({1, 2}, {2, 4}).ties);
}

TEST(Wilcoxon, SwappingTheSamplesFlipsTheEffectNotTheP) {
  const Reference& ref = references()[1];
  const WilcoxonResult ab = wilcoxon(ref.a, ref.b), ba = wilcoxon(ref.b, ref.a);
  EXPECT_DOUBLE_EQ(ab.p, ba.p);
  EXPECT_DOUBLE_EQ(ab.rank_biserial, -ba.rank_biserial);
  EXPECT_DOUBLE_EQ(ab.w_plus, ba.w_minus);
}

TEST(Wilcoxon, NoTestWithoutADifference) {
  const WilcoxonResult same = wilcoxon({0.1, 0.2}, {0.1, 0.2});
  EXPECT_EQ(same.n, 0);
  EXPECT_EQ(same.zeros, 2);
  EXPECT_TRUE(std::isnan(same.p));
  EXPECT_TRUE(std::isnan(same.rank_biserial));
  EXPECT_DOUBLE_EQ(same.median_difference, 0);
  EXPECT_TRUE(std::isnan(wilcoxon({}, {}).median_difference));
  EXPECT_THROW(wilcoxon({1, 2}, {1}), std::invalid_argument);
  EXPECT_THROW(wilcoxon({1, NAN}, {1, 2}), std::invalid_argument);
}

TEST(Wilcoxon, MidranksAverageTiedRanks) {
  EXPECT_EQ(midranks({0.3, 0.1, 0.3, 0.2, 0.3}), (std::vector<double>{4, 1, 4, 2, 4}));
  EXPECT_EQ(midranks({2, 2}), (std::vector<double>{1.5, 1.5}));
}

// Holm on a worked example: sorted p 0.01, 0.02, 0.03, 0.04 × 4, 3, 2, 1 = 0.04, 0.06, 0.06, 0.04,
// made non-decreasing: 0.04, 0.06, 0.06, 0.06.
TEST(Wilcoxon, HolmAdjustsStepDown) {
  const std::vector<double> adj = holm({0.03, 0.01, NAN, 0.04, 0.02});
  EXPECT_NEAR(adj[1], 0.04, 1e-15);
  EXPECT_NEAR(adj[4], 0.06, 1e-15);
  EXPECT_NEAR(adj[0], 0.06, 1e-15);
  EXPECT_NEAR(adj[3], 0.06, 1e-15);
  EXPECT_TRUE(std::isnan(adj[2]));
  EXPECT_DOUBLE_EQ(holm({0.6, 0.7})[0], 1.0);
}

}  // namespace
}  // namespace sse::stats
