"""Fixtures: build the epsilon binary, fill a store from the real data set,
and run ``epsilon serve`` on a free loopback port."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "clients" / "python"))

import epsilon_client  # noqa: E402

# Real fields the tests import, with the relative bound of each.
FIELDS = {
    "TS": ("fields/cesm_lens_TS_daily_f32_10x192x288.raw", "f32", "10,192,288"),
    "pressure": ("fields/sperr_pressure_f64_384x384.raw", "f64", "384,384"),
    "wmag": ("fields/vapor_les_wmag_f32_91x91x91.raw", "f32", "91,91,91"),
}
REL_BOUND = 1e-4

# Real particle sets the tests import: files (positions, velocities, ids),
# box edge, linking length, and position and velocity bounds. The position
# bound is a fifth of the linking length.
PARTICLES = {
    "hacc": dict(pos="particles/hacc_toy_m000_step50_pos_f32_32768x3.raw", vel="particles/hacc_toy_m000_step50_vel_f32_32768x3.raw",
                 ids="particles/hacc_toy_m000_step50_id_i64_32768.raw", box=256.0, link=1.6, bound=0.32, vel_bound=1.0),
    "hfof": dict(pos="particles/hfof_cosmo32768_pos_f32_32768x3.raw", box=1.0, link=0.00625, bound=0.00125),
}


def data_dir() -> pathlib.Path:
    """Return the real data folder: $EPSILON_DATA, else ../shared/data next to the repository."""
    env = os.environ.get("EPSILON_DATA")
    candidates = [pathlib.Path(env)] if env else [p / "shared" / "data" for p in REPO.parents]
    for c in candidates:
        if (c / "manifest.json").exists():
            return c
    if os.environ.get("CI") == "true":
        pytest.fail("real data is required under CI: set EPSILON_DATA or place it at ../shared/data")
    pytest.skip("real data not found: set EPSILON_DATA or place it at ../shared/data")


def original(name: str) -> np.ndarray:
    path, dtype, shape = FIELDS[name]
    np_dtype = {"f32": "<f4", "f64": "<f8"}[dtype]
    return np.fromfile(data_dir() / path, dtype=np_dtype).reshape([int(s) for s in shape.split(",")])


@pytest.fixture(scope="session")
def binary(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("bin") / "epsilon"
    subprocess.run(["go", "build", "-o", str(out), "./tools/epsilon"], cwd=REPO, check=True)
    return out


@pytest.fixture(scope="session")
def store(binary, tmp_path_factory) -> pathlib.Path:
    db = tmp_path_factory.mktemp("store") / "db"
    data = data_dir()
    for name, (path, dtype, shape) in FIELDS.items():
        subprocess.run([str(binary), "import", "--db", str(db), "--name", name, "--mode", "rel", "--bound", str(REL_BOUND),
                        "--dtype", dtype, "--shape", shape, str(data / path)], check=True, capture_output=True)
    for name, spec in PARTICLES.items():
        args = ["--pos", str(data / spec["pos"]), "--box", str(spec["box"]), "--periodic", "--link", str(spec["link"]),
                "--bound", str(spec["bound"])]
        if "vel" in spec:
            args += ["--vel", str(data / spec["vel"]), "--vel-bound", str(spec["vel_bound"])]
        if "ids" in spec:
            args += ["--ids", str(data / spec["ids"]), "--ids-dtype", "i64", "--order", "original"]
        subprocess.run([str(binary), "particles", "import", "--db", str(db), "--name", name, *args], check=True, capture_output=True)
    return db


def original_particles(name: str) -> dict:
    """Return the original columns of a particle set: x, y, z, and vx, vy, vz, id when present."""
    spec = PARTICLES[name]
    pos = np.fromfile(data_dir() / spec["pos"], dtype="<f4").reshape(-1, 3)
    cols = {"x": pos[:, 0], "y": pos[:, 1], "z": pos[:, 2]}
    if "vel" in spec:
        vel = np.fromfile(data_dir() / spec["vel"], dtype="<f4").reshape(-1, 3)
        cols.update(vx=vel[:, 0], vy=vel[:, 1], vz=vel[:, 2])
    if "ids" in spec:
        cols["id"] = np.fromfile(data_dir() / spec["ids"], dtype="<i8")
    return cols


def fof_labels(x, y, z, box: float, link: float) -> np.ndarray:
    """Friends-of-friends in a periodic box, written independently of the server.

    Two particles are friends when their squared distance, in float64 with
    the minimum image, is at most link**2. Each particle's label is the
    smallest index in its group. Candidates come from a sweep along x.
    """
    pos = np.stack([x, y, z], axis=1).astype(np.float64)
    n = len(pos)
    # Copies shifted by one box edge let the sweep see pairs across x = 0.
    near = np.nonzero(pos[:, 0] < link)[0]
    idx = np.concatenate([np.arange(n), near])
    sx = np.concatenate([pos[:, 0], pos[near, 0] + box])
    order = np.argsort(sx, kind="stable")
    idx, sx = idx[order], sx[order]
    end = np.searchsorted(sx, sx + link, side="right")
    pairs_i, pairs_j = [], []
    start = np.arange(len(sx))
    k = 1
    while True:
        active = start[start + k < end[start]]
        if active.size == 0:
            break
        i, j = idx[active], idx[active + k]
        d = pos[i] - pos[j]
        d = np.where(d > box / 2, d - box, np.where(d < -box / 2, d + box, d))
        linked = (d * d).sum(axis=1) <= link * link
        pairs_i.append(i[linked])
        pairs_j.append(j[linked])
        start = active
        k += 1
    a = np.concatenate(pairs_i) if pairs_i else np.zeros(0, np.int64)
    b = np.concatenate(pairs_j) if pairs_j else np.zeros(0, np.int64)
    labels = np.arange(n)
    while True:
        before = labels.copy()
        m = np.minimum(labels[a], labels[b])
        np.minimum.at(labels, a, m)
        np.minimum.at(labels, b, m)
        labels = labels[labels]  # pointer jumping
        if np.array_equal(labels, before):
            return labels


@pytest.fixture(scope="session")
def small_store(binary, tmp_path_factory) -> pathlib.Path:
    """A second store with TS only, for servers with other options (a store has one server at a time)."""
    db = tmp_path_factory.mktemp("small") / "db"
    path, dtype, shape = FIELDS["TS"]
    subprocess.run([str(binary), "import", "--db", str(db), "--name", "TS", "--mode", "rel", "--bound", str(REL_BOUND),
                    "--dtype", dtype, "--shape", shape, str(data_dir() / path)], check=True, capture_output=True)
    return db


class Server:
    """A running ``epsilon serve``; ``location`` is its grpc:// address."""

    def __init__(self, binary, db, *args):
        # The server's log goes to a file, so that a full pipe never blocks it.
        self.log = open(pathlib.Path(db).parent / "serve.log", "a")
        self.proc = subprocess.Popen([str(binary), "serve", "--db", str(db), "--addr", "127.0.0.1:0", *args],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if "grpc+tcp://" not in line:
            self.proc.kill()
            self.proc.wait()
            log = (pathlib.Path(db).parent / "serve.log").read_text()
            raise RuntimeError(f"epsilon serve did not start: {line!r} {log}")
        self.location = "grpc://" + line.split("grpc+tcp://", 1)[1].strip()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture(scope="session")
def server(binary, store):
    s = Server(binary, store)
    yield s
    s.stop()


@pytest.fixture()
def client(server):
    with epsilon_client.connect(server.location) as c:
        yield c


def abs_bound(client, name: str) -> float:
    return client.stat(name)["abs_bound"]


def assert_within(orig: np.ndarray, got: np.ndarray, bound: float, what: str):
    """Check every value in float64: |orig - got| <= bound."""
    assert got.shape == orig.shape, f"{what}: shape {got.shape}, expected {orig.shape}"
    err = np.abs(orig.astype(np.float64) - got.astype(np.float64))
    worst = int(np.argmax(err))
    assert err.flat[worst] <= bound, f"{what}: max |x - x'| = {err.flat[worst]:g} > bound {bound:g} at flat index {worst}"

