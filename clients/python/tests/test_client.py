"""Tests of epsilon_client against a real ``epsilon serve`` on loopback."""

from __future__ import annotations

import json
import secrets
import subprocess

import numpy as np
import pyarrow as pa
import pyarrow.flight as flight
import pytest

import epsilon_client
from conftest import FIELDS, REL_BOUND, Server, abs_bound, assert_within, original


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_read_real_field_within_bound(client, name):
    orig = original(name)
    got = client.read(name)
    assert got.dtype == orig.dtype
    bound = abs_bound(client, name)
    value_range = float(orig.max()) - float(orig.min())
    assert bound == pytest.approx(REL_BOUND * value_range, rel=1e-6)
    assert_within(orig, got, bound, name)


def test_read_region(client):
    orig = original("TS")
    got = client.read("TS", region=[(3, 7), (10, 150), (100, 107)])
    assert_within(orig[3:7, 10:150, 100:107], got, abs_bound(client, "TS"), "TS region")
    got = client.read("TS", region=(slice(8, None), slice(0, 5), slice(None)))
    assert_within(orig[8:, 0:5, :], got, abs_bound(client, "TS"), "TS slices")


def test_read_arrow_tensor_column(client):
    """The data column is a fixed_shape_tensor that pyarrow turns into an N-D array."""
    info = client.info("TS")
    reader = client._flight.do_get(info.endpoints[0].ticket)
    table = reader.read_all()
    col = table.column("data").combine_chunks()
    assert isinstance(col.type, pa.FixedShapeTensorType)
    assert list(col.type.shape) == [192, 288]
    assert_within(original("TS"), col.to_numpy_ndarray(), abs_bound(client, "TS"), "TS via to_numpy_ndarray")


def test_parallel_read_matches_serial(client):
    serial = client.read("wmag")
    parallel = client.read("wmag", parallel=4)
    np.testing.assert_array_equal(serial, parallel)


def test_endpoints_are_independent_tasks(client):
    parts = client.endpoints("wmag")
    assert parts, "at least one endpoint"
    pieces = [p.read() for p in parts]
    for p, piece in zip(parts, pieces):
        assert piece.shape == p.shape
    assert_within(original("wmag"), np.concatenate(pieces), abs_bound(client, "wmag"), "wmag endpoints")


def test_list_names_arrays(client):
    listed = {a["name"]: a for a in client.list()}
    assert set(FIELDS) <= set(listed)
    assert listed["pressure"]["shape"] == (384, 384)
    assert listed["pressure"]["dtype"] == "float64"


def test_stat_matches_inspect(client, binary, store, server):
    st = client.stat("TS")
    assert st["name"] == "TS"
    assert st["shape"] == [10, 192, 288]
    assert st["chunks_stored"] == st["chunks_total"]
    assert st["raw_bytes"] == 10 * 192 * 288 * 4


@pytest.mark.parametrize("dtype,mode,bound", [("float32", "abs", 1e-3), ("float64", "rel", 1e-5), ("float32", "none", None)])
def test_write_round_trip(client, dtype, mode, bound):
    orig = original("TS").astype(dtype)
    name = f"w_{dtype}_{mode}"
    result = client.write(name, orig, bound=bound, mode=mode, chunks=[3, 96, 288])
    assert result["rows"] == 10
    got = client.read(name)
    if mode == "none":
        np.testing.assert_array_equal(got, orig)
        return
    allowed = bound if mode == "abs" else bound * (float(orig.max()) - float(orig.min()))
    assert result["abs_bound"] == pytest.approx(allowed, rel=1e-9)
    assert_within(orig, got, allowed, name)


def test_write_one_dimensional(client):
    orig = original("pressure")[7].copy()
    client.write("row7", orig, bound=1e-6, mode="abs")
    got = client.read("row7")
    assert got.shape == (384,)
    assert_within(orig, got, 1e-6, "row7")


def test_write_rejects_existing_name(client):
    with pytest.raises(pa.ArrowException, match="already exists error"):
        client.write("TS", original("TS"), bound=1e-3, mode="abs")


def test_unknown_array_is_not_found(client):
    with pytest.raises(pa.ArrowKeyError, match="not found error"):
        client.read("no-such-array")


@pytest.mark.parametrize("ticket,message", [
    (b"not json", "invalid JSON"),
    (b'{"array": "TS", "region": [[0, 99], [0, 192], [0, 288]]}', "outside the array"),
    (b'{"array": "TS", "color": 1}', "unknown field"),
])
def test_malformed_ticket_is_invalid_argument(client, ticket, message):
    with pytest.raises(pa.ArrowInvalid, match=message):
        client._flight.do_get(flight.Ticket(ticket)).read_all()


def test_region_over_limit_is_resource_exhausted(binary, small_store):
    s = Server(binary, small_store, "--read-only", "--max-region-bytes", "100000")
    try:
        with epsilon_client.connect(s.location) as c:
            with pytest.raises(pa.ArrowInvalid, match="resource exhausted error.*server limit"):
                c._flight.do_get(flight.Ticket(b'{"array": "TS"}')).read_all()
            small = c.read("TS", region=[(0, 1), (0, 10), (0, 10)])
            assert small.shape == (1, 10, 10)
    finally:
        s.stop()


def test_token_checked_on_every_call(binary, small_store, tmp_path):
    token = secrets.token_hex(16)
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    s = Server(binary, small_store, "--read-only", "--token-file", str(token_file))
    try:
        for wrong in [None, "wrong" + token]:
            with epsilon_client.connect(s.location, token=wrong) as c:
                with pytest.raises(flight.FlightUnauthenticatedError):
                    c.list()
                with pytest.raises(flight.FlightUnauthenticatedError):
                    c.stat("TS")
                with pytest.raises(flight.FlightUnauthenticatedError):
                    c._flight.do_get(flight.Ticket(b'{"array": "TS"}')).read_all()
        with epsilon_client.connect(s.location, token=token) as c:
            assert_within(original("TS"), c.read("TS"), abs_bound(c, "TS"), "TS with token")
    finally:
        s.stop()


def test_non_loopback_needs_token_or_insecure(binary, small_store):
    proc = subprocess.run([str(binary), "serve", "--db", str(small_store), "--read-only", "--addr", "0.0.0.0:0"],
                                        capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert "not a loopback address" in proc.stderr
