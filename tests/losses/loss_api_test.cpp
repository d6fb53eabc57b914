// The Loss interface: made by name, configuration and input errors, the logged terms, γ = 0 ≡ CE,
// determinism (bit for bit, whatever the thread count), and autograd wiring.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>

#include "engine/ops.h"
#include "losses/loss.h"
#include "tests/support/test_util.h"

namespace sse {
namespace {

using losses::LossConfig;
using losses::LossError;

LossConfig config(const std::string& name, float gamma = 0.0f, bool per_class = false) {
  LossConfig c;
  c.name = name;
  c.gamma = gamma;
  c.per_class = per_class;
  c.ignore_index = 255;
  return c;
}

Tensor labels_for(const Shape& s, std::uint64_t seed) {
  const std::vector<float> u = test::uniform(s, seed, 0.0f, 1.0f).to_vector<float>();
  std::vector<std::int32_t> l(u.size());
  for (std::size_t i = 0; i < u.size(); ++i) l[i] = u[i] < 0.05f ? 255 : u[i] < 0.7f ? 0 : u[i] < 0.9f ? 1 : 2;
  return Tensor::from_vector(l, s);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const LossError& e) {
    return e.what();
  }
  return "";
}

TEST(LossApi, FiveLossesByName) {
  ASSERT_EQ(losses::loss_names(), (std::vector<std::string>{"ce", "fce", "dl", "ce_dl", "fce_dl"}));
  const Tensor x = test::uniform(Shape{1, 3, 4, 5, 6}, 1, -2.0f, 2.0f);
  const Tensor y = labels_for(Shape{1, 4, 5, 6}, 2);
  for (const std::string& n : losses::loss_names()) {
    auto loss = losses::make_loss(config(n, n[0] == 'f' ? 2.0f : 0.0f));
    EXPECT_EQ(loss->name(), n);
    EXPECT_EQ(loss->describe().rfind(n + "(", 0), 0u) << loss->describe();
    const float v = loss->forward(x, y).item();
    EXPECT_TRUE(std::isfinite(v) && v > 0.0f) << n;
    EXPECT_EQ(loss->last_terms().loss, v);
  }
  EXPECT_EQ(losses::make_loss(config("fce_dl", 5.0f))->describe(),
            "fce_dl(gamma=5, dice=pooled, eps=1e-05, lambda_a=1, lambda_b=1, ignore=255, fused)");
  EXPECT_EQ(losses::make_reference_loss(config("ce"))->describe(), "ce(ignore=255, unfused)");
}

TEST(LossApi, UnknownNameListsTheValidOnes) {
  const std::string e = error_of([] { losses::make_loss(config("focal")); });
  EXPECT_NE(e.find("unknown loss 'focal'"), std::string::npos) << e;
  EXPECT_NE(e.find("ce, fce, dl, ce_dl, fce_dl"), std::string::npos) << e;
}

TEST(LossApi, BadConfigurationsAreRefused) {
  EXPECT_NE(error_of([] { losses::make_loss(config("fce", -1.0f)); }).find("gamma"), std::string::npos);
  EXPECT_NE(error_of([] { losses::make_loss(config("fce", NAN)); }).find("gamma"), std::string::npos);
  EXPECT_NE(error_of([] { losses::make_loss(config("ce", 2.0f)); }).find("use fce"), std::string::npos);
  EXPECT_NE(error_of([] { losses::make_loss(config("ce_dl", 2.0f)); }).find("use fce_dl"), std::string::npos);
  EXPECT_NE(error_of([] { losses::make_loss(config("dl", 1.0f)); }).find("no effect"), std::string::npos);
  LossConfig c = config("dl");
  c.eps = 0.0f;
  EXPECT_NE(error_of([&] { losses::make_loss(c); }).find("eps"), std::string::npos);
  c = config("ce_dl");
  c.lambda_b = -1.0f;
  EXPECT_NE(error_of([&] { losses::make_loss(c); }).find("lambda"), std::string::npos);
}

TEST(LossApi, BadInputsAreRefused) {
  for (bool fused : {true, false}) {
    LossConfig cfg = config("fce_dl", 2.0f);
    cfg.fused = fused;
    auto loss = losses::make_loss(cfg);
    const Tensor x = test::uniform(Shape{2, 3, 2, 3, 4}, 3);
    std::vector<std::int32_t> l(2 * 2 * 3 * 4, 0);
    l[1 * 24 + 1 * 12 + 2 * 4 + 3] = 7;  // image 1, voxel (1, 2, 3)
    l[1 * 24 + 1 * 12 + 2 * 4 + 2] = 255;
    const std::string e = error_of([&] { loss->forward(x, Tensor::from_vector(l, Shape{2, 2, 3, 4})); });
    EXPECT_NE(e.find("1 label(s) outside 0..2 (ignore_index 255)"), std::string::npos) << e;
    EXPECT_NE(e.find("value 7 at (1, 1, 2, 3)"), std::string::npos) << e;
    l[5] = -1;  // −1 is not the ignore value here: also refused
    EXPECT_NE(error_of([&] { loss->forward(x, Tensor::from_vector(l, Shape{2, 2, 3, 4})); }).find("2 label(s)"),
              std::string::npos);
    const Tensor good = Tensor::zeros(Shape{2, 2, 3, 4}, DType::I32);
    EXPECT_NE(error_of([&] { loss->forward(x, Tensor::zeros(Shape{2, 2, 3, 5}, DType::I32)); }).find("do not match"),
              std::string::npos);
    EXPECT_NE(error_of([&] { loss->forward(x, Tensor::zeros(Shape{2, 2, 3, 4})); }).find("int32"), std::string::npos);
    EXPECT_NE(error_of([&] { loss->forward(test::uniform(Shape{2, 1, 2, 3, 4}, 4), good); }).find("classes"),
              std::string::npos);
  }
  LossConfig cfg = config("dl");
  cfg.ignore_index = 2;
  EXPECT_NE(error_of([&] {
              losses::make_loss(cfg)->forward(test::uniform(Shape{1, 3, 2, 2, 2}, 5), Tensor::zeros(Shape{1, 2, 2, 2}, DType::I32));
            }).find("ignore_index 2 is one of the 3 class labels"),
            std::string::npos);
}

// γ = 0 is cross entropy exactly: the same kernel, the same bits.
TEST(LossApi, FocalWithGammaZeroIsCrossEntropy) {
  const Tensor x = test::uniform(Shape{2, 3, 5, 6, 7}, 6, -3.0f, 3.0f);
  const Tensor y = labels_for(Shape{2, 5, 6, 7}, 7);
  for (auto [a, b] : {std::pair<std::string, std::string>{"ce", "fce"}, {"ce_dl", "fce_dl"}}) {
    Tensor xa = x.detach().set_requires_grad(true), xb = x.detach().set_requires_grad(true);
    const Tensor la = losses::make_loss(config(a))->forward(xa, y);
    const Tensor lb = losses::make_loss(config(b, 0.0f))->forward(xb, y);
    EXPECT_EQ(la.item(), lb.item()) << a;
    la.backward();
    lb.backward();
    EXPECT_EQ(xa.grad().to_vector<float>(), xb.grad().to_vector<float>()) << a;
  }
}

// The logged terms add up as the configuration says, for both paths.
TEST(LossApi, TermsAddUp) {
  const Tensor x = test::uniform(Shape{2, 3, 4, 5, 6}, 8, -3.0f, 3.0f);
  const Tensor y = labels_for(Shape{2, 4, 5, 6}, 9);
  for (bool fused : {true, false}) {
    LossConfig cfg = config("fce_dl", 2.0f);
    cfg.lambda_a = 0.5f;
    cfg.lambda_b = 2.0f;
    cfg.fused = fused;
    auto loss = losses::make_loss(cfg);
    const float v = loss->forward(x, y).item();
    const losses::LossTerms t = loss->last_terms();
    EXPECT_NEAR(v, 0.5f * t.first + 2.0f * t.dice_loss, 1e-6f * v);
    EXPECT_GT(t.dice_loss, 0.0f);
    EXPECT_LT(t.dice_loss, 1.0f);
    std::size_t counted = 0;
    for (std::int32_t l : y.to_vector<std::int32_t>()) counted += l != 255;
    EXPECT_EQ(t.counted, static_cast<double>(counted));
    auto ce = losses::make_loss(config("ce"));
    ce->forward(x, y);
    auto dl = losses::make_loss(config("dl"));
    EXPECT_NEAR(dl->forward(x, y).item(), t.dice_loss, 1e-6f);
    EXPECT_NEAR(dl->last_terms().first, ce->last_terms().first, 1e-6f);  // "dl" logs CE as its first term
  }
}

// Bit for bit: twice in a row, and with 1 or 2 OpenMP threads (fixed chunk partition).
TEST(LossApi, DeterministicWhateverTheThreadCount) {
  const Tensor x = test::uniform(Shape{2, 3, 17, 19, 23}, 10, -3.0f, 3.0f);
  const Tensor y = labels_for(Shape{2, 17, 19, 23}, 11);
  auto run = [&](int threads) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    Tensor xx = x.detach().set_requires_grad(true);
    const Tensor l = losses::make_loss(config("fce_dl", 5.0f, true))->forward(xx, y);
    l.backward();
    omp_set_num_threads(saved);
    return std::make_pair(l.item(), xx.grad().to_vector<float>());
  };
  const auto a = run(2), b = run(2), c = run(1);
  EXPECT_EQ(a.first, b.first);
  EXPECT_EQ(a.first, c.first);
  EXPECT_EQ(a.second, b.second);
  EXPECT_EQ(a.second, c.second);
}

TEST(LossApi, RecordsAutogradOnlyWhenAsked) {
  const Tensor y = labels_for(Shape{1, 3, 4, 5}, 12);
  auto loss = losses::make_loss(config("fce_dl", 2.0f));
  const Tensor plain = test::uniform(Shape{1, 3, 3, 4, 5}, 13);
  EXPECT_FALSE(loss->forward(plain, y).requires_grad());
  Tensor w = test::uniform(Shape{1, 3, 3, 4, 5}, 14).set_requires_grad(true);
  {
    NoGradGuard ng;
    EXPECT_FALSE(loss->forward(w, y).requires_grad());
  }
  // Through an op: the gradient reaches the leaf behind it.
  const Tensor l = loss->forward(ops::scale(w, 2.0f), y);
  ASSERT_TRUE(l.requires_grad());
  EXPECT_EQ(l.rank(), 0);
  l.backward();
  ASSERT_TRUE(w.grad().defined());
  double norm = 0;
  for (float g : w.grad().to_vector<float>()) norm += std::fabs(g);
  EXPECT_GT(norm, 0.0);
}


// Parts of a batch with the whole batch's denominators (LossShare) add up to the whole batch: the
// losses, and each part's gradient is the whole gradient's rows. The data-parallel trainer relies on
// it. Uneven parts (1 and 3 images) and ignored voxels make the shares differ from 1/2. Tolerance:
// float sums over ~200 voxels in another order, ~1e-6 relative.
TEST(LossApi, SharesOfABatchAddUpToTheBatch) {
  const Shape xs{4, 3, 3, 4, 5};
  const Tensor y = labels_for(Shape{4, 3, 4, 5}, 15);
  double counted = 0;
  for (std::int32_t l : y.to_vector<std::int32_t>()) counted += l != 255;
  for (bool fused : {true, false}) {
    for (bool per_class : {false, true}) {
      LossConfig cfg = config("fce_dl", 2.0f, per_class);
      cfg.fused = fused;
      auto loss = losses::make_loss(cfg);
      Tensor whole = test::uniform(xs, 16, -2.0f, 2.0f).set_requires_grad(true);
      const Tensor l = loss->forward(whole, y);
      l.backward();
      const std::vector<float> g = whole.grad().to_vector<float>();
      double sum = 0;
      for (const auto& [b, e] : {std::pair<index_t, index_t>{0, 1}, {1, 4}}) {
        Tensor part = whole.detach().slice_batch(b, e).clone().set_requires_grad(true);
        const Tensor lp = loss->forward(part, y.slice_batch(b, e), losses::LossShare{counted, 4.0});
        sum += lp.item();
        lp.backward();
        const std::vector<float> gp = part.grad().to_vector<float>();
        const std::size_t off = static_cast<std::size_t>(b * xs.tail(1));
        for (std::size_t i = 0; i < gp.size(); ++i) ASSERT_NEAR(gp[i], g[off + i], 1e-6f * (1.0f + std::fabs(g[off + i])));
      }
      EXPECT_NEAR(sum, l.item(), 2e-6 * std::fabs(l.item())) << "fused " << fused << " per_class " << per_class;
    }
  }
}

}  // namespace
}  // namespace sse
