// tests/losses/loss_fixture.h — reader of the PyTorch loss fixtures written by
// tests/reference/make_loss_fixtures.py (format documented there), and the comparison the loss tests use.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "losses/loss.h"

namespace sse::test {

struct LossFixture {
  std::string case_name;            // file stem, e.g. "fce_dl_g5_pooled"
  losses::LossConfig cfg;
  std::vector<index_t> dims;        // logits (N, C, ...)
  std::vector<float> logits;
  std::vector<std::int32_t> labels;
  double loss = 0, first = 0, dice_loss = 0;
  std::vector<double> grad;

  Shape logits_shape() const { return Shape(dims.begin(), dims.end()); }
  Shape labels_shape() const {
    Shape s;
    s.push_back(dims[0]);
    for (std::size_t i = 2; i < dims.size(); ++i) s.push_back(dims[i]);
    return s;
  }
};

inline LossFixture read_loss_fixture(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open fixture " + path);
  auto rd = [&](void* p, std::size_t n) {
    f.read(static_cast<char*>(p), static_cast<std::streamsize>(n));
    if (!f) throw std::runtime_error("truncated fixture " + path);
  };
  LossFixture fx;
  fx.case_name = std::filesystem::path(path).stem().string();
  char magic[8], name[9] = {};
  rd(magic, 8);
  if (std::memcmp(magic, "SSELOSS1", 8) != 0) throw std::runtime_error("not a loss fixture: " + path);
  rd(name, 8);
  fx.cfg.name = name;
  float fl[4];
  std::int32_t in[2], rank;
  rd(fl, sizeof fl);
  rd(in, sizeof in);
  fx.cfg.gamma = fl[0];
  fx.cfg.eps = fl[1];
  fx.cfg.lambda_a = fl[2];
  fx.cfg.lambda_b = fl[3];
  fx.cfg.per_class = in[0] != 0;
  fx.cfg.ignore_index = in[1];
  rd(&rank, 4);
  if (rank < 2 || rank > 5) throw std::runtime_error("bad rank in " + path);
  index_t numel = 1;
  for (int i = 0; i < rank; ++i) {
    std::int32_t d;
    rd(&d, 4);
    fx.dims.push_back(d);
    numel *= d;
  }
  fx.logits.resize(static_cast<std::size_t>(numel));
  fx.labels.resize(static_cast<std::size_t>(numel / fx.dims[1]));
  fx.grad.resize(static_cast<std::size_t>(numel));
  rd(fx.logits.data(), fx.logits.size() * 4);
  rd(fx.labels.data(), fx.labels.size() * 4);
  double v[3];
  rd(v, sizeof v);
  fx.loss = v[0];
  fx.first = v[1];
  fx.dice_loss = v[2];
  rd(fx.grad.data(), fx.grad.size() * 8);
  return fx;
}

// All fixtures of tests/data/losses, sorted by name.
inline std::vector<std::string> loss_fixture_paths() {
  std::vector<std::string> paths;
  const std::filesystem::path dir = std::filesystem::path(SSE_TEST_DATA_DIR) / "losses";
  if (std::filesystem::is_directory(dir))
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.path().extension() == ".bin") paths.push_back(e.path().string());
  std::sort(paths.begin(), paths.end());
  return paths;
}

// The gradient comparison of the loss tests: every element within rtol of the expected value, where
// "relative" is to max(|expected_i|, floor·max_j |expected_j|) — elements far below the tensor's scale
// (saturated voxels, 1e-40) are compared absolutely at that scale instead of relatively.
// `worst` receives the largest such error.
inline ::testing::AssertionResult grad_close(const std::vector<float>& got, const std::vector<double>& want,
                                             double rtol, double floor = 1e-3, double* worst = nullptr) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << "sizes " << got.size() << " vs " << want.size();
  double scale = 0;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  double e_max = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double ref = std::max(std::fabs(want[i]), floor * scale);
    const double e = ref > 0 ? std::fabs(got[i] - want[i]) / ref : std::fabs(got[i] - want[i]);
    if (!(e <= e_max)) {
      e_max = std::isnan(e) ? INFINITY : e;
      at = i;
    }
  }
  if (worst) *worst = e_max;
  if (e_max <= rtol) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "worst relative gradient error " << e_max << " > " << rtol << " at " << at
                                       << ": " << got[at] << " vs " << want[at];
}

inline double rel_err(double got, double want) {
  return std::fabs(got - want) / std::max(std::fabs(want), 1e-6);
}

}  // namespace sse::test
