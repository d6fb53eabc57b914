// Model checkpoints for inference (contract in apps/model_io.h).
#include "apps/model_io.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "engine/checkpoint.h"
#include "io/error.h"

namespace sse::app {

namespace fs = std::filesystem;

namespace {

std::string executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

bool is_file(const std::string& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

net::UNetConfig config_of(const Checkpoint& ck, const std::string& path) {
  if (!ck.meta.contains("model") || !ck.meta["model"].is_object())
    throw io::file_error(path, "not a model checkpoint (its metadata has no U-Net configuration)");
  try {
    return net::UNetConfig::from_json(ck.meta["model"].dump());
  } catch (const std::exception& e) {
    throw io::file_error(path, std::string("checkpoint from another architecture (") + e.what() + ")");
  }
}

// meta["decision"] of a calibrated checkpoint; absent: the argmax.
void read_decision(const Checkpoint& ck, const std::string& path, LoadedModel& m) {
  if (!ck.meta.contains("decision")) return;
  const nlohmann::json& d = ck.meta["decision"];
  const auto weight = [&](const char* key) {
    if (!d.is_object() || !d.contains(key) || !d[key].is_number() || !(d[key].get<double>() > 0))
      throw io::file_error(path, std::string("corrupt calibration: meta \"decision\" needs a positive ") + key);
    return d[key].get<float>();
  };
  m.decision = {weight("helix_weight"), weight("sheet_weight")};
  m.calibrated = true;
}

NamedTensors model_tensors(const Checkpoint& ck) {
  NamedTensors out;
  for (const auto& [name, t] : ck.tensors)
    if (name.rfind("model.", 0) == 0) out.emplace_back(name.substr(6), t);
  return out;
}

}  // namespace

std::string resolve_model_path(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("SSEUNET_MODEL"); env && *env) return env;
  const std::string candidates[] = {executable_dir() + "/models/default.ckpt",
                                    std::string(SSEUNET_SOURCE_DIR) + "/models/default.ckpt"};
  for (const std::string& c : candidates)
    if (is_file(c)) return c;
  throw std::runtime_error(
      "no model: models/default.ckpt is not next to the executable nor in its source tree; pass --model CKPT "
      "or set SSEUNET_MODEL (train one with `sseunet train`)");
}

LoadedModel load_model(const std::string& path, Device dev) {
  if (!is_file(path)) throw io::file_error(path, "model checkpoint not found");
  Checkpoint ck;
  try {
    ck = load_checkpoint(path);
  } catch (const CheckpointError& e) {
    throw io::IoError(e.what());  // already "<path>: <problem>"
  }
  const net::UNetConfig cfg = config_of(ck, path);
  if (cfg.in_channels != 1 || cfg.classes != 3)
    throw io::file_error(path, "checkpoint from another architecture: " + std::to_string(cfg.in_channels) +
                                   " input channels and " + std::to_string(cfg.classes) +
                                   " classes (sseunet predicts background/helix/sheet from one density channel)");
  LoadedModel m;
  m.path = path;
  m.step = ck.meta.value("step", 0LL);
  read_decision(ck, path, m);
  try {
    m.net = std::make_unique<net::UNet3d>(cfg);
    const NamedTensors state = model_tensors(ck);
    if (state.empty()) throw EngineError("it holds no model tensors");
    m.net->load_state(state);
  } catch (const EngineError& e) {
    throw io::file_error(path, "checkpoint from another architecture (declared " + cfg.to_json() + "): " + e.what());
  }
  m.net->to(dev);
  m.net->eval();
  return m;
}

std::string describe(const LoadedModel& m) {
  const net::UNetConfig& c = m.net->config();
  char params[32];
  std::snprintf(params, sizeof params, "%.2f M", double(m.net->parameter_count()) / 1e6);
  return "width " + std::to_string(c.width) + ", " + std::to_string(c.levels) + " levels, " + params + " parameters, " +
         std::to_string(m.step) + " training steps";
}

void add_decision_options(CLI::App& sub, DecisionFlags& f, const std::string& prefix) {
  f.helix = sub.add_option("--helix-weight", f.values.helix,
                           prefix + "weight on the helix probability in the mask rule (< 1: fewer helix voxels; "
                                    "default: the model's calibrated weight, else 1 = argmax)")
                ->check(CLI::PositiveNumber);
  f.sheet = sub.add_option("--sheet-weight", f.values.sheet,
                           prefix + "weight on the sheet probability (default: the model's calibrated weight, else 1)")
                ->check(CLI::PositiveNumber);
}

Decision resolve_decision(const DecisionFlags& f, const LoadedModel& model) {
  Decision d = model.decision;
  if (f.helix && f.helix->count()) d.helix = f.values.helix;
  if (f.sheet && f.sheet->count()) d.sheet = f.values.sheet;
  return d;
}

std::string describe(const Decision& d, bool calibrated) {
  if (d == Decision{} && !calibrated) return "argmax";
  char buf[96];
  std::snprintf(buf, sizeof buf, "helix x%.3g, sheet x%.3g%s", d.helix, d.sheet, calibrated ? " (calibrated)" : "");
  return buf;
}

}  // namespace sse::app
