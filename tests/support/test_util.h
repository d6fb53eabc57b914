// tests/support/test_util.h — shared test helpers: the devices a test runs on, random tensors,
// closeness checks, and the central-difference gradient checker (Caffe's GradientChecker habit).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "engine/random.h"
#include "engine/tensor.h"

namespace sse::test {

// cpu, plus cuda:0 when the build has a CUDA backend and a device (the emulator counts as one).
std::vector<Device> test_devices();
// Name for INSTANTIATE_TEST_SUITE_P.
std::string device_name(const testing::TestParamInfo<Device>& info);

// U[lo, hi) float tensor, on `dev`, drawn from `seed` (the same values on every device).
Tensor uniform(const Shape& s, std::uint64_t seed, float lo = -1.0f, float hi = 1.0f, Device dev = Device::cpu());

// max_i |a_i − b_i| / max(|b_i|, floor) ≤ rtol, reporting the worst index on failure.
::testing::AssertionResult all_close(const std::vector<float>& a, const std::vector<float>& b, double rtol,
                                     double floor = 1.0);

struct GradCheckOptions {
  double step = 1e-2;        // central-difference step h
  double tolerance = 1e-2;   // on |analytic − numeric| / max(|analytic|, |numeric|, 1)
  int max_points = 64;       // elements probed per input (spread over the tensor)
  double kink_ratio = 0.1;   // skip a point whose one-sided slopes differ by more than this (ReLU, max-pool)
};

// Checks d/dx_i of L = Σ_j r_j · f(inputs)_j for every input that requires grad, where r is a fixed
// random projection. The forward runs in float; each L is accumulated in double.
// Returns the number of points skipped as kinks (callers may assert it is small).
int check_gradients(const std::function<Tensor(const std::vector<Tensor>&)>& f, std::vector<Tensor> inputs,
                    const GradCheckOptions& opt = {});

// Pearson correlation of two equally long samples (in double).
double pearson(const std::vector<float>& a, const std::vector<float>& b);

// The largest |a − b| between two model states with the same names, for comparing training runs
// whose sums ran in another order (e.g. on another number of ranks). Left out: the biases of the
// convolutions that batch norm follows (every conv of a U-Net block, "conv.0" and "conv.3") and the
// running means that absorb them. Batch norm subtracts a per-channel constant, so their exact
// gradient is zero and backward's value is rounding noise, which Adam's m/√v turns into steps of up
// to ~lr of either sign in any two such runs (measured: 1e-3 after 2 steps); they do not change the
// training-mode function, so compare the runs' losses too.
double max_state_difference(const NamedTensors& a, const NamedTensors& b);
// The share of the elements compared by max_state_difference whose |a − b| exceeds `tolerance`.
double share_of_state_differing(const NamedTensors& a, const NamedTensors& b, double tolerance);
// N ranks and one process training the same steps differ in max_state_difference by 1e-7 to 7e-7
// after 3 to 10 steps (measured; mostly running variances ~1, from the merge of the ranks' moments);
// a statistic or gradient share taken over the wrong samples moves weights by 1e-3 to 1 (measured:
// no batch-norm sync 0.13, no running-statistics combination 4.4).
constexpr double kRankWeightTolerance = 1e-5;

}  // namespace sse::test
