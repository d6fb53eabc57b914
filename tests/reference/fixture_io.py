"""Writes sseunet test fixtures: a tiny binary container of named tensors.

Format (little-endian): b"SSEFIX1\\n", u32 count, then per tensor: u32 name length, name (utf-8),
u32 dtype (0 float32, 1 int32), u32 rank, i64 dims[rank], raw data. Read by tests/support/fixture.h.
"""
import struct

import numpy as np


def write_fixture(path, tensors):
    with open(path, "wb") as f:
        f.write(b"SSEFIX1\n")
        f.write(struct.pack("<I", len(tensors)))
        for name, arr in tensors.items():
            arr = np.ascontiguousarray(arr)
            if arr.dtype == np.float32:
                code = 0
            elif arr.dtype == np.int32:
                code = 1
            else:
                raise ValueError(f"{name}: unsupported dtype {arr.dtype}")
            raw = name.encode()
            f.write(struct.pack("<I", len(raw)))
            f.write(raw)
            f.write(struct.pack("<II", code, arr.ndim))
            f.write(struct.pack(f"<{arr.ndim}q", *arr.shape))
            f.write(arr.astype(arr.dtype.newbyteorder("<")).tobytes())
