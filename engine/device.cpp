#include "engine/device.h"

#include <cstdlib>

#if SSE_WITH_CUDA
#include "engine/cuda_context.h"
#endif

namespace sse {

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index);
}

Device Device::parse(const std::string& s) {
  if (s == "cpu") return cpu();
  if (s == "cuda") return cuda(0);
  if (s.rfind("cuda:", 0) == 0) {
    const std::string num = s.substr(5);
    char* end = nullptr;
    const long i = std::strtol(num.c_str(), &end, 10);
    if (!num.empty() && end && *end == '\0' && i >= 0 && i < 1024) return cuda(static_cast<int>(i));
  }
  throw EngineError("unknown device '" + s + "' (expected cpu, cuda or cuda:N)");
}

bool cuda_compiled() { return SSE_WITH_CUDA != 0; }
bool cuda_emulated() { return SSE_CUDA_SIM != 0; }

int cuda_device_count() {
#if SSE_WITH_CUDA
  return cuda_visible_device_count();
#else
  return 0;
#endif
}

Device default_device() { return cuda_device_count() > 0 && !cuda_emulated() ? Device::cuda(0) : Device::cpu(); }

}  // namespace sse
