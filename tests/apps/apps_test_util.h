// tests/apps/apps_test_util.h — helpers for the apps tests (header-only: tests/CMakeLists.txt
// compiles only *_test.cpp files): run the `sseunet` binary and capture what it prints, scratch
// folders, committed inputs, and tiny untrained checkpoints (no test may depend on a trained model).
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/checkpoint.h"
#include "io/map.h"
#include "net/unet3d.h"

namespace sse::app::test {

namespace fs = std::filesystem;

struct RunResult {
  int code = -1;         // exit status; 128 + signal number when the process died of a signal
  std::string out, err;  // stdout, stderr
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A fresh folder under the build tree for the current test, removed when the object dies.
class Scratch {
 public:
  Scratch() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = (fs::path(SSE_BINARY_DIR) / "apps_scratch" / (std::string(info->test_suite_name()) + "." + info->name()))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  std::string path(const std::string& name = "") const { return name.empty() ? dir_ : dir_ + "/" + name; }

 private:
  std::string dir_;
};

// Runs `SSE_BINARY_DIR/sseunet <args>` through /bin/sh inside `cwd`, with `env` prepended (e.g.
// "SSEUNET_MODEL=/x"). Arguments are passed as written: quote what needs it.
inline RunResult sseunet(const std::string& args, const std::string& cwd, const std::string& env = "") {
  static int counter = 0;
  const std::string tag = cwd + "/.run" + std::to_string(counter++);
  // One thread per run: ctest runs tests in parallel on small machines, and oversubscribed OpenMP
  // threads spin instead of working.
  const std::string cmd = "cd '" + cwd + "' && OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 " + env + " '" +
                          SSE_BINARY_DIR + "/sseunet' " + args + " >'" + tag + ".out' 2>'" + tag + ".err' </dev/null";
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(tag + ".out");
  r.err = slurp(tag + ".err");
  fs::remove(tag + ".out");
  fs::remove(tag + ".err");
  return r;
}

// Committed inputs.
inline std::string repo_path(const std::string& rel) { return std::string(SSE_TEST_DATA_DIR) + "/../../" + rel; }
inline std::string example_map() { return repo_path("examples/emd_35448_crop.mrc"); }
inline std::string example_manifest() { return repo_path("examples/chains.tsv"); }
inline std::string io_data(const std::string& rel) { return std::string(SSE_TEST_DATA_DIR) + "/io/" + rel; }

// `predict` of chain X of 5MDX (committed real map and model) with --structure, into `out`, with
// the untrained checkpoint `ckpt` of the scratch folder.
inline RunResult predict_chain_x(const std::string& cwd, const std::string& out, const std::string& ckpt) {
  const std::string dir = io_data("real/3491_5mdx_X/");
  return sseunet("predict " + dir + "X-1.0APIX.mrc.gz -o " + out + " --model " + ckpt + " -q --structure " + dir +
                     "X_fitted.pdb.gz --chain X",
                 cwd);
}

// `evaluate` of the three authors' chains with DeepSSETracer 1.0's published masks, plus `flags`.
inline RunResult evaluate_peer_masks(const std::string& cwd, const std::string& flags) {
  return sseunet("evaluate --manifest " + example_manifest() + " --split all --pred-dir " + io_data("real") + " " + flags,
                 cwd);
}

// An untrained checkpoint in the trainer's format (meta["model"], tensors "model.<name>").
// `tensor_width` (when > 0) stores the tensors of another width than the declared one: a checkpoint
// whose contents belong to another architecture.
inline void write_checkpoint(const std::string& path, int width = 4, int classes = 3, int tensor_width = 0) {
  net::UNetConfig declared;
  declared.width = width;
  declared.classes = classes;
  net::UNetConfig stored = declared;
  if (tensor_width > 0) stored.width = tensor_width;
  net::UNet3d model(stored, 7);
  Checkpoint ck;
  ck.meta["kind"] = "sseunet-train";
  ck.meta["model"] = nlohmann::json::parse(declared.to_json());
  ck.meta["step"] = 0;
  for (const auto& [name, t] : model.state()) ck.tensors.emplace_back("model." + name, t);
  save_checkpoint(path, ck);
}

// Regular files directly in `dir` (names only, sorted); empty when `dir` does not exist.
inline std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// True when `text` is exactly one line ending in '\n'.
inline bool one_line(const std::string& text) {
  return !text.empty() && text.back() == '\n' && std::count(text.begin(), text.end(), '\n') == 1;
}

// The example map with another voxel size (all axes, Å); same origin and samples.
inline void write_rescaled_example(const std::string& path, double voxel) {
  io::Grid g = io::read_map(example_map());
  g.voxel = {voxel, voxel, voxel};
  io::write_map(path, g);
}

// A map on the example's grid filled with `value`, with sample (1,2,3) set to `special`.
inline void write_filled_map(const std::string& path, float value, float special) {
  io::Grid g = io::read_map(example_map());
  std::fill(g.data.begin(), g.data.end(), value);
  g.at(1, 2, 3) = special;
  io::write_map(path, g);
}

}  // namespace sse::app::test
