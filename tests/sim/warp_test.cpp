// Warp collectives: shuffles in all four modes (with segment widths and partial warps), votes,
// match and reduce, checked against values computed on the host.
#include <vector>

#include "tests/sim/sim_test_util.h"

namespace {

using sse::sim::Schedule;
using sse::sim::ScopedSchedule;
using sse::sim::test::all_schedules;
using sse::sim::test::DeviceBuffer;

// Lanes that exist in the warp of thread `t` for a block of `n` threads.
__device__ unsigned lanes_of_my_warp(unsigned t, unsigned n) {
  const unsigned first = t & ~31u, lanes = n - first < 32 ? n - first : 32;
  return lanes == 32 ? 0xffffffffu : (1u << lanes) - 1u;
}

__global__ void warp_sums(const float* in, float* xor_sum, float* down_sum, int* up_scan, float* bcast) {
  const unsigned t = threadIdx.x, lane = t % 32;
  const unsigned mask = lanes_of_my_warp(t, blockDim.x);
  const float v = in[t];
  // Butterfly: every lane ends with the total (full warps only).
  float x = v;
  for (int o = 16; o > 0; o /= 2) x += __shfl_xor_sync(mask, x, o);
  xor_sum[t] = x;
  // Tree towards lane 0; lanes whose partner does not exist add nothing.
  float d = v;
  for (unsigned o = 16; o > 0; o /= 2) {
    const float other = __shfl_down_sync(mask, d, o);
    if (lane + o < 32 && (mask >> (lane + o) & 1u)) d += other;
  }
  down_sum[t] = d;
  // Inclusive prefix sum with shfl_up.
  int s = static_cast<int>(lane) + 1;
  for (unsigned o = 1; o < 32; o *= 2) {
    const int other = __shfl_up_sync(mask, s, o);
    if (lane >= o) s += other;
  }
  up_scan[t] = s;
  // Broadcast of lane 3 within segments of 8 lanes.
  bcast[t] = __shfl_sync(mask, v, 3, 8);
}

TEST(SimWarp, ShuffleReductionsAndScans) {
  for (const unsigned n : {64u, 48u}) {  // 48: the second warp is partial
    std::vector<float> in(n);
    for (unsigned i = 0; i < n; ++i) in[i] = static_cast<float>(i * i % 17);
    DeviceBuffer<float> d_in(in), xs(n), ds(n), bc(n);
    DeviceBuffer<int> us(n);
    sse::launch(warp_sums, 1, n, 0, nullptr, d_in.get(), xs.get(), ds.get(), us.get(), bc.get());
    const std::vector<float> x = xs.download(), d = ds.download(), b = bc.download();
    const std::vector<int> u = us.download();
    for (unsigned w = 0; w < n; w += 32) {
      const unsigned lanes = n - w < 32 ? n - w : 32;
      float total = 0;
      for (unsigned l = 0; l < lanes; ++l) total += in[w + l];
      if (lanes == 32) {
        for (unsigned l = 0; l < 32; ++l) EXPECT_EQ(x[w + l], total);
      }
      EXPECT_EQ(d[w], total) << "warp at " << w;
      for (unsigned l = 0; l < lanes; ++l) {
        EXPECT_EQ(u[w + l], static_cast<int>((l + 1) * (l + 2) / 2)) << l;
        EXPECT_EQ(b[w + l], in[w + (l & ~7u) + 3]) << l;
      }
    }
  }
}

// Shuffle sources follow PTX: clamped at segment bounds (own value), srcLane taken modulo width,
// xor may read from earlier segments but not later ones.
__global__ void shuffle_modes(int* out, int width) {
  const int lane = static_cast<int>(threadIdx.x);
  out[0 * 32 + lane] = __shfl_sync(0xffffffffu, lane, 37, width);       // 37 % width
  out[1 * 32 + lane] = __shfl_up_sync(0xffffffffu, lane, 3, width);
  out[2 * 32 + lane] = __shfl_down_sync(0xffffffffu, lane, 3, width);
  out[3 * 32 + lane] = __shfl_xor_sync(0xffffffffu, lane, 9, width);
  out[4 * 32 + lane] = __shfl_sync(0xffffffffu, lane, lane + 1);        // rotate
}

TEST(SimWarp, ShuffleSourcesFollowPtx) {
  DeviceBuffer<int> out(5 * 32);
  for (const int width : {32, 16, 8, 4, 2, 1}) {
    sse::launch(shuffle_modes, 1, 32, 0, nullptr, out.get(), width);
    const std::vector<int> h = out.download();
    for (int l = 0; l < 32; ++l) {
      const int seg = l / width * width;
      EXPECT_EQ(h[l], seg + 37 % width) << "idx width " << width << " lane " << l;
      EXPECT_EQ(h[32 + l], l - seg >= 3 ? l - 3 : l) << "up width " << width << " lane " << l;
      EXPECT_EQ(h[64 + l], l - seg + 3 < width ? l + 3 : l) << "down width " << width << " lane " << l;
      EXPECT_EQ(h[96 + l], (l ^ 9) < seg + width ? (l ^ 9) : l) << "xor width " << width << " lane " << l;
      EXPECT_EQ(h[128 + l], (l + 1) % 32);
    }
  }
}

__global__ void shuffle_types(double* d, long long* ll, unsigned* u) {
  const unsigned lane = threadIdx.x;
  d[lane] = __shfl_xor_sync(0xffffffffu, 0.5 + lane, 1);
  ll[lane] = __shfl_down_sync(0xffffffffu, (1ll << 40) + lane, 1);
  u[lane] = __shfl_sync(0xffffffffu, 0x80000000u + lane, 31);
}

TEST(SimWarp, ShufflesOfWideTypes) {
  DeviceBuffer<double> d(32);
  DeviceBuffer<long long> ll(32);
  DeviceBuffer<unsigned> u(32);
  sse::launch(shuffle_types, 1, 32, 0, nullptr, d.get(), ll.get(), u.get());
  const auto hd = d.download();
  const auto hl = ll.download();
  const auto hu = u.download();
  for (unsigned l = 0; l < 32; ++l) {
    EXPECT_EQ(hd[l], 0.5 + (l ^ 1));
    EXPECT_EQ(hl[l], (1ll << 40) + (l < 31 ? l + 1 : l));
    EXPECT_EQ(hu[l], 0x80000000u + 31);
  }
}

__global__ void votes(unsigned* ballot, int* any, int* all, unsigned* active) {
  const unsigned t = threadIdx.x, lane = t % 32;
  const unsigned mask = lanes_of_my_warp(t, blockDim.x);
  ballot[t] = __ballot_sync(mask, lane % 3 == 0);
  any[t] = __any_sync(mask, lane == 5) * 2 + __any_sync(mask, 0);
  all[t] = __all_sync(mask, lane < 32) * 2 + __all_sync(mask, lane != 20);
  active[t] = __activemask();
}

TEST(SimWarp, BallotAnyAll) {
  const unsigned n = 40;
  DeviceBuffer<unsigned> ballot(n), active(n);
  DeviceBuffer<int> any(n), all(n);
  sse::launch(votes, 1, n, 0, nullptr, ballot.get(), any.get(), all.get(), active.get());
  const auto b = ballot.download(), ac = active.download();
  const auto an = any.download(), al = all.download();
  for (unsigned t = 0; t < n; ++t) {
    const bool full = t < 32;
    EXPECT_EQ(b[t], full ? 0x49249249u : 0x49u) << t;  // lanes 0,3,6,... (< 8 in the partial warp)
    EXPECT_EQ(an[t], 2) << t;
    EXPECT_EQ(al[t], full ? 2 : 3) << t;  // lane 20 exists only in the full warp
    EXPECT_EQ(ac[t], full ? 0xffffffffu : 0xffu);
  }
}

// __activemask sees the lanes that took the same branch; exited lanes are not active.
__global__ void divergent_active_masks(unsigned* out) {
  const unsigned lane = threadIdx.x % 32;
  if (threadIdx.x >= 32 && lane >= 20) return;
  unsigned m;
  if (lane < 10) {
    m = __activemask();
  } else {
    m = __activemask();
  }
  out[threadIdx.x] = m;
}

TEST(SimWarp, ActiveMaskFollowsBranches) {
  DeviceBuffer<unsigned> out(64);
  for (const Schedule& s : all_schedules()) {
    ScopedSchedule scoped(s);
    sse::launch(divergent_active_masks, 1, 64, 0, nullptr, out.get());
    const auto h = out.download();
    for (unsigned t = 0; t < 64; ++t) {
      const unsigned lane = t % 32;
      if (t >= 32 && lane >= 20) continue;
      const unsigned branch = lane < 10 ? 0x3ffu : (t < 32 ? 0xfffffc00u : 0xffc00u);
      EXPECT_EQ(h[t], branch) << t;
    }
  }
}

// Subgroups: even and odd lanes vote separately with complementary masks.
__global__ void split_ballot(unsigned* out) {
  const unsigned lane = threadIdx.x;
  const unsigned mask = lane % 2 ? 0xaaaaaaaau : 0x55555555u;
  out[lane] = __ballot_sync(mask, lane < 10);
  __syncwarp();
}

TEST(SimWarp, DisjointGroupsInOneWarp) {
  DeviceBuffer<unsigned> out(32);
  for (const Schedule& s : all_schedules()) {
    ScopedSchedule scoped(s);
    sse::launch(split_ballot, 1, 32, 0, nullptr, out.get());
    const auto h = out.download();
    for (unsigned l = 0; l < 32; ++l) EXPECT_EQ(h[l], l % 2 ? 0x2aau : 0x155u) << l;
  }
}

__global__ void match_and_reduce(unsigned* any, unsigned* all, int* all_pred, unsigned* sums, int* mins, unsigned* ors) {
  const unsigned lane = threadIdx.x;
  any[lane] = __match_any_sync(0xffffffffu, lane / 4);
  all[lane] = __match_all_sync(0xffffffffu, lane < 32 ? 7 : 0, &all_pred[lane]);
  sums[lane] = __reduce_add_sync(0xffffffffu, lane);
  mins[lane] = __reduce_min_sync(0xffffffffu, static_cast<int>(lane) - 10);
  ors[lane] = __reduce_or_sync(0xffffffffu, 1u << (lane % 8));
}

TEST(SimWarp, MatchAndReduce) {
  DeviceBuffer<unsigned> any(32), all(32), sums(32), ors(32);
  DeviceBuffer<int> pred(32), mins(32);
  sse::launch(match_and_reduce, 1, 32, 0, nullptr, any.get(), all.get(), pred.get(), sums.get(), mins.get(), ors.get());
  const auto a = any.download(), al = all.download(), s = sums.download(), o = ors.download();
  const auto p = pred.download(), m = mins.download();
  for (unsigned l = 0; l < 32; ++l) {
    EXPECT_EQ(a[l], 0xfu << (l / 4 * 4));
    EXPECT_EQ(al[l], 0xffffffffu);
    EXPECT_EQ(p[l], 1);
    EXPECT_EQ(s[l], 496u);
    EXPECT_EQ(m[l], -10);
    EXPECT_EQ(o[l], 0xffu);
  }
}

}  // namespace
