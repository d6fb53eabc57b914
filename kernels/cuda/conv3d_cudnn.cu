// kernels/cuda/conv3d_cudnn.cu — the cuDNN convolution path (see conv3d_cudnn.cuh).
#include "kernels/cuda/conv3d_cudnn.cuh"

#if defined(SSE_HAVE_CUDNN)

#include <cudnn.h>

#include <iostream>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/workspace.cuh"
#include "kernels/cudnn_pick.h"

namespace sse::cuda {
namespace {

void cudnn_check(cudnnStatus_t s, const char* expr, const char* file, int line) {
  if (s != CUDNN_STATUS_SUCCESS) {
    std::ostringstream os;
    os << "cuDNN error '" << cudnnGetErrorString(s) << "' in " << expr << " at " << file << ":" << line;
    throw CudaError(os.str());
  }
}
#define SSE_CUDNN_CHECK(expr) cudnn_check((expr), #expr, __FILE__, __LINE__)

constexpr int kMaxDevices = 64;
std::mutex g_mu;
cudnnHandle_t g_handles[kMaxDevices] = {};
CudnnConvOptions g_options;

cudnnHandle_t handle(cudaStream_t st) {
  int dev = 0;
  SSE_CUDA_CHECK(cudaGetDevice(&dev));
  kernel_check(dev >= 0 && dev < kMaxDevices, "cudnn", "device index out of range");
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_handles[dev]) SSE_CUDNN_CHECK(cudnnCreate(&g_handles[dev]));
  SSE_CUDNN_CHECK(cudnnSetStream(g_handles[dev], st));
  return g_handles[dev];
}

// The descriptors of one convolution shape (RAII).
struct Descs {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;

  Descs(const Conv3dShape& s, bool allow_tf32) {
    SSE_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
    SSE_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y));
    SSE_CUDNN_CHECK(cudnnCreateTensorDescriptor(&bias));
    SSE_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w));
    SSE_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
    set_tensor(x, s.n, s.c_in, s);
    set_tensor(y, s.n, s.c_out, s);
    const int bdims[5] = {1, static_cast<int>(s.c_out), 1, 1, 1}, bstrides[5] = {static_cast<int>(s.c_out), 1, 1, 1, 1};
    SSE_CUDNN_CHECK(cudnnSetTensorNdDescriptor(bias, CUDNN_DATA_FLOAT, 5, bdims, bstrides));
    const int wdims[5] = {static_cast<int>(s.c_out), static_cast<int>(s.c_in), s.k, s.k, s.k};
    SSE_CUDNN_CHECK(cudnnSetFilterNdDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, 5, wdims));
    const int pads[3] = {s.pad(), s.pad(), s.pad()}, ones[3] = {1, 1, 1};
    SSE_CUDNN_CHECK(
        cudnnSetConvolutionNdDescriptor(conv, 3, pads, ones, ones, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    SSE_CUDNN_CHECK(cudnnSetConvolutionMathType(conv, allow_tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
  }
  ~Descs() {
    cudnnDestroyTensorDescriptor(x);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyTensorDescriptor(bias);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyConvolutionDescriptor(conv);
  }
  Descs(const Descs&) = delete;
  Descs& operator=(const Descs&) = delete;

 private:
  static void set_tensor(cudnnTensorDescriptor_t t, index_t n, index_t c, const Conv3dShape& s) {
    const int dims[5] = {static_cast<int>(n), static_cast<int>(c), static_cast<int>(s.d), static_cast<int>(s.h),
                         static_cast<int>(s.w)};
    const int strides[5] = {static_cast<int>(c * s.voxels()), static_cast<int>(s.voxels()),
                            static_cast<int>(s.h * s.w), static_cast<int>(s.w), 1};
    SSE_CUDNN_CHECK(cudnnSetTensorNdDescriptor(t, CUDNN_DATA_FLOAT, 5, dims, strides));
  }
};

enum class Dir { Fwd, BwdData, BwdFilter };
using Key = std::tuple<int, Dir, index_t, index_t, index_t, index_t, index_t, index_t, int, bool, bool>;
struct Choice {
  bool usable;  // false: no algorithm qualified; the engine's own kernel runs instead
  int algo;
  std::size_t bytes;
};
std::map<Key, Choice> g_cache;

Key key(const Conv3dShape& s, Dir d, const CudnnConvOptions& o) {
  int dev = 0;
  SSE_CUDA_CHECK(cudaGetDevice(&dev));
  return Key{dev, d, s.n, s.c_in, s.c_out, s.d, s.h, s.w, s.k, o.allow_tf32, o.deterministic};
}

// The first (fastest) result that ran, fits the workspace and meets the determinism option
// (kernels/cudnn_pick.h); when there is none, says so on stderr, once per shape and direction.
template <typename Perf>
Choice pick(const Conv3dShape& s, const Perf* perf, int count, const CudnnConvOptions& o, const char* dir) {
  std::vector<CudnnCandidate> cands;
  for (int i = 0; i < count; ++i)
    cands.push_back(CudnnCandidate{static_cast<int>(perf[i].algo), perf[i].status == CUDNN_STATUS_SUCCESS,
                                   cudnnGetErrorString(perf[i].status), perf[i].memory,
                                   perf[i].determinism == CUDNN_DETERMINISTIC});
  const CudnnPick p = pick_cudnn_candidate(cands, o.deterministic, kCudnnWorkspaceBytes);
  if (p.index >= 0) return Choice{true, cands[p.index].algo, cands[p.index].workspace};
  std::cerr << "sseunet: cuDNN has no usable " << (o.deterministic ? "deterministic " : "") << dir
            << " algorithm for conv3d " << s.c_in << "->" << s.c_out << " k" << s.k << " at n" << s.n << " " << s.d
            << "x" << s.h << "x" << s.w << " (" << p.why << "); sseunet's own kernel runs this direction instead\n";
  return Choice{false, 0, 0};
}

// Runs `find` (a cudnnFind*AlgorithmEx call filling perf[]) the first time a key is seen.
template <typename Perf, typename Find>
Choice choose(const Conv3dShape& s, const Key& k, const CudnnConvOptions& o, const char* dir, Find&& find) {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = g_cache.find(k);
    if (it != g_cache.end()) return it->second;
  }
  constexpr int kRequested = 16;
  Perf perf[kRequested];
  int returned = 0;
  find(kRequested, &returned, perf);
  const Choice c = pick(s, perf, returned, o, dir);
  std::lock_guard<std::mutex> lock(g_mu);
  g_cache[k] = c;
  return c;
}

CudnnConvOptions options() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_options;
}

}  // namespace

void set_cudnn_conv_options(const CudnnConvOptions& o) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_options = o;
}

CudnnConvOptions cudnn_conv_options() { return options(); }

bool cudnn_conv3d_forward(const Conv3dShape& s, const float* x, const float* w, const float* b, float* y,
                          cudaStream_t st) {
  const CudnnConvOptions o = options();
  cudnnHandle_t h = handle(st);
  const Descs d(s, o.allow_tf32);
  void* ws = workspace(kCudnnWorkspaceBytes, st);
  const Choice c = choose<cudnnConvolutionFwdAlgoPerf_t>(s, key(s, Dir::Fwd, o), o, "forward",
                                                         [&](int req, int* ret, cudnnConvolutionFwdAlgoPerf_t* perf) {
    SSE_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(h, d.x, x, d.w, w, d.conv, d.y, y, req, ret, perf, ws,
                                                           kCudnnWorkspaceBytes));
  });
  if (!c.usable) return false;
  const float one = 1.0f, zero = 0.0f;
  SSE_CUDNN_CHECK(cudnnConvolutionForward(h, &one, d.x, x, d.w, w, d.conv,
                                          static_cast<cudnnConvolutionFwdAlgo_t>(c.algo),
                                          ws, c.bytes, &zero, d.y, y));
  if (b) SSE_CUDNN_CHECK(cudnnAddTensor(h, &one, d.bias, b, &one, d.y, y));
  return true;
}

bool cudnn_conv3d_backward_data(const Conv3dShape& s, const float* dy, const float* w, float* dx, cudaStream_t st) {
  const CudnnConvOptions o = options();
  cudnnHandle_t h = handle(st);
  const Descs d(s, o.allow_tf32);
  void* ws = workspace(kCudnnWorkspaceBytes, st);
  const Choice c = choose<cudnnConvolutionBwdDataAlgoPerf_t>(
      s, key(s, Dir::BwdData, o), o, "backward data", [&](int req, int* ret, cudnnConvolutionBwdDataAlgoPerf_t* perf) {
        SSE_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(h, d.w, w, d.y, dy, d.conv, d.x, dx, req, ret, perf,
                                                                    ws, kCudnnWorkspaceBytes));
      });
  if (!c.usable) return false;
  const float one = 1.0f, zero = 0.0f;
  SSE_CUDNN_CHECK(cudnnConvolutionBackwardData(h, &one, d.w, w, d.y, dy, d.conv,
                                               static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algo), ws, c.bytes, &zero,
                                               d.x, dx));
  return true;
}

bool cudnn_conv3d_backward_weight(const Conv3dShape& s, const float* x, const float* dy, float* dw,
                                  cudaStream_t st) {
  const CudnnConvOptions o = options();
  cudnnHandle_t h = handle(st);
  const Descs d(s, o.allow_tf32);
  void* ws = workspace(kCudnnWorkspaceBytes, st);
  const Choice c = choose<cudnnConvolutionBwdFilterAlgoPerf_t>(
      s, key(s, Dir::BwdFilter, o), o, "backward filter",
      [&](int req, int* ret, cudnnConvolutionBwdFilterAlgoPerf_t* perf) {
        SSE_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(h, d.x, x, d.y, dy, d.conv, d.w, dw, req, ret,
                                                                      perf, ws, kCudnnWorkspaceBytes));
      });
  if (!c.usable) return false;
  const float one = 1.0f, zero = 0.0f;
  SSE_CUDNN_CHECK(cudnnConvolutionBackwardFilter(h, &one, d.x, x, d.y, dy, d.conv,
                                                 static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algo), ws, c.bytes,
                                                 &zero, d.w, dw));
  return true;
}

}  // namespace sse::cuda

#endif  // SSE_HAVE_CUDNN
