#!/usr/bin/python3
"""bench/winograd_points.py — Winograd F(m, 3) transform matrices for chosen interpolation points, and
the fp32 error of the 3-D convolution F(m, 3)³ with them, measured against float64 (the analysis behind
the points kernels/cpu/conv3d_winograd.cpp uses; results in bench/RESULTS.md).

    /usr/bin/python3 bench/winograd_points.py            # error table for the candidate point sets
    /usr/bin/python3 bench/winograd_points.py --emit     # the C++ tables of the chosen sets

Construction (Toom-Cook, as in Lavin & Gray 2016): with α = m + 2 points p_0 .. p_{α-2} and ∞,
V is the α×α evaluation matrix of a degree-(α−1) polynomial (row i: p_i^0 .. p_i^{α−1}; the ∞ row
picks the leading coefficient). The correlation y_i = Σ_k g_k d_{i+k} is then
y = Aᵀ [(G g) ⊙ (Bᵀ d)] with G the evaluation of g (α×3), Aᵀ the transposed evaluation of a
degree-(m−1) polynomial (m×α) and Bᵀ = (V⁻¹)ᵀ. Row i of Bᵀ may be scaled by any s_i if row i of G is
scaled by 1/s_i: the rows of Bᵀ are made integer (s_i = lcm of the row's denominators) so that the
input transform, applied on every tile, has small exact coefficients, and G, applied once to the
weights in double precision, takes the fractions.

Error model of the measurement: a tile of each of c_in channels (α³ inputs) and 3³ weights per channel;
the input transform, the element-wise products summed over channels, and the output transform in
float32 as the kernel does them (one 1-D transform per axis, each output a float32 sum), the weight
transform in float64 rounded once — against the same sums in float64. The error is reported as the
largest absolute error over the outputs divided by the largest |output| (what the tests compare), for
inputs like the network's: ReLU activations (half zeros, the rest |N(0,1)|) and N(0, 0.1) weights
(the U-Net's initialisation), and for the direct convolution's float32 sum over c_in·27 terms.
"""
import argparse
import itertools
import math
from fractions import Fraction as F

import numpy as np


def matrices(points, m, r=3):
    a = m + r - 1
    assert len(points) == a - 1
    pts = [F(p) for p in points]
    V = [[p ** j for j in range(a)] for p in pts] + [[F(0)] * (a - 1) + [F(1)]]
    Vinv = invert(V)
    BT = [[Vinv[j][i] for j in range(a)] for i in range(a)]  # (V⁻¹)ᵀ
    G = [[p ** k for k in range(r)] for p in pts] + [[F(0)] * (r - 1) + [F(1)]]
    AT = [[p ** i for p in pts] + [F(1) if i == m - 1 else F(0)] for i in range(m)]
    for i in range(a):  # integer rows of Bᵀ, the scale into G
        den = 1
        for v in BT[i]:
            den = den * v.denominator // math.gcd(den, v.denominator)
        num = 0
        for v in BT[i]:
            num = math.gcd(num, (v * den).numerator)
        s = F(den, num)
        BT[i] = [v * s for v in BT[i]]
        G[i] = [v / s for v in G[i]]
    check(AT, G, BT, m, r)
    return AT, G, BT


def invert(M):
    n = len(M)
    A = [row[:] + [F(int(i == j)) for j in range(n)] for i, row in enumerate(M)]
    for c in range(n):
        p = next(i for i in range(c, n) if A[i][c] != 0)
        A[c], A[p] = A[p], A[c]
        pv = A[c][c]
        A[c] = [v / pv for v in A[c]]
        for i in range(n):
            if i != c and A[i][c] != 0:
                f = A[i][c]
                A[i] = [vi - f * vc for vi, vc in zip(A[i], A[c])]
    return [row[n:] for row in A]


def check(AT, G, BT, m, r):
    a = m + r - 1
    rng = np.random.default_rng(0)
    d = [F(int(v)) for v in rng.integers(-9, 9, a)]
    g = [F(int(v)) for v in rng.integers(-9, 9, r)]
    u = [sum(G[i][k] * g[k] for k in range(r)) for i in range(a)]
    v = [sum(BT[i][j] * d[j] for j in range(a)) for i in range(a)]
    y = [sum(AT[i][j] * u[j] * v[j] for j in range(a)) for i in range(m)]
    want = [sum(g[k] * d[i + k] for k in range(r)) for i in range(m)]
    assert y == want, (y, want)


def transform3(M, t, dtype):
    """M applied along the last three axes of t (…, a, a, a), in dtype, one axis at a time."""
    M = np.asarray(M, dtype=dtype)
    t = t.astype(dtype)
    for axis in (-1, -2, -3):
        t = np.moveaxis(np.tensordot(np.moveaxis(t, axis, -1), M.T, axes=([-1], [0])).astype(dtype), -1, axis)
    return t


def error(points, m, c_in=64, tiles=4000, seed=1):
    AT, G, BT = matrices(points, m)
    a = m + 2
    rng = np.random.default_rng(seed)
    d = np.maximum(rng.standard_normal((tiles, c_in, a, a, a)), 0).astype(np.float32)
    g = (0.1 * rng.standard_normal((c_in, 3, 3, 3))).astype(np.float32)
    to = lambda M: np.array([[float(v) for v in row] for row in M])
    # float64 reference: the correlation itself
    ref = np.zeros((tiles, m, m, m))
    for dz, dy, dx in itertools.product(range(3), repeat=3):
        ref += np.einsum("tczyx,c->tzyx", d[:, :, dz:dz + m, dy:dy + m, dx:dx + m].astype(np.float64), g[:, dz, dy, dx])
    U = transform3(to(G), g.astype(np.float64), np.float64).astype(np.float32)
    Vt = transform3(to(BT), d, np.float32)
    Mx = np.zeros((tiles, a, a, a), np.float32)
    for c in range(c_in):  # the channel sum in float32, in order
        Mx += U[c] * Vt[:, c]
    Y = transform3(to(AT), Mx, np.float32)
    scale = np.abs(ref).max()
    direct = np.zeros((tiles, m, m, m), np.float32)
    for c in range(c_in):
        for dz, dy, dx in itertools.product(range(3), repeat=3):
            direct += d[:, c, dz:dz + m, dy:dy + m, dx:dx + m] * g[c, dz, dy, dx]
    return np.abs(Y - ref).max() / scale, np.abs(direct - ref).max() / scale


CANDIDATES = {
    2: [(0, 1, -1)],
    4: [(0, 1, -1, 2, -2), (0, 1, -1, F(1, 2), F(-1, 2)), (0, 1, -1, 2, F(1, 2)), (0, 1, -1, F(1, 2), -2),
        (0, 1, -1, 2, F(-1, 2)), (0, F(1, 2), F(-1, 2), 2, -2)],
}
CHOSEN = {2: (0, 1, -1), 4: (0, 1, -1, F(1, 2), -2)}


def fmt(v):
    return f"{float(v):.17g}f" if v.denominator != 1 else f"{v.numerator}.0f"


def emit():
    for m, pts in CHOSEN.items():
        AT, G, BT = matrices(pts, m)
        print(f"// F({m},3), points {{{', '.join(str(p) for p in pts)}, ∞}} (bench/winograd_points.py --emit)")
        for name, M in (("kBT", BT), ("kG", G), ("kAT", AT)):
            rows = ", ".join("{" + ", ".join(fmt(v) for v in row) + "}" for row in M)
            print(f"  static constexpr float {name}[{len(M)}][{len(M[0])}] = {{{rows}}};")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emit", action="store_true")
    ap.add_argument("--c-in", type=int, default=64)
    ap.add_argument("--tiles", type=int, default=4000)
    args = ap.parse_args()
    if args.emit:
        return emit()
    print(f"| F(m,3)³ | points (+ ∞) | max error / max |y|, Winograd | same, direct fp32 | ratio |  (c_in = {args.c_in})")
    print("|---|---|---|---|---|")
    for m, sets in CANDIDATES.items():
        for pts in sets:
            w, d = error(pts, m, args.c_in, args.tiles)
            print(f"| F({m},3) | {{{', '.join(str(p) for p in pts)}}} | {w:.2e} | {d:.2e} | {w / d:.1f} |")


if __name__ == "__main__":
    main()
