// io/map.cpp — see map.h. gemmi parses the header and modes 0/1/2/6 and reorders axes
// (MapSetup::ReorderOnly: never MapSetup::Full, which would expand a cryo-EM box to the
// crystallographic unit cell); this file decodes mode 12, places the grid, and writes MRC2014.
#include "io/map.h"

#include <gemmi/ccp4.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>

#include "io/error.h"
#include "io/file_util.h"

namespace sse::io {
namespace {

constexpr std::size_t kHeaderBytes = 1024;

std::size_t bytes_per_sample(int mode) {
  switch (mode) {
    case 0: return 1;
    case 1: case 6: case 12: return 2;
    case 2: return 4;
    default: return 0;
  }
}

// IEEE 754 binary16 -> binary32, including subnormals, infinities and NaNs.
float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
  const int exp = (h >> 10) & 0x1f;
  std::uint32_t mant = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | (std::uint32_t(exp - 15 + 127) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal: normalize the mantissa
    int e = -1;
    do { ++e; mant <<= 1; } while ((mant & 0x400u) == 0);
    bits = sign | (std::uint32_t(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

void decode_mode12(const std::vector<char>& bytes, std::size_t offset, bool swap,
                   std::vector<float>& out) {
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::uint16_t h;
    std::memcpy(&h, bytes.data() + offset + 2 * i, 2);
    if (swap) h = std::uint16_t((h >> 8) | (h << 8));
    out[i] = half_to_float(h);
  }
}

std::string trimmed(std::string s) {
  const auto end = s.find_last_not_of(std::string(" \0", 2));
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}

// Fills everything but the derived placement from the raw header words.
MapHeader raw_header(const gemmi::Ccp4<float>& m, const std::string& path) {
  MapHeader h;
  h.path = path;
  h.n_crs = m.header_3i32(1);
  h.mode = m.header_i32(4);
  h.nstart_crs = m.header_3i32(5);
  h.sampling_xyz = m.header_3i32(8);
  h.cell_lengths = {m.header_float(11), m.header_float(12), m.header_float(13)};
  h.cell_angles = {m.header_float(14), m.header_float(15), m.header_float(16)};
  h.axis_crs = m.header_3i32(17);
  h.dmin = m.header_float(20);
  h.dmax = m.header_float(21);
  h.dmean = m.header_float(22);
  h.space_group = m.header_i32(23);
  h.extended_header_bytes = m.header_i32(24);
  h.exttyp = trimmed(m.header_str(27, 4));
  h.nversion = m.header_i32(28);
  h.origin_words = {m.header_float(50), m.header_float(51), m.header_float(52)};
  h.little_endian = m.same_byte_order == gemmi::is_little_endian();
  h.rms = m.header_float(55);
  const int nlabl = std::min(std::max(m.header_i32(56), 0), 10);
  for (int i = 0; i < nlabl; ++i) h.labels.push_back(trimmed(m.header_str(57 + 20 * i, 80)));
  return h;
}

// Checks the header and derives geometry and placement (the rule in map.h / io/README.md).
void derive_placement(MapHeader& h) {
  const std::string& p = h.path;
  for (int a = 0; a < 3; ++a) {
    if (h.n_crs[a] <= 0) throw file_error(p, "non-positive grid size in the header");
    if (h.sampling_xyz[a] < 0) throw file_error(p, "negative MX/MY/MZ sampling in the header");
    // gemmi's axis reordering computes NSTART + N in int: refuse what would overflow (damaged headers).
    if (std::abs(double(h.nstart_crs[a])) + double(h.n_crs[a]) > 2147483647.0)
      throw file_error(p, "NSTART out of range in the header");
    if (!(h.cell_lengths[a] >= 0) || !std::isfinite(h.cell_lengths[a]))
      throw file_error(p, "cell lengths must be non-negative and finite");
  }
  if (bytes_per_sample(h.mode) == 0)
    throw file_error(p, "unsupported data mode " + std::to_string(h.mode) +
                            " (supported: 0, 1, 2, 6, 12)");
  if (h.extended_header_bytes < 0) throw file_error(p, "negative NSYMBT");
  Index3 x_axis_of{};  // for each of x,y,z: which of column/row/section holds it
  for (int i = 0; i < 3; ++i) {
    const int axis = h.axis_crs[i] - 1;
    if (axis < 0 || axis > 2) throw file_error(p, "MAPC/MAPR/MAPS must be a permutation of 1,2,3");
    x_axis_of[axis] = i;
  }
  GridGeometry& g = h.geometry;
  for (int a = 0; a < 3; ++a) {
    const bool unset = h.cell_lengths[a] == 0 || h.sampling_xyz[a] == 0;
    g.voxel[a] = unset ? 1.0 : h.cell_lengths[a] / h.sampling_xyz[a];
    if (unset) h.warnings.push_back(std::string("cell length or sampling along ") + "xyz"[a] +
                                    " is zero: assuming 1 Å voxels");
  }
  if (h.cell_angles.x != 90 || h.cell_angles.y != 90 || h.cell_angles.z != 90)
    h.warnings.push_back("non-orthogonal cell: sample positions are computed as if it were orthogonal");
  g.nx = h.n_crs[x_axis_of[0]];
  g.ny = h.n_crs[x_axis_of[1]];
  g.nz = h.n_crs[x_axis_of[2]];
  const Vec3& o = h.origin_words;
  const bool origin_set = std::isfinite(o.x) && std::isfinite(o.y) && std::isfinite(o.z) &&
                          (o.x != 0 || o.y != 0 || o.z != 0);
  if (origin_set) {
    h.placement = MapHeader::Placement::origin_field;
    g.origin = o;
  } else {
    h.placement = MapHeader::Placement::nstart;
    for (int a = 0; a < 3; ++a) g.origin[a] = h.nstart_crs[x_axis_of[a]] * g.voxel[a];
  }
}

gemmi::Ccp4<float> parse_header(const std::vector<char>& bytes, const std::string& path) {
  if (bytes.size() < kHeaderBytes)
    throw file_error(path, "too short for an MRC/CCP4 header (" + std::to_string(bytes.size()) +
                               " bytes)");
  gemmi::Ccp4<float> m;
  gemmi::MemoryStream stream(bytes.data(), bytes.size());
  m.read_ccp4_header(stream, path);
  return m;
}

// Old Chimera (e.g. 1.3-1.5) writes the machine stamp as 00 00 44 44, which gemmi refuses. When the
// stamp is neither 0x44 (little) nor 0x11 (big), take the byte order from the MODE word (a valid
// mode is a small number only when read in the right order) and fix the stamp in memory.
bool repair_machine_stamp(std::vector<char>& bytes) {
  if (bytes.size() < kHeaderBytes || bytes[212] == 0x44 || bytes[212] == 0x11) return false;
  const auto* w = reinterpret_cast<const unsigned char*>(&bytes[12]);  // MODE
  const std::uint32_t little = w[0] | w[1] << 8 | w[2] << 16 | std::uint32_t(w[3]) << 24;
  const std::uint32_t big = w[3] | w[2] << 8 | w[1] << 16 | std::uint32_t(w[0]) << 24;
  const auto valid = [](std::uint32_t mode) { return mode <= 12 && bytes_per_sample(int(mode)) != 0; };
  const char order = valid(little) ? 0x44 : valid(big) ? 0x11 : 0;
  if (order == 0) return false;  // gemmi reports the unreadable stamp
  bytes[212] = bytes[213] = order;
  bytes[214] = bytes[215] = 0;
  return true;
}

MapHeader header_from_bytes(std::vector<char>& bytes, const std::string& path, gemmi::Ccp4<float>& m) {
  const bool repaired = repair_machine_stamp(bytes);
  try {
    m = parse_header(bytes, path);
  } catch (const IoError&) {
    throw;
  } catch (const std::exception& e) {
    throw file_error(path, std::string("not a readable MRC/CCP4 map: ") + e.what());
  }
  MapHeader h = raw_header(m, path);
  if (repaired) h.warnings.push_back("unrecognised machine stamp: byte order taken from the MODE word");
  derive_placement(h);
  const std::size_t need = kHeaderBytes + std::size_t(h.extended_header_bytes) +
                           h.geometry.size() * bytes_per_sample(h.mode);
  if (bytes.size() < need)
    throw file_error(path, "truncated: header promises " + std::to_string(need) +
                               " bytes, file has " + std::to_string(bytes.size()));
  return h;
}

void load_samples(const std::vector<char>& bytes, const MapHeader& h, gemmi::Ccp4<float>& m) {
  if (h.mode == 12) {
    m.grid.data.resize(h.geometry.size());
    decode_mode12(bytes, kHeaderBytes + std::size_t(h.extended_header_bytes), !m.same_byte_order,
                  m.grid.data);
  } else {
    m.read_ccp4_stream(gemmi::MemoryStream(bytes.data(), bytes.size()), h.path);
  }
  m.setup(std::numeric_limits<float>::quiet_NaN(), gemmi::MapSetup::ReorderOnly);
  if (m.grid.nu != h.geometry.nx || m.grid.nv != h.geometry.ny || m.grid.nw != h.geometry.nz)
    throw file_error(h.path, "internal error: axis reordering gave an unexpected shape");
}

void put_i32(std::string& buf, int word, std::int32_t v) { std::memcpy(&buf[4 * (word - 1)], &v, 4); }
void put_f32(std::string& buf, int word, float v) { std::memcpy(&buf[4 * (word - 1)], &v, 4); }

std::string mrc2014_header(const GridGeometry& g, float dmin, float dmax, float dmean, float rms) {
  static_assert(sizeof(float) == 4, "IEEE float expected");
  std::string buf(kHeaderBytes, '\0');
  const Index3 n = g.dims();
  for (int a = 0; a < 3; ++a) {
    put_i32(buf, 1 + a, n[a]);
    put_i32(buf, 5 + a, 0);
    put_i32(buf, 8 + a, n[a]);
    put_f32(buf, 11 + a, float(n[a] * g.voxel[a]));
    put_f32(buf, 14 + a, 90.f);
    put_i32(buf, 17 + a, a + 1);
    put_f32(buf, 50 + a, float(g.origin[a]));
  }
  put_i32(buf, 4, 2);
  put_f32(buf, 20, dmin);
  put_f32(buf, 21, dmax);
  put_f32(buf, 22, dmean);
  put_i32(buf, 23, 1);      // ISPG 1: a single volume (MRC2014)
  put_i32(buf, 28, 20140);  // NVERSION
  std::memcpy(&buf[4 * 52], "MAP ", 4);
  const unsigned char machst[4] = {0x44, 0x44, 0, 0};  // little-endian
  std::memcpy(&buf[4 * 53], machst, 4);
  put_f32(buf, 55, rms);
  put_i32(buf, 56, 1);
  std::string label = "sseunet " SSEUNET_VERSION;
  label.resize(80, ' ');
  std::memcpy(&buf[4 * 56], label.data(), 80);
  return buf;
}

template <class T>
void write_any(const std::string& path, const GridT<T>& grid) {
  if (grid.size() == 0 || grid.data.size() != grid.size())
    throw file_error(path, "refusing to write an empty or inconsistent grid");
  if (!gemmi::is_little_endian()) throw file_error(path, "big-endian hosts are not supported");
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0, sum2 = 0;
  std::string body(grid.size() * 4, '\0');
  for (std::size_t i = 0; i < grid.size(); ++i) {
    const float v = float(grid.data[i]);
    std::memcpy(&body[4 * i], &v, 4);
    lo = std::min<double>(lo, v);
    hi = std::max<double>(hi, v);
    sum += v;
    sum2 += double(v) * v;
  }
  const double mean = sum / double(grid.size());
  const double rms = std::sqrt(std::max(0.0, sum2 / double(grid.size()) - mean * mean));
  write_file_atomically(path, mrc2014_header(grid, float(lo), float(hi), float(mean), float(rms)) + body);
}

}  // namespace

MapHeader read_map_header(const std::string& path) {
  gemmi::Ccp4<float> m;
  std::vector<char> bytes = read_file_bytes(path);
  return header_from_bytes(bytes, path, m);
}

Grid read_map(const std::string& path, MapHeader* header) {
  std::vector<char> bytes = read_file_bytes(path);
  gemmi::Ccp4<float> m;
  MapHeader h = header_from_bytes(bytes, path, m);
  try {
    load_samples(bytes, h, m);
  } catch (const IoError&) {
    throw;
  } catch (const std::exception& e) {
    throw file_error(path, e.what());
  }
  Grid grid(h.geometry);
  grid.data = std::move(m.grid.data);
  if (header) *header = std::move(h);
  return grid;
}

void write_map(const std::string& path, const Grid& grid) { write_any(path, grid); }
void write_map(const std::string& path, const LabelGrid& grid) { write_any(path, grid); }

std::string describe(const MapHeader& h) {
  std::ostringstream s;
  const GridGeometry& g = h.geometry;
  s << "file        " << h.path << "\n"
    << "mode        " << h.mode << "\n"
    << "grid (x,y,z) " << g.nx << " x " << g.ny << " x " << g.nz << "\n"
    << "voxel (Å)   " << g.voxel.x << " " << g.voxel.y << " " << g.voxel.z << "\n"
    << "origin (Å)  " << g.origin.x << " " << g.origin.y << " " << g.origin.z << "  (from "
    << (h.placement == MapHeader::Placement::origin_field ? "ORIGIN" : "NSTART x voxel size")
    << ")\n"
    << "axis order  MAPC/MAPR/MAPS = " << h.axis_crs[0] << "," << h.axis_crs[1] << ","
    << h.axis_crs[2] << "\n"
    << "nstart (c,r,s) " << h.nstart_crs[0] << " " << h.nstart_crs[1] << " " << h.nstart_crs[2]
    << "\n"
    << "cell        " << h.cell_lengths.x << " " << h.cell_lengths.y << " " << h.cell_lengths.z
    << "  angles " << h.cell_angles.x << " " << h.cell_angles.y << " " << h.cell_angles.z << "\n"
    << "density     min " << h.dmin << " max " << h.dmax << " mean " << h.dmean << " rms " << h.rms
    << "\n"
    << "ext. header " << h.extended_header_bytes << " bytes" << (h.exttyp.empty() ? "" : " (")
    << h.exttyp << (h.exttyp.empty() ? "" : ")") << ", NVERSION " << h.nversion << ", "
    << (h.little_endian ? "little" : "big") << "-endian\n";
  for (const std::string& w : h.warnings) s << "warning     " << w << "\n";
  for (const std::string& l : h.labels) s << "label       " << l << "\n";
  return s.str();
}

}  // namespace sse::io
