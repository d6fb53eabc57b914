// apps/inference.h — running the U-Net over a map of any size: the one inference path that
// `predict` and `evaluate --model` share.
//
// Contract:
//  * prepare_input(raw): resample to 1 Å keeping the physical origin (io::resample), then
//    io::normalize with its defaults — the same normalization training samples get (apps/dataset.h).
//  * predict_probabilities(): covers the grid with overlapping tiles (io::plan_tiles), runs each
//    through the network without autograd in eval mode, takes the softmax over classes, and merges
//    the helix and sheet probabilities with io::TileBlender's centre-weighted ramps. Memory is the
//    network's activations for one tile plus the blender (3 doubles per voxel): bounded for any map.
//    Between tiles it throws Interrupted after Ctrl-C (apps/interrupt.h).
//    Along each axis the fewest tiles that cover it are used, shrunk evenly (never past `tile`);
//    `tile` 0 picks auto_tile() (and, when that is under 64, an overlap under half of it).
//    With `tta` the map is also predicted mirrored along every combination of the three axes (8
//    passes, 8× the time) and the 8 probability maps, mirrored back, are averaged: the network is
//    not exactly equivariant to flips, and the mean of its views is a better-calibrated estimate.
//  * masks_from(): 0/1 helix and sheet masks by the mask rule of apps/model_io.h (decide(): the
//    class of highest weighted probability). Weights 1 are the argmax; weights below 1 make a class
//    more reluctant (a model that over-predicts helix on real maps gets its weights chosen on real
//    validation maps by `sseunet calibrate`, stored in the checkpoint).
#pragma once

#include <CLI/CLI.hpp>

#include "apps/model_io.h"
#include "apps/progress.h"
#include "engine/device.h"
#include "io/grid.h"
#include "net/unet3d.h"

namespace sse::app {

struct TileOptions {
  int tile = 0;      // edge of a cubic tile in voxels; 0 = auto_tile()
  int overlap = 16;  // voxels shared by neighbouring tiles
  bool tta = false;  // also average the 8 axis-flipped predictions
};

// 64, or smaller for widths whose 64³ tile would need over 1 GB of activations (measured figures in
// README.md); the CUDA backend will want larger tiles when it lands.
int auto_tile(const net::UNetConfig& cfg);

// --tile, --overlap and --tta on a subcommand (help lines start with `prefix`, e.g. "with --model: ").
void add_tile_options(CLI::App& sub, TileOptions& tiles, const std::string& prefix = "");

// Throws UsageError for a tile under 16 voxels or an overlap of half a tile or more (which would
// multiply the work: tiles advance by tile − overlap).
void check_tiles(const TileOptions& tiles);

io::Grid prepare_input(const io::Grid& raw);

struct Probabilities {
  io::Grid helix, sheet;
};
Probabilities predict_probabilities(net::UNet3d& model, const io::Grid& normalized, const TileOptions& tiles,
                                    Device dev, const Reporter& reporter);

// Probabilities predicted on `context` (raw density, e.g. chain_context_at_1A: normalized here) and
// cut to `zone`, a box of context's lattice (e.g. chain_zone_at_1A): how `evaluate --model` and
// `calibrate` score a chain as `predict` on the whole map would see it.
Probabilities predict_on_zone(net::UNet3d& model, io::Grid context, const io::GridGeometry& zone,
                              const TileOptions& tiles, Device dev);

struct Masks {
  io::LabelGrid helix, sheet;
};
Masks masks_from(const Probabilities& p, const Decision& decision = {});

// A copy of `g` mirrored along x when bit 0 of `axes` is set, y for bit 1, z for bit 2 (the
// geometry is unchanged; applying the same flip twice gives `g` back).
io::Grid flipped(const io::Grid& g, int axes);

}  // namespace sse::app
