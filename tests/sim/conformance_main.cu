// tests/sim/conformance_main.cu — prints the conformance report on a real GPU (not built by CMake).
// Regenerate the golden file after changing conformance.cuh, on a machine with a GPU:
//   nvcc -std=c++17 -arch=sm_90 --expt-relaxed-constexpr -I. tests/sim/conformance_main.cu -o conformance
//   ./conformance   and paste its output between R"golden( and )golden" in conformance_golden.inc
#include <cstdio>

#include "tests/sim/conformance.cuh"

int main() {
  std::fputs(sse_conformance::report().c_str(), stdout);
  return 0;
}
