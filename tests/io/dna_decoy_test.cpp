// tests/io/dna_decoy_test.cpp — B-DNA duplexes beside protein chains (io/dna_decoy.h) and the
// simulated samples that carry them as background (io/simulate_set.h, Realism::dna_fraction).
#include "io/dna_decoy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "io/labels.h"
#include "io/secondary.h"
#include "io/simulate_set.h"

namespace sse::io {
namespace {

std::string sim_data(const std::string& rel) { return std::string(SSE_TEST_DATA_DIR) + "/simulate/" + rel; }

double radius_about_z(Vec3 p) { return std::hypot(p.x, p.y); }
double degrees(double radians) { return radians * 180 / 3.14159265358979323846; }

double min_distance(const std::vector<Vec3>& a, const std::vector<Vec3>& b) {
  double best = std::numeric_limits<double>::infinity();
  for (const Vec3& p : a)
    for (const Vec3& q : b) best = std::min(best, dist2(p, q));
  return std::sqrt(best);
}

// 1BNA in the duplex frame is the textbook B-DNA: a right-handed helix, phosphates ~ 8.9 Å from the
// axis (Arnott's fibre model), and the mean twist and rise Drew et al. report for this dodecamer
// (35.9°, 3.38 Å). A wrong axis, direction or handedness would miss them.
TEST(DnaTemplate, IsARightHandedBDnaHelixAlongZ) {
  const DuplexTemplate& t = bdna_template();
  ASSERT_EQ(t.duplex.atoms.size(), 486u);
  EXPECT_EQ(t.duplex.base_pairs, 12);
  EXPECT_NEAR(degrees(t.twist), 35.9, 0.5);  // measured 35.81°
  EXPECT_NEAR(t.rise, 3.38, 0.1);           // measured 3.338 Å
  double r = 0;
  int phosphates = 0;
  for (std::size_t i = 0; i < t.duplex.atoms.size(); ++i)
    if (t.duplex.elements[i] == 15) r += radius_about_z(t.duplex.atoms[i]), ++phosphates;
  EXPECT_EQ(phosphates, 22);  // 24 nucleotides, the two 5' ends without a phosphate
  EXPECT_NEAR(r / phosphates, 8.9, 0.6);
}

TEST(DnaDuplex, StraightBlocksContinueTheHelix) {
  const DuplexTemplate& t = bdna_template();
  const DnaDecoy d = build_duplex(3, 0, 7);
  ASSERT_EQ(d.atoms.size(), 3 * 486u);
  EXPECT_EQ(d.base_pairs, 36);
  double zmin = 1e9, zmax = -1e9;
  for (std::size_t i = 0; i < d.atoms.size(); ++i) {
    zmin = std::min(zmin, d.atoms[i].z), zmax = std::max(zmax, d.atoms[i].z);
    // Still one straight helix: every phosphate 8.9 Å from z, within 2 Å (1BNA itself is bent by
    // ~ 19°, so its end phosphates lie 1.6 Å off its mean axis).
    if (d.elements[i] == 15) {
      EXPECT_NEAR(radius_about_z(d.atoms[i]), 8.9, 2.0) << i;
    }
  }
  EXPECT_NEAR(zmax - zmin, 36 * t.rise, 6.0);  // 36 steps, plus a base pair's own thickness
  // Strand A runs on across the junction: block 0's last O3' (residue 12, atom 230 of 1BNA) lies
  // where a phosphate bridges to block 1's first O5' (residue 1, atom 1): 2–4.5 Å apart. The wrong
  // handedness or direction of the screw would put them ~ 20 Å apart.
  EXPECT_GT(dist(d.atoms[229], d.atoms[486]), 2.0);
  EXPECT_LT(dist(d.atoms[229], d.atoms[486]), 4.5);
  // Blocks stack without interpenetrating: of block 1's atoms, only a few at the frayed crystal
  // ends (5 measured) come within 2 Å of block 0; a rise or twist off by 10 % would put dozens there.
  const std::vector<Vec3> b0(d.atoms.begin(), d.atoms.begin() + 486);
  int close = 0;
  for (std::size_t j = 486; j < 972; ++j) close += min_distance(b0, {d.atoms[j]}) < 2.0;
  EXPECT_LE(close, 8);
}

TEST(DnaDuplex, BendsFollowTheSeedAndStayWithinTheLimit) {
  const DnaDecoy a = build_duplex(2, 45, 11), again = build_duplex(2, 45, 11), other = build_duplex(2, 45, 12);
  ASSERT_EQ(a.atoms.size(), again.atoms.size());
  for (std::size_t i = 0; i < a.atoms.size(); ++i) ASSERT_EQ(dist2(a.atoms[i], again.atoms[i]), 0.0);
  EXPECT_GT(dist(a.atoms.back(), other.atoms.back()), 0.1);
  // The angle between the two blocks' axes (each block's principal axis).
  auto axis = [&](std::size_t first) {
    std::vector<Vec3> block(a.atoms.begin() + long(first), a.atoms.begin() + long(first) + 486);
    Vec3 c;
    for (const Vec3& p : block) c = c + p * (1.0 / 486);
    Vec3 v{0.3, 0.5, 0.8};
    for (int it = 0; it < 100; ++it) {
      Vec3 w;
      for (const Vec3& p : block) w = w + (p - c) * dot(p - c, v);
      v = w * (1 / std::sqrt(dot(w, w)));
    }
    return v;
  };
  const double angle = degrees(std::acos(std::min(1.0, std::abs(dot(axis(0), axis(486))))));
  EXPECT_LT(angle, 45 + 3.0);  // the principal axis of one block is the helix axis within a few degrees
  EXPECT_THROW(build_duplex(0, 10, 1), std::invalid_argument);
  EXPECT_THROW(build_duplex(1, 100, 1), std::invalid_argument);
}

TEST(DnaDecoy, IsPlacedBesideTheChainClearOfEveryAtom) {
  const Model model = read_model(sim_data("1ONC.pdb.gz"));
  const Chain& chain = model.chain("A");
  const PointIndex occupied(chain.atoms, 4.0);
  const DnaDecoy duplex = build_duplex(2, 20, 3);
  for (std::uint64_t seed : {1, 2, 3, 4}) {
    const DnaDecoy d = place_beside(duplex, chain, occupied, seed);
    ASSERT_FALSE(d.empty()) << seed;
    ASSERT_EQ(d.atoms.size(), duplex.atoms.size());
    const double gap = min_distance(d.atoms, chain.atoms);
    EXPECT_GT(gap, 3.0) << seed;  // clear of the protein
    EXPECT_LT(gap, 9.0) << seed;  // and beside it, not floating away
    // A rigid motion: distances within the duplex are kept.
    EXPECT_NEAR(dist(d.atoms[0], d.atoms[900]), dist(duplex.atoms[0], duplex.atoms[900]), 1e-9);
  }
  const DnaDecoy a = place_beside(duplex, chain, occupied, 5), b = place_beside(duplex, chain, occupied, 5);
  EXPECT_EQ(dist2(a.atoms[17], b.atoms[17]), 0.0);
  // Nowhere to go: every placement inside a cloud of atoms fails, and says so by being empty.
  std::vector<Vec3> cloud;
  for (int x = -40; x <= 40; x += 2)
    for (int y = -40; y <= 40; y += 2)
      for (int z = -40; z <= 40; z += 2) cloud.push_back({double(x), double(y), double(z)});
  Chain buried;
  buried.atoms = {{0, 0, 0}};
  EXPECT_TRUE(place_beside(duplex, buried, PointIndex(cloud, 4.0), 1).empty());
}

TEST(SimulatedSample, ADnaDuplexJoinsTheZoneAsLabelledBackground) {
  SimulatedSetOptions o;
  o.realism.snr_max = 0;
  o.realism.dna_fraction = 1;
  const Model model = read_model(sim_data("1ONC.pdb.gz"));
  const Chain& chain = model.chain("A");
  const ChainSs ss = chain_secondary_structure(model, "A");
  const Sample s = simulate_sample(model, "A", ss, 42, o);
  const int bp = std::stoi(s.meta("dna_base_pairs"));
  EXPECT_TRUE(bp == 12 || bp == 24 || bp == 36) << bp;
  EXPECT_EQ(s.labels.data, make_labels(s.map, chain, ss.classes).data);  // labels from the chain's Cα only
  // Density far from the protein (> 8 Å from every atom): the duplex's, inside the zone, background.
  const LabelGrid near_protein = zone_mask(s.map, chain.atoms, 8.0);
  long dna_voxels = 0, labelled = 0;
  for (std::size_t i = 0; i < s.map.data.size(); ++i) {
    if (near_protein.data[i] || !(s.map.data[i] > 0)) continue;
    ++dna_voxels;
    labelled += s.labels.data[i] != 0;
  }
  EXPECT_GT(dna_voxels, 12 * 300);  // ~ 650 Å³ per base pair at 5–10 Å; well over half of it > 8 Å out
  EXPECT_EQ(labelled, 0);
  // The duplex leaves the sample's other draws alone: same resolution and blur as without it.
  o.realism.dna_fraction = 0;
  const Sample plain = simulate_sample(model, "A", ss, 42, o);
  EXPECT_EQ(plain.meta("resolution"), s.meta("resolution"));
  EXPECT_EQ(plain.meta("bfactor"), s.meta("bfactor"));
  EXPECT_EQ(plain.meta("dna_base_pairs"), "0");
  EXPECT_LT(plain.map.size(), s.map.size());  // the zone grew to hold the duplex
  o.realism.dna_fraction = 1.5;
  EXPECT_THROW(simulate_sample(model, "A", ss, 42, o), std::invalid_argument);
}

}  // namespace
}  // namespace sse::io
