#!/usr/bin/python3
"""PyTorch parity fixture for sseunet's UNet3d (tests/net/unet_parity_test.cpp).

Builds DeepSSETracer's 3D U-Net at width 4 with the same parameter names as net/unet3d.h, draws its
weights (conv N(0, 0.1)), and on an odd-sized input (1×1×20×18×22, zero-padded to multiples of 4 and
cropped back, as sseunet does) records:
  logits_train  — train mode (batch statistics), dropout off
  grad.<name>   — d FCE_DL(γ=2) / d parameter, from that train-mode forward
  logits_eval   — eval mode, with the running statistics the train forward updated
Run by hand with Debian's python3-torch:  /usr/bin/python3 tests/reference/make_unet_fixture.py
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from fixture_io import write_fixture  # noqa: E402


def block(cin, mid, cout):
    return nn.Sequential(nn.Conv3d(cin, mid, 3, padding=1), nn.BatchNorm3d(mid), nn.ReLU(),
                         nn.Conv3d(mid, cout, 3, padding=1), nn.BatchNorm3d(cout), nn.ReLU())


class Down(nn.Module):
    def __init__(self, cin, mid, cout):
        super().__init__()
        self.conv = block(cin, mid, cout)


class Up(nn.Module):
    def __init__(self, cin, skip):
        super().__init__()
        self.up = nn.ConvTranspose3d(cin, cin, 2, stride=2)
        self.conv = block(cin + skip, skip, skip)


class UNet3d(nn.Module):
    def __init__(self, width=4, levels=3, classes=3):
        super().__init__()
        self.levels = levels
        widths, cin = [], 1
        for i in range(levels):
            out = width << i
            setattr(self, f"down_{i + 1}", Down(cin, out // 2 if i == 0 else cin, out))
            widths.append(out)
            cin = out
        for j in range(levels - 1):
            skip = widths[levels - 2 - j]
            setattr(self, f"up_{j + 1}", Up(cin, skip))
            cin = skip
        self.out = nn.Conv3d(cin, classes, 1)
        for m in self.modules():
            if isinstance(m, (nn.Conv3d, nn.ConvTranspose3d)):
                nn.init.normal_(m.weight, 0.0, 0.1)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        m = 1 << (self.levels - 1)
        d, h, w = x.shape[2:]
        pad = [(-s) % m for s in (d, h, w)]
        x = F.pad(x, (0, pad[2], 0, pad[1], 0, pad[0]))
        skips = []
        for i in range(self.levels):
            x = getattr(self, f"down_{i + 1}").conv(x)
            if i + 1 < self.levels:
                skips.append(x)
                x = F.max_pool3d(x, 2)  # dropout off
        for j in range(self.levels - 1):
            up = getattr(self, f"up_{j + 1}")
            x = up.conv(torch.cat([up.up(x), skips[-1 - j]], dim=1))
        return self.out(x)[:, :, :d, :h, :w]


def fce_dl(logits, labels, gamma=2.0, eps=1e-5):
    """Focal CE (mean over voxels) + pooled-foreground Dice loss (mean over the batch)."""
    logp = F.log_softmax(logits, dim=1)
    logpt = logp.gather(1, labels.unsqueeze(1)).squeeze(1)
    fce = -((1 - logpt.exp()) ** gamma * logpt).mean()
    p = logp.exp()[:, 1:]
    y = F.one_hot(labels, logits.shape[1]).permute(0, 4, 1, 2, 3).to(p.dtype)[:, 1:]
    inter = (p * y).sum(dim=(1, 2, 3, 4))
    dice = (2 * inter + eps) / (p.sum(dim=(1, 2, 3, 4)) + y.sum(dim=(1, 2, 3, 4)) + eps)
    return fce + (1 - dice).mean()


def main():
    torch.manual_seed(20221206)
    net = UNet3d(width=4)
    x = torch.rand(1, 1, 20, 18, 22)
    labels = torch.randint(0, 3, (1, 20, 18, 22))
    out = {"input": x.numpy(), "labels": labels.to(torch.int32).numpy()}
    for name, t in net.state_dict().items():
        if not name.endswith("num_batches_tracked"):
            out["param." + name] = t.detach().numpy().copy()
    net.train()
    logits = net(x)
    fce_dl(logits, labels).backward()
    out["logits_train"] = logits.detach().numpy()
    for name, p in net.named_parameters():
        out["grad." + name] = p.grad.numpy()
    net.eval()
    with torch.no_grad():
        out["logits_eval"] = net(x).numpy()
    path = os.path.join(os.path.dirname(__file__), "..", "data", "net", "unet_parity_w4.bin")
    write_fixture(path, {k: np.asarray(v, dtype=np.int32 if v.dtype == np.int32 else np.float32)
                         for k, v in out.items()})
    print(f"wrote {path}: {len(out)} tensors, torch {torch.__version__}")


if __name__ == "__main__":
    main()
