// The algorithm choice of the cuDNN reference path (kernels/cudnn_pick.h) on fake cudnnFind result
// lists: what it skips, what it picks, and that a list with nothing usable gives a reason naming
// every candidate (the case that made `--precision cudnn` training stop at the 3-D backward filter).
#include <gtest/gtest.h>

#include "kernels/cudnn_pick.h"

namespace sse {
namespace {

constexpr std::size_t kMiB = 1u << 20;
constexpr std::size_t kLimit = 128 * kMiB;

// A 3-D backward-filter list of the kind cuDNN 9 returns for a large layer, fastest first: ALGO_3
// and ALGO_0 are not deterministic, ALGO_1 (deterministic) needs a large workspace, WINOGRAD_NONFUSED
// (5) is not supported for 3-D.
std::vector<CudnnCandidate> backward_filter_3d() {
  return {{3, true, "", 8 * kMiB, false},
          {0, true, "", 0, false},
          {1, true, "", 5400 * kMiB, true},
          {5, false, "CUDNN_STATUS_NOT_SUPPORTED", 0, false}};
}

TEST(CudnnPick, FastestUsableWhenDeterminismIsNotRequired) {
  EXPECT_EQ(pick_cudnn_candidate(backward_filter_3d(), /*deterministic=*/false, kLimit).index, 0);
}

TEST(CudnnPick, NoDeterministicAlgorithmWithinTheWorkspaceGivesAReasonPerCandidate) {
  const CudnnPick p = pick_cudnn_candidate(backward_filter_3d(), /*deterministic=*/true, kLimit);
  EXPECT_EQ(p.index, -1);
  EXPECT_NE(p.why.find("algorithm 3 is not deterministic"), std::string::npos) << p.why;
  EXPECT_NE(p.why.find("algorithm 0 is not deterministic"), std::string::npos) << p.why;
  EXPECT_NE(p.why.find("algorithm 1 needs 5400 MiB of workspace (limit 128 MiB)"), std::string::npos) << p.why;
  EXPECT_NE(p.why.find("algorithm 5 did not run (CUDNN_STATUS_NOT_SUPPORTED)"), std::string::npos) << p.why;
}

TEST(CudnnPick, SkipsWhatFailedOrDoesNotFitAndTakesTheNextDeterministic) {
  std::vector<CudnnCandidate> c = backward_filter_3d();
  c[2].workspace = 100 * kMiB;  // ALGO_1 now fits
  const CudnnPick p = pick_cudnn_candidate(c, /*deterministic=*/true, kLimit);
  EXPECT_EQ(p.index, 2);
  EXPECT_TRUE(p.why.empty());
  c[0].ran = false;
  c[0].status = "CUDNN_STATUS_ALLOC_FAILED";
  EXPECT_EQ(pick_cudnn_candidate(c, /*deterministic=*/false, kLimit).index, 1);
}

TEST(CudnnPick, EmptyListIsExplained) {
  const CudnnPick p = pick_cudnn_candidate({}, true, kLimit);
  EXPECT_EQ(p.index, -1);
  EXPECT_EQ(p.why, "cuDNN returned no algorithm");
}

}  // namespace
}  // namespace sse
