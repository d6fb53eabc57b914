// apps/output.h — a command's output files appear all together, complete, or not at all.
//
// Contract:
//  * OutputDir(dir) creates `dir` (and parents) when missing and proves it writable by creating and
//    removing a probe file; otherwise it throws IoError "<dir>: cannot write to the output directory
//    (<reason>)" — before any long computation starts.
//  * stage(name) returns a hidden temporary path in `dir` (".<name>.partial-<pid>") to write the
//    file `name` to (io::write_map and io::write_file_atomically both work on it).
//  * commit() renames every staged file to its final name (a rename within one directory is
//    atomic). If a rename fails, the files already renamed are removed again, so a set never
//    appears half.
//  * The destructor of an uncommitted OutputDir (an error happened) removes every staged file and,
//    when this object created the directory, the directory itself if it is empty.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sse::app {

class OutputDir {
 public:
  explicit OutputDir(std::string dir);
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  const std::string& path() const { return dir_; }
  std::string final_path(const std::string& name) const;
  std::string stage(const std::string& name);
  void commit();

 private:
  void discard() noexcept;

  std::string dir_;
  std::vector<std::string> created_dirs_;                    // innermost last
  std::vector<std::pair<std::string, std::string>> staged_;  // temporary, final
  bool committed_ = false;
};

// Writes `text` to `path` through a temporary file (stdout when path is "-").
void write_text_output(const std::string& path, const std::string& text);

}  // namespace sse::app
