// Tests of io/lowpass_set.h: real maps filtered to a lower resolution as training samples. The
// "real" map here is 1ONC simulated at 3 Å and written as an MRC file, so the filtered result has a
// closed form: Gaussians add in quadrature, lowpass(sim(3 Å), r) = sim(√(3² + r²)).
#include "io/lowpass_set.h"

#include <gtest/gtest.h>

#include <cmath>

#include "io/map.h"
#include "io/simulate_set.h"
#include "tests/io/io_test_util.h"
#include "tests/support/test_util.h"

namespace sse::io {
namespace {

const std::string kModel = std::string(SSE_TEST_DATA_DIR) + "/simulate/1ONC.pdb.gz";

Grid simulated(const Model& model, const GridGeometry& lattice, double resolution) {
  SimulateOptions s;
  s.resolution = resolution;
  s.cutoff_sigmas = 5;  // long tails: the comparison is not about truncation
  return simulate_onto(model, "", lattice, s);
}

struct HighResMap {
  test::ScratchDir dir{"lowpass"};
  Model model = read_model(kModel);
  std::string map_path = dir.file("onc_3A.mrc");
  ManifestRow row;
  HighResMap() {
    SimulateOptions s;
    s.resolution = 3;
    s.padding = 14;
    Grid map = simulate_map(model, "", s);
    map = simulated(model, map, 3);
    write_map(map_path, map);
    row.line = 2;
    row.map = map_path;
    row.model = kModel;
    row.chain = "A";
    row.resolution = 3;
  }
  LowPassOptions options(int per_row) const {
    LowPassOptions o;
    o.build.cache_dir = dir.file("cache");
    o.samples_per_row = per_row;
    o.realism.res_min = 6;
    o.realism.res_max = 9;
    return o;
  }
};

TEST(LowPass, FilteringAddsTheTargetGaussianInQuadrature) {
  HighResMap h;
  const Grid map = read_map(h.map_path);
  const Grid filtered = lowpass_map(map, 8, kSigmaChimera);
  const double expected = sse::test::pearson(filtered.data, simulated(h.model, map, std::hypot(3.0, 8.0)).data);
  const double unfiltered = sse::test::pearson(filtered.data, map.data);
  EXPECT_GT(expected, 0.999);
  EXPECT_LT(unfiltered, 0.95);  // the filter changed the map
  // The mass of the density is kept (the kernel sums to 1; the box holds every tail).
  double before = 0, after = 0;
  for (std::size_t i = 0; i < map.data.size(); ++i) before += map.data[i], after += filtered.data[i];
  EXPECT_NEAR(after / before, 1.0, 0.02);
  EXPECT_THROW(lowpass_map(map, 0, kSigmaChimera), std::invalid_argument);
}

TEST(LowPass, SampleIsTheZoneOfTheWholeFilteredMapWithTheRowsLabels) {
  HighResMap h;
  const LowPassOptions o = h.options(1);
  const RowInputs in = read_row_inputs(h.row, o.build);
  const Sample s = lowpass_sample(h.row, in, 0, o);
  const double res = std::stod(s.meta("resolution"));
  EXPECT_TRUE(res >= 6 && res <= 9) << res;
  // Filtering only the chain's region (what lowpass_sample does) equals filtering the whole map.
  const Sample whole = row_sample(h.row, in, lowpass_map(in.map, res, kSigmaChimera), o.build);
  ASSERT_EQ(s.map.dims(), whole.map.dims());
  double worst = 0, peak = 0;
  for (std::size_t i = 0; i < s.map.data.size(); ++i) {
    worst = std::max(worst, double(std::fabs(s.map.data[i] - whole.map.data[i])));
    peak = std::max(peak, double(std::fabs(whole.map.data[i])));
  }
  EXPECT_LE(worst, 1e-6 * peak);
  // Labels do not depend on the filter: they are the unfiltered sample's.
  EXPECT_EQ(s.labels.data, build_sample(h.row, o.build).labels.data);
  EXPECT_EQ(s.meta("lowpass"), "1");
  EXPECT_EQ(s.meta("source_resolution"), "3");
  EXPECT_EQ(s.meta("map"), h.map_path);
  EXPECT_EQ(s.meta("seed"), std::to_string(sample_seed(h.map_path, "A", 0, 0)));
}

TEST(LowPass, BuildsNPerRowSkipsBuiltOnesAndReportsBadRows) {
  HighResMap h;
  LowPassOptions o = h.options(2);
  ManifestRow bad = h.row;
  bad.line = 3;
  bad.chain = "Z";
  const auto results = build_lowpassed({h.row, bad}, o);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].status, BuildStatus::built) << results[0].message;
  EXPECT_EQ(results[1].status, BuildStatus::built) << results[1].message;
  EXPECT_NE(results[0].sample_path, results[1].sample_path);
  EXPECT_NE(read_sample(results[0].sample_path).meta("resolution"), read_sample(results[1].sample_path).meta("resolution"));
  for (int k = 2; k < 4; ++k) {
    EXPECT_EQ(results[k].status, BuildStatus::failed);
    EXPECT_NE(results[k].message.find("row 3 ("), std::string::npos) << results[k].message;
    EXPECT_NE(results[k].message.find("'Z'"), std::string::npos) << results[k].message;
  }
  const auto again = build_lowpassed({h.row}, o);
  EXPECT_EQ(again[0].status, BuildStatus::skipped);
  EXPECT_EQ(again[1].status, BuildStatus::skipped);
  o.realism.snr_max = 3;  // any option change rebuilds
  o.realism.snr_min = 1;
  EXPECT_EQ(build_lowpassed({h.row}, o)[0].status, BuildStatus::built);
}

}  // namespace
}  // namespace sse::io
