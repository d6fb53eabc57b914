// stats/wilcoxon.h — the Wilcoxon signed-rank test of paired samples, with its effect size, and
// Holm's adjustment of a family of p-values: "loss B beats loss A on sheets" as a measured
// statement over the test chains, not a reading of two averages.
//
// Contract:
//  * wilcoxon(a, b): the pairs (a[i], b[i]) and their differences d = b − a (positive: b larger).
//    Zero differences are dropped (Wilcoxon's rule; scipy's zero_method="wilcox"); the n non-zero
//    |d| are ranked 1..n, ties taking the mean of their ranks; w_plus and w_minus are the rank sums
//    of the positive and negative differences (w_plus + w_minus = n(n+1)/2); `statistic` is the
//    smaller of the two (scipy's two-sided statistic). Differences are compared exactly (F1 values
//    from the same counts are equal bit for bit).
//  * p is two-sided. Method::exact: the exact null distribution of w_plus given the ranks (every
//    one of the 2^n sign assignments equally likely), counted over doubled ranks so tied (mid)ranks
//    stay exact; p = min(1, 2·min(P(W ≤ w_plus), P(W ≥ w_plus))). Without ties this is the classic
//    exact test (equal to scipy.stats.wilcoxon(method="exact")); with ties it is the exact
//    conditional (permutation) test. Method::normal: z = (statistic − n(n+1)/4 − ½·sign(·)) / σ
//    with σ² = (n(n+1)(2n+1) − ½ Σ t(t²−1)) / 24 over tie groups of size t (tie correction) and the
//    ½ continuity correction; p = 2·(1 − Φ(|z|)) (scipy's method="approx", correction=True).
//    Method::automatic: exact for n ≤ kExactMaxN, else normal.
//  * Effect: rank_biserial = (w_plus − w_minus) / (w_plus + w_minus), the matched-pairs rank-biserial
//    correlation (Kerby 2014) in [−1, 1], positive when b tends to be larger; median_difference =
//    the median of all differences b − a (zeros included).
//  * No non-zero difference (n = 0: the samples agree everywhere, or are empty): p, z and
//    rank_biserial are NaN (no test is possible). a and b of different lengths throw
//    std::invalid_argument; NaN values are the caller's to remove (they throw too).
//  * holm(p): Holm's step-down adjustment for a family of tests (controls the family-wise error
//    rate): the k-th smallest p times (m − k + 1), made non-decreasing in that order, capped at 1;
//    NaN entries are left out of the family and stay NaN.
#pragma once

#include <cmath>
#include <vector>

namespace sse::stats {

enum class Method { automatic, exact, normal };
inline constexpr int kExactMaxN = 50;

struct WilcoxonResult {
  int n = 0;      // pairs in the test (non-zero differences)
  int zeros = 0;  // pairs dropped for a zero difference
  bool ties = false;
  double w_plus = 0, w_minus = 0, statistic = 0;
  double p = NAN, z = NAN;  // z: Method::normal only
  Method method = Method::exact;
  double rank_biserial = NAN, median_difference = NAN;
};

WilcoxonResult wilcoxon(const std::vector<double>& a, const std::vector<double>& b,
                        Method method = Method::automatic);

// Ranks 1..n of `values` in increasing order, tied values taking the mean of their ranks.
std::vector<double> midranks(const std::vector<double>& values);

std::vector<double> holm(const std::vector<double>& p);

const char* method_name(Method m);  // "exact", "normal" ("auto" for automatic)

}  // namespace sse::stats
