// apps/dataset.h — manifest rows → cached io samples → train::Sample, for `build` and `train`.
//
// Contract:
//  * build_samples() runs io::build_manifest row by row (with a progress bar), so each row is
//    built once and reused while its inputs and options are unchanged; failed rows are reported with
//    io's message ("row <line> (<map>, chain <id>): <file>: <problem>") and returned, not thrown.
//  * to_train_sample(): the cached raw density normalized with io::normalize (the function predict
//    uses, so training and inference see the same input distribution) and the voxel labels as is.
//    Voxels of the zone box outside the chain zone are zero density and background label — they
//    are kept, as in the authors' training on chain maps (the network learns "no density, no SSE").
//  * row_name(): the manifest's `name` column, else "<map file stem>_<chain>".
//  * read_sample_dir(): every *.sample file of a folder (e.g. `build --simulate`'s cache), in name
//    order (the same on every file system), converted like the manifest's rows and put in the split
//    recorded in its metadata; test samples are left out. A missing folder, a folder without
//    samples or an unreadable sample throws IoError naming it.
#pragma once

#include <string>
#include <vector>

#include "apps/progress.h"
#include "io/manifest.h"
#include "train/sample.h"

namespace sse::app {

std::string row_name(const io::ManifestRow& row);
// A map file's name without folder and without .gz/.mrc/.map/.ccp4.
std::string map_stem(const std::string& path);

std::vector<io::BuildResult> build_samples(const std::vector<io::ManifestRow>& rows, const io::BuildOptions& options,
                                           const Reporter& reporter);

train::Sample to_train_sample(const io::Sample& s, const std::string& name);

// The built rows of one split, read back from the cache and converted.
std::vector<train::Sample> load_split(const std::vector<io::BuildResult>& built, io::Split split);

// The *.sample files of a folder in name order; a missing folder or one without samples throws
// IoError naming it.
std::vector<std::string> sample_files(const std::string& dir);

struct SplitSamples {
  std::vector<train::Sample> train, val;
};
SplitSamples read_sample_dir(const std::string& dir);

}  // namespace sse::app
