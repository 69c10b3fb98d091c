"""Run SZ3 and ZFP on the benchmark fields and write their results as JSON.

The Go program bench/codecs writes a job file and merges this script's output
into its tables, so both sides use the same fields, chunk shapes and absolute
bounds. SZ3 runs as the HDF5 filter of hdf5plugin (absolute error mode) on an
in-memory HDF5 file chunked like the store; ZFP runs through zfpy in
fixed-accuracy mode with tolerance = the absolute bound, chunk by chunk.

Error statistics follow qos.Compare: NaN, infinities and fill values are left
out, PSNR is 20 log10(value range / RMSE) over the remaining values, and a
violation is a value with |x - x'| > bound.

Usage: python anchors.py JOB.json OUT.json
"""

import json
import statistics
import sys
import time

import numpy as np

try:
    import h5py
    import hdf5plugin
except ImportError as exc:  # reported in the output, the bench goes on
    h5py = None
    SZ3_ERROR = f"h5py or hdf5plugin not importable: {exc}"
else:
    SZ3_ERROR = None

try:
    import zfpy
except ImportError as exc:
    zfpy = None
    ZFP_ERROR = f"zfpy not importable: {exc}"
else:
    ZFP_ERROR = None


def error_stats(orig, dec, bound, fill):
    """Return max error, PSNR and violation count over finite, non-fill values."""
    mask = np.isfinite(orig)
    if fill is not None:
        mask &= orig != orig.dtype.type(fill)
    x = orig[mask].astype(np.float64)
    y = dec[mask].astype(np.float64)
    if x.size == 0:
        return 0.0, float("inf"), 0
    err = np.abs(x - y)
    err[np.isnan(err)] = np.inf
    max_err = float(err.max())
    rmse = float(np.sqrt(np.mean(err * err)))
    value_range = float(x.max() - x.min())
    psnr = float("inf") if rmse == 0 else 20 * np.log10(value_range / rmse)
    return max_err, float(psnr), int(np.count_nonzero(~(err <= bound)))


def chunk_slices(shape, chunk):
    """Yield the index tuples of the chunks of a regular grid, in C order."""
    counts = [(s + c - 1) // c for s, c in zip(shape, chunk)]
    for flat in range(int(np.prod(counts))):
        idx, rest = [], flat
        for cnt in reversed(counts):
            idx.append(rest % cnt)
            rest //= cnt
        idx.reverse()
        yield tuple(slice(i * c, min((i + 1) * c, s)) for i, c, s in zip(idx, chunk, shape))


def run_sz3(data, chunk, bound):
    """Compress data with the SZ3 HDF5 filter; return sizes, times and output."""
    filt = hdf5plugin.SZ3(absolute=bound)
    # No chunk cache, so the read decodes every chunk.
    with h5py.File("sz3.h5", "w", driver="core", backing_store=False, rdcc_nbytes=0) as f:
        t0 = time.perf_counter()
        ds = f.create_dataset("x", data=data, chunks=tuple(chunk), **filt)
        f.flush()
        t1 = time.perf_counter()
        size = ds.id.get_storage_size()
        t2 = time.perf_counter()
        dec = ds[()]
        t3 = time.perf_counter()
    return size, t1 - t0, t3 - t2, dec


def run_zfp(data, chunk, bound):
    """Compress data chunk by chunk with zfpy; return sizes, times and output."""
    dec = np.empty_like(data)
    size = 0
    comp_time = 0.0
    dec_time = 0.0
    for sl in chunk_slices(data.shape, chunk):
        block = np.ascontiguousarray(data[sl])
        t0 = time.perf_counter()
        stream = zfpy.compress_numpy(block, tolerance=bound)
        t1 = time.perf_counter()
        out = zfpy.decompress_numpy(stream)
        t2 = time.perf_counter()
        size += len(stream)
        comp_time += t1 - t0
        dec_time += t2 - t1
        dec[sl] = out
    return size, comp_time, dec_time, dec


def main():
    job_path, out_path = sys.argv[1], sys.argv[2]
    with open(job_path) as f:
        job = json.load(f)
    reps = max(1, int(job.get("reps", 3)))
    rows = []
    runners = []
    if SZ3_ERROR is None:
        runners.append(("SZ3", run_sz3))
    if ZFP_ERROR is None:
        runners.append(("ZFP", run_zfp))
    for field in job["fields"]:
        data = np.fromfile(field["path"], dtype=np.dtype(field["dtype"]).newbyteorder("<"))
        data = data.reshape(field["shape"])
        raw_bytes = data.nbytes
        for bound in field["bounds"]:
            for name, run in runners:
                comp_times, dec_times = [], []
                for _ in range(reps):
                    size, comp, dec_t, dec = run(data, field["chunk"], bound["abs"])
                    comp_times.append(comp)
                    dec_times.append(dec_t)
                max_err, psnr, violations = error_stats(data, dec, bound["abs"], field.get("fill"))
                rows.append({
                    "field": field["name"],
                    "codec": name,
                    "rel": bound["rel"],
                    "abs": bound["abs"],
                    "raw_bytes": raw_bytes,
                    "compressed_bytes": int(size),
                    "values": int(data.size),
                    "psnr": psnr if np.isfinite(psnr) else None,
                    "max_error": max_err,
                    "violations": violations,
                    "compress_s": statistics.median(comp_times),
                    "decompress_s": statistics.median(dec_times),
                })
    errors = [e for e in (SZ3_ERROR, ZFP_ERROR) if e]
    with open(out_path, "w") as f:
        json.dump({"rows": rows, "errors": errors}, f)


if __name__ == "__main__":
    main()
