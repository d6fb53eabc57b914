// The device-side vocabulary: vector type layouts as CUDA defines them, dim3 defaults, and the
// fast-math intrinsics (computed at full precision here).
#include <cmath>

#include "tests/sim/sim_test_util.h"

namespace {

static_assert(sizeof(float2) == 8 && alignof(float2) == 8, "float2 layout");
static_assert(sizeof(float3) == 12 && alignof(float3) == 4, "float3 layout");
static_assert(sizeof(float4) == 16 && alignof(float4) == 16, "float4 layout");
static_assert(sizeof(int4) == 16 && alignof(int4) == 16, "int4 layout");
static_assert(sizeof(uint4) == 16 && alignof(uint4) == 16, "uint4 layout");
static_assert(sizeof(double2) == 16 && alignof(double2) == 16, "double2 layout");
static_assert(sizeof(uchar4) == 4 && alignof(uchar4) == 4, "uchar4 layout");
static_assert(sizeof(uint3) == 12 && sizeof(dim3) == 12, "uint3/dim3 layout");
static_assert(warpSize == 32, "warp size");

TEST(SimDeviceApi, Dim3DefaultsToOnes) {
  const dim3 a, b(7), c(7, 3);
  EXPECT_EQ(a.x * a.y * a.z, 1u);
  EXPECT_EQ(b.x, 7u);
  EXPECT_EQ(b.y * b.z, 1u);
  EXPECT_EQ(c.y, 3u);
  EXPECT_EQ(c.z, 1u);
  const uint3 u = c;
  EXPECT_EQ(u.x, 7u);
  const float4 f = make_float4(1, 2, 3, 4);
  EXPECT_EQ(f.w, 4.0f);
}

__global__ void fast_math(const float* x, float* out) {
  const float v = x[threadIdx.x];
  float s, c;
  __sincosf(v, &s, &c);
  out[0 * 8 + threadIdx.x] = __expf(v) / expf(v);
  out[1 * 8 + threadIdx.x] = __logf(v + 1.0f) / logf(v + 1.0f);
  out[2 * 8 + threadIdx.x] = __fdividef(v, 3.0f) / (v / 3.0f);
  out[3 * 8 + threadIdx.x] = rsqrtf(v + 1.0f) * sqrtf(v + 1.0f);
  out[4 * 8 + threadIdx.x] = s * s + c * c;
  out[5 * 8 + threadIdx.x] = __powf(2.0f, v) / exp2f(v);
  out[6 * 8 + threadIdx.x] = exp10f(v) / powf(10.0f, v);
  out[7 * 8 + threadIdx.x] = __ldg(&x[threadIdx.x]) / v;
}

TEST(SimDeviceApi, FastMathIntrinsicsAreAccurateHere) {
  sse::sim::test::DeviceBuffer<float> x(std::vector<float>{0.5f, 1.0f, 1.5f, 2.0f, 2.5f, 3.0f, 3.5f, 4.0f}), out(64);
  sse::launch(fast_math, 1, 8, 0, nullptr, x.get(), out.get());
  for (float r : out.download()) EXPECT_NEAR(r, 1.0f, 1e-6f);
}

}  // namespace
