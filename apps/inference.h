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
//  * masks_from(): each voxel takes the class of highest probability (background = 1 − helix −
//    sheet; ties go to background, then helix), giving 0/1 helix and sheet masks.
#pragma once

#include "apps/progress.h"
#include "engine/device.h"
#include "io/grid.h"
#include "net/unet3d.h"

namespace sse::app {

struct TileOptions {
  int tile = 0;      // edge of a cubic tile in voxels; 0 = auto_tile()
  int overlap = 16;  // voxels shared by neighbouring tiles
};

// 64, or smaller for widths whose 64³ tile would need over 1 GB of activations (measured figures in
// README.md); the CUDA backend will want larger tiles when it lands.
int auto_tile(const net::UNetConfig& cfg);

// Throws UsageError for a tile under 16 voxels or an overlap of half a tile or more (which would
// multiply the work: tiles advance by tile − overlap).
void check_tiles(const TileOptions& tiles);

io::Grid prepare_input(const io::Grid& raw);

struct Probabilities {
  io::Grid helix, sheet;
};
Probabilities predict_probabilities(net::UNet3d& model, const io::Grid& normalized, const TileOptions& tiles,
                                    Device dev, const Reporter& reporter);

struct Masks {
  io::LabelGrid helix, sheet;
};
Masks masks_from(const Probabilities& p);

}  // namespace sse::app
