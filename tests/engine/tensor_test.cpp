// Tensor basics: factories, views, device copies, and the errors a caller sees.
#include <gtest/gtest.h>

#include "engine/ops.h"
#include "tests/support/test_util.h"

namespace sse {
namespace {

TEST(Shape, NumelRankAndString) {
  const Shape s{1, 3, 5, 7, 6};
  EXPECT_EQ(s.rank(), 5);
  EXPECT_EQ(s.numel(), 630);
  EXPECT_EQ(s.tail(2), 210);
  EXPECT_EQ(s[-1], 6);
  EXPECT_EQ(s.str(), "(1, 3, 5, 7, 6)");
  EXPECT_EQ(Shape{}.numel(), 1);
  EXPECT_THROW(s[5], EngineError);
  EXPECT_THROW((Shape{1, 2, 3, 4, 5, 6}), EngineError);
}

TEST(Tensor, FactoriesAndAccess) {
  Tensor z = Tensor::zeros(Shape{2, 3});
  for (float v : z.to_vector<float>()) EXPECT_EQ(v, 0.0f);
  Tensor f = Tensor::full(Shape{4}, 2.5f);
  EXPECT_EQ(f.to_vector<float>(), std::vector<float>(4, 2.5f));
  Tensor l = Tensor::from_vector(std::vector<std::int32_t>{0, 1, 2}, Shape{3});
  EXPECT_EQ(l.dtype(), DType::I32);
  EXPECT_THROW(l.data<float>(), EngineError);
  EXPECT_THROW(Tensor::from_vector(std::vector<float>{1, 2}, Shape{3}), EngineError);
  EXPECT_EQ(Tensor::full(Shape{}, 3.0f).item(), 3.0f);
  EXPECT_THROW(f.item(), EngineError);
}

TEST(Tensor, BatchSlicesShareStorage) {
  Tensor t = Tensor::from_vector(std::vector<float>{0, 1, 2, 3, 4, 5}, Shape{3, 2});
  Tensor row = t.slice_batch(1, 3);
  EXPECT_EQ(row.shape(), (Shape{2, 2}));
  EXPECT_EQ(row.to_vector<float>(), (std::vector<float>{2, 3, 4, 5}));
  row.fill_(9.0f);
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{0, 1, 9, 9, 9, 9}));
  EXPECT_THROW(t.slice_batch(2, 4), EngineError);
  EXPECT_THROW(t.reshape(Shape{4}), EngineError);
}

TEST(Tensor, ErrorsNameOpAndShapes) {
  Tensor a = Tensor::zeros(Shape{2, 3}), b = Tensor::zeros(Shape{3, 2});
  try {
    ops::add(a, b);
    FAIL() << "no exception";
  } catch (const EngineError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("add"), std::string::npos) << m;
    EXPECT_NE(m.find("(2, 3)"), std::string::npos) << m;
    EXPECT_NE(m.find("(3, 2)"), std::string::npos) << m;
  }
}

TEST(Tensor, DeviceParsing) {
  EXPECT_EQ(Device::parse("cpu"), Device::cpu());
  EXPECT_EQ(Device::parse("cuda:1").index, 1);
  EXPECT_THROW(Device::parse("gpu"), EngineError);
  EXPECT_THROW(Device::parse("cuda:x"), EngineError);
}

TEST(Tensor, CudaAbsentIsAClearError) {
  if (cuda_compiled()) GTEST_SKIP() << "build has a CUDA backend";
  EXPECT_THROW(Tensor::zeros(Shape{2}, DType::F32, Device::cuda(0)), EngineError);
}

class TensorOnDevice : public ::testing::TestWithParam<Device> {};

TEST_P(TensorOnDevice, RoundTripAndMismatchedDevices) {
  const Device dev = GetParam();
  Tensor h = test::uniform(Shape{2, 3, 4}, 1);
  Tensor d = h.to(dev);
  EXPECT_EQ(d.device(), dev);
  EXPECT_EQ(d.to(Device::cpu()).to_vector<float>(), h.to_vector<float>());
  EXPECT_EQ(d.clone().to_vector<float>(), h.to_vector<float>());
  if (dev.is_cuda()) {
    EXPECT_THROW(ops::add(h, d), EngineError);
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, TensorOnDevice, ::testing::ValuesIn(test::test_devices()), test::device_name);

}  // namespace
}  // namespace sse
