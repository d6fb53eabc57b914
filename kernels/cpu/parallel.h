// kernels/cpu/parallel.h — OpenMP helpers shared by the CPU kernels.
#pragma once

#include "kernels/common.h"

namespace sse::cpu {

// Below this many elements a loop runs on one thread: forking costs more than it saves.
constexpr index_t kParallelGrain = 1 << 15;

}  // namespace sse::cpu
