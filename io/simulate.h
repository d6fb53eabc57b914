// io/simulate.h — density maps simulated from atomic models, and the realism added for training.
//
// Contract:
//  * Density at a sample p = Σ over atoms of w · exp(−|p − a|² / 2σ²), counted only where
//    |p − a| ≤ cutoff_sigmas · σ (a sphere), with σ = sigma_factor · resolution and w the atomic
//    number (times the occupancy when weight_by_occupancy). The Gaussians are not normalized (as in
//    Chimera's molmap): the absolute scale is arbitrary and normalize() removes it.
//  * σ conventions (io/README.md "Simulation" has the sources): kSigmaChimera = 1/(π√2) ≈ 0.2251,
//    Chimera molmap's default (the Fourier transform falls to 1/e at 1/resolution); EMAN's pdb2mrc
//    has the same width (a Gaussian of 1/e radius resolution/π), so kSigmaEman is the same number;
//    kSigmaTempy = 0.356, TEMPy's default sigma_coeff. Each reaches a correlation ≥ 0.99 with maps
//    made by those tools (tests/io/simulate_test.cpp).
//  * Cost grows with the atoms, not atoms × voxels: each atom visits only the box of samples within
//    its cutoff. The grid is cut into z-slabs summed in parallel, each slab adding its atoms in model
//    order, so the result is bit-identical for any number of threads.
//  * Atoms: the kept heavy atoms of read_model (first alternate conformation, no hydrogens, no
//    waters; ligands of the chain included); chain "" means every chain. An unknown chain, a chain
//    without atoms or a resolution ≤ 0 throws IoError naming the model's file.
//  * simulate_map() samples a lattice of spacing `voxel` whose origin is a multiple of `voxel` on
//    every axis (maps of different chains of one model share one lattice), covering every atom
//    ± padding. simulate_onto() samples a given lattice (e.g. a reference map's).
//  * Realism (training): draw_realism() draws, from a seed, a resolution, a B-factor blur, a density
//    scale and a signal-to-noise ratio in the given ranges; add_realism() applies them: blur by the
//    Gaussian of the B-factor (σ_B = √(B / 8π²)), multiply by the scale, add Gaussian noise low-passed
//    by a Gaussian of σ_n (power spectrum ∝ exp(−4π²σ_n²|k|²), k in 1/Å: with σ_n = σ of the atoms
//    the noise falls off with frequency like the signal). SNR = variance of the blurred, scaled
//    signal over the samples where the input map is > 0 (for a simulated map: within the cutoff of
//    an atom, so box padding does not change it) / variance of the noise. The zone radius, when
//    drawn, is applied by the sample builders (io/simulate_set.h, io/lowpass_set.h), not here; so
//    is the DNA duplex (dna_blocks, drawn with probability dna_fraction: io/simulate_set.h).
//    Local resolution (local_bfactor > 0), applied first: the map becomes (1 − w)·map + w·blurred,
//    blurred = the map blurred by the B-factor local_bfactor, w(x) = a smooth random field in
//    [0, 1] (Gaussian noise low-passed at kLocalResolutionScale Å, through a logistic of slope 2 per
//    standard deviation), keyed by the seed on a stream of its own.
//  * Randomness is Philox-4x32-10 (kernels/philox.h) keyed by the seed: stream 0 for the drawn
//    values, stream 1 for the noise field (one Philox block per two samples of a padded box, words
//    0 and 1 through Box–Muller). The same seed gives the same bits for any thread count; across
//    platforms only libm's log/sin/cos could differ in the last bit.
//  * Bad ranges or lattices from calling code throw std::invalid_argument.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/grid.h"
#include "io/structure.h"

namespace sse::io {

constexpr double kSigmaChimera = 0.22507907903927651;  // 1 / (π √2)
constexpr double kSigmaEman = kSigmaChimera;
constexpr double kSigmaTempy = 0.356;
// "chimera", "molmap", "eman", "tempy" or a positive number; throws std::invalid_argument otherwise.
double parse_sigma_factor(const std::string& text);

struct SimulateOptions {
  double resolution = 0;               // Å, > 0
  double voxel = 1.0;                  // Å, lattice spacing of simulate_map
  double sigma_factor = kSigmaChimera;  // σ = sigma_factor · resolution
  double cutoff_sigmas = 3.0;          // atoms add density within this many σ
  double padding = -1;                 // Å around the atoms in simulate_map; < 0: cutoff_sigmas · σ
  bool weight_by_occupancy = false;    // Chimera and EMAN ignore occupancy
  double sigma() const { return sigma_factor * resolution; }
};

// Positions and weights of the atoms that make the density.
struct WeightedAtoms {
  std::vector<Vec3> positions;
  std::vector<float> weights;
};
WeightedAtoms weighted_atoms(const Model& model, const std::string& chain, const SimulateOptions& options);

// Adds Σ w·exp(−d²/2σ²) (d ≤ cutoff_sigmas·σ) into `grid`. The engine under the two calls below.
void add_gaussians(const WeightedAtoms& atoms, double sigma, double cutoff_sigmas, Grid& grid);

// The lattice of spacing `voxel` (origin a multiple of it) covering every point ± padding.
GridGeometry lattice_around(const std::vector<Vec3>& points, Vec3 voxel, double padding);

Grid simulate_map(const Model& model, const std::string& chain, const SimulateOptions& options);
Grid simulate_onto(const Model& model, const std::string& chain, const GridGeometry& geometry,
                   const SimulateOptions& options);

// ---- realism -------------------------------------------------------------------------------
struct Realism {
  double res_min = 5, res_max = 10;         // Å, resolution drawn uniformly
  double snr_min = 0, snr_max = 0;          // drawn uniformly; snr_max ≤ 0: no noise
  double noise_correlation = 1.0;           // σ_n = this × σ of the atoms; 0: white noise
  double bfactor_min = 0, bfactor_max = 0;  // Å², extra blur drawn uniformly
  double scale_min = 1, scale_max = 1;      // density scale drawn uniformly
  // Å, the sample's chain-zone radius drawn uniformly; radius_max ≤ 0: the build's fixed zone
  // radius. Real chain maps are segmented with masks of every width (the authors' reach 5–9 Å from
  // the atoms), so a network that only saw one radius learns the mask's edge, not the density.
  double radius_min = 0, radius_max = 0;
  // Å², local-resolution variation: the extra B-factor blur of a sample's blurriest regions, drawn
  // uniformly in [0, local_bfactor_max] (0: none). Real maps are sharp in their core and blurred at
  // flexible edges; a simulated map is equally sharp everywhere.
  double local_bfactor_max = 0;
  // Nucleic acid as background: the fraction of simulated samples given a B-DNA duplex of 12 ×
  // (1..dna_blocks_max) base pairs beside the chain (io/dna_decoy.h), inside the sample's zone and
  // labelled background (0: none). Real maps hold DNA and RNA next to proteins; at 5–10 Å a
  // network that never saw it calls it sheet.
  double dna_fraction = 0;
  int dna_blocks_max = 3;
};

// The values drawn for one sample (recorded in its metadata).
struct RealismDraw {
  std::uint64_t seed = 0;  // keys the noise field
  double resolution = 0;   // Å
  double bfactor = 0;      // Å²
  double scale = 1;
  double snr = 0;          // ≤ 0: no noise
  double noise_sigma = 0;  // Å, σ_n of the noise's low-pass Gaussian
  double zone_radius = 0;  // Å; 0: the build's zone radius
  double local_bfactor = 0;  // Å², extra blur where the local-resolution field is 1
  int dna_blocks = 0;        // 12-bp blocks of the duplex to lay beside the chain; 0: none
};

// Length scale (Å) of the local-resolution field: regions of this size share one local resolution.
constexpr double kLocalResolutionScale = 12.0;

RealismDraw draw_realism(const Realism& realism, double sigma_factor, std::uint64_t seed);
Grid add_realism(Grid map, const RealismDraw& draw);

// σ (Å) of the Gaussian blur that a B-factor B (Å²) applies: √(B / 8π²).
double bfactor_sigma(double bfactor);
// Separable Gaussian blur of σ Å (truncated at 4σ, kernel normalized to 1, zero outside the grid).
void gaussian_blur(Grid& grid, double sigma);

}  // namespace sse::io
