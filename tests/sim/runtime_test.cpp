// The runtime subset on host memory: allocation, copies, memsets, their bounds checks, the error
// protocol, streams, events and the device description.
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "tests/sim/sim_test_util.h"

namespace {

TEST(SimRuntime, CopiesAndMemsetsRoundTrip) {
  std::vector<int> h(1000);
  for (int i = 0; i < 1000; ++i) h[i] = i * 3;
  int *a = nullptr, *b = nullptr;
  ASSERT_EQ(cudaMalloc(&a, h.size() * sizeof(int)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&b, h.size() * sizeof(int)), cudaSuccess);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % 256, 0u);
  ASSERT_EQ(cudaMemcpy(a, h.data(), h.size() * sizeof(int), cudaMemcpyHostToDevice), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(b, a, h.size() * sizeof(int), cudaMemcpyDeviceToDevice, nullptr), cudaSuccess);
  ASSERT_EQ(cudaMemsetAsync(b + 10, 0, 5 * sizeof(int), nullptr), cudaSuccess);
  std::vector<int> back(1000, -7);
  ASSERT_EQ(cudaMemcpy(back.data(), b, back.size() * sizeof(int), cudaMemcpyDeviceToHost), cudaSuccess);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(back[i], i >= 10 && i < 15 ? 0 : i * 3) << i;
  ASSERT_EQ(cudaMemcpy(back.data(), b + 500, sizeof(int), cudaMemcpyDefault), cudaSuccess);
  EXPECT_EQ(back[0], 1500);
  EXPECT_EQ(cudaFree(a), cudaSuccess);
  EXPECT_EQ(cudaFree(b), cudaSuccess);
  EXPECT_EQ(cudaFree(nullptr), cudaSuccess);
}

TEST(SimRuntime, FreshDeviceMemoryIsPoisoned) {
  float* p = nullptr;
  ASSERT_EQ(cudaMalloc(&p, 16 * sizeof(float)), cudaSuccess);
  float h[16];
  ASSERT_EQ(cudaMemcpy(h, p, sizeof h, cudaMemcpyDeviceToHost), cudaSuccess);
  for (float v : h) EXPECT_NE(v, v) << "expected NaN";
  cudaFree(p);
}

TEST(SimRuntime, OutOfBoundsCopiesAndBadFreesAreErrors) {
  char* d = nullptr;
  ASSERT_EQ(cudaMalloc(&d, 100), cudaSuccess);
  std::vector<char> h(200);
  EXPECT_EQ(cudaMemcpy(d, h.data(), 101, cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(h.data(), d + 50, 51, cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(d, h.data(), 10, cudaMemcpyDeviceToHost), cudaErrorInvalidValue);  // wrong direction
  EXPECT_EQ(cudaMemset(d + 99, 0, 2), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemset(h.data(), 0, 2), cudaErrorInvalidValue);  // host memory
  EXPECT_EQ(cudaMemcpy(d, h.data(), 10, static_cast<cudaMemcpyKind>(7)), cudaErrorInvalidMemcpyDirection);
  EXPECT_EQ(cudaMemcpy(d + 50, h.data(), 50, cudaMemcpyHostToDevice), cudaSuccess);  // exactly to the end
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidMemcpyDirection);  // the latest failure
  EXPECT_EQ(cudaFree(d + 1), cudaErrorInvalidValue);
  EXPECT_EQ(cudaFree(d), cudaSuccess);
  EXPECT_EQ(cudaFree(d), cudaErrorInvalidValue);  // double free
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

TEST(SimRuntime, OutOfMemoryAndMemGetInfo) {
  const std::size_t in_use = sse::sim::device_memory_in_use();
  const std::size_t saved = sse::sim::set_device_memory_capacity(in_use + (1 << 20));
  std::size_t free = 0, total = 0;
  ASSERT_EQ(cudaMemGetInfo(&free, &total), cudaSuccess);
  EXPECT_EQ(total, in_use + (1 << 20));
  EXPECT_EQ(free, std::size_t{1} << 20);
  void* a = nullptr;
  void* b = reinterpret_cast<void*>(1);
  ASSERT_EQ(cudaMalloc(&a, 700 << 10), cudaSuccess);
  EXPECT_EQ(cudaMalloc(&b, 400 << 10), cudaErrorMemoryAllocation);
  EXPECT_EQ(b, nullptr);
  EXPECT_EQ(cudaGetLastError(), cudaErrorMemoryAllocation);
  ASSERT_EQ(cudaMemGetInfo(&free, &total), cudaSuccess);
  EXPECT_EQ(free, (1u << 20) - (700u << 10));
  cudaFree(a);
  EXPECT_EQ(cudaMalloc(&b, 400 << 10), cudaSuccess);
  cudaFree(b);
  EXPECT_EQ(sse::sim::device_memory_in_use(), in_use);
  sse::sim::set_device_memory_capacity(saved);
  EXPECT_EQ(cudaMalloc(&a, std::size_t{1} << 62), cudaErrorMemoryAllocation);
  cudaGetLastError();
  EXPECT_EQ(cudaMalloc(&a, 0), cudaSuccess);
  EXPECT_EQ(a, nullptr);
}

TEST(SimRuntime, PinnedHostMemory) {
  float* p = nullptr;
  ASSERT_EQ(cudaMallocHost(&p, 64 * sizeof(float)), cudaSuccess);
  p[63] = 1.0f;
  EXPECT_EQ(cudaFreeHost(p), cudaSuccess);
}

TEST(SimRuntime, StreamsAndEvents) {
  cudaStream_t s = nullptr, t = nullptr;
  ASSERT_EQ(cudaStreamCreate(&s), cudaSuccess);
  ASSERT_EQ(cudaStreamCreateWithFlags(&t, cudaStreamNonBlocking), cudaSuccess);
  cudaEvent_t start = nullptr, stop = nullptr, untimed = nullptr, never = nullptr;
  ASSERT_EQ(cudaEventCreate(&start), cudaSuccess);
  ASSERT_EQ(cudaEventCreate(&stop), cudaSuccess);
  ASSERT_EQ(cudaEventCreateWithFlags(&untimed, cudaEventDisableTiming), cudaSuccess);
  ASSERT_EQ(cudaEventCreate(&never), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(start, s), cudaSuccess);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(cudaEventRecord(stop, s), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(untimed, t), cudaSuccess);
  ASSERT_EQ(cudaStreamWaitEvent(t, stop, 0), cudaSuccess);
  ASSERT_EQ(cudaEventSynchronize(stop), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  float ms = 0;
  ASSERT_EQ(cudaEventElapsedTime(&ms, start, stop), cudaSuccess);
  EXPECT_GE(ms, 19.0f);
  EXPECT_LT(ms, 5000.0f);
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, never), cudaErrorInvalidResourceHandle);
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, untimed), cudaErrorInvalidResourceHandle);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidResourceHandle);
  for (cudaEvent_t e : {start, stop, untimed, never}) EXPECT_EQ(cudaEventDestroy(e), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(s), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(t), cudaSuccess);
}

TEST(SimRuntime, OneEmulatedDevice) {
  int count = 0, device = -1;
  ASSERT_EQ(cudaGetDeviceCount(&count), cudaSuccess);
  EXPECT_EQ(count, 1);
  EXPECT_EQ(cudaSetDevice(0), cudaSuccess);
  EXPECT_EQ(cudaSetDevice(1), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidDevice);
  ASSERT_EQ(cudaGetDevice(&device), cudaSuccess);
  EXPECT_EQ(device, 0);
  cudaDeviceProp prop;
  ASSERT_EQ(cudaGetDeviceProperties(&prop, 0), cudaSuccess);
  EXPECT_STREQ(prop.name, "sseunet CUDA emulator");
  EXPECT_EQ(prop.warpSize, 32);
  EXPECT_EQ(prop.maxThreadsPerBlock, 1024);
  EXPECT_EQ(prop.sharedMemPerBlock, 48u * 1024);
  EXPECT_EQ(prop.sharedMemPerBlockOptin, 227u * 1024);
  EXPECT_GT(prop.multiProcessorCount, 0);
  EXPECT_GT(prop.totalGlobalMem, 0u);
  EXPECT_EQ(prop.major, 9);
  int sms = 0;
  ASSERT_EQ(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0), cudaSuccess);
  EXPECT_EQ(sms, prop.multiProcessorCount);
}

TEST(SimRuntime, ErrorStrings) {
  EXPECT_STREQ(cudaGetErrorString(cudaSuccess), "no error");
  EXPECT_STREQ(cudaGetErrorString(cudaErrorMemoryAllocation), "out of memory");
  EXPECT_STREQ(cudaGetErrorString(cudaErrorInvalidConfiguration), "invalid configuration argument");
  EXPECT_STREQ(cudaGetErrorName(cudaErrorInvalidValue), "cudaErrorInvalidValue");
  try {
    SSE_CUDA_CHECK(cudaSetDevice(3));
    ADD_FAILURE();
  } catch (const sse::CudaError& e) {
    EXPECT_NE(std::string(e.what()).find("invalid device ordinal"), std::string::npos);
  }
  cudaGetLastError();
}

__constant__ float g_coefficients[4];
__device__ int g_device_counter;

__global__ void use_symbols(float* out) {
  out[threadIdx.x] = g_coefficients[threadIdx.x] * 2.0f;
  atomicAdd(&g_device_counter, 1);
}

TEST(SimRuntime, ConstantAndDeviceSymbols) {
  const float c[4] = {1, 2, 3, 4};
  ASSERT_EQ(cudaMemcpyToSymbol(g_coefficients, c, sizeof c), cudaSuccess);
  const int zero = 0;
  ASSERT_EQ(cudaMemcpyToSymbol(g_device_counter, &zero, sizeof zero), cudaSuccess);
  sse::sim::test::DeviceBuffer<float> out(4);
  sse::launch(use_symbols, 1, 4, 0, nullptr, out.get());
  EXPECT_EQ(out.download(), (std::vector<float>{2, 4, 6, 8}));
  int counter = 0;
  ASSERT_EQ(cudaMemcpyFromSymbol(&counter, g_device_counter, sizeof counter), cudaSuccess);
  EXPECT_EQ(counter, 4);
  EXPECT_EQ(cudaMemcpyToSymbol(g_coefficients, c, sizeof c, 4), cudaErrorInvalidValue);
  cudaGetLastError();
}

}  // namespace
