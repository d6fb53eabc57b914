#!/usr/bin/python3
"""What a prediction calls the nucleic acid and the protein of a whole map box.

   scripts/box_class_fractions.py MODEL.cif PRED_DIR [NA_CHAINS]      (default NA_CHAINS: IJ)

PRED_DIR holds `sseunet predict`'s helix.mrc and sheet.mrc for the box. Counts the voxels within
3 Å of an atom of the nucleic-acid chains and farther than 3 Å from every other atom (the DNA's own
density), and the same for the protein, and prints the fraction of each called helix and sheet.
The figures in models/README.md ("Nucleic acid") for the EMD-35448 box came from

   scripts/box_class_fractions.py ../shared/data/real/35448_8ihl/8ihl.cif build/default-eval/pred/emd_35448_box

after scripts/evaluate_default.sh. An analysis aid, not part of sseunet: it needs Debian's
python3-gemmi, python3-mrcfile and python3-scipy.
"""
import sys

import gemmi
import mrcfile
import numpy as np
from scipy.spatial import cKDTree


def atoms(model_path, na_chains):
    st = gemmi.read_structure(model_path)
    na, other = [], []
    for chain in st[0]:
        for residue in chain:
            for atom in residue:
                (na if chain.name in na_chains else other).append(atom.pos.tolist())
    return np.array(na), np.array(other)


def voxel_centres(mrc):
    o = np.array([mrc.header.origin.x, mrc.header.origin.y, mrc.header.origin.z], dtype=float)
    v = float(mrc.voxel_size.x)
    nz, ny, nx = mrc.data.shape
    z, y, x = np.meshgrid(np.arange(nz), np.arange(ny), np.arange(nx), indexing="ij")
    return np.stack([x.ravel() * v + o[0], y.ravel() * v + o[1], z.ravel() * v + o[2]], 1)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    na, other = atoms(sys.argv[1], sys.argv[3] if len(sys.argv) > 3 else "IJ")
    helix = mrcfile.open(sys.argv[2] + "/helix.mrc")
    sheet = mrcfile.open(sys.argv[2] + "/sheet.mrc")
    points = voxel_centres(sheet)
    d_na, _ = cKDTree(na).query(points)
    d_other, _ = cKDTree(other).query(points)
    for name, own in (("nucleic acid", (d_na <= 3) & (d_other > 3)), ("protein", (d_other <= 3) & (d_na > 3))):
        h = (helix.data.ravel()[own] > 0).mean()
        s = (sheet.data.ravel()[own] > 0).mean()
        print(f"{name}: {own.sum()} voxels, {100 * h:.1f} % helix, {100 * s:.1f} % sheet")


if __name__ == "__main__":
    main()
