#!/usr/bin/python3
"""Writes the PyTorch fixtures of the five losses to tests/data/losses/ (run by hand; outputs committed).

    /usr/bin/python3 tests/reference/make_loss_fixtures.py        # Debian's python3-torch (1.13 here)

Each loss is written here from the formulas of losses/README.md, in float64, with torch autograd
giving d loss / d logits. The inputs are drawn in float64, rounded to float32 and stored as float32;
the expected values are computed from exactly those float32 values (promoted to float64) and stored
as float64, so the only error a test sees is the engine's own.

File format (little-endian), one case per file `<case>.bin`:
    char[8]   magic "SSELOSS1"
    char[8]   loss name, NUL-padded ("ce", "fce", "dl", "ce_dl", "fce_dl")
    float32   gamma, eps, lambda_a, lambda_b
    int32     per_class (0/1), ignore_index
    int32     rank R of the logits, then R int32 dims (N, C, D, H, W)
    float32   logits[N·C·D·H·W]
    int32     labels[N·D·H·W]
    float64   loss, first term (CE/FCE mean), Dice loss DL
    float64   d loss / d logits [N·C·D·H·W]
"""
import os
import struct

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "losses")
IGNORE = 255


def reference(x32, labels, name, gamma, per_class, eps, lambda_a, lambda_b, ignore):
    """(loss, first, dice_loss, grad) in float64 for float32 logits x32 (N, C, ...) and int labels."""
    x = torch.from_numpy(x32.astype(np.float64)).requires_grad_(True)
    lab = torch.from_numpy(labels.astype(np.int64))
    n, c = x.shape[0], x.shape[1]
    counted = (lab >= 0) & (lab < c)                      # ignored voxels: label == ignore
    assert bool(((lab == ignore) | counted).all()), "fixtures hold only valid or ignored labels"
    safe = torch.where(counted, lab, torch.zeros_like(lab))
    logp = torch.log_softmax(x, dim=1)                    # stable for large logits
    log_pt = logp.gather(1, safe.unsqueeze(1)).squeeze(1)
    one_minus_pt = -torch.expm1(log_pt)                   # 1 − p_t, accurate near p_t = 1
    term = -log_pt if gamma == 0 else -(one_minus_pt ** gamma) * log_pt
    m = counted.sum()
    first = (term * counted).sum() / m if int(m) > 0 else (term * 0).sum()  # mean over counted; 0 if none

    p = torch.softmax(x, dim=1)
    mask = counted.unsqueeze(1).to(x.dtype)
    y = torch.nn.functional.one_hot(safe, c).movedim(-1, 1).to(x.dtype) * mask
    pm = p * mask
    dims = tuple(range(2, x.dim()))
    inter = (pm * y)[:, 1:].sum(dim=dims)                 # (N, C−1): background excluded
    psum = pm[:, 1:].sum(dim=dims)
    ysum = y[:, 1:].sum(dim=dims)
    if per_class:
        dice = ((2 * inter + eps) / (psum + ysum + eps)).mean(dim=1)
    else:
        dice = (2 * inter.sum(dim=1) + eps) / (psum.sum(dim=1) + ysum.sum(dim=1) + eps)
    dice_loss = 1 - dice.mean()

    wa = {"ce": 1, "fce": 1, "dl": 0}.get(name, lambda_a)
    wb = {"ce": 0, "fce": 0, "dl": 1}.get(name, lambda_b)
    loss = wa * first + wb * dice_loss
    loss.backward()
    return float(loss), float(first), float(dice_loss), x.grad.numpy()


def write_case(case, name, logits, labels, gamma=0.0, per_class=False, eps=1e-5, lambda_a=1.0, lambda_b=1.0,
               ignore=IGNORE):
    logits = logits.astype(np.float32)
    labels = labels.astype(np.int32)
    loss, first, dl, grad = reference(logits, labels, name, gamma, per_class, eps, lambda_a, lambda_b, ignore)
    assert np.isfinite(loss) and np.isfinite(grad).all(), case
    with open(os.path.join(OUT, case + ".bin"), "wb") as f:
        f.write(b"SSELOSS1")
        f.write(name.encode().ljust(8, b"\0"))
        f.write(struct.pack("<4f", gamma, eps, lambda_a, lambda_b))
        f.write(struct.pack("<2i", int(per_class), ignore))
        f.write(struct.pack("<i", logits.ndim) + struct.pack("<%di" % logits.ndim, *logits.shape))
        f.write(logits.astype("<f4").tobytes())
        f.write(labels.astype("<i4").tobytes())
        f.write(struct.pack("<3d", loss, first, dl))
        f.write(grad.astype("<f8").tobytes())
    print("%-36s loss %.9g  first %.9g  DL %.9g" % (case, loss, first, dl))


def draw(rng, shape, probs=(0.75, 0.17, 0.08), scale=2.0, ignore_frac=0.1, no_sheet=False):
    """Logits that partly agree with labels (so p_t spans (0, 1)), labels with class imbalance and
    about ignore_frac of the voxels set to IGNORE."""
    n, c = shape[0], shape[1]
    spatial = shape[2:]
    probs = np.array(probs[:c], dtype=np.float64)
    if no_sheet:
        probs[2:] = 0
    labels = rng.choice(c, size=(n,) + spatial, p=probs / probs.sum())
    logits = rng.normal(0.0, scale, size=shape)
    confident = rng.random((n,) + spatial) < 0.6            # the net "knows" 60 % of the voxels
    onehot = np.moveaxis(np.eye(c)[labels], -1, 1)
    logits += 3.0 * onehot * confident[:, None]
    labels = np.where(rng.random(labels.shape) < ignore_frac, IGNORE, labels)
    return logits, labels


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".bin"):
            os.remove(os.path.join(OUT, f))
    rng = np.random.default_rng(20220406)
    shape = (2, 3, 5, 4, 6)        # N, C, D, H, W: odd sizes, batch 2

    x, l = draw(rng, shape)
    write_case("ce", "ce", x, l)
    for g in (0, 1, 2, 5, 8):
        x, l = draw(rng, shape)
        write_case("fce_g%d" % g, "fce", x, l, gamma=float(g))
    for pc in (False, True):
        tag = "perclass" if pc else "pooled"
        x, l = draw(rng, shape)
        write_case("dl_" + tag, "dl", x, l, per_class=pc)
        x, l = draw(rng, shape)
        write_case("ce_dl_" + tag, "ce_dl", x, l, per_class=pc)
        for g in (0, 1, 2, 5, 8):
            x, l = draw(rng, shape)
            write_case("fce_dl_g%d_%s" % (g, tag), "fce_dl", x, l, gamma=float(g), per_class=pc)

    # No sheet voxels at all (a helix-only chain): finite loss and gradient, both Dice forms.
    for pc in (False, True):
        tag = "perclass" if pc else "pooled"
        x, l = draw(rng, shape, no_sheet=True)
        write_case("nosheet_fce_dl_g2_" + tag, "fce_dl", x, l, gamma=2.0, per_class=pc)
        x, l = draw(rng, shape, no_sheet=True)
        write_case("nosheet_dl_" + tag, "dl", x, l, per_class=pc)

    # Logits of magnitude 50: p_t saturates at 0 or 1 in float32.
    def big():
        x, l = draw(rng, shape)
        return rng.uniform(-50.0, 50.0, size=shape), l
    x, l = big()
    write_case("big50_ce", "ce", x, l)
    x, l = big()
    write_case("big50_fce_g2", "fce", x, l, gamma=2.0)
    x, l = big()
    write_case("big50_fce_dl_g5_pooled", "fce_dl", x, l, gamma=5.0)
    x, l = big()
    write_case("big50_fce_dl_g8_perclass", "fce_dl", x, l, gamma=8.0, per_class=True)
    x, l = big()
    write_case("big50_dl_pooled", "dl", x, l)

    # Weights, ε, no ignore value, every voxel ignored, a single image of another size.
    x, l = draw(rng, shape)
    write_case("fce_dl_g2_lambda", "fce_dl", x, l, gamma=2.0, lambda_a=0.5, lambda_b=2.0)
    x, l = draw(rng, shape)
    write_case("ce_dl_perclass_eps1e-3", "ce_dl", x, l, per_class=True, eps=1e-3)
    x, l = draw(rng, shape, ignore_frac=0.0)
    write_case("fce_dl_g2_noignore", "fce_dl", x, l, gamma=2.0, ignore=-1)
    x, l = draw(rng, shape, ignore_frac=1.0)
    write_case("fce_dl_g2_allignored", "fce_dl", x, l, gamma=2.0)
    x, l = draw(rng, (1, 3, 7, 3, 5))
    write_case("fce_dl_g5_single", "fce_dl", x, l, gamma=5.0)


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    main()
