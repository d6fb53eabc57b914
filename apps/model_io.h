// apps/model_io.h — finding and loading a trained U-Net checkpoint for inference.
//
// Contract:
//  * resolve_model_path(flag): the --model value when given; else $SSEUNET_MODEL when set (it must
//    exist); else models/default.ckpt next to the executable or in the source tree this binary was
//    built from (the shipped default model, models/README.md). When none exists (a binary copied
//    away from its models/ folder) it throws "no model: ...", naming the ways to give one.
//  * load_model(path, dev): reads a checkpoint written by train::Trainer::save (engine/checkpoint.h;
//    meta["model"] = net::UNetConfig JSON, tensors "model.<name>"), keeps only the model tensors
//    (optimizer state is ignored), and returns the network on `dev` in eval mode. A file that is not
//    a checkpoint, is truncated or corrupt, has no model configuration, is not a 1-channel 3-class
//    U-Net, or whose tensors do not fit its declared architecture throws IoError "<path>: <problem>".
#pragma once

#include <memory>
#include <string>

#include "engine/device.h"
#include "net/unet3d.h"

namespace sse::app {

std::string resolve_model_path(const std::string& flag);

struct LoadedModel {
  std::string path;
  std::unique_ptr<net::UNet3d> net;
  long long step = 0;  // training steps behind it (0 when unknown)
};
LoadedModel load_model(const std::string& path, Device dev);

// "width 64, 3 levels, 4.6 M parameters, 12000 steps" for log lines.
std::string describe(const LoadedModel& m);

}  // namespace sse::app
