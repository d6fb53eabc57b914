// All-or-nothing output sets (contract in apps/output.h).
#include "apps/output.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "io/error.h"
#include "io/file_util.h"

namespace sse::app {

namespace fs = std::filesystem;

namespace {

// Directories create_directories would make for `dir`, outermost first.
std::vector<std::string> missing_dirs(const fs::path& dir) {
  std::vector<std::string> out;
  for (fs::path p = dir; !p.empty() && !fs::exists(p); p = p.parent_path()) {
    out.insert(out.begin(), p.string());
    if (p == p.parent_path()) break;
  }
  return out;
}

void probe_writable(const std::string& dir) {
  const std::string probe = (fs::path(dir) / (".sseunet-probe-" + std::to_string(getpid()))).string();
  std::FILE* f = std::fopen(probe.c_str(), "wb");
  if (!f) throw io::file_error(dir, std::string("cannot write to the output directory (") + std::strerror(errno) + ")");
  std::fclose(f);
  std::remove(probe.c_str());
}

}  // namespace

OutputDir::OutputDir(std::string dir) : dir_(std::move(dir)) {
  if (dir_.empty()) dir_ = ".";
  std::error_code ec;
  if (fs::exists(dir_, ec) && !fs::is_directory(dir_, ec))
    throw io::file_error(dir_, "cannot write to the output directory (it is a file)");
  created_dirs_ = missing_dirs(dir_);
  fs::create_directories(dir_, ec);
  if (ec) {
    created_dirs_.clear();
    throw io::file_error(dir_, "cannot create the output directory (" + ec.message() + ")");
  }
  try {
    probe_writable(dir_);
  } catch (...) {
    discard();
    throw;
  }
}

OutputDir::~OutputDir() {
  if (!committed_) discard();
}

std::string OutputDir::final_path(const std::string& name) const { return (fs::path(dir_) / name).string(); }

std::string OutputDir::stage(const std::string& name) {
  const std::string tmp = (fs::path(dir_) / ("." + name + ".partial-" + std::to_string(getpid()))).string();
  staged_.emplace_back(tmp, final_path(name));
  return tmp;
}

void OutputDir::commit() {
  std::vector<std::string> done;
  for (const auto& [tmp, dst] : staged_) {
    std::error_code ec;
    fs::rename(tmp, dst, ec);
    if (ec) {
      for (const std::string& d : done) fs::remove(d, ec);
      throw io::file_error(dst, "cannot move the output into place (" + ec.message() + ")");
    }
    done.push_back(dst);
  }
  committed_ = true;
}

void OutputDir::discard() noexcept {
  std::error_code ec;
  for (const auto& staged : staged_) fs::remove(staged.first, ec);
  staged_.clear();
  for (auto it = created_dirs_.rbegin(); it != created_dirs_.rend(); ++it)
    if (fs::is_empty(*it, ec)) fs::remove(*it, ec);
}

void write_text_output(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::cout << text << std::flush;
    return;
  }
  io::write_file_atomically(path, text);
}

}  // namespace sse::app
