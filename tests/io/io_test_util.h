// tests/io/io_test_util.h — fixture paths and scratch directories for the io tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace sse::io::test {

inline std::string data(const std::string& rel) { return std::string(SSE_TEST_DATA_DIR) + "/io/" + rel; }

// A fresh directory under the build tree, removed when the object dies.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::path(SSE_BINARY_DIR) / "io_scratch" /
            (std::string(info ? info->name() : "x") + "_" + name);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// True when /usr/bin/python3 can import all of the given modules (space separated).
inline bool python_has(const std::string& modules) {
  std::string cmd = "/usr/bin/python3 -c 'import ";
  for (char c : modules) cmd += (c == ' ' ? ',' : c);
  cmd += "' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

}  // namespace sse::io::test
