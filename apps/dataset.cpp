// Manifest rows to training samples (contract in apps/dataset.h).
#include "apps/dataset.h"

#include <algorithm>
#include <filesystem>

#include "io/error.h"
#include "io/file_util.h"
#include "io/grid_ops.h"

namespace sse::app {

std::string map_stem(const std::string& path) {
  std::string stem = std::filesystem::path(path).filename().string();
  for (const char* ext : {".gz", ".mrc", ".map", ".ccp4"})
    if (io::ends_with(stem, ext)) stem.resize(stem.size() - std::string(ext).size());
  return stem;
}

std::string row_name(const io::ManifestRow& row) {
  return row.name.empty() ? map_stem(row.map) + "_" + row.chain : row.name;
}

std::vector<io::BuildResult> build_samples(const std::vector<io::ManifestRow>& rows, const io::BuildOptions& options,
                                           const Reporter& reporter) {
  std::vector<io::BuildResult> out;
  Progress bar(reporter, "build", "rows", static_cast<long long>(rows.size()));
  for (const io::ManifestRow& row : rows) {
    out.push_back(io::build_manifest({row}, options).at(0));
    bar.update(static_cast<long long>(out.size()), row_name(row));
  }
  bar.finish();
  for (const io::BuildResult& r : out)
    if (r.status == io::BuildStatus::failed) reporter.warn(r.message);
  return out;
}

train::Sample to_train_sample(const io::Sample& s, const std::string& name) {
  io::Grid density = s.map;
  io::normalize(density);
  train::Sample t;
  t.name = name;
  t.d = density.nz;  // io grids and train samples are both x fastest: (z, y, x) = (d, h, w)
  t.h = density.ny;
  t.w = density.nx;
  t.volume = std::move(density.data);
  t.labels = s.labels.data;
  return t;
}

std::vector<train::Sample> load_split(const std::vector<io::BuildResult>& built, io::Split split) {
  std::vector<train::Sample> out;
  for (const io::BuildResult& r : built)
    if (r.status != io::BuildStatus::failed && r.row.split == split)
      out.push_back(to_train_sample(io::read_sample(r.sample_path), row_name(r.row)));
  return out;
}

std::vector<std::string> sample_files(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".sample") files.push_back(it->path().string());
  if (ec) throw io::file_error(dir, "cannot read the sample folder (" + ec.message() + ")");
  if (files.empty()) throw io::file_error(dir, "no .sample files (build them with `sseunet build`)");
  std::sort(files.begin(), files.end());
  return files;
}

SplitSamples read_sample_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::vector<std::string> files = sample_files(dir);
  SplitSamples out;
  for (const std::string& f : files) {
    const io::Sample s = io::read_sample(f);
    const std::optional<io::Split> split = io::split_from_name(s.meta("split"));
    if (!split) throw io::file_error(f, "sample without a valid split in its metadata");
    if (*split == io::Split::test) continue;
    (*split == io::Split::train ? out.train : out.val).push_back(to_train_sample(s, fs::path(f).stem().string()));
  }
  return out;
}

}  // namespace sse::app
