// The CPU allocator's cache (engine/storage.h): a repeated workload runs from the cache after its
// first round, also when its blocks' sizes do not serve each other, and also after it changes.
// Blocks are allocated and freed without being touched, so the GiB sizes (needed to pass the
// cache's 1 GiB floor) cost address space, not memory.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "engine/storage.h"

namespace sse {
namespace {

constexpr std::size_t kUnit = std::size_t{128} << 20;

class CpuCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* e = std::getenv("SSEUNET_CPU_CACHE");
    if (e && std::strcmp(e, "0") == 0) GTEST_SKIP() << "the cache is off (SSEUNET_CPU_CACHE=0)";
    cpu_empty_cache();
    cpu_reset_peak();
  }
  void TearDown() override { cpu_empty_cache(); }

  // Allocates blocks of the given sizes (in units), then frees them in order; returns the system
  // allocations it took.
  static std::size_t round(const std::vector<std::size_t>& units) {
    const std::size_t before = cpu_memory_stats().system_allocs;
    std::vector<std::pair<void*, std::size_t>> held;
    for (std::size_t u : units) {
      std::size_t block = 0;
      void* p = cpu_alloc(u * kUnit, &block);
      held.emplace_back(p, block);
    }
    for (auto& [p, block] : held) cpu_free(p, block);
    return cpu_memory_stats().system_allocs - before;
  }
};

// A step's shape: a large block used and freed, then smaller ones it cannot serve (8 units is more
// than 1/8 above 2). Holding only its peak (8 units), the cache would drop the small blocks every
// round and fetch them again.
TEST_F(CpuCacheTest, MixedSizesRunFromTheCacheAfterTheFirstRound) {
  EXPECT_EQ(round({8}), 1u);
  EXPECT_EQ(round({2, 2, 2, 2}), 4u);
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(round({8}), 0u) << "round " << r;
    EXPECT_EQ(round({2, 2, 2, 2}), 0u) << "round " << r;
  }
  EXPECT_LE(cpu_memory_stats().cached_bytes, 2 * cpu_memory_stats().peak_bytes);
}

// When the workload changes, the old sizes leave the full cache (freed longest ago first) and the new
// workload runs from the cache from its second round on.
TEST_F(CpuCacheTest, ANewWorkloadDisplacesTheOldSizes) {
  round({8});
  round({2, 2, 2, 2});  // the cache now holds 16 units: full at twice the peak of 8
  EXPECT_EQ(round({3, 3, 3}), 3u);
  for (int r = 0; r < 3; ++r) EXPECT_EQ(round({3, 3, 3}), 0u) << "round " << r;
  EXPECT_LE(cpu_memory_stats().cached_bytes, 2 * cpu_memory_stats().peak_bytes);
}

}  // namespace
}  // namespace sse
