// train/sample.h — one training example and the augmentations applied to it.
//
// A Sample is a normalized density volume and its voxel labels (0 background, 1 helix, 2 sheet,
// `kIgnoreLabel` for voxels excluded from the loss) on the same d×h×w grid, x fastest
// (index (z·h + y)·w + x). Augmentation flips each axis with probability 1/2 and rotates by a random
// multiple of 90° in a random axis plane — the same transform for volume and labels; a rotation in a
// plane of unequal sides swaps those sides.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/random.h"

namespace sse::train {

constexpr std::uint8_t kIgnoreLabel = 255;

struct Sample {
  std::string name;
  int d = 0, h = 0, w = 0;
  std::vector<float> volume;
  std::vector<std::uint8_t> labels;
  std::size_t voxels() const { return static_cast<std::size_t>(d) * h * w; }
  void validate() const;  // throws std::invalid_argument naming the sample
};

// A flip/rotation: output axis a (z, y, x) reads source axis perm[a], flipped when flip[a].
struct Augmentation {
  std::array<int, 3> perm{0, 1, 2};
  std::array<bool, 3> flip{false, false, false};
  // The (d, h, w) of a d×h×w sample after the transform (a rotation swaps sides).
  std::array<int, 3> shape(int d, int h, int w) const;
};

// A random flip/rotation (one draw from `g`).
Augmentation draw_augmentation(Generator& g);
// The transform applied to volume and labels alike.
Sample apply_augmentation(const Sample& s, const Augmentation& t);
// apply_augmentation(s, draw_augmentation(g)).
Sample augment(const Sample& s, Generator& g);
// Crops (or zero-pads, labels kIgnoreLabel) to a cube-like patch of size (pd, ph, pw) at the
// origin (z0, y0, x0); origins may be negative or extend past the sample.
Sample crop(const Sample& s, int pd, int ph, int pw, int z0, int y0, int x0);

}  // namespace sse::train
