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
    return db


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

