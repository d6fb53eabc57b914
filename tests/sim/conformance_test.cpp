// The emulator against a real GPU: conformance.cuh's report, computed here, must equal the one an
// H100 printed (conformance_golden.inc). Any difference is a semantic bug of the emulator.
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "tests/sim/conformance.cuh"
#include "tests/sim/sim_test_util.h"

namespace {

const char* const kGolden =
#include "tests/sim/conformance_golden.inc"
    ;

std::string first_difference(const std::string& got, const std::string& want) {
  std::istringstream g(got), w(want);
  std::string gl, wl;
  while (std::getline(w, wl)) {
    if (!std::getline(g, gl)) return "missing line: " + wl;
    if (gl != wl) return "got:  " + gl + "\nwant: " + wl;
  }
  return std::getline(g, gl) ? "extra line: " + gl : "";
}

TEST(SimConformance, MatchesAnH100) {
  for (const sse::sim::Schedule& s : sse::sim::test::all_schedules()) {
    sse::sim::ScopedSchedule scoped(s);
    const std::string report = sse_conformance::report();
    if (const char* path = std::getenv("SSE_SIM_CONFORMANCE_DUMP")) {
      if (FILE* f = std::fopen(path, "w")) std::fputs(report.c_str(), f), std::fclose(f);
    }
    EXPECT_EQ(first_difference(report, kGolden), "") << "schedule " << static_cast<int>(s.order);
  }
}

}  // namespace
