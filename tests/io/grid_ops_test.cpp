// Grid operations: resampling keeps the physical origin and reproduces linear fields, the
// DeepSSETracer normalization, crop/pad, chain zones, and tile planning/blending.
#include "io/grid_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "io/error.h"
#include "io/map.h"
#include "io/structure.h"
#include "tests/io/io_test_util.h"

namespace sse::io {
namespace {

using test::data;

GridGeometry geometry(int nx, int ny, int nz, Vec3 voxel, Vec3 origin) {
  GridGeometry g;
  g.nx = nx;
  g.ny = ny;
  g.nz = nz;
  g.voxel = voxel;
  g.origin = origin;
  return g;
}

double linear_field(Vec3 p) { return 0.5 + 0.25 * p.x - 0.125 * p.y + 0.0625 * p.z; }

Grid sampled_linear_field(const GridGeometry& g) {
  Grid grid(g);
  for (int z = 0; z < g.nz; ++z)
    for (int y = 0; y < g.ny; ++y)
      for (int x = 0; x < g.nx; ++x) grid.at(x, y, z) = float(linear_field(g.position(x, y, z)));
  return grid;
}

TEST(Resample, KeepsOriginCoversExtentAndIsExactOnLinearFields) {
  const Grid in = sampled_linear_field(geometry(30, 20, 25, {1.34, 1.34, 0.8}, {-10.3, 4.0, 7.7}));
  const Grid out = resample(in);
  EXPECT_EQ(out.origin.x, in.origin.x);
  EXPECT_EQ(out.origin.z, in.origin.z);
  EXPECT_EQ(out.voxel.x, 1.0);
  // (n-1)*v_in/v_out + 1 samples: 29*1.34 = 38.86 -> 39 samples, 19*1.34 = 25.46 -> 26, 24*0.8 -> 20.
  EXPECT_EQ(out.nx, 39);
  EXPECT_EQ(out.ny, 26);
  EXPECT_EQ(out.nz, 20);
  double worst = 0;
  for (int z = 0; z < out.nz; ++z)
    for (int y = 0; y < out.ny; ++y)
      for (int x = 0; x < out.nx; ++x)
        worst = std::max(worst, std::abs(out.at(x, y, z) - linear_field(out.position(x, y, z))));
  EXPECT_LT(worst, 1e-5);
}

TEST(Resample, SameLatticeIsAnExactCopyAndOutsidePointsReadZero) {
  Grid in(geometry(4, 4, 4, {1, 1, 1}, {0, 0, 0}));
  std::mt19937 rng(7);
  for (float& v : in.data) v = std::uniform_real_distribution<float>(-1, 1)(rng);
  EXPECT_EQ(resample(in).data, in.data);
  // A lattice shifted by half a voxel, half outside the input: inner points interpolate the 8
  // neighbours, points beyond the last sample are 0.
  const Grid out = resample_onto(in, geometry(4, 1, 1, {1, 1, 1}, {1.5, 1, 1}));
  EXPECT_FLOAT_EQ(out.data[0], 0.5f * (in.at(1, 1, 1) + in.at(2, 1, 1)));
  EXPECT_FLOAT_EQ(out.data[1], 0.5f * (in.at(2, 1, 1) + in.at(3, 1, 1)));
  EXPECT_EQ(out.data[2], 0.f);
  EXPECT_EQ(out.data[3], 0.f);
}

TEST(Normalize, DeepSSETracerStepsAndOptions) {
  Grid g(geometry(5, 1, 1, {1, 1, 1}, {0, 0, 0}));
  g.data = {-2.f, 0.f, 1.f, 2.f, 4.f};
  Grid a = g;
  normalize(a);  // /4 -> {-.5,0,.25,.5,1}; clamp -> {0,0,.25,.5,1}; stats of the positive ones
  const double mean = (0.25 + 0.5 + 1.0) / 3;
  const double sd = std::sqrt(((0.25 - mean) * (0.25 - mean) + (0.5 - mean) * (0.5 - mean) +
                               (1.0 - mean) * (1.0 - mean)) / 3) + 7e-8;
  EXPECT_NEAR(a.data[0], -mean / sd, 1e-6);
  EXPECT_NEAR(a.data[1], -mean / sd, 1e-6);
  EXPECT_NEAR(a.data[4], (1.0 - mean) / sd, 1e-6);

  Grid b = g;
  NormalizeOptions all;
  all.zscore_over = ZScoreOver::all;
  normalize(b, all);
  double m = 0, s = 0;
  for (float v : b.data) m += v;
  for (float v : b.data) s += (v - m / 5) * (v - m / 5);
  EXPECT_NEAR(m / 5, 0.0, 1e-6);
  EXPECT_NEAR(std::sqrt(s / 5), 1.0, 1e-6);

  Grid c = g;
  NormalizeOptions scale_only;
  scale_only.clamp_negative = false;
  scale_only.zscore = false;
  normalize(c, scale_only);
  EXPECT_EQ(c.data, (std::vector<float>{-0.5f, 0.f, 0.25f, 0.5f, 1.f}));

  Grid empty(geometry(2, 1, 1, {1, 1, 1}, {0, 0, 0}), -1.f);
  EXPECT_THROW(normalize(empty), IoError);
}

TEST(Crop, PadsOutsideAndKeepsPhysicalPositions) {
  Grid g(geometry(3, 3, 3, {2, 2, 2}, {10, 20, 30}));
  for (std::size_t i = 0; i < g.size(); ++i) g.data[i] = float(i + 1);
  const Grid c = crop(g, IndexBox{{-1, 1, 2}, {2, 4, 3}}, -5.f);
  EXPECT_EQ(c.dims(), (Index3{3, 3, 1}));
  EXPECT_EQ(c.origin.x, 8.0);
  EXPECT_EQ(c.origin.y, 22.0);
  EXPECT_EQ(c.origin.z, 34.0);
  EXPECT_EQ(c.at(0, 0, 0), -5.f);             // x = -1: padding
  EXPECT_EQ(c.at(1, 0, 0), g.at(0, 1, 2));
  EXPECT_EQ(c.at(2, 1, 0), g.at(1, 2, 2));
  EXPECT_EQ(c.at(2, 2, 0), -5.f);             // y = 3: padding
}

TEST(ChainZone, ZeroesOutsideRadiusAndCropsToBoxPlusMargin) {
  Grid map(geometry(40, 40, 40, {1, 1, 1}, {0, 0, 0}), 1.f);
  const std::vector<Vec3> atoms{{20, 20, 20}, {24, 20, 20}};
  ZoneOptions o;
  o.radius = 3.0;
  o.margin = 2;
  const Grid z = chain_zone(map, atoms, o);
  // Zone spans x 17..27, y/z 17..23; plus 2 voxels of margin on each side.
  EXPECT_EQ(z.dims(), (Index3{15, 11, 11}));
  EXPECT_EQ(z.origin.x, 15.0);
  EXPECT_EQ(z.origin.y, 15.0);
  for (int zz = 0; zz < z.nz; ++zz)
    for (int y = 0; y < z.ny; ++y)
      for (int x = 0; x < z.nx; ++x) {
        const Vec3 p = z.position(x, y, zz);
        const bool inside = dist(p, atoms[0]) <= 3.0 || dist(p, atoms[1]) <= 3.0;
        ASSERT_EQ(z.at(x, y, zz), inside ? 1.f : 0.f) << p.x << " " << p.y << " " << p.z;
      }
  EXPECT_THROW(chain_zone(map, {{100, 100, 100}}, o), IoError);
}

// zone_at_spacing resamples only what it needs and must equal the straightforward composition.
TEST(ChainZone, ZoneAtSpacingEqualsZoneOfTheResampledMap) {
  const Grid map = read_map(data("real/6149_3j8g_X/X-1.0APIX.mrc.gz"));
  Grid coarse = resample(map, {1.3, 1.3, 1.3});  // a map that is not at 1 Å yet
  const Model model = read_model(data("real/6149_3j8g_X/X_fitted.pdb.gz"));
  const std::vector<Vec3>& atoms = model.chain("X").atoms;
  const Grid direct = chain_zone(resample(coarse), atoms);
  const Grid fast = zone_at_spacing(coarse, atoms);
  EXPECT_EQ(fast.dims(), direct.dims());
  EXPECT_EQ(fast.origin.x, direct.origin.x);
  EXPECT_EQ(fast.origin.z, direct.origin.z);
  EXPECT_EQ(fast.data, direct.data);
  // Half the atoms only: the zone shrinks and stays consistent.
  const std::vector<Vec3> half(atoms.begin(), atoms.begin() + long(atoms.size() / 2));
  EXPECT_EQ(zone_at_spacing(coarse, half).data, chain_zone(resample(coarse), half).data);
}

TEST(Tiles, PlanCoversEveryVoxelWithFixedSizeTiles) {
  const Index3 dims{50, 17, 8}, tile{16, 16, 16}, overlap{4, 4, 4};
  const auto boxes = plan_tiles(dims, tile, overlap);
  std::vector<int> cover(std::size_t(dims[0] * dims[1] * dims[2]), 0);
  for (const IndexBox& b : boxes) {
    EXPECT_EQ(b.extent(0), 16);
    EXPECT_EQ(b.extent(1), 16);
    EXPECT_EQ(b.extent(2), 16);
    for (int z = b.lo[2]; z < std::min(b.hi[2], dims[2]); ++z)
      for (int y = b.lo[1]; y < std::min(b.hi[1], dims[1]); ++y)
        for (int x = b.lo[0]; x < std::min(b.hi[0], dims[0]); ++x) ++cover[std::size_t((z * dims[1] + y) * dims[0] + x)];
  }
  for (int c : cover) ASSERT_GE(c, 1);
  // x: starts 0, 12, 24, then 34 so the last tile ends at the edge; y: 0, 1; z: one tile.
  EXPECT_EQ(boxes.size(), 4u * 2u * 1u);
  EXPECT_EQ(boxes.back().lo[0], 34);
  EXPECT_EQ(boxes.back().hi[1], 17);
}

TEST(Tiles, WeightsAreCentreHeavyAndBlendingReproducesAField) {
  const Index3 tile{8, 8, 8}, overlap{3, 3, 3};
  const std::vector<float> w = blend_weights(tile, overlap);
  EXPECT_GT(w[std::size_t((4 * 8 + 4) * 8 + 4)], w[0]);
  EXPECT_GT(*std::min_element(w.begin(), w.end()), 0.f);

  GridGeometry g = geometry(19, 11, 5, {1, 1, 1}, {0, 0, 0});
  Grid field(g);
  for (std::size_t i = 0; i < field.size(); ++i) field.data[i] = std::sin(0.1f * float(i));
  TileBlender blend(g, 2, tile, overlap);
  for (const IndexBox& b : plan_tiles(g.dims(), tile, overlap)) {
    const Grid t = crop(field, b, 0.f);
    std::vector<float> two(t.data);
    for (float v : t.data) two.push_back(2 * v);
    blend.add(b, two.data());
  }
  const std::vector<Grid> out = blend.result();
  for (std::size_t i = 0; i < field.size(); ++i) {
    ASSERT_NEAR(out[0].data[i], field.data[i], 1e-6);
    ASSERT_NEAR(out[1].data[i], 2 * field.data[i], 1e-6);
  }
}

}  // namespace
}  // namespace sse::io
