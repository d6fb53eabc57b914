// io/lowpass_set.h — training samples from real high-resolution maps filtered down to 5–10 Å: the
// library side of `sseunet build --manifest M --lowpass N`.
//
// Why: a simulated map is cleaner and more regular than a real one (no real noise, solvent,
// flexibility or map processing), and a model chosen on simulated maps over-predicts helix on real
// ones. Real 3–4 Å maps with fitted models, low-passed to the resolutions the tool is for, keep all
// of the real map's character except its resolution; their labels come from the fitted model.
//
// Contract:
//  * lowpass_map(map, resolution, sigma_factor): the map convolved with a Gaussian of
//    σ = sigma_factor · resolution Å (truncated at 4σ, zero outside the grid), i.e. the same filter
//    the simulation applies to atoms: with Chimera's sigma_factor its transfer function falls to 1/e
//    at 1/resolution, the molmap convention, whatever the source map's own resolution (a real map
//    at r₀ < resolution keeps a little more high-frequency power than a Gaussian model would; the
//    filter does not deconvolve). Lattice, origin and voxel are unchanged.
//  * lowpass_sample(row, inputs, k, options): draws (draw_realism, seed sample_seed(row.map,
//    row.chain, k, options.seed)) a target resolution in [res_min, res_max] and the realism values,
//    crops the row's map around the chain (zone + margin + the filter's reach), low-passes it to the
//    target resolution, applies add_realism (extra B-factor blur, scale, extra noise at the drawn
//    SNR — snr_max 0, the default, adds none: the map's own noise stays) and cuts and labels the
//    chain's zone as build_sample does (with realism.radius_max > 0, at a radius drawn per sample). Metadata: the row's (resolution = the target, map = the
//    source map), plus lowpass 1, source_resolution, seed, sigma_factor, bfactor, scale, snr,
//    noise_sigma, and a source key that names the draw.
//  * build_lowpassed(rows, options): for every row, samples_per_row samples cached as
//    <cache_dir>/<map stem>_<chain>_<hash>_lp<k>.sample; a sample whose file reads back intact with
//    the same source key is skipped, and the row's map is read only when one needs building. A
//    failing row is reported ("row <line> (<map>, chain <id>): <problem>") and the others still build.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/manifest.h"
#include "io/simulate.h"

namespace sse::io {

struct LowPassOptions {
  BuildOptions build;                  // cache_dir, sample spacing, zone, label cutoff, secondary structure
  Realism realism;                     // res_min..res_max: the target resolutions; noise, blur, scale
  double sigma_factor = kSigmaChimera;  // σ of the filter = sigma_factor · target resolution
  int samples_per_row = 1;
  std::uint64_t seed = 0;
};

Grid lowpass_map(const Grid& map, double resolution, double sigma_factor);
Sample lowpass_sample(const ManifestRow& row, const RowInputs& inputs, int index, const LowPassOptions& options);
std::string lowpass_sample_path(const ManifestRow& row, int index, const LowPassOptions& options);
std::vector<BuildResult> build_lowpassed(const std::vector<ManifestRow>& rows, const LowPassOptions& options);

}  // namespace sse::io
