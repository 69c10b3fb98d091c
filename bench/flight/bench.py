"""Measure Python reads from `epsilon serve` over loopback.

Builds the epsilon binary, writes a float32 array of --mib MiB (a smooth
field plus noise), imports it with --codec (block at absolute bound
--bound by default; lossless stores it exactly), serves it, and times
reads of the whole array: numpy.fromfile of the raw file (from the page
cache after the first pass), pyarrow's do_get(...).read_all() alone and
the conversion of its table to numpy, epsilon_client.read over one
connection, and epsilon_client.read over --parallel connections. Prints
GB/s (10^9 bytes per second) of each; the best of --repeat runs counts.
It also prints the CPU seconds per GB that the server process and this
Python process spent in the one-stream read, which vary less than wall
times on a loaded machine.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow.flight as flight

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "clients" / "python"))
import epsilon_client  # noqa: E402


def best_time(fn, repeat):
    best = float("inf")
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def process_cpu(pid):
    """Return the user plus system CPU seconds of process pid (Linux /proc)."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def check(got, ref, bound, what):
    if bound == 0:
        assert np.array_equal(got, ref), f"{what}: lossless read differs from the file"
        return
    err = float(np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64))))
    assert err <= bound, f"{what}: max |x - x'| = {err:g} > bound {bound:g}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mib", type=int, default=1024, help="array size in MiB (default 1024)")
    ap.add_argument("--codec", default="block", help="codec of the stored array (default block, the fastest to decode)")
    ap.add_argument("--bound", type=float, default=1e-4,
                    help="absolute error bound (default 1e-4); ignored by --codec lossless, which stores values exactly")
    ap.add_argument("--parallel", type=int, default=4, help="connections for the parallel read (default 4)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each read; the best counts (default 3)")
    args = ap.parse_args()

    rows = args.mib  # rows of 512 x 512 float32 values = 1 MiB each
    with tempfile.TemporaryDirectory(prefix="epsilon-flight-bench-") as tmp:
        tmp = pathlib.Path(tmp)
        binary = tmp / "epsilon"
        subprocess.run(["go", "build", "-o", str(binary), "./tools/epsilon"], cwd=REPO, check=True)

        raw = tmp / "field.raw"
        y, x = np.mgrid[0:512, 0:512].astype(np.float32) / 64
        rng = np.random.default_rng(1)
        with open(raw, "wb") as f:
            for t in range(rows):
                plane = np.sin(x + 0.01 * t) * np.cos(y) + rng.normal(0, 1e-3, (512, 512)).astype(np.float32)
                plane.astype("<f4").tofile(f)
        nbytes = raw.stat().st_size

        db = tmp / "db"
        t0 = time.perf_counter()
        bound = 0.0 if args.codec == "lossless" else args.bound
        mode = ["--mode", "none"] if bound == 0 else ["--mode", "abs", "--bound", str(bound)]
        subprocess.run([str(binary), "import", "--db", str(db), "--name", "field", "--codec", args.codec, *mode,
                        "--dtype", "f32", "--shape", f"{rows},512,512", str(raw)], check=True)
        print(f"import: {nbytes / (time.perf_counter() - t0) / 1e9:.2f} GB/s")

        proc = subprocess.Popen([str(binary), "serve", "--db", str(db), "--addr", "127.0.0.1:0", "--read-only"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            location = "grpc://" + proc.stdout.readline().split("grpc+tcp://", 1)[1].strip()
            c = epsilon_client.connect(location)
            t_np, ref = best_time(lambda: np.fromfile(raw, dtype="<f4").reshape(rows, 512, 512), args.repeat)

            # The two halves of a read: pyarrow receiving the batches, and
            # the copy of the table into one numpy array.
            fc = flight.FlightClient(location)
            ticket = flight.Ticket(json.dumps({"array": "field"}).encode())
            t_arrow, table = best_time(lambda: fc.do_get(ticket).read_all(), args.repeat)
            t_conv, got = best_time(lambda: epsilon_client.table_to_numpy(table), args.repeat)
            check(got, ref, bound, "read_all")
            del table, got
            fc.close()

            cpu_server, cpu_client = process_cpu(proc.pid), time.process_time()
            t_one, got = best_time(lambda: c.read("field"), args.repeat)
            cpu_server = (process_cpu(proc.pid) - cpu_server) / (args.repeat * nbytes / 1e9)
            cpu_client = (time.process_time() - cpu_client) / (args.repeat * nbytes / 1e9)
            check(got, ref, bound, "one stream")
            del got
            t_par, got = best_time(lambda: c.read("field", parallel=args.parallel), args.repeat)
            check(got, ref, bound, "parallel")
            endpoints = len(c.info("field").endpoints)
            c.close()
        finally:
            proc.terminate()
            proc.wait()

    print(f"array: {nbytes / 2**20:.0f} MiB float32, codec {args.codec}, bound {bound:g}, {endpoints} endpoints")
    print(f"numpy.fromfile (page cache):     {nbytes / t_np / 1e9:6.2f} GB/s  {t_np:.2f} s")
    print(f"pyarrow read_all, 1 stream:      {nbytes / t_arrow / 1e9:6.2f} GB/s  {t_arrow:.2f} s")
    print(f"table to numpy:                  {nbytes / t_conv / 1e9:6.2f} GB/s  {t_conv:.2f} s")
    print(f"epsilon_client.read, 1 stream:   {nbytes / t_one / 1e9:6.2f} GB/s  {t_one:.2f} s  ({t_one / t_np:.1f}x numpy)")
    print(f"epsilon_client.read, {args.parallel} streams:  {nbytes / t_par / 1e9:6.2f} GB/s  {t_par:.2f} s  ({t_par / t_np:.1f}x numpy)")
    print(f"CPU per GB in the 1-stream read: server {cpu_server:.2f} s, Python client {cpu_client:.2f} s")

if __name__ == "__main__":
    main()
