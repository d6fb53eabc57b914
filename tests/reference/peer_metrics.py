#!/usr/bin/python3
"""Independent computation (numpy/scipy/gemmi, none of our C++) of the DeepSSETracer 1.0 peer scores
on the three committed authors' chains, for tests/io/metrics_test.cpp. Run by hand and copy the
printed numbers into the test:

    /usr/bin/python3 tests/reference/peer_metrics.py

Truth at voxel level is the authors' label file itself. Residue classes: each labelled voxel's
nearest Cα within 3 Å names its residue's class. Residue level: a residue is predicted c when more
than half of the component voxels (density > 0) whose nearest Cα within 3 Å is its own are
predicted c. Table II: F1 weighted by helix/sheet Cα counts over chains with a defined F1; micro F1
pools the counts.
"""
import os

import gemmi
import mrcfile
import numpy as np
from scipy.spatial import cKDTree

REAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data', 'io', 'real')
CHAINS = [('3491_5mdx_L', 'L'), ('3491_5mdx_X', 'X'), ('6149_3j8g_X', 'X')]


def read_mrc(path):
    with mrcfile.open(path) as m:  # mrcfile reads .gz transparently
        o = m.header.origin
        return m.data.astype(np.float64), np.array([o.x, o.y, o.z], dtype=np.float64)


def counts(pred, truth):
    return [int(np.sum(pred & truth)), int(np.sum(pred & ~truth)), int(np.sum(~pred & truth))]


def f1(tp, fp, fn):
    return None if 2 * tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def chain_scores(folder, chain):
    d = os.path.join(REAL, folder)
    dens, origin = read_mrc(os.path.join(d, chain + '-1.0APIX.mrc.gz'))  # [z][y][x]
    helix = read_mrc(os.path.join(d, 'deepssetracer1.0_pred_helix.mrc.gz'))[0] > 0.5
    sheet = read_mrc(os.path.join(d, 'deepssetracer1.0_pred_sheet.mrc.gz'))[0] > 0.5
    rows = np.loadtxt(os.path.join(d, chain + '_label_stride.txt.gz'), delimiter=',')
    xyz = rows[:, :3].astype(int)
    truth = np.zeros(dens.shape, dtype=int)
    truth[xyz[:, 2], xyz[:, 1], xyz[:, 0]] = rows[:, 4].astype(int)

    st = gemmi.read_structure(os.path.join(d, chain + '_fitted.pdb.gz'))
    ca = np.array([[a.pos.x, a.pos.y, a.pos.z] for r in st[0][chain] for a in r if a.name == 'CA'])
    tree = cKDTree(ca)
    # Component voxels and their nearest Cα within 3 Å (voxel (x,y,z) at origin + (x,y,z) Å).
    zz, yy, xx = np.nonzero(dens > 0)
    dist, near = tree.query(origin + np.stack([xx, yy, zz], axis=1).astype(np.float64))
    owned = dist <= 3.0
    zz, yy, xx, near = zz[owned], yy[owned], xx[owned], near[owned]
    res_class = np.zeros(len(ca), dtype=int)
    lab = truth[zz, yy, xx]
    res_class[near[lab > 0]] = lab[lab > 0]

    out = {'helix_ca': int(np.sum(res_class == 1)), 'sheet_ca': int(np.sum(res_class == 2))}
    for name, cls, pred in (('helix', 1, helix), ('sheet', 2, sheet)):
        out['voxel_' + name] = counts(pred, truth == cls)
        owned_n = np.bincount(near, minlength=len(ca))
        pred_n = np.bincount(near, weights=pred[zz, yy, xx], minlength=len(ca))
        out['residue_' + name] = counts(2 * pred_n > owned_n, res_class == cls)
    return out


def main():
    scores = [chain_scores(f, c) for f, c in CHAINS]
    for (f, c), s in zip(CHAINS, scores):
        print(f, c, s)
    for level in ('voxel', 'residue'):
        for name in ('helix', 'sheet'):
            num = den = 0.0
            pooled = np.zeros(3, dtype=int)
            for s in scores:
                k = s['%s_%s' % (level, name)]
                pooled += k
                v = f1(*k)
                if v is not None:
                    num += v * s[name + '_ca']
                    den += s[name + '_ca']
            print('%s %s weighted F1 %s micro F1 %s' % (
                level, name, repr(num / den) if den else 'NA', repr(f1(*pooled))))


if __name__ == '__main__':
    main()
