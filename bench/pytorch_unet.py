#!/usr/bin/env python3
"""The peer for sseunet's U-Net benchmarks: the same architecture in PyTorch, timed the same way.

Same network as net/unet3d.h (tests/reference/make_unet_fixture.py builds it, with identical names),
same N(0, 0.1) conv init, same zero-padded input. Modes:
  infer  eval-mode forward under no_grad (+ softmax, as `sseunet predict` does)
  train  one FCE_DL(γ=5) training step with Adam (forward, backward, optimizer step)
Prints one JSON line: {"impl": "pytorch", "mode", "device", "width", "shape", "median_ms", "times_ms",
"median_cpu_ms", "cpu_times_ms", ...} (wall clock and process CPU time of all threads, in ms).

  python3 bench/pytorch_unet.py --mode infer --size 88 92 92 --width 64 --threads 2
  python3 bench/pytorch_unet.py --mode train --size 64 64 64 --device cuda --bf16
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "reference"))
from make_unet_fixture import UNet3d, fce_dl  # noqa: E402


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["infer", "train"], default="infer")
    ap.add_argument("--size", type=int, nargs=3, default=[88, 92, 92])
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--tf32", action="store_true", help="allow TF32 tensor cores in cuDNN convolutions")
    ap.add_argument("--bf16", action="store_true",
                    help="mixed precision: the forward under torch.autocast(bfloat16), fp32 weights and loss")
    a = ap.parse_args()
    torch.backends.cudnn.allow_tf32 = a.tf32
    torch.backends.cuda.matmul.allow_tf32 = a.tf32
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    net = UNet3d(width=a.width).to(a.device)
    x = torch.randn(1, 1, *a.size, device=a.device)
    labels = torch.randint(0, 3, (1, *a.size), device=a.device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=0.01)

    def forward():
        if not a.bf16:
            return net(x)
        with torch.autocast(device_type=a.device.split(":")[0], dtype=torch.bfloat16):
            return net(x).float()

    def run():
        if a.mode == "infer":
            net.eval()
            with torch.no_grad():
                torch.softmax(forward(), dim=1)
        else:
            net.train()
            opt.zero_grad()
            fce_dl(forward(), labels, gamma=5.0).backward()
            opt.step()

    for _ in range(a.warmup):
        run()
    sync(a.device)
    times, cpu_times = [], []
    for _ in range(a.repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        run()
        sync(a.device)
        times.append(1e3 * (time.perf_counter() - t0))
        cpu_times.append(1e3 * (time.process_time() - c0))
    print(json.dumps({"impl": "pytorch", "version": torch.__version__, "mode": a.mode, "device": a.device,
                      "width": a.width, "shape": a.size, "threads": torch.get_num_threads(), "tf32": a.tf32,
                      "bf16": a.bf16,
                      "median_ms": statistics.median(times), "times_ms": times,
                      "median_cpu_ms": statistics.median(cpu_times), "cpu_times_ms": cpu_times}))


if __name__ == "__main__":
    main()
