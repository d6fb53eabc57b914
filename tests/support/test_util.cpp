#include "tests/support/test_util.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine/ops.h"

namespace sse::test {

std::vector<Device> test_devices() {
  std::vector<Device> d{Device::cpu()};
  if (cuda_device_count() > 0) d.push_back(Device::cuda(0));
  return d;
}

std::string device_name(const testing::TestParamInfo<Device>& info) {
  return info.param.is_cpu() ? "cpu" : (cuda_emulated() ? "cuda_sim" : "cuda");
}

Tensor uniform(const Shape& s, std::uint64_t seed, float lo, float hi, Device dev) {
  Tensor t = Tensor::empty(s);
  Generator g(seed);
  fill_uniform(t, lo, hi, g);
  return t.to(dev);
}

::testing::AssertionResult all_close(const std::vector<float>& a, const std::vector<float>& b, double rtol,
                                     double floor) {
  if (a.size() != b.size())
    return ::testing::AssertionFailure() << "sizes differ: " << a.size() << " vs " << b.size();
  double worst = -1.0;
  std::size_t wi = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double e = std::fabs(static_cast<double>(a[i]) - b[i]) / std::max<double>(std::fabs(b[i]), floor);
    if (!(e <= worst) || std::isnan(e)) {
      worst = std::isnan(e) ? INFINITY : e;
      wi = i;
    }
  }
  if (worst <= rtol) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "worst relative error " << worst << " > " << rtol << " at index " << wi
                                       << ": " << a[wi] << " vs " << b[wi];
}

namespace {

double projected(const Tensor& y, const std::vector<float>& r) {
  const std::vector<float> v = y.to_vector<float>();
  double s = 0.0;
  for (std::size_t i = 0; i < v.size(); ++i) s += static_cast<double>(v[i]) * r[i];
  return s;
}

// L at the inputs with element `i` of input `k` moved by `delta`.
double loss_at(const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& inputs,
               std::size_t k, std::size_t i, double delta, const std::vector<float>& r) {
  std::vector<float> v = inputs[k].to_vector<float>();
  const float orig = v[i];
  v[i] = static_cast<float>(orig + delta);
  Tensor moved = Tensor::from_vector(v, inputs[k].shape(), inputs[k].device());
  std::vector<Tensor> in = inputs;
  in[k] = moved;
  NoGradGuard ng;
  return projected(f(in), r);
}

}  // namespace

int check_gradients(const std::function<Tensor(const std::vector<Tensor>&)>& f, std::vector<Tensor> inputs,
                    const GradCheckOptions& opt) {
  for (Tensor& t : inputs) t.zero_grad();
  Tensor y = f(inputs);
  const std::vector<float> r = uniform(y.shape(), 977, -1.0f, 1.0f).to_vector<float>();
  ops::sum(ops::mul(y, Tensor::from_vector(r, y.shape(), y.device()))).backward();
  int skipped = 0;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k].requires_grad()) continue;
    Tensor g = inputs[k].grad();
    EXPECT_TRUE(g.defined()) << "input " << k << " got no gradient";
    if (!g.defined()) continue;
    const std::vector<float> ga = g.to_vector<float>();
    const std::size_t n = ga.size();
    const std::size_t stride = std::max<std::size_t>(1, n / static_cast<std::size_t>(opt.max_points));
    const double base = loss_at(f, inputs, k, 0, 0.0, r);
    for (std::size_t i = (k * 7) % stride; i < n; i += stride) {
      const double lp = loss_at(f, inputs, k, i, opt.step, r), lm = loss_at(f, inputs, k, i, -opt.step, r);
      const double right = (lp - base) / opt.step, left = (base - lm) / opt.step;
      if (std::fabs(right - left) > opt.kink_ratio * std::max({std::fabs(right), std::fabs(left), 1.0})) {
        ++skipped;  // a kink within h of this point: the central difference means nothing here
        continue;
      }
      const double numeric = (lp - lm) / (2.0 * opt.step), analytic = ga[i];
      const double scale = std::max({std::fabs(analytic), std::fabs(numeric), 1.0});
      EXPECT_LE(std::fabs(analytic - numeric) / scale, opt.tolerance)
          << "input " << k << " element " << i << ": analytic " << analytic << " numeric " << numeric;
    }
  }
  return skipped;
}

double pearson(const std::vector<float>& a, const std::vector<float>& b) {
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ma += a[i];
    mb += b[i];
  }
  ma /= double(a.size());
  mb /= double(b.size());
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) * (a[i] - ma);
    bb += (b[i] - mb) * (b[i] - mb);
  }
  return ab / std::sqrt(aa * bb);
}

namespace {
bool noise_driven(const std::string& name) {
  for (const char* s : {"conv.0.bias", "conv.3.bias", "running_mean"})
    if (name.find(s) != std::string::npos) return true;
  return false;
}
}  // namespace

namespace {
// Every |a − b| of two states, less the noise-driven tensors.
std::vector<double> state_differences(const NamedTensors& a, const NamedTensors& b) {
  EXPECT_EQ(a.size(), b.size());
  std::vector<double> d;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    if (noise_driven(a[i].first)) continue;
    const std::vector<float> x = a[i].second.to_vector<float>(), y = b[i].second.to_vector<float>();
    for (std::size_t j = 0; j < x.size() && j < y.size(); ++j) d.push_back(std::fabs(double(x[j]) - double(y[j])));
  }
  return d;
}
}  // namespace

double max_state_difference(const NamedTensors& a, const NamedTensors& b) {
  const std::vector<double> d = state_differences(a, b);
  return d.empty() ? 0.0 : *std::max_element(d.begin(), d.end());
}

double share_of_state_differing(const NamedTensors& a, const NamedTensors& b, double tolerance) {
  const std::vector<double> d = state_differences(a, b);
  const auto over = std::count_if(d.begin(), d.end(), [&](double v) { return v > tolerance; });
  return d.empty() ? 0.0 : double(over) / double(d.size());
}

}  // namespace sse::test
