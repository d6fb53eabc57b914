// io/map.h — MRC2014 / CCP4 density maps in and out.
//
// Contract:
//  * read_map() reads modes 0 (int8), 1 (int16), 2 (float32), 6 (uint16) through gemmi and mode 12
//    (IEEE half float) decoded here; any MAPC/MAPR/MAPS axis order; extended headers (NSYMBT bytes
//    are skipped); either byte order (from the machine stamp, or from the MODE word when the stamp
//    is unrecognised, as old Chimera writes it, with a warning); gzipped files (".gz"). The result
//    is a Grid in x,y,z order.
//  * Voxel size along x,y,z = cell length / MX,MY,MZ. A zero cell length or sampling (some writers
//    leave them unset) falls back to 1 Å with a warning in MapHeader::warnings, as ChimeraX does.
//    Non-orthogonal cells are read as if orthogonal, also with a warning.
//  * Placement rule (the one ChimeraX follows): if any of the MRC2014 ORIGIN words 50-52 is nonzero,
//    the origin is ORIGIN (already x,y,z, in Å); otherwise it is NSTART (reordered from
//    column/row/section to x,y,z) times the voxel size. See io/README.md.
//  * write_map() writes float32 MRC2014 (mode 2, MAPC/MAPR/MAPS = 1,2,3, NSTART = 0, ORIGIN = the
//    grid's origin, cell = n * voxel, little-endian) via a temporary file renamed into place, so a
//    reader never sees a half-written file. A ".gz" path is written gzipped.
//  * Every failure throws IoError naming the file.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "io/grid.h"

namespace sse::io {

// The header as stored, plus the placement derived from it (for the `info` command and tests).
struct MapHeader {
  std::string path;
  int mode = 0;
  Index3 n_crs{};           // NC, NR, NS: samples along columns, rows, sections
  Index3 nstart_crs{};      // NCSTART, NRSTART, NSSTART
  Index3 sampling_xyz{};    // MX, MY, MZ
  Index3 axis_crs{};        // MAPC, MAPR, MAPS (1 = x, 2 = y, 3 = z)
  Vec3 cell_lengths;        // Å
  Vec3 cell_angles;         // degrees
  Vec3 origin_words;        // ORIGIN (words 50-52), Å
  int space_group = 0;
  int extended_header_bytes = 0;  // NSYMBT
  std::string exttyp;       // EXTTYP (MRC2014), e.g. "FEI1", or empty
  int nversion = 0;         // NVERSION, 20140 for MRC2014
  bool little_endian = true;
  float dmin = 0, dmax = 0, dmean = 0, rms = 0;
  std::vector<std::string> labels;
  std::vector<std::string> warnings;  // header oddities that were tolerated

  // Derived placement.
  enum class Placement { origin_field, nstart };
  Placement placement = Placement::nstart;
  GridGeometry geometry;    // nx,ny,nz in x,y,z order, voxel size, origin
};

Grid read_map(const std::string& path, MapHeader* header = nullptr);
MapHeader read_map_header(const std::string& path);
void write_map(const std::string& path, const Grid& grid);
void write_map(const std::string& path, const LabelGrid& grid);  // stored as float32 values

// Human-readable multi-line description (used by `sseunet info`).
std::string describe(const MapHeader& header);

}  // namespace sse::io
