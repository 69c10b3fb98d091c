"""Compress particle positions with SZ3 (through hdf5plugin) at absolute
bounds and print the compression ratios as JSON.

Usage: sz3.py FILE BOUND [BOUND ...]

FILE contains N×3 little-endian float32 positions. For each bound, the script
writes the positions to an in-memory HDF5 file with the SZ3 filter in
absolute mode, checks every coordinate against the bound, and reports the
raw size over the stored size of the data set, for the three coordinate
columns compressed one by one ("columns") and for the N×3 array as one
2-D data set ("nx3").
"""

import io
import json
import sys

import h5py
import hdf5plugin
import numpy as np


def stored_ratio(values, bound):
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        d = f.create_dataset("v", data=values, chunks=values.shape, **hdf5plugin.SZ3(absolute=bound))
        stored = d.id.get_storage_size()
        back = d[...]
    err = np.max(np.abs(back.astype(np.float64) - values.astype(np.float64)))
    if err > bound:
        raise SystemExit(f"SZ3 exceeded the bound {bound}: max error {err}")
    return values.nbytes, stored


def main():
    path, bounds = sys.argv[1], [float(b) for b in sys.argv[2:]]
    pos = np.fromfile(path, dtype="<f4").reshape(-1, 3)
    out = {}
    for b in bounds:
        raw, stored = 0, 0
        for c in range(3):
            r, s = stored_ratio(np.ascontiguousarray(pos[:, c]), b)
            raw, stored = raw + r, stored + s
        r2, s2 = stored_ratio(pos, b)
        out[repr(b)] = {"columns": raw / stored, "nx3": r2 / s2}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
