// The fused kernel against the unfused oracle, and both against central differences, for every loss,
// on every device the build has (CPU, and CUDA — emulated in the SIM build, real on a GPU machine).
#include <gtest/gtest.h>

#include <cmath>

#include "engine/ops.h"
#include "losses/loss.h"
#include "tests/support/test_util.h"

namespace sse {
namespace {

using losses::LossConfig;

constexpr int kIgnore = 255;

// Labels with the study's imbalance (roughly 75 / 17 / 8 % here, to keep the sums non-trivial at
// small sizes), about 10 % ignored; sheet-free when no_sheet.
Tensor make_labels(const Shape& s, std::uint64_t seed, Device dev, int c = 3, bool no_sheet = false) {
  const std::vector<float> u = test::uniform(s, seed, 0.0f, 1.0f).to_vector<float>();
  const std::vector<float> v = test::uniform(s, seed + 1, 0.0f, 1.0f).to_vector<float>();
  std::vector<std::int32_t> l(u.size());
  for (std::size_t i = 0; i < u.size(); ++i) {
    int k = u[i] < 0.75f ? 0 : u[i] < 0.92f ? 1 : 2;
    if (c > 3 && u[i] > 0.96f) k = 3;
    if (no_sheet && k == 2) k = 1;
    l[i] = v[i] < 0.1f ? kIgnore : k;
  }
  return Tensor::from_vector(l, s, dev);
}

Shape logits_shape(const Shape& labels, index_t c) {
  Shape s;
  s.push_back(labels[0]);
  s.push_back(c);
  for (int i = 1; i < labels.rank(); ++i) s.push_back(labels[i]);
  return s;
}

std::vector<LossConfig> all_configs() {
  std::vector<LossConfig> v;
  auto add = [&](const std::string& name, float g, bool pc) {
    LossConfig c;
    c.name = name;
    c.gamma = g;
    c.per_class = pc;
    c.ignore_index = kIgnore;
    v.push_back(c);
  };
  add("ce", 0, false);
  for (float g : {1.0f, 2.0f, 5.0f, 8.0f}) add("fce", g, false);
  for (bool pc : {false, true}) {
    add("dl", 0, pc);
    add("ce_dl", 0, pc);
    for (float g : {1.0f, 2.0f, 5.0f, 8.0f}) add("fce_dl", g, pc);
  }
  v.push_back(v.back());
  v.back().lambda_a = 0.25f;
  v.back().lambda_b = 3.0f;
  return v;
}

struct Result {
  float loss;
  losses::LossTerms terms;
  std::vector<float> grad;
};

Result run(const LossConfig& cfg, const Tensor& logits, const Tensor& labels) {
  auto loss = losses::make_loss(cfg);
  Tensor x = logits.detach().set_requires_grad(true);
  Tensor l = loss->forward(x, labels);
  l.backward();
  return {l.item(), loss->last_terms(), x.grad().to_vector<float>()};
}

// max_i |a_i − b_i| / max_i |b_i|
double normwise(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    num = std::max(num, std::fabs(double(a[i]) - b[i]));
    den = std::max(den, std::fabs(double(b[i])));
  }
  return den > 0 ? num / den : num;
}

class FusedLoss : public ::testing::TestWithParam<Device> {};

// Fused == unfused to 1e-6 relative in the loss and both terms, for every configuration. Gradients
// are compared normwise (max |Δ| / max |g|) to 1e-6·(1 + γ): the gap is the oracle's own float32
// error, which grows with γ ((1 − p_t)^γ amplifies the rounding of 1 − p_t, and the engine's softmax
// backward p_j (g_j − Σ p_k g_k) cancels as p_j → 1). Measured against float64 PyTorch on this volume
// (fce_dl, γ = 0…8): fused 0.2–1.3e-6, unfused 0.4–6.0e-6, their difference 0.4–6.3e-6.
// On the CPU the volume spans several reduction chunks per image, so the chunk combine is exercised too.
TEST_P(FusedLoss, MatchesUnfusedComposition) {
  const Device dev = GetParam();
  const Shape ls = dev.is_cpu() ? Shape{2, 9, 20, 31} : Shape{2, 5, 7, 6};
  const Tensor labels = make_labels(ls, 11, dev);
  const Tensor logits = test::uniform(logits_shape(ls, 3), 12, -4.0f, 4.0f, dev);
  double worst_loss = 0, worst_grad = 0;
  for (LossConfig cfg : all_configs()) {
    SCOPED_TRACE(losses::make_loss(cfg)->describe());
    const Result f = run(cfg, logits, labels);
    cfg.fused = false;
    const Result u = run(cfg, logits, labels);
    const double el = std::fabs(f.loss - u.loss) / std::fabs(u.loss);
    EXPECT_LE(el, 1e-6) << f.loss << " vs " << u.loss;
    EXPECT_NEAR(f.terms.first, u.terms.first, 1e-6 * std::fabs(u.terms.first));
    EXPECT_NEAR(f.terms.dice_loss, u.terms.dice_loss, 1e-6 * std::fabs(u.terms.dice_loss));
    EXPECT_EQ(f.terms.counted, u.terms.counted);
    const double eg = normwise(f.grad, u.grad);
    EXPECT_LE(eg, 1e-6 * (1.0 + cfg.gamma));
    worst_loss = std::max(worst_loss, el);
    worst_grad = std::max(worst_grad, eg);
  }
  std::printf("[fused vs unfused %s] worst relative loss error %.2e, normwise gradient error %.2e\n",
              dev.str().c_str(), worst_loss, worst_grad);
}

// Central differences (tests/support) of each loss, fused and unfused. The loss is multiplied by the
// number of counted voxels so that its gradient is O(1) and the checker's max(|g|, 1) scale bites.
TEST_P(FusedLoss, GradientsMatchCentralDifferences) {
  const Device dev = GetParam();
  const Shape ls{2, 3, 4, 5};
  const Tensor labels = make_labels(ls, 21, dev);
  double counted = 0;
  for (std::int32_t l : labels.to_vector<std::int32_t>()) counted += l != kIgnore;
  Tensor x = test::uniform(logits_shape(ls, 3), 22, -3.0f, 3.0f, dev).set_requires_grad(true);
  // Every element on the CPU; a sample elsewhere (the CUDA kernels are checked against the CPU's).
  // Tolerance 2e-3 on O(1) gradients: a 2 % error in either the focal or the Dice part fails.
  const int points = dev.is_cpu() ? static_cast<int>(x.numel()) : 24;
  for (LossConfig cfg : all_configs()) {
    if (cfg.gamma == 1.0f || cfg.gamma == 8.0f) continue;  // keep the test short: γ = 0, 2, 5 probe the focal path
    for (bool fused : {true, false}) {
      cfg.fused = fused;
      auto loss = losses::make_loss(cfg);
      SCOPED_TRACE(loss->describe());
      test::check_gradients(
          [&](const std::vector<Tensor>& in) {
            return ops::scale(loss->forward(in[0], labels), static_cast<float>(counted));
          },
          {x}, {1e-2, 2e-3, points, 0.1});
    }
  }
}

// A chain without a single sheet voxel, and one batch whose voxels are all ignored: finite losses
// and gradients (the Dice ε), with the documented values in the all-ignored case.
TEST_P(FusedLoss, NoSheetAndAllIgnoredAreFinite) {
  const Device dev = GetParam();
  const Shape ls{2, 4, 5, 6};
  const Tensor logits = test::uniform(logits_shape(ls, 3), 31, -5.0f, 5.0f, dev);
  const Tensor no_sheet = make_labels(ls, 32, dev, 3, true);
  const Tensor ignored = Tensor::from_vector(std::vector<std::int32_t>(ls.numel(), kIgnore), ls, dev);
  for (const LossConfig& cfg : all_configs()) {
    SCOPED_TRACE(cfg.name);
    const Result r = run(cfg, logits, no_sheet);
    EXPECT_TRUE(std::isfinite(r.loss));
    for (float g : r.grad) ASSERT_TRUE(std::isfinite(g));
    const Result z = run(cfg, logits, ignored);
    EXPECT_EQ(z.loss, 0.0f);  // F = 0 (no counted voxel) and D = ε/ε = 1 per image
    EXPECT_EQ(z.terms.counted, 0.0);
    for (float g : z.grad) ASSERT_EQ(g, 0.0f);
  }
}

// Logits of magnitude 1e4 (far past float exp's range): the fused path stays finite and saturates.
TEST_P(FusedLoss, HugeLogitsStayFinite) {
  const Device dev = GetParam();
  const Shape ls{1, 3, 4, 5};
  const Tensor labels = make_labels(ls, 41, dev);
  const Tensor logits = test::uniform(logits_shape(ls, 3), 42, -1e4f, 1e4f, dev);
  for (const LossConfig& cfg : all_configs()) {
    const Result r = run(cfg, logits, labels);
    EXPECT_TRUE(std::isfinite(r.loss)) << cfg.name;
    for (float g : r.grad) ASSERT_TRUE(std::isfinite(g)) << cfg.name;
  }
}

// The Node's backward is pass 2 scaled by the incoming gradient, and gradients from other uses add.
TEST_P(FusedLoss, BackwardScalesWithIncomingGradient) {
  const Device dev = GetParam();
  const Shape ls{2, 3, 4, 5};
  const Tensor labels = make_labels(ls, 51, dev);
  LossConfig cfg;
  cfg.name = "fce_dl";
  cfg.gamma = 2.0f;
  cfg.ignore_index = kIgnore;
  Tensor w = test::uniform(logits_shape(ls, 3), 52, -2.0f, 2.0f, dev).set_requires_grad(true);
  auto loss = losses::make_loss(cfg);
  loss->forward(ops::scale(w, 1.0f), labels).backward();
  const std::vector<float> g1 = w.grad().to_vector<float>();
  w.zero_grad();
  const Tensor l = loss->forward(ops::scale(w, 1.0f), labels);
  ops::add(ops::scale(l, 3.0f), l).backward();  // d/dw (3L + L) = 4 dL/dw
  const std::vector<float> g4 = w.grad().to_vector<float>();
  for (std::size_t i = 0; i < g1.size(); ++i) EXPECT_NEAR(g4[i], 4.0f * g1[i], 1e-6f * std::fabs(4.0f * g1[i]) + 1e-12f);
}

// More than three classes goes through the generic (runtime C) path of both kernels.
TEST_P(FusedLoss, FourClassesMatchUnfused) {
  const Device dev = GetParam();
  const Shape ls{2, 3, 5, 7};
  const Tensor labels = make_labels(ls, 61, dev, 4);
  const Tensor logits = test::uniform(logits_shape(ls, 4), 62, -3.0f, 3.0f, dev);
  for (bool pc : {false, true}) {
    LossConfig cfg;
    cfg.name = "fce_dl";
    cfg.gamma = 2.0f;
    cfg.per_class = pc;
    cfg.ignore_index = kIgnore;
    const Result f = run(cfg, logits, labels);
    cfg.fused = false;
    const Result u = run(cfg, logits, labels);
    EXPECT_NEAR(f.loss, u.loss, 1e-6 * std::fabs(u.loss));
    EXPECT_LE(normwise(f.grad, u.grad), 1e-6 * (1.0 + cfg.gamma));
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, FusedLoss, ::testing::ValuesIn(test::test_devices()), test::device_name);

}  // namespace
}  // namespace sse
