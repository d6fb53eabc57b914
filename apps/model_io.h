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
//  * The mask rule (Decision): each voxel takes the class of highest weighted probability —
//    background (1 − helix − sheet) with weight 1, helix × helix weight, sheet × sheet weight; ties go
//    to background, then helix. Weights 1, 1 are the argmax. A checkpoint calibrated by
//    `sseunet calibrate` carries the weights chosen on real validation maps in meta["decision"]
//    ({"helix_weight", "sheet_weight", ...}); load_model() reads them (a malformed entry is refused
//    like any corrupt checkpoint), and predict/evaluate use them unless --helix-weight/--sheet-weight
//    say otherwise (resolve_decision).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/device.h"
#include "net/unet3d.h"

namespace sse::app {

std::string resolve_model_path(const std::string& flag);

struct Decision {
  float helix = 1, sheet = 1;  // weights on the class probabilities (background's is 1)
  bool operator==(const Decision& o) const { return helix == o.helix && sheet == o.sheet; }
};
// The class (0 background, 1 helix, 2 sheet) the mask rule gives a voxel with these probabilities.
inline std::uint8_t decide(float p_helix, float p_sheet, const Decision& d) {
  const float bg = 1.f - p_helix - p_sheet, h = p_helix * d.helix, s = p_sheet * d.sheet;
  if (h > bg && h >= s) return 1;
  return s > bg && s > h ? 2 : 0;
}

struct LoadedModel {
  std::string path;
  std::unique_ptr<net::UNet3d> net;
  long long step = 0;       // training steps behind it (0 when unknown)
  Decision decision;        // the checkpoint's calibrated weights, else 1, 1 (argmax)
  bool calibrated = false;  // meta["decision"] was present
};
LoadedModel load_model(const std::string& path, Device dev);

// "width 64, 3 levels, 4.6 M parameters, 12000 steps" for log lines.
std::string describe(const LoadedModel& m);

// --helix-weight / --sheet-weight of predict and evaluate: each one given overrides that weight of
// the model's calibrated rule; neither given: the model's rule (the argmax for an uncalibrated one).
struct DecisionFlags {
  Decision values;
  CLI::Option* helix = nullptr;
  CLI::Option* sheet = nullptr;
};
void add_decision_options(CLI::App& sub, DecisionFlags& flags, const std::string& prefix = "");
Decision resolve_decision(const DecisionFlags& flags, const LoadedModel& model);
// "argmax" or "helix x0.45, sheet x1.2 (calibrated)" for log lines.
std::string describe(const Decision& d, bool calibrated);

}  // namespace sse::app
