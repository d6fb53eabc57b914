// tests/kernels/brick_test_util.h — what the convolution kernel tests share (cuda_wgrad_test.cpp,
// cuda_wx_test.cpp, cuda_conv_test.cpp): the maths' names and input rounding, and the tolerances
// they derive from.
//  * fp32_rtol(K): fp32 reassociation of K terms, 1e-5·sqrt(K) relative to max(|ref|, 1) (inputs U(−1, 1)).
//  * unit_roundoff(math): u of the operands' format (TF32 2^−11, BF16 2^−8; 0 for SIMT).
//  * rounded(v, math): v rounded as the kernels round their operands (round_tf32 / round_bf16).
//  * BrickKernelTest: the fixture — skips without CUDA, restores the process-wide kernel choices.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/device.h"
#include "kernels/conv3d.h"
#include "kernels/cuda/brick_math.h"
#include "kernels/low_precision.h"
#include "tests/support/cuda_buffers.h"

namespace sse::test {

inline bool real_gpu() { return cuda_usable() && !cuda_emulated(); }

inline double fp32_rtol(index_t k_terms) { return 1e-5 * std::sqrt(static_cast<double>(k_terms)); }

inline double rms(const std::vector<float>& v) {
  double s = 0.0;
  for (float x : v) s += static_cast<double>(x) * x;
  return v.empty() ? 0.0 : std::sqrt(s / static_cast<double>(v.size()));
}

inline std::vector<float> rounded(std::vector<float> v, cuda::BrickMath m) {
  for (float& x : v) x = m == cuda::BrickMath::TF32 ? round_tf32(x) : m == cuda::BrickMath::BF16 ? round_bf16(x) : x;
  return v;
}

inline double unit_roundoff(cuda::BrickMath m) {
  return m == cuda::BrickMath::TF32 ? 0x1p-11 : m == cuda::BrickMath::BF16 ? 0x1p-8 : 0.0;
}

inline const char* name(cuda::BrickMath m) {
  return m == cuda::BrickMath::Simt ? "SIMT" : m == cuda::BrickMath::TF32 ? "TF32" : "BF16";
}

class BrickKernelTest : public ::testing::Test {
 protected:
  void SetUp() override { SSE_REQUIRE_CUDA(); }
  void TearDown() override {
    if (!cuda_usable()) return;
    cuda::set_wx_impl(cuda::WxImpl::Auto);
    cuda::set_wgrad_impl(cuda::WgradImpl::Auto);
    cuda::set_conv_algo(ConvAlgo::Simt);
  }
};

}  // namespace sse::test
