// io/dna_decoy.h — B-DNA duplexes laid beside a protein chain: nucleic-acid density that simulated
// training samples label as background (`sseunet build --simulate --dna-fraction`).
//
// Why: at 5–10 Å a DNA duplex is a 20 Å-wide rod of strong, regular density; a network trained on
// protein alone calls it sheet (the model shipped before called 67 % of EMD-35448's DNA sheet). Only 7
// of the 286 training structure files hold more than 100 nucleic-acid atoms, so the samples get
// duplexes of their own.
//
// Contract:
//  * bdna_template(): the 486 heavy atoms of PDB 1BNA (io/bdna_1bna.inc) in the duplex frame: the
//    helix axis is z (the line fitted through the 12 base pairs' centroids, pointing along strand A
//    5'→3'), the origin the atoms' centroid projected on it; twist (radians, > 0: right-handed) is
//    the least-squares slope of strand A's phosphate angle about z over its residue number, rise (Å)
//    that of the base pairs' heights over their number (35.81°, 3.338 Å).
//  * build_duplex(blocks, max_bend, seed): blocks × 12 base pairs. Block k continues block k − 1's
//    helix (the screw of 12 steps: rotation 12·twist about z, shift 12·rise) and is bent at their
//    junction by an angle drawn in [0, max_bend] degrees about a random axis perpendicular to the
//    helix there. Atoms in block order, centred on their centroid. blocks < 1 or a bend outside
//    [0, 90] throws std::invalid_argument.
//  * place_beside(duplex, chain, occupied, seed): tries up to kPlacementTries placements: a random
//    atom of the chain as anchor, an outward direction n (from the chain's centroid through the
//    anchor, perturbed at random), the duplex's centroid at anchor + d·n with d drawn in 12–16 Å (its
//    radius is 10 Å), its axis random perpendicular to n and a random spin about it. The first
//    placement that puts no duplex atom within `clearance` Å of any point of `occupied` is returned;
//    none → an empty DnaDecoy. Deterministic for a seed.
//  * Randomness: Philox (kernels/philox.h) keyed by the seed on stream kDecoyStream, a stream the
//    map realism does not use (io/simulate.cpp uses 0 and 1), so a sample's other draws stay as they
//    were without a duplex.
#pragma once

#include <cstdint>
#include <vector>

#include "io/grid.h"
#include "io/neighbors.h"
#include "io/structure.h"

namespace sse::io {

struct DnaDecoy {
  std::vector<Vec3> atoms;
  std::vector<std::uint8_t> elements;  // atomic numbers, parallel to atoms
  int base_pairs = 0;
  bool empty() const { return atoms.empty(); }
};

struct DuplexTemplate {
  DnaDecoy duplex;     // 12 bp, axis z, centroid at the origin
  double twist = 0;    // radians per base pair
  double rise = 0;     // Å per base pair
};

constexpr std::uint64_t kDecoyStream = 2;
constexpr int kPlacementTries = 32;

const DuplexTemplate& bdna_template();
DnaDecoy build_duplex(int blocks, double max_bend_degrees, std::uint64_t seed);
DnaDecoy place_beside(const DnaDecoy& duplex, const Chain& chain, const PointIndex& occupied, std::uint64_t seed,
                      double clearance = 3.0);

}  // namespace sse::io
