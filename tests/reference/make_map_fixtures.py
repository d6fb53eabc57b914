#!/usr/bin/python3
"""Writes the small synthetic MRC fixtures of tests/io/map_test.cpp with python3-mrcfile
(an implementation independent of ours and of gemmi). Run by hand:

    /usr/bin/python3 tests/reference/make_map_fixtures.py

Every file holds the same 5 x 4 x 3 (x,y,z) grid, value v(x,y,z) = x + 5*y + 20*z (0..59, exact in
every mode), voxel size (1.5, 2.0, 2.5) Å. What varies is how the file stores it:
  mode{0,1,2,6,12}.mrc  x,y,z axis order, ORIGIN = (10.5, -20, 30.25), NSTART = 0
  permuted_nstart.mrc   MAPC/MAPR/MAPS = 3,1,2 (columns z, rows x, sections y), ORIGIN = 0,
                        NSTART (c,r,s) = (2, -3, 4) -> origin (x,y,z) = (-4.5, 8, 5)
  ext_header.mrc.gz     mode 12, 160-byte extended header, x,y,z order, gzipped, ORIGIN as above
  be_mode{2,12}.mrc     big-endian (machine stamp 0x11 0x11), otherwise like mode{2,12}.mrc
  mode12_special.mrc    8 x 1 x 1 half floats: -2.5, 2^-14 (smallest normal), 2^-24 (smallest
                        subnormal), 65504 (largest), 1/3 (rounded to half), -0.0, +inf, NaN
"""
import gzip
import os
import shutil

import mrcfile
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data', 'io', 'synthetic')
NX, NY, NZ = 5, 4, 3
VOXEL = (1.5, 2.0, 2.5)


def values_zyx():
    z, y, x = np.meshgrid(np.arange(NZ), np.arange(NY), np.arange(NX), indexing='ij')
    return (x + 5 * y + 20 * z).astype(np.float64)


def write(path, data, mapcrs=(1, 2, 3), nstart=(0, 0, 0), origin=(10.5, -20.0, 30.25),
          extended=None):
    with mrcfile.new(path, overwrite=True) as m:
        m.set_data(data)
        if extended is not None:
            m.set_extended_header(extended)
        h = m.header
        h.mapc, h.mapr, h.maps = mapcrs
        h.nxstart, h.nystart, h.nzstart = nstart
        h.mx, h.my, h.mz = NX, NY, NZ
        h.cella = (NX * VOXEL[0], NY * VOXEL[1], NZ * VOXEL[2])
        h.origin = origin


def main():
    os.makedirs(OUT, exist_ok=True)
    v = values_zyx()
    for mode, dtype in [(0, np.int8), (1, np.int16), (2, np.float32), (6, np.uint16),
                        (12, np.float16)]:
        write(os.path.join(OUT, 'mode%d.mrc' % mode), v.astype(dtype))
    for mode, dtype in [(2, '>f4'), (12, '>f2')]:
        write(os.path.join(OUT, 'be_mode%d.mrc' % mode), v.astype(dtype))
    # File order is [section][row][column] = [y][x][z].
    write(os.path.join(OUT, 'permuted_nstart.mrc'), np.transpose(v, (1, 2, 0)).astype(np.float32),
          mapcrs=(3, 1, 2), nstart=(2, -3, 4), origin=(0.0, 0.0, 0.0))
    plain = os.path.join(OUT, 'ext_header.mrc')
    write(plain, v.astype(np.float16), extended=np.arange(160, dtype=np.uint8).view('V1'))
    with open(plain, 'rb') as src, gzip.open(plain + '.gz', 'wb') as dst:
        shutil.copyfileobj(src, dst)
    os.remove(plain)
    special = np.array([-2.5, 2.0**-14, 2.0**-24, 65504.0, 1.0 / 3.0, -0.0, np.inf, np.nan],
                       dtype=np.float16).reshape(1, 1, 8)
    with mrcfile.new(os.path.join(OUT, 'mode12_special.mrc'), overwrite=True) as m:
        m.set_data(special)


if __name__ == '__main__':
    main()
