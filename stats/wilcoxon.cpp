// stats/wilcoxon.cpp — see wilcoxon.h for the contract.
#include "stats/wilcoxon.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace sse::stats {

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// Two-sided exact p of the observed w_plus: the null distribution of the sum of doubled ranks
// carrying a + sign, each of the 2^n sign patterns equally likely (counts in double: exact up to
// 2^53, and n ≤ kExactMaxN keeps every count below 2^50).
double exact_p(const std::vector<double>& ranks, double w_plus) {
  std::vector<int> twice(ranks.size());
  for (std::size_t i = 0; i < ranks.size(); ++i) twice[i] = static_cast<int>(std::lround(2 * ranks[i]));
  const int total = std::accumulate(twice.begin(), twice.end(), 0);
  std::vector<double> count(static_cast<std::size_t>(total) + 1, 0.0);
  count[0] = 1;
  int reach = 0;
  for (const int r : twice) {
    for (int s = reach; s >= 0; --s)
      if (count[static_cast<std::size_t>(s)] > 0) count[static_cast<std::size_t>(s + r)] += count[static_cast<std::size_t>(s)];
    reach += r;
  }
  const int observed = static_cast<int>(std::lround(2 * w_plus));
  double le = 0, ge = 0, all = 0;
  for (int s = 0; s <= total; ++s) {
    const double c = count[static_cast<std::size_t>(s)];
    all += c;
    if (s <= observed) le += c;
    if (s >= observed) ge += c;
  }
  return std::min(1.0, 2 * std::min(le, ge) / all);
}

// Normal approximation with the tie and continuity corrections; sets z.
double normal_p(const std::vector<double>& abs_d, double statistic, double& z) {
  const double n = static_cast<double>(abs_d.size());
  double var = n * (n + 1) * (2 * n + 1);
  std::vector<double> sorted = abs_d;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size();) {
    std::size_t j = i;
    while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
    const double t = static_cast<double>(j - i);
    var -= 0.5 * t * (t * t - 1);
    i = j;
  }
  const double mean = n * (n + 1) / 4, se = std::sqrt(var / 24);
  const double shift = statistic > mean ? 0.5 : statistic < mean ? -0.5 : 0.0;
  z = se > 0 ? (statistic - mean - shift) / se : 0.0;
  return std::min(1.0, std::erfc(std::fabs(z) / std::sqrt(2.0)));  // 2 (1 − Φ(|z|))
}

}  // namespace

std::vector<double> midranks(const std::vector<double>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return values[i] < values[j]; });
  std::vector<double> ranks(values.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j < order.size() && values[order[j]] == values[order[i]]) ++j;
    const double mean_rank = 0.5 * static_cast<double>(i + 1 + j);  // ranks i+1 .. j
    for (std::size_t k = i; k < j; ++k) ranks[order[k]] = mean_rank;
    i = j;
  }
  return ranks;
}

WilcoxonResult wilcoxon(const std::vector<double>& a, const std::vector<double>& b, Method method) {
  if (a.size() != b.size()) throw std::invalid_argument("wilcoxon: samples of different lengths");
  WilcoxonResult r;
  std::vector<double> all, nonzero, abs_d;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) throw std::invalid_argument("wilcoxon: NaN value");
    const double d = b[i] - a[i];
    all.push_back(d);
    if (d == 0) {
      ++r.zeros;
      continue;
    }
    nonzero.push_back(d);
    abs_d.push_back(std::fabs(d));
  }
  r.median_difference = median(all);
  r.n = static_cast<int>(nonzero.size());
  r.method = method == Method::automatic ? (r.n <= kExactMaxN ? Method::exact : Method::normal) : method;
  if (r.n == 0) return r;
  const std::vector<double> ranks = midranks(abs_d);
  for (std::size_t i = 0; i < ranks.size(); ++i) (nonzero[i] > 0 ? r.w_plus : r.w_minus) += ranks[i];
  std::vector<double> sorted = abs_d;
  std::sort(sorted.begin(), sorted.end());
  r.ties = std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end();
  r.statistic = std::min(r.w_plus, r.w_minus);
  r.rank_biserial = (r.w_plus - r.w_minus) / (r.w_plus + r.w_minus);
  r.p = r.method == Method::exact ? exact_p(ranks, r.w_plus) : normal_p(abs_d, r.statistic, r.z);
  return r;
}

std::vector<double> holm(const std::vector<double>& p) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!std::isnan(p[i])) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return p[i] < p[j]; });
  std::vector<double> out(p.size(), NAN);
  double running = 0;
  const double m = static_cast<double>(order.size());
  for (std::size_t k = 0; k < order.size(); ++k) {
    running = std::max(running, std::min(1.0, (m - static_cast<double>(k)) * p[order[k]]));
    out[order[k]] = running;
  }
  return out;
}

const char* method_name(Method m) {
  switch (m) {
    case Method::exact:
      return "exact";
    case Method::normal:
      return "normal";
    default:
      return "auto";
  }
}

}  // namespace sse::stats
