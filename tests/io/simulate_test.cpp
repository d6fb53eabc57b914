// Map simulation: agreement with maps made by Chimera, EMAN and other tools from the same models,
// the Gaussian sum itself (values, cutoff, locality, thread-count independence), the realism (SNR,
// noise spectrum, blur, scale, seeds), simulated training samples and their cache, and bad input.
#include "io/simulate.h"

#include <gtest/gtest.h>

#include <set>
#include <omp.h>

#include <cmath>
#include <functional>
#include <iostream>

#include "io/error.h"
#include "io/file_util.h"
#include "io/labels.h"
#include "io/map.h"
#include "io/simulate_set.h"
#include "tests/io/io_test_util.h"
#include "tests/support/test_util.h"

namespace sse::io {
namespace {

std::string sim_data(const std::string& rel) { return std::string(SSE_TEST_DATA_DIR) + "/simulate/" + rel; }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const IoError& e) {
    return e.what();
  }
  return "";
}

double variance(const std::vector<float>& v) {
  double m = 0, m2 = 0;
  for (float x : v) {
    m += x;
    m2 += double(x) * x;
  }
  m /= double(v.size());
  return m2 / double(v.size()) - m * m;
}

// A model made in code: one chain "A" of single-atom residues (no Cα), element Z each.
Model atoms_model(const std::vector<Vec3>& atoms, std::uint8_t z = 6) {
  Model m;
  m.path = "made-in-test.pdb";
  Chain c;
  c.id = "A";
  c.atoms = atoms;
  c.elements.assign(atoms.size(), z);
  c.occupancies.assign(atoms.size(), 1.f);
  m.chains.push_back(c);
  return m;
}

// ---- agreement with other tools' maps ------------------------------------------------------

struct Reference {
  const char* map;
  const char* model;
  const char* chain;
  double resolution;
  const char* convention;  // the σ convention the tool used
  const char* other;       // another convention, which must do worse
};

void PrintTo(const Reference& r, std::ostream* os) { *os << r.map << " with " << r.model; }

class SimulateReference : public ::testing::TestWithParam<Reference> {};

// Same model, same resolution, simulated onto the reference's own lattice (origin, voxel size,
// dimensions); Pearson correlation over every sample of the reference's box.
TEST_P(SimulateReference, CorrelatesWithTheToolsMapOnItsGrid) {
  const Reference& r = GetParam();
  const Grid ref = read_map(sim_data(r.map));
  const Model model = read_model(sim_data(r.model));
  SimulateOptions o;
  o.resolution = r.resolution;
  o.sigma_factor = parse_sigma_factor(r.convention);
  const double cc = sse::test::pearson(simulate_onto(model, r.chain, ref, o).data, ref.data);
  o.sigma_factor = parse_sigma_factor(r.other);
  const double cc_other = sse::test::pearson(simulate_onto(model, r.chain, ref, o).data, ref.data);
  std::cout << "[ corr     ] " << r.map << " (" << r.convention << "): " << cc << "  (" << r.other << ": " << cc_other
            << ")\n";
  RecordProperty("correlation", std::to_string(cc));
  EXPECT_GE(cc, 0.95);
  EXPECT_LT(cc_other, cc);  // the width matters: the test can tell the conventions apart
}

INSTANTIATE_TEST_SUITE_P(
    Tools, SimulateReference,
    ::testing::Values(
        // Chimera molmap (header "Chimera 1.3"), 10 Å, 3 Å voxels, from TEMPy's test data.
        Reference{"1akeA_10A.mrc.gz", "1akeA.pdb.gz", "", 10.0, "chimera", "tempy"},
        // Chimera 1.5 with σ = 0.356·R (TEMPy's default), 5 Å, 1.25 Å voxels, from TEMPy's test data.
        Reference{"1ggg_5A.mrc.gz", "1ggg.pdb.gz", "B", 5.0, "tempy", "chimera"},
        // EMAN pdb2mrc (header "EMAN 9/28/2010"), 5 Å, 2 Å voxels; HETATM ligand of chain A included.
        Reference{"1ONC.5A.mrc.gz", "1ONC.pdb.gz", "A", 5.0, "eman", "tempy"},
        // EMAN, 5 Å, 2.5 Å voxels, one chain.
        Reference{"2PUQ.5A.mrc.gz", "2PUQ_L.pdb.gz", "L", 5.0, "eman", "tempy"},
        // EMAN, 5 Å, every chain of a four-chain model.
        Reference{"1K4C.5A.mrc.gz", "1K4C.pdb.gz", "", 5.0, "eman", "tempy"},
        // RosettaCommons demos' "6 Å" map (tool not named), non-cubic voxels placed by NSTART.
        Reference{"1issA_6A.mrc.gz", "1issA.pdb.gz", "A", 6.0, "chimera", "tempy"}),
    [](const auto& info) {
      std::string n = info.param.map;
      return n.substr(0, n.find_first_of("._"));
    });

TEST(Simulate, ChimeraMapsWithAnOldMachineStampAreRead) {
  // Chimera 1.3-1.5 wrote the stamp as 00 00 44 44; the byte order then comes from the MODE word.
  const MapHeader h = read_map_header(sim_data("1akeA_10A.mrc.gz"));
  EXPECT_TRUE(h.little_endian);
  ASSERT_EQ(h.warnings.size(), 1u);
  EXPECT_NE(h.warnings[0].find("machine stamp"), std::string::npos);
  EXPECT_EQ(h.geometry.dims(), (Index3{22, 22, 22}));
  EXPECT_NEAR(h.geometry.origin.x, -6.494, 1e-5);
  EXPECT_EQ(h.geometry.voxel.x, 3.0);
  EXPECT_TRUE(read_map_header(sim_data("1ONC.5A.mrc.gz")).warnings.empty());
}

TEST(Simulate, ReadModelGivesEveryAtomsElementAndOccupancy) {
  const Model m = read_model(sim_data("1ONC.pdb.gz"));
  const Chain& a = m.chain("A");
  ASSERT_EQ(a.elements.size(), a.atoms.size());
  ASSERT_EQ(a.occupancies.size(), a.atoms.size());
  EXPECT_EQ(a.elements[0], 7);  // HETATM N of PCA 1
  EXPECT_EQ(a.elements[5], 8);  // its OE
  EXPECT_EQ(a.occupancies[0], 1.f);
  const Chain& blank = m.chain("");  // the sulphate has no chain id
  ASSERT_FALSE(blank.elements.empty());
  EXPECT_EQ(blank.elements[0], 16);
}

// ---- the Gaussian sum ----------------------------------------------------------------------

TEST(Simulate, OneAtomGivesZTimesTheGaussianInsideTheCutoffAndZeroOutside) {
  const Model m = atoms_model({{10, 20, 30}}, 8);
  SimulateOptions o;
  o.resolution = 6;
  const double s = o.sigma(), r = 3 * s;
  const Grid g = simulate_map(m, "A", o);
  // Lattice: spacing 1, origin a multiple of 1, covering the atom ± 3σ.
  EXPECT_EQ(g.origin.x, std::floor(10 - r));
  EXPECT_EQ(g.nx, int(std::ceil(10 + r) - std::floor(10 - r)) + 1);
  long inside = 0;
  for (int z = 0; z < g.nz; ++z)
    for (int y = 0; y < g.ny; ++y)
      for (int x = 0; x < g.nx; ++x) {
        const double d2 = dist2(g.position(x, y, z), {10, 20, 30});
        const double expect = d2 <= r * r ? 8 * std::exp(-d2 / (2 * s * s)) : 0.0;
        ASSERT_NEAR(g.at(x, y, z), expect, 1e-5) << x << "," << y << "," << z;
        inside += d2 <= r * r;
      }
  EXPECT_GT(inside, 100);
}

TEST(Simulate, AFarAtomTouchesOnlyItsOwnNeighbourhood) {
  // The grid spans both atoms; the far atom must leave every sample near the first bit-identical.
  const Model one = atoms_model({{0, 0, 0}});
  const Model two = atoms_model({{0, 0, 0}, {40, 0, 0}});
  SimulateOptions o;
  o.resolution = 8;
  const Grid b = simulate_map(two, "A", o);
  const Grid a = simulate_onto(one, "A", b, o);
  const double r = 3 * o.sigma();
  long changed_near_first = 0, changed = 0;
  for (std::size_t i = 0; i < a.data.size(); ++i) {
    const Index3 c = a.coords(i);
    const Vec3 p = a.position(c[0], c[1], c[2]);
    changed += a.data[i] != b.data[i];
    changed_near_first += a.data[i] != b.data[i] && dist(p, {40, 0, 0}) > r;
  }
  EXPECT_EQ(changed_near_first, 0);
  EXPECT_GT(changed, 0);
  // A lattice far from every atom stays zero.
  GridGeometry far = b;
  far.origin = {500, 500, 500};
  const Grid z = simulate_onto(two, "A", far, o);
  for (float v : z.data) ASSERT_EQ(v, 0.f);
}

TEST(Simulate, ResultDoesNotDependOnTheNumberOfThreads) {
  const Model m = read_model(sim_data("1K4C.pdb.gz"));
  SimulateOptions o;
  o.resolution = 7;
  const int before = omp_get_max_threads();
  omp_set_num_threads(1);
  const Grid one = simulate_map(m, "", o);
  omp_set_num_threads(3);
  const Grid three = simulate_map(m, "", o);
  omp_set_num_threads(before);
  ASSERT_EQ(one.dims(), three.dims());
  EXPECT_TRUE(one.data == three.data);
}

TEST(Simulate, OccupancyWeightingIsOptional) {
  Model m = atoms_model({{0, 0, 0}});
  m.chains[0].occupancies[0] = 0.5f;
  SimulateOptions o;
  o.resolution = 5;
  const Grid full = simulate_map(m, "A", o);
  o.weight_by_occupancy = true;
  const Grid half = simulate_map(m, "A", o);
  const std::size_t peak = full.index(full.nx / 2, full.ny / 2, full.nz / 2);
  EXPECT_FLOAT_EQ(full.data[peak], 6.f);
  EXPECT_FLOAT_EQ(half.data[peak], 3.f);
}

TEST(Simulate, SigmaConventionNames) {
  EXPECT_NEAR(parse_sigma_factor("chimera"), 1 / (M_PI * std::sqrt(2.0)), 1e-15);
  EXPECT_EQ(parse_sigma_factor("eman"), parse_sigma_factor("molmap"));
  EXPECT_EQ(parse_sigma_factor("tempy"), 0.356);
  EXPECT_EQ(parse_sigma_factor("0.3"), 0.3);
  EXPECT_THROW(parse_sigma_factor("gemmi"), std::invalid_argument);
  EXPECT_THROW(parse_sigma_factor("-1"), std::invalid_argument);
}

TEST(Simulate, BadInputNamesTheFile) {
  const Model m = read_model(sim_data("2PUQ_L.pdb.gz"));
  SimulateOptions o;
  o.resolution = 0;
  std::string e = error_of([&] { simulate_map(m, "L", o); });
  EXPECT_NE(e.find("2PUQ_L.pdb.gz"), std::string::npos) << e;
  EXPECT_NE(e.find("resolution"), std::string::npos) << e;
  o.resolution = -3;
  e = error_of([&] { simulate_onto(m, "L", GridGeometry{4, 4, 4}, o); });
  EXPECT_NE(e.find("2PUQ_L.pdb.gz"), std::string::npos) << e;
  o.resolution = 5;
  e = error_of([&] { simulate_map(m, "Q", o); });
  EXPECT_NE(e.find("2PUQ_L.pdb.gz"), std::string::npos) << e;
  EXPECT_NE(e.find("no chain 'Q' (chains: L)"), std::string::npos) << e;
  Model empty = atoms_model({});
  e = error_of([&] { simulate_map(empty, "A", o); });
  EXPECT_NE(e.find("made-in-test.pdb: chain 'A' has no atoms"), std::string::npos) << e;
  e = error_of([&] { simulate_sample(sim_data("absent.pdb"), "A", 1, SimulatedSetOptions{}); });
  EXPECT_NE(e.find("absent.pdb"), std::string::npos) << e;
}

// ---- realism -------------------------------------------------------------------------------

class RealismTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SimulateOptions o;
    o.resolution = 6;
    clean_ = simulate_map(read_model(sim_data("2PUQ_L.pdb.gz")), "L", o);
  }
  // The noise add_realism adds for `d`: its result minus the same draw without noise.
  Grid noise_of(RealismDraw d) const {
    Grid noisy = add_realism(clean_, d);
    d.snr = 0;
    const Grid quiet = add_realism(clean_, d);
    for (std::size_t i = 0; i < noisy.data.size(); ++i) noisy.data[i] -= quiet.data[i];
    return noisy;
  }
  Grid clean_;
};

TEST_F(RealismTest, NoiseHasTheRequestedSnrOverTheSignal) {
  std::vector<float> signal;
  for (float v : clean_.data)
    if (v > 0) signal.push_back(v);
  for (double snr : {0.5, 4.0}) {
    RealismDraw d;
    d.seed = 11;
    d.snr = snr;
    d.noise_sigma = 1.5;
    const Grid n = noise_of(d);
    const double measured = variance(signal) / variance(n.data);
    std::cout << "[ snr      ] requested " << snr << ", measured " << measured << "\n";
    EXPECT_NEAR(measured / snr, 1.0, 0.1);
  }
}

TEST_F(RealismTest, NoiseSpectrumIsTheGaussianLowPass) {
  // White noise blurred by a Gaussian of σ_n has autocorrelation exp(−d²/4σ_n²).
  for (double sigma_n : {0.0, 1.0, 2.0}) {
    RealismDraw d;
    d.seed = 5;
    d.snr = 1;
    d.noise_sigma = sigma_n;
    const Grid n = noise_of(d);
    for (int lag : {1, 3}) {
      double c = 0, v = 0;
      for (int z = 0; z < n.nz; ++z)
        for (int y = 0; y < n.ny; ++y)
          for (int x = 0; x + lag < n.nx; ++x) {
            c += double(n.at(x, y, z)) * n.at(x + lag, y, z);
            v += double(n.at(x, y, z)) * n.at(x, y, z);
          }
      const double expect = sigma_n > 0 ? std::exp(-lag * lag / (4 * sigma_n * sigma_n)) : 0.0;
      EXPECT_NEAR(c / v, expect, 0.05) << "sigma_n " << sigma_n << " lag " << lag;
    }
  }
}

TEST_F(RealismTest, DrawsAreInRangeAndFollowTheSeed) {
  Realism r;
  r.snr_min = 1;
  r.snr_max = 3;
  r.bfactor_min = 20;
  r.bfactor_max = 80;
  r.scale_min = 0.5;
  r.scale_max = 2;
  std::vector<double> resolutions;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    const RealismDraw d = draw_realism(r, kSigmaChimera, seed);
    EXPECT_TRUE(d.resolution >= 5 && d.resolution <= 10);
    EXPECT_TRUE(d.snr >= 1 && d.snr <= 3);
    EXPECT_TRUE(d.bfactor >= 20 && d.bfactor <= 80);
    EXPECT_TRUE(d.scale >= 0.5 && d.scale <= 2);
    EXPECT_DOUBLE_EQ(d.noise_sigma, kSigmaChimera * d.resolution);
    resolutions.push_back(d.resolution);
  }
  EXPECT_GT(*std::max_element(resolutions.begin(), resolutions.end()) -
                *std::min_element(resolutions.begin(), resolutions.end()), 3.0);
  const RealismDraw d = draw_realism(r, kSigmaChimera, 7);
  const Grid a = add_realism(clean_, d), b = add_realism(clean_, d);
  EXPECT_TRUE(a.data == b.data);
  EXPECT_FALSE(a.data == add_realism(clean_, draw_realism(r, kSigmaChimera, 8)).data);
  r.res_min = 0;
  EXPECT_THROW(draw_realism(r, kSigmaChimera, 1), std::invalid_argument);
}

TEST_F(RealismTest, BlurKeepsTheMassAndScaleMultiplies) {
  RealismDraw d;
  d.bfactor = 100;  // σ_B = √(100 / 8π²) ≈ 1.13 Å
  const Grid blurred = add_realism(clean_, d);
  double mass = 0, blurred_mass = 0;
  for (std::size_t i = 0; i < clean_.data.size(); ++i) {
    mass += clean_.data[i];
    blurred_mass += blurred.data[i];
  }
  EXPECT_NEAR(blurred_mass / mass, 1.0, 1e-3);  // the lattice has 3σ of empty padding
  EXPECT_LT(*std::max_element(blurred.data.begin(), blurred.data.end()),
            *std::max_element(clean_.data.begin(), clean_.data.end()));
  d = RealismDraw{};
  d.scale = 2.5;
  const Grid scaled = add_realism(clean_, d);
  for (std::size_t i = 0; i < clean_.data.size(); ++i) ASSERT_EQ(scaled.data[i], clean_.data[i] * 2.5f);
}

TEST_F(RealismTest, LocalResolutionMixesTheMapWithItsBlurredCopyBySmoothWeights) {
  RealismDraw d;
  d.seed = 5;
  d.local_bfactor = 200;
  const Grid varied = add_realism(clean_, d);
  Grid blurred = clean_;
  gaussian_blur(blurred, bfactor_sigma(200));
  // Each sample is (1 − w)·clean + w·blurred with w in (0, 1), w varying over the map.
  double w_min = 1, w_max = 0;
  for (std::size_t i = 0; i < clean_.data.size(); ++i) {
    const float lo = std::min(clean_.data[i], blurred.data[i]), hi = std::max(clean_.data[i], blurred.data[i]);
    ASSERT_GE(varied.data[i], lo - 1e-4f * (1 + std::fabs(lo))) << i;
    ASSERT_LE(varied.data[i], hi + 1e-4f * (1 + std::fabs(hi))) << i;
    const double gap = double(blurred.data[i]) - clean_.data[i];
    if (std::fabs(gap) > 0.5) {
      const double w = (varied.data[i] - clean_.data[i]) / gap;
      w_min = std::min(w_min, w), w_max = std::max(w_max, w);
    }
  }
  // Sharper regions and blurrier ones in one map (a 30 Å protein spans about 2.5 field lengths).
  EXPECT_GT(w_max - w_min, 0.25) << w_min << " .. " << w_max;
  EXPECT_GT(w_min, -1e-3);
  EXPECT_LT(w_max, 1 + 1e-3);
  EXPECT_EQ(add_realism(clean_, d).data, varied.data);  // the seed repeats it
  d.seed = 6;
  EXPECT_NE(add_realism(clean_, d).data, varied.data);
  Realism r;
  r.local_bfactor_max = -1;
  EXPECT_THROW(draw_realism(r, kSigmaChimera, 1), std::invalid_argument);
}

TEST(GaussianBlur, ADeltaSpreadsWithTheRequestedSigma) {
  GridGeometry g{41, 41, 41, {0.5, 1, 2}, {0, 0, 0}};
  Grid delta(g);
  delta.at(20, 20, 20) = 1;
  gaussian_blur(delta, 1.5);
  for (int axis = 0; axis < 3; ++axis) {
    double m2 = 0;
    for (int i = 0; i < 41; ++i) {
      Index3 c{20, 20, 20};
      c[axis] = i;
      const double d = (i - 20) * g.voxel[axis];
      m2 += delta.at(c[0], c[1], c[2]) * d * d;
    }
    double line = 0;
    for (int i = 0; i < 41; ++i) {
      Index3 c{20, 20, 20};
      c[axis] = i;
      line += delta.at(c[0], c[1], c[2]);
    }
    EXPECT_NEAR(m2 / line, 1.5 * 1.5, axis == 2 ? 0.2 : 0.02) << "axis " << axis;  // 2 Å samples: coarse
  }
  EXPECT_NEAR(bfactor_sigma(8 * M_PI * M_PI), 1.0, 1e-12);
}

// ---- simulated samples and their cache -----------------------------------------------------

SimulatedSetOptions set_options(const std::string& cache) {
  SimulatedSetOptions o;
  o.build.cache_dir = cache;
  o.realism.snr_min = 2;
  o.realism.snr_max = 4;
  o.realism.bfactor_max = 50;
  return o;
}

TEST(SimulatedSample, LabelsAreMakeLabelsOfTheZoneAndTheSeedRepeatsIt) {
  const SimulatedSetOptions o = set_options("");
  const Model model = read_model(sim_data("1ONC.pdb.gz"));
  const ChainSs ss = chain_secondary_structure(model, "A");
  const Sample s = simulate_sample(model, "A", ss, 42, o);
  EXPECT_EQ(s.labels.data, make_labels(s.map, model.chain("A"), ss.classes).data);
  EXPECT_EQ(s.map.voxel.x, 1.0);
  EXPECT_EQ(s.map.origin.x, std::round(s.map.origin.x));  // on the global 1 Å lattice
  // Zero outside the 5 Å zone, as in the authors' chain maps.
  const LabelGrid zone = zone_mask(s.map, model.chain("A").atoms, 5.0);
  long outside = 0;
  for (std::size_t i = 0; i < s.map.data.size(); ++i) outside += !zone.data[i] && s.map.data[i] != 0.f;
  EXPECT_EQ(outside, 0);
  const double res = std::stod(s.meta("resolution"));
  EXPECT_TRUE(res >= 5 && res <= 10);
  EXPECT_EQ(s.meta("ss_source"), "records");
  EXPECT_EQ(s.meta("map"), "simulated");
  EXPECT_EQ(s.meta("seed"), "42");
  EXPECT_GT(std::stol(s.meta("helix_voxels")), 100);
  const Sample again = simulate_sample(sim_data("1ONC.pdb.gz"), "A", 42, o);
  EXPECT_TRUE(again.map.data == s.map.data);
  EXPECT_EQ(again.labels.data, s.labels.data);
  EXPECT_NE(simulate_sample(model, "A", ss, 43, o).meta("resolution"), s.meta("resolution"));
}

TEST(SimulatedSample, ADrawnZoneRadiusMasksEachSampleAtItsOwnRadius) {
  SimulatedSetOptions o = set_options("");
  o.realism.radius_min = 6;
  o.realism.radius_max = 9;
  const Model model = read_model(sim_data("1ONC.pdb.gz"));
  const ChainSs ss = chain_secondary_structure(model, "A");
  const std::vector<Vec3>& atoms = model.chain("A").atoms;
  std::set<std::string> radii;
  for (std::uint64_t seed : {1, 2, 3}) {
    const Sample s = simulate_sample(model, "A", ss, seed, o);
    const double r = std::stod(s.meta("zone_radius"));
    EXPECT_TRUE(r >= 6 && r <= 9) << r;
    radii.insert(s.meta("zone_radius"));
    // Density exactly inside the drawn zone: none outside it, some beyond the default 5 Å.
    const LabelGrid zone = zone_mask(s.map, atoms, r), five = zone_mask(s.map, atoms, 5.0);
    long outside = 0, beyond_five = 0;
    for (std::size_t i = 0; i < s.map.data.size(); ++i) {
      outside += !zone.data[i] && s.map.data[i] != 0.f;
      beyond_five += !five.data[i] && s.map.data[i] != 0.f;
    }
    EXPECT_EQ(outside, 0);
    EXPECT_GT(beyond_five, 1000);
    EXPECT_EQ(s.labels.data, make_labels(s.map, model.chain("A"), ss.classes).data);  // labels keep the 3 Å rule
  }
  EXPECT_EQ(radii.size(), 3u);
  o.realism.radius_min = 0;  // a drawn radius needs a positive lower bound
  EXPECT_THROW(draw_realism(o.realism, kSigmaChimera, 1), std::invalid_argument);
}

TEST(SimulatedSample, BoxContextKeepsTheWholeBoxAndLabelsEveryChain) {
  // KcsA's four chains pack their helices side by side: chain A's box holds its neighbours' helices.
  const Model model = read_model(sim_data("1K4C.pdb.gz"));
  const ChainSs ss = chain_secondary_structure(model, "A");
  SimulatedSetOptions o = set_options("");
  const Sample zone = simulate_sample(model, "A", ss, 7, o);
  o.context = SampleContext::box;
  const Sample box = simulate_sample(model, "A", ss, 7, o);
  EXPECT_EQ(zone.meta("context"), "zone");
  EXPECT_EQ(box.meta("context"), "box");
  ASSERT_EQ(box.map.dims(), zone.map.dims());  // the same box, the same draws
  EXPECT_EQ(box.map.origin.x, zone.map.origin.x);

  // Inside the zone the density is the zone sample's; outside it is kept, not zeroed.
  const LabelGrid in_zone = zone_mask(box.map, model.chain("A").atoms, 5.0);
  long differ_inside = 0, kept_outside = 0;
  for (std::size_t i = 0; i < box.map.data.size(); ++i) {
    if (in_zone.data[i]) differ_inside += box.map.data[i] != zone.map.data[i];
    else kept_outside += box.map.data[i] != 0.f;
  }
  EXPECT_EQ(differ_inside, 0);
  EXPECT_GT(kept_outside, 1000);

  // Labels: helix voxels whose nearest Cα (within 3 Å) is a neighbour's, which the zone sample
  // calls background; and the chain's own voxels keep the zone sample's labels where no other
  // chain's Cα is as close.
  std::vector<Vec3> own = model.chain("A").ca_positions(), others;
  for (const Chain& c : model.chains)
    if (c.id != "A") for (const Vec3& p : c.ca_positions()) others.push_back(p);
  const std::vector<std::int32_t> own_owner = nearest_ca_owners(box.map, own), other_owner = nearest_ca_owners(box.map, others);
  long neighbour_helix = 0, own_changed = 0;
  for (std::size_t i = 0; i < box.labels.data.size(); ++i) {
    const bool helix = box.labels.data[i] == std::uint8_t(Sse::helix);
    if (own_owner[i] < 0 && other_owner[i] >= 0 && helix) ++neighbour_helix;
    if (own_owner[i] >= 0 && other_owner[i] < 0) own_changed += box.labels.data[i] != zone.labels.data[i];
  }
  EXPECT_GT(neighbour_helix, 100);
  EXPECT_EQ(own_changed, 0);
  EXPECT_GT(std::stol(box.meta("helix_voxels")), std::stol(zone.meta("helix_voxels")));
}

TEST(SimulatedSet, BuildsEveryProteinChainSkipsBuiltSamplesAndReportsBadFiles) {
  test::ScratchDir dir("simset");
  write_file_atomically(dir.file("garbage.pdb"), "this is not a structure\n");
  write_file_atomically(dir.file("ligand.pdb"),
                        "HETATM    1  C1  LIG A   1       0.000   0.000   0.000  1.00  0.00           C\nEND\n");
  SimulatedSetOptions o = set_options(dir.file("cache"));
  o.samples_per_chain = 2;
  const std::vector<SimulatedSource> sources{{dir.file("garbage.pdb"), ""},
                                             {sim_data("1ONC.pdb.gz"), ""},
                                             {dir.file("ligand.pdb"), ""},
                                             {sim_data("2PUQ_L.pdb.gz"), "Z"},
                                             {dir.file("absent.pdb"), ""}};
  const auto results = build_simulated(sources, o);
  ASSERT_EQ(results.size(), 6u);  // 1 + 2 samples of 1ONC chain A (the sulphate's chain is no protein) + 3
  EXPECT_EQ(results[0].status, BuildStatus::failed);
  EXPECT_NE(results[0].message.find("garbage.pdb"), std::string::npos) << results[0].message;
  for (int k = 0; k < 2; ++k) {
    const SimulatedBuildResult& r = results[std::size_t(1 + k)];
    EXPECT_EQ(r.status, BuildStatus::built) << r.message;
    EXPECT_EQ(r.chain, "A");
    EXPECT_EQ(r.index, k);
    EXPECT_EQ(read_sample(r.sample_path).meta("seed"), std::to_string(sample_seed(sim_data("1ONC.pdb.gz"), "A", k, 0)));
  }
  EXPECT_NE(results[3].message.find("ligand.pdb: no protein chain"), std::string::npos) << results[3].message;
  EXPECT_NE(results[4].message.find("no chain 'Z'"), std::string::npos) << results[4].message;
  EXPECT_NE(results[5].message.find("absent.pdb"), std::string::npos) << results[5].message;

  const auto again = build_simulated({sources[1]}, o);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].status, BuildStatus::skipped);
  EXPECT_EQ(again[1].status, BuildStatus::skipped);
  o.realism.res_max = 9;  // any option change rebuilds
  EXPECT_EQ(build_simulated({sources[1]}, o)[0].status, BuildStatus::built);
}

TEST(SimulatedSet, SeedsDependOnTheFileNameChainAndIndexNotTheFolder) {
  const std::uint64_t s = sample_seed("/a/b/x.pdb", "A", 0, 1);
  EXPECT_EQ(s, sample_seed("/elsewhere/x.pdb", "A", 0, 1));
  EXPECT_NE(s, sample_seed("/a/b/x.pdb", "B", 0, 1));
  EXPECT_NE(s, sample_seed("/a/b/x.pdb", "A", 1, 1));
  EXPECT_NE(s, sample_seed("/a/b/x.pdb", "A", 0, 2));
}

}  // namespace
}  // namespace sse::io
