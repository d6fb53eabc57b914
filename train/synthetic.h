// train/synthetic.h — generated training data with known answers: noisy rods (the helix class) and
// thin plates (the sheet class) on an empty background, for learning tests and demos.
//
// A rod is a cylinder of radius `rod_radius` and random direction and length; a plate is a disc of
// half-thickness `plate_half_thickness` and radius `plate_radius` with a random normal. Voxels inside
// an object take its class (rods win where both overlap) and density 1 (rods) or `plate_density`;
// Gaussian noise of `noise` σ is added everywhere, then the volume is normalized like real maps
// (z-score over the box). Everything is drawn from the seed.
#pragma once

#include "train/sample.h"

namespace sse::train {

struct SyntheticOptions {
  int size = 24;
  int rods = 2, plates = 2;
  float rod_radius = 2.0f, rod_min_length = 10.0f, rod_max_length = 18.0f;
  float plate_radius = 6.0f, plate_half_thickness = 0.9f, plate_density = 0.8f;
  float noise = 0.15f;
};

Sample synthetic_sample(std::uint64_t seed, const SyntheticOptions& o = {});

}  // namespace sse::train
