// io/manifest.h — dataset manifests and the cached training samples built from them.
//
// Contract:
//  * Manifest: a TSV file whose first non-comment line names the columns map, model, chain,
//    resolution (Å; NA when unknown, stored as 0), split (train|val|test) and optionally ss_file and
//    name (a label for reports), in any order. Lines starting with '#' and blank lines are skipped; relative paths are relative to
//    the manifest's folder. Errors throw IoError naming the file and line.
//  * build_sample(row): read the map (any format read_map takes), refuse NaN/infinite densities,
//    read the model and select the chain, take per-residue classes (row's ss_file — a DSSP/STRIDE
//    output, or an authors' voxel label file, see labels.h — else the options' sources, see
//    secondary.h), cut the chain zone at the sample spacing (1 Å default;
//    zone_at_spacing), label it (labels.h; density > 0 is the component). The map is stored raw:
//    normalization happens at load time with the same normalize() prediction uses.
//    Errors throw IoError "row <line> (<map>, chain <id>): <problem>" — the problem names the file.
//  * build_manifest(): builds every row into options.cache_dir, one file per sample; a row whose
//    sample file already exists, reads back intact, has the current format version and was built
//    from the same inputs (paths, sizes, modification times, chain, options) is skipped. A failing
//    row is reported and the other rows still build.
//  * Sample file (little-endian, version 1): "SSESAMPL", u32 version, u32 metadata length,
//    metadata ("key\tvalue\n" lines), i32 nx ny nz, f64 voxel[3], f64 origin[3], f32 density[n],
//    u8 labels[n], u32 CRC-32 of everything before it. Written atomically. A foreign, truncated,
//    corrupt or other-version file is refused with a message saying which.
//  * The building blocks at the end (chain_sample, options_key, file_stamp, sample_up_to_date,
//    exact_number, fnv1a, short_hash) are what build_manifest is made of; build_simulated
//    (io/simulate_set.h) uses the same ones, so both caches follow one set of rules.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/error.h"
#include "io/grid.h"
#include "io/grid_ops.h"
#include "io/secondary.h"
#include "io/structure.h"

namespace sse::io {

enum class Split { train, val, test };
const char* split_name(Split s);
std::optional<Split> split_from_name(const std::string& name);  // "train", "val", "test"; else nullopt

struct ManifestRow {
  int line = 0;  // 1-based line in the manifest
  std::string map, model, chain;
  double resolution = 0;
  Split split = Split::train;
  std::string ss_file;  // empty: none
  std::string name;     // optional `name` column; empty: none
};
std::vector<ManifestRow> read_manifest(const std::string& path);

struct Sample {
  static constexpr std::uint32_t kVersion = 1;
  Grid map;          // chain zone, raw density
  LabelGrid labels;  // same lattice; values are Sse
  std::vector<std::pair<std::string, std::string>> metadata;
  std::string meta(const std::string& key) const;  // "" when absent
};
void write_sample(const std::string& path, const Sample& sample);
Sample read_sample(const std::string& path);

struct BuildOptions {
  std::string cache_dir;
  Vec3 voxel{1, 1, 1};
  ZoneOptions zone;
  double label_cutoff = 3.0;
  SsOptions ss;  // ss.ss_file is replaced by each row's ss_file
};
enum class BuildStatus { built, skipped, failed };
struct BuildResult {
  ManifestRow row;
  BuildStatus status = BuildStatus::failed;
  std::string sample_path;
  std::string message;  // the error for failed rows
};

std::string sample_path(const ManifestRow& row, const BuildOptions& options);
// Everything that determines a row's sample (file stamps of map, model and ss_file, chain, options):
// when it is unchanged the cached file is reused.
std::string source_key(const ManifestRow& row, const BuildOptions& options);
Sample build_sample(const ManifestRow& row, const BuildOptions& options);
std::vector<BuildResult> build_manifest(const std::vector<ManifestRow>& rows, const BuildOptions& options);

// ---- building blocks shared with build_simulated and build_lowpassed ------------------------
// A row's inputs, read and checked once: the map, its model (the row's chain exists) and the chain's
// residue classes. row_sample() cuts the row's sample from `map` — in.map itself (build_sample) or a
// filtered copy of it on any lattice (build_lowpassed) — with the row's metadata. Both throw IoError
// naming the file; row_error() prefixes the row as build_sample's errors are.
struct RowInputs {
  Grid map;
  Model model;
  ChainSs classes;
};
RowInputs read_row_inputs(const ManifestRow& row, const BuildOptions& options);
Sample row_sample(const ManifestRow& row, const RowInputs& in, const Grid& map, const BuildOptions& options);
IoError row_error(const ManifestRow& row, const IoError& e);
// Where a sample's labels come from when not from its own chain: the Cα of `residues` with one class
// each (e.g. every chain of the model, for a whole-box sample).
struct ZoneLabels {
  const Chain* residues = nullptr;
  const std::vector<Sse>* classes = nullptr;
};
// One chain cut from `map`: the zone at options.voxel (zone_at_spacing), its labels (make_labels with
// ss.classes, or with `labels` when given) and the content metadata ss_source, residues, helix_ca,
// sheet_ca (the chain's), component_voxels, helix_voxels, sheet_voxels (the labels'). Throws IoError
// (from chain_zone) when the chain misses the map.
Sample chain_sample(const Grid& map, const Chain& chain, const ChainSs& ss, const BuildOptions& options,
                    const ZoneLabels& labels = {});
// Every option that changes a sample's content (voxel, zone, label cutoff, ss), for source keys.
std::string options_key(const BuildOptions& options);
// "path:size:mtime" ("path:missing" when absent): a file's identity in source keys.
std::string file_stamp(const std::string& path);
// True when `path` reads back as a sample of the current version whose "source" is `key`.
bool sample_up_to_date(const std::string& path, const std::string& key);
std::string exact_number(double v);          // 17 significant digits: round-trips a double
std::uint64_t fnv1a(const std::string& s);    // FNV-1a 64
std::string short_hash(const std::string& s);  // 8 hex digits of fnv1a, for file names

}  // namespace sse::io
