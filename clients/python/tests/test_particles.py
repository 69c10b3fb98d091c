"""Particle datasets read through epsilon_client from a real ``epsilon serve``."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.flight as flight
import pytest

from conftest import PARTICLES, assert_within, fof_labels, original_particles


@pytest.mark.parametrize("name", sorted(PARTICLES))
def test_read_particles_within_bound(client, name):
    spec = PARTICLES[name]
    orig = original_particles(name)
    got = client.read_particles(name)
    assert list(got) == list(orig), "columns in order x, y, z, then vx, vy, vz and id when present"
    for axis in ("x", "y", "z"):
        assert got[axis].dtype == np.float32
        assert_within(orig[axis], got[axis], spec["bound"], f"{name} {axis}")
    if "vel" in spec:
        for axis in ("vx", "vy", "vz"):
            assert_within(orig[axis], got[axis], spec["vel_bound"], f"{name} {axis}")
        np.testing.assert_array_equal(got["id"], orig["id"])


@pytest.mark.parametrize("name", sorted(PARTICLES))
def test_groups_match_fof_on_original_positions(client, name):
    spec = PARTICLES[name]
    orig = original_particles(name)
    want = fof_labels(orig["x"], orig["y"], orig["z"], spec["box"], spec["link"])
    got = client.read_particles(name, group=True)
    assert list(got)[-1] == "group"
    assert got["group"].dtype == np.int64
    np.testing.assert_array_equal(got["group"], want)


def test_reference_groups_hfof():
    # Reference result of the real data set for hfof cosmo32768 at link
    # 0.00625 in the periodic unit box: 12,765 groups, 70 with at least 20
    # members, the largest with 4,897. It checks fof_labels itself.
    orig = original_particles("hfof")
    labels = fof_labels(orig["x"], orig["y"], orig["z"], 1.0, 0.00625)
    sizes = np.bincount(labels)
    sizes = sizes[sizes > 0]
    assert len(sizes) == 12765
    assert int((sizes >= 20).sum()) == 70
    assert int(sizes.max()) == 4897


def test_list_describes_particle_sets(client):
    listed = {f["name"]: f for f in client.list()}
    assert "hfof" in listed
    assert listed["hfof"]["records"] == 32768
    assert listed["hfof"]["particles"]["link"] == pytest.approx(0.00625)
    assert listed["hacc"]["particles"]["velocities"] is True
    # The arrays that hold a set are not flights of their own.
    assert not any(n.startswith("hfof/") for n in listed)


def test_particles_with_any_flight_client(client, server):
    fc = flight.FlightClient(server.location)
    info = fc.get_flight_info(flight.FlightDescriptor.for_path("hacc"))
    assert info.schema.names == ["x", "y", "z", "vx", "vy", "vz", "id"]
    table = fc.do_get(flight.Ticket(json.dumps({"particles": "hacc", "group": True}).encode())).read_all()
    assert table.schema.names[-1] == "group"
    assert table.num_rows == 32768
    fc.close()


def test_unknown_particle_set_is_not_found(client):
    with pytest.raises(pa.ArrowKeyError, match="not found error"):
        client.read_particles("nope")
