// io/manifest.cpp — see manifest.h.
#include "io/manifest.h"

#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <sys/stat.h>

#include "io/error.h"
#include "io/file_util.h"
#include "io/labels.h"
#include "io/map.h"
#include "io/structure.h"

namespace sse::io {
namespace {

namespace fs = std::filesystem;
constexpr char kMagic[8] = {'S', 'S', 'E', 'S', 'A', 'M', 'P', 'L'};

// ---- manifest parsing ----------------------------------------------------------------------

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t tab = line.find('\t', start);
    out.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) return out;
    start = tab + 1;
  }
}

bool skippable(const std::string& l) { return l.find_first_not_of(" \t") == std::string::npos || l[0] == '#'; }

struct Columns {
  int map = -1, model = -1, chain = -1, resolution = -1, split = -1, ss_file = -1, name = -1;
};

Columns parse_header(const std::vector<std::string>& names, const std::string& path, int line) {
  Columns c;
  for (int i = 0; i < int(names.size()); ++i) {
    const std::string& n = names[std::size_t(i)];
    int* slot = n == "map" ? &c.map : n == "model" ? &c.model : n == "chain" ? &c.chain
              : n == "resolution" ? &c.resolution : n == "split" ? &c.split : n == "ss_file" ? &c.ss_file
              : n == "name" ? &c.name : nullptr;
    if (!slot) throw file_error(path, "line " + std::to_string(line) + ": unknown column '" + n + "'");
    *slot = i;
  }
  for (const auto& [idx, name] : {std::pair{c.map, "map"}, {c.model, "model"}, {c.chain, "chain"},
                                  {c.resolution, "resolution"}, {c.split, "split"}})
    if (idx < 0) throw file_error(path, "line " + std::to_string(line) + ": missing column '" + name + "'");
  return c;
}

std::string resolve(const fs::path& base, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (base / p).lexically_normal().string();
}

ManifestRow parse_row(const std::vector<std::string>& f, const Columns& c, const fs::path& base,
                      const std::string& path, int line) {
  const auto fail = [&](const std::string& what) { return file_error(path, "line " + std::to_string(line) + ": " + what); };
  const int needed = std::max({c.map, c.model, c.chain, c.resolution, c.split}) + 1;  // ss_file, name may be absent
  if (int(f.size()) < needed)
    throw fail("expected at least " + std::to_string(needed) + " tab-separated fields, found " + std::to_string(f.size()));
  const auto field = [&](int i) { return i >= 0 && i < int(f.size()) ? f[std::size_t(i)] : std::string(); };
  ManifestRow r;
  r.line = line;
  r.map = resolve(base, field(c.map));
  r.model = resolve(base, field(c.model));
  r.chain = field(c.chain);
  r.name = field(c.name);
  const std::string ss = field(c.ss_file);
  r.ss_file = (ss.empty() || ss == "-") ? std::string() : resolve(base, ss);
  if (r.map.empty() || r.model.empty() || r.chain.empty()) throw fail("map, model and chain must not be empty");
  const std::string res = field(c.resolution);
  char* end = nullptr;
  r.resolution = res == "NA" ? 0.0 : std::strtod(res.c_str(), &end);
  if (res != "NA" && (res.empty() || *end != '\0' || !(r.resolution > 0)))
    throw fail("resolution must be a positive number (or NA when unknown), got '" + res + "'");
  const std::string s = field(c.split);
  const std::optional<Split> split = split_from_name(s);
  if (!split) throw fail("split must be train, val or test, got '" + s + "'");
  r.split = *split;
  return r;
}

// ---- sample file ---------------------------------------------------------------------------

template <class T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

class Reader {
 public:
  Reader(const std::vector<char>& b, const std::string& path) : b_(b), path_(path) {}
  template <class T>
  T get() {
    T v;
    std::memcpy(&v, take(sizeof(T)), sizeof(T));
    return v;
  }
  const char* take(std::size_t n) {
    if (b_.size() - pos_ < n) throw file_error(path_, "truncated sample file");
    const char* p = b_.data() + pos_;
    pos_ += n;
    return p;
  }
  std::size_t pos() const { return pos_; }

 private:
  const std::vector<char>& b_;
  const std::string& path_;
  std::size_t pos_ = 0;
};

std::uint32_t crc32_of(const char* data, std::size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    const uInt chunk = uInt(std::min<std::size_t>(n, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    n -= chunk;
  }
  return std::uint32_t(crc);
}

std::uint32_t stored_crc(const std::vector<char>& b) {
  std::uint32_t c;
  std::memcpy(&c, b.data() + b.size() - 4, 4);
  return c;
}

std::vector<std::pair<std::string, std::string>> parse_metadata(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& l : split_lines(text)) {
    const std::size_t tab = l.find('\t');
    if (tab != std::string::npos) out.emplace_back(l.substr(0, tab), l.substr(tab + 1));
  }
  return out;
}

// ---- building ------------------------------------------------------------------------------

}  // namespace

std::string source_key(const ManifestRow& r, const BuildOptions& o) {
  return "v" + std::to_string(Sample::kVersion) + "|" + file_stamp(r.map) + "|" + file_stamp(r.model) + "|" + r.chain +
         "|" + (r.ss_file.empty() ? std::string("-") : file_stamp(r.ss_file)) + "|" + options_key(o);
}

namespace {

std::string stem(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  for (const char* ext : {".gz", ".mrc", ".map", ".ccp4", ".mrcs"})
    if (ends_with(name, ext)) name.resize(name.size() - std::strlen(ext));
  return name;
}

void require_file(const std::string& path, const char* what) {
  if (!file_exists(path)) throw file_error(path, std::string(what) + " file not found");
}

void require_finite(const Grid& map, const std::string& path) {
  for (float v : map.data)
    if (!std::isfinite(v)) throw file_error(path, "the map contains NaN or infinite values");
}

std::vector<std::pair<std::string, std::string>> row_metadata(const ManifestRow& row, const BuildOptions& o) {
  return {{"map", row.map}, {"model", row.model}, {"chain", row.chain}, {"resolution", exact_number(row.resolution)},
          {"split", split_name(row.split)}, {"ss_file", row.ss_file}, {"source", source_key(row, o)},
          {"written_by", "sseunet " SSEUNET_VERSION}};
}

// Residue classes of the row's chain: from the ss_file (a DSSP/STRIDE output, or an authors' voxel
// label file whose classes are recovered on the row's map), else the options' sources.
ChainSs row_classes(const ManifestRow& row, const BuildOptions& o, const Grid& map, const Model& model) {
  if (!row.ss_file.empty() && is_label_file(row.ss_file)) {
    ChainSs cs;
    cs.source = SsSource::file;
    cs.classes = recover_residue_classes(read_label_file(row.ss_file), map, model.chain(row.chain), o.label_cutoff).classes;
    return cs;
  }
  SsOptions ss = o.ss;
  ss.ss_file = row.ss_file;
  return chain_secondary_structure(model, row.chain, ss);
}

}  // namespace

RowInputs read_row_inputs(const ManifestRow& row, const BuildOptions& o) {
  require_file(row.map, "map");
  require_file(row.model, "model");
  if (!row.ss_file.empty()) require_file(row.ss_file, "secondary-structure");
  RowInputs in;
  in.map = read_map(row.map);
  require_finite(in.map, row.map);
  in.model = read_model(row.model);
  in.model.chain(row.chain);  // throws for an unknown chain before any work is done on the map
  in.classes = row_classes(row, o, in.map, in.model);
  return in;
}

Sample row_sample(const ManifestRow& row, const RowInputs& in, const Grid& map, const BuildOptions& o) {
  const Chain& chain = in.model.chain(row.chain);
  Sample s;
  try {
    s = chain_sample(map, chain, in.classes, o);
  } catch (const IoError& e) {
    throw file_error(row.map, std::string(e.what()) + " (model " + row.model + ", chain " + row.chain + ")");
  }
  std::vector<std::pair<std::string, std::string>> meta = row_metadata(row, o);
  meta.insert(meta.end() - 2, s.metadata.begin(), s.metadata.end());  // before source, written_by
  s.metadata = std::move(meta);
  return s;
}

IoError row_error(const ManifestRow& row, const IoError& e) {
  return IoError("row " + std::to_string(row.line) + " (" + row.map + ", chain " + row.chain + "): " + e.what());
}

std::optional<Split> split_from_name(const std::string& name) {
  for (Split s : {Split::train, Split::val, Split::test})
    if (name == split_name(s)) return s;
  return std::nullopt;
}

const char* split_name(Split s) {
  switch (s) {
    case Split::val: return "val";
    case Split::test: return "test";
    default: return "train";
  }
}

std::vector<ManifestRow> read_manifest(const std::string& path) {
  const std::vector<std::string> lines = split_lines(read_text_file(path));
  const fs::path base = fs::path(path).parent_path();
  std::vector<ManifestRow> rows;
  Columns cols;
  bool have_header = false;
  for (std::size_t n = 0; n < lines.size(); ++n) {
    if (skippable(lines[n])) continue;
    const std::vector<std::string> fields = split_tabs(lines[n]);
    if (!have_header) {
      cols = parse_header(fields, path, int(n + 1));
      have_header = true;
    } else {
      rows.push_back(parse_row(fields, cols, base, path, int(n + 1)));
    }
  }
  if (!have_header) throw file_error(path, "empty manifest (no header line)");
  return rows;
}

std::string Sample::meta(const std::string& key) const {
  for (const auto& [k, v] : metadata)
    if (k == key) return v;
  return "";
}

void write_sample(const std::string& path, const Sample& s) {
  if (s.map.dims() != s.labels.dims() || s.map.data.size() != s.map.size() || s.labels.data.size() != s.map.size())
    throw std::invalid_argument("write_sample: map and labels must share one lattice");
  std::string meta;
  for (const auto& [k, v] : s.metadata) {
    if (k.find_first_of("\t\n") != std::string::npos || v.find_first_of("\t\n") != std::string::npos)
      throw std::invalid_argument("write_sample: metadata may not contain tabs or newlines");
    meta += k + "\t" + v + "\n";
  }
  std::string out(kMagic, 8);
  put(out, Sample::kVersion);
  put(out, std::uint32_t(meta.size()));
  out += meta;
  for (int n : s.map.dims()) put(out, std::int32_t(n));
  for (int a = 0; a < 3; ++a) put(out, s.map.voxel[a]);
  for (int a = 0; a < 3; ++a) put(out, s.map.origin[a]);
  out.append(reinterpret_cast<const char*>(s.map.data.data()), s.map.data.size() * sizeof(float));
  out.append(reinterpret_cast<const char*>(s.labels.data.data()), s.labels.data.size());
  put(out, crc32_of(out.data(), out.size()));
  write_file_atomically(path, out);
}

Sample read_sample(const std::string& path) {
  const std::vector<char> b = read_file_bytes(path);
  Reader r(b, path);
  if (b.size() < 8 || std::memcmp(r.take(8), kMagic, 8) != 0) throw file_error(path, "not an sseunet sample file");
  const auto version = r.get<std::uint32_t>();
  if (version != Sample::kVersion)
    throw file_error(path, "sample format version " + std::to_string(version) + ", this build reads version " +
                               std::to_string(Sample::kVersion) + ": rebuild the cache");
  if (b.size() < 4 || crc32_of(b.data(), b.size() - 4) != stored_crc(b))
    throw file_error(path, "checksum mismatch: the sample file is corrupt or truncated");
  Sample s;
  const auto meta_len = r.get<std::uint32_t>();
  s.metadata = parse_metadata(std::string(r.take(meta_len), meta_len));
  GridGeometry g;
  g.nx = r.get<std::int32_t>();
  g.ny = r.get<std::int32_t>();
  g.nz = r.get<std::int32_t>();
  for (int a = 0; a < 3; ++a) g.voxel[a] = r.get<double>();
  for (int a = 0; a < 3; ++a) g.origin[a] = r.get<double>();
  if (g.nx < 0 || g.ny < 0 || g.nz < 0 || b.size() - r.pos() != g.size() * 5 + 4)
    throw file_error(path, "grid size in the header does not match the file length");
  s.map = Grid(g);
  std::memcpy(s.map.data.data(), r.take(g.size() * 4), g.size() * 4);
  s.labels = LabelGrid(g);
  std::memcpy(s.labels.data.data(), r.take(g.size()), g.size());
  return s;
}

std::string sample_path(const ManifestRow& row, const BuildOptions& o) {
  const std::string hash = short_hash(row.map + "|" + row.model + "|" + row.chain);
  return (fs::path(o.cache_dir) / (stem(row.map) + "_" + row.chain + "_" + hash + ".sample")).string();
}

Sample build_sample(const ManifestRow& row, const BuildOptions& o) {
  try {
    const RowInputs in = read_row_inputs(row, o);
    return row_sample(row, in, in.map, o);
  } catch (const IoError& e) {
    throw row_error(row, e);
  }
}

std::vector<BuildResult> build_manifest(const std::vector<ManifestRow>& rows, const BuildOptions& o) {
  if (o.cache_dir.empty()) throw std::invalid_argument("build_manifest: no cache directory");
  fs::create_directories(o.cache_dir);
  std::vector<BuildResult> results;
  for (const ManifestRow& row : rows) {
    BuildResult r;
    r.row = row;
    r.sample_path = sample_path(row, o);
    try {
      if (sample_up_to_date(r.sample_path, source_key(row, o))) {
        r.status = BuildStatus::skipped;
      } else {
        write_sample(r.sample_path, build_sample(row, o));
        r.status = BuildStatus::built;
      }
    } catch (const IoError& e) {
      r.status = BuildStatus::failed;
      r.message = e.what();
    }
    results.push_back(std::move(r));
  }
  return results;
}

Sample chain_sample(const Grid& map, const Chain& chain, const ChainSs& ss, const BuildOptions& o,
                    const ZoneLabels& labels) {
  Sample s;
  s.map = zone_at_spacing(map, chain.atoms, o.voxel, o.zone);
  s.labels = labels.residues ? make_labels(s.map, *labels.residues, *labels.classes, o.label_cutoff)
                             : make_labels(s.map, chain, ss.classes, o.label_cutoff);
  long component = 0, helix_vox = 0, sheet_vox = 0;
  for (float v : s.map.data) component += v > 0;
  for (std::uint8_t l : s.labels.data) {
    helix_vox += l == std::uint8_t(Sse::helix);
    sheet_vox += l == std::uint8_t(Sse::sheet);
  }
  const CaCounts ca = count_ca(chain, ss.classes);
  s.metadata = {{"ss_source", ss_source_name(ss.source)}, {"residues", std::to_string(chain.residues.size())},
                {"helix_ca", std::to_string(ca.helix)}, {"sheet_ca", std::to_string(ca.sheet)},
                {"component_voxels", std::to_string(component)}, {"helix_voxels", std::to_string(helix_vox)},
                {"sheet_voxels", std::to_string(sheet_vox)}};
  return s;
}

std::string options_key(const BuildOptions& o) {
  std::ostringstream s;
  s << "voxel " << exact_number(o.voxel.x) << "," << exact_number(o.voxel.y) << "," << exact_number(o.voxel.z)
    << "|zone " << exact_number(o.zone.radius) << "," << o.zone.margin << "," << o.zone.zero_outside << "|cutoff "
    << exact_number(o.label_cutoff) << "|ss " << o.ss.use_records << "," << o.ss.mapping.helix << ","
    << o.ss.mapping.sheet << "," << o.ss.dssp.prefer_pi_helices;
  return s.str();
}

std::string file_stamp(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return path + ":missing";
  return path + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

bool sample_up_to_date(const std::string& path, const std::string& key) {
  if (!file_exists(path)) return false;
  try {
    return read_sample(path).meta("source") == key;
  } catch (const IoError&) {
    return false;  // unreadable, other version or corrupt: rebuild
  }
}

std::string exact_number(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string short_hash(const std::string& s) {
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a(s)));
  return std::string(hash, 8);
}

}  // namespace sse::io
