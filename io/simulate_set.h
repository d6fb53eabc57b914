// io/simulate_set.h — training samples cut from simulated maps: the library side of
// `sseunet build --simulate`.
//
// Contract:
//  * simulate_sample(model, chain, seed): draws the realism values from the seed (draw_realism: a
//    resolution in [res_min, res_max], blur, scale, SNR), simulates the density of the model around
//    the chain on the sample lattice (spacing build.voxel, origin a multiple of it) — with the atoms
//    of every chain when `neighbours` (as in a real map, where the chain's zone also holds its
//    neighbours' density) or of the chain alone — adds the realism, then cuts the chain's zone and
//    labels it exactly as build_sample does for a real map (chain_sample in manifest.h: zone of
//    build.zone.radius Å, density > 0 is the component, class of the nearest Cα within
//    build.label_cutoff; with realism.radius_max > 0 the zone's radius is drawn per sample in
//    [radius_min, radius_max] and recorded as zone_radius). Residue classes come from the model's HELIX/SHEET records or the built-in
//    DSSP (secondary.h; build.ss.ss_file is ignored: there is no per-model file here).
//  * Nucleic acid as background: when the draw asks for a duplex (realism.dna_fraction), a B-DNA
//    duplex of dna_blocks × 12 bp is laid beside the chain, clear of every atom of the model by 3 Å
//    (io/dna_decoy.h, keyed by the sample's seed); its density is added to the map before the
//    realism, its atoms join the chain's for the zone and the lattice, and its voxels are labelled
//    background (labels come from the chain's Cα only). metadata dna_base_pairs: its length, 0 when
//    none was drawn or no placement was clear.
//  * Context (options.context): zone — as the authors' chain maps, the chain's zone with everything
//    outside it zeroed and labels from the chain's Cα (neighbours' voxels in the zone are
//    background); box — as `predict` sees a whole map: the zone's bounding box (plus margin) with
//    nothing zeroed (neighbours, duplex, noise) and labels from the Cα of every chain of the model
//    (each chain's classes as the chain's own; a duplex stays background). metadata context.
//  * The sample's metadata holds what a manifest sample holds (map = "simulated", model, chain,
//    resolution = the drawn one, split, ss_source, counts, source, written_by) plus the draw: seed,
//    sigma_factor, cutoff_sigmas, bfactor, scale, snr, noise_sigma, neighbours.
//  * Seeds: sample k of chain C of a model file is built from sample_seed(file name, C, k, seed) —
//    the file's name, not its folder, so a set rebuilds identically wherever its files live.
//  * build_simulated(): for every source (a model file and a chain, or "" for every chain with at
//    least min_residues residues that have a Cα), samples_per_chain samples, each cached as
//    <cache_dir>/<model stem>_<chain>_s<k>_<hash>.sample (sample format of manifest.h). A sample
//    whose file reads back intact with the same source key (model file stamp, chain, seed and every
//    option) is skipped. A failing file (unreadable, no protein chain, unknown chain) or sample is
//    reported and the others still build, as build_manifest does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/manifest.h"
#include "io/simulate.h"

namespace sse::io {

// What a sample holds around its chain (see the contract above).
enum class SampleContext { zone, box };
const char* context_name(SampleContext c);

struct SimulatedSetOptions {
  BuildOptions build;         // cache_dir, sample spacing, zone, label cutoff, secondary structure
  SimulateOptions simulate;   // sigma_factor, cutoff_sigmas, weight_by_occupancy (resolution is drawn)
  Realism realism;            // resolution range, noise, blur, scale
  int samples_per_chain = 1;
  std::uint64_t seed = 0;
  Split split = Split::train;
  int min_residues = 20;      // chains chosen automatically need this many residues with a Cα
  bool neighbours = true;     // other chains' atoms add density around the chain
  SampleContext context = SampleContext::zone;
};

struct SimulatedSource {
  std::string model;
  std::string chain;  // "" = every chain with at least min_residues Cα residues
};

struct SimulatedBuildResult {
  std::string model, chain;  // chain "" when the whole file failed
  int index = -1;            // sample number within the chain; -1 when the whole file failed
  BuildStatus status = BuildStatus::failed;
  std::string sample_path;
  std::string message;       // "<file>: <problem>" for failures
};

// The build options of one sample: `build` with the zone radius the draw chose (when it chose one).
BuildOptions with_drawn_zone(const BuildOptions& build, const RealismDraw& draw);
// The largest zone radius any sample of these options can have (Å): what lattices must cover.
double widest_zone(const BuildOptions& build, const Realism& realism);

// Every range of `realism` as text, for source keys.
std::string realism_key(const Realism& realism);
std::uint64_t sample_seed(const std::string& model_path, const std::string& chain, int index, std::uint64_t seed);
// Author ids of the chains that have at least min_residues residues with a Cα, in model order.
std::vector<std::string> protein_chains(const Model& model, int min_residues);

Sample simulate_sample(const Model& model, const std::string& chain, const ChainSs& ss, std::uint64_t seed,
                       const SimulatedSetOptions& options);
Sample simulate_sample(const std::string& model_path, const std::string& chain, std::uint64_t seed,
                       const SimulatedSetOptions& options);

std::string simulated_sample_path(const std::string& model_path, const std::string& chain, int index,
                                  const SimulatedSetOptions& options);
std::vector<SimulatedBuildResult> build_simulated(const std::vector<SimulatedSource>& sources,
                                                  const SimulatedSetOptions& options);

}  // namespace sse::io
