"""Read and write arrays and read particle datasets of an epsilon store
served by ``epsilon serve``.

The server speaks Arrow Flight. Each array is a flight whose descriptor
path is ``[name]``; its records are the indices along the leading
dimension, in a column ``data`` of the canonical extension type
``arrow.fixed_shape_tensor`` (a plain column for one-dimensional arrays).
Each particle dataset is a flight too, with one record per particle and
one column per quantity.

    >>> import epsilon_client
    >>> c = epsilon_client.connect("grpc://127.0.0.1:8815")
    >>> ts = c.read("TS")                        # numpy.ndarray
    >>> part = c.read("TS", region=[(0, 2), (0, 192), (0, 288)])
    >>> halo = c.read_particles("hfof", group=True)   # dict of numpy arrays
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.flight as flight

__all__ = ["Client", "Endpoint", "connect", "table_to_numpy"]

# Batches sent by write() hold at most this many bytes of values. The
# server accepts messages of up to 64 MiB.
WRITE_BATCH_BYTES = 16 << 20


def connect(location: str = "grpc://127.0.0.1:8815", token: str | None = None, **kwargs) -> "Client":
    """Connect to an ``epsilon serve`` server.

    ``location`` is ``grpc://HOST:PORT`` or ``grpc+tls://HOST:PORT``.
    ``token`` is the bearer token of a server started with ``--token-file``.
    Other keyword arguments go to ``pyarrow.flight.FlightClient``.
    """
    return Client(location, token=token, **kwargs)


@dataclass(frozen=True)
class Endpoint:
    """One part of an array that can be read on its own."""

    region: tuple[tuple[int, int], ...]  # (start, stop) per dimension
    shape: tuple[int, ...]
    dtype: np.dtype
    read: Callable[[], np.ndarray]  # returns the part as an array of ``shape``


def _region_pairs(region, shape: Sequence[int] | None = None):
    """Return ``region`` as a list of [start, stop] pairs.

    ``region`` is a sequence of (start, stop) pairs or of slices without a
    step; a slice's open ends need ``shape``.
    """
    if region is None:
        return None
    pairs = []
    for i, r in enumerate(region):
        if isinstance(r, slice):
            if r.step not in (None, 1):
                raise ValueError(f"region dimension {i}: slice step {r.step} is not supported, only step 1")
            if shape is None and (r.start is None or r.stop is None):
                raise ValueError(f"region dimension {i}: an open slice needs the array shape")
            start = 0 if r.start is None else int(r.start)
            stop = shape[i] if r.stop is None else int(r.stop)
            pairs.append([start, stop])
        else:
            start, stop = r
            pairs.append([int(start), int(stop)])
    return pairs


def _batch_values(batch: pa.RecordBatch) -> np.ndarray:
    """Return the values of a batch's data column as a flat numpy array, without copying."""
    col = batch.column(0)
    if isinstance(col, pa.ExtensionArray):
        col = col.storage
    if pa.types.is_fixed_size_list(col.type):
        col = col.flatten()  # the child values, offset applied, not copied
    return col.to_numpy(zero_copy_only=True)


def table_to_numpy(table: pa.Table) -> np.ndarray:
    """Return the array that a table in the layout of an array flight holds.

    ``table`` is what ``pyarrow.flight`` returns for an array ticket, such as
    ``client.do_get(ticket).read_all()``; its schema metadata gives the dtype
    and the region. The values are copied once, batch by batch, into the
    result.
    """
    md = table.schema.metadata
    dtype = np.dtype(md[b"epsilon.dtype"].decode())
    shape = [stop - start for start, stop in json.loads(md[b"epsilon.region"])]
    out = np.empty(shape, dtype=dtype)
    flat = out.reshape(out.shape[0], -1) if out.ndim > 1 else out
    row = 0
    for batch in table.to_batches():
        row = _copy_batch(batch, flat, row)
    if row != out.shape[0]:
        raise ValueError(f"table has {row} rows, its metadata gives {out.shape[0]}")
    return out


def _copy_batch(batch: pa.RecordBatch, flat: np.ndarray, row: int) -> int:
    """Copy a batch's rows into ``flat`` (rows by values per row) from ``row``; return the next row."""
    n = batch.num_rows
    if row + n > flat.shape[0]:
        raise ValueError(f"batch rows {row} to {row + n} exceed the {flat.shape[0]} rows expected")
    flat[row : row + n] = _batch_values(batch).reshape(flat[row : row + n].shape)
    return row + n


class Client:
    """A connection to an ``epsilon serve`` server."""

    def __init__(self, location: str, token: str | None = None, **kwargs):
        self._location = location
        self._kwargs = kwargs
        self._token = token
        self._flight = flight.FlightClient(location, **kwargs)
        headers = [(b"authorization", b"Bearer " + token.encode())] if token else []
        self._options = flight.FlightCallOptions(headers=headers)

    def close(self) -> None:
        self._flight.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def list(self) -> list[dict]:
        """Return one dict per flight.

        An array has name, records, bytes, shape, dtype, codec, mode, bound
        and abs_bound; a particle dataset has name, records, bytes and
        particles (count, dtype, box, periodic, link, bound, ...).
        """
        out = []
        for info in self._flight.list_flights(options=self._options):
            md = info.schema.metadata or {}
            out.append(_describe(info.descriptor.path[0].decode(), md, info))
        return out

    def info(self, name: str, region=None) -> flight.FlightInfo:
        """Return the FlightInfo of an array, or of a region of it."""
        if region is None:
            desc = flight.FlightDescriptor.for_path(name)
        else:
            open_ends = any(isinstance(r, slice) and (r.start is None or r.stop is None) for r in region)
            pairs = _region_pairs(region, self._shape(name) if open_ends else None)
            desc = flight.FlightDescriptor.for_command(json.dumps({"array": name, "region": pairs}))
        return self._flight.get_flight_info(desc, self._options)

    def _shape(self, name: str) -> list[int]:
        info = self._flight.get_flight_info(flight.FlightDescriptor.for_path(name), self._options)
        return json.loads(info.schema.metadata[b"epsilon.shape"])

    def stat(self, name: str) -> dict:
        """Return the storage summary of an array, as ``epsilon inspect --json`` prints it."""
        results = list(self._flight.do_action(flight.Action("stat", json.dumps({"name": name}).encode()), self._options))
        return json.loads(results[0].body.to_pybytes())

    def _read_ticket(self, ticket: bytes, out: np.ndarray) -> None:
        """Read the batches of a ticket into ``out``, row after row."""
        reader = self._flight.do_get(flight.Ticket(ticket), self._options)
        flat = out.reshape(out.shape[0], -1) if out.ndim > 1 else out
        row = 0
        # Each batch is copied as it arrives, while gRPC receives the next.
        for chunk in reader:
            row = _copy_batch(chunk.data, flat, row)
        if row != out.shape[0]:
            raise RuntimeError(f"ticket {ticket!r} returned {row} rows, expected {out.shape[0]}")

    def read(self, name: str, region=None, parallel: int = 1) -> np.ndarray:
        """Read array ``name``, or the region of it, into a new numpy array.

        ``region`` is a sequence of (start, stop) pairs or slices, one per
        dimension. With ``parallel`` > 1, the endpoints of the flight are
        read on that many threads (and connections).
        """
        info = self.info(name, region)
        md = info.schema.metadata
        dtype = np.dtype(md[b"epsilon.dtype"].decode())
        pairs = json.loads(md[b"epsilon.region"])
        out = np.empty([stop - start for start, stop in pairs], dtype=dtype)
        first = pairs[0][0]
        jobs = []
        for ep in info.endpoints:
            r = json.loads(ep.ticket.ticket)["region"]
            jobs.append((ep.ticket.ticket, out[r[0][0] - first : r[0][1] - first]))
        if parallel <= 1 or len(jobs) <= 1:
            for ticket, part in jobs:
                self._read_ticket(ticket, part)
            return out
        clients = [self] + [Client(self._location, self._token, **self._kwargs) for _ in range(min(parallel, len(jobs)) - 1)]
        try:
            with ThreadPoolExecutor(len(clients)) as pool:
                futures = [pool.submit(clients[i % len(clients)]._read_ticket, t, p) for i, (t, p) in enumerate(jobs)]
                for f in futures:
                    f.result()
        finally:
            for c in clients[1:]:
                c.close()
        return out

    def read_particles(self, name: str, group: bool = False) -> dict[str, np.ndarray]:
        """Read particle dataset ``name`` into a dict of numpy arrays, one per column.

        The columns are ``x``, ``y``, ``z`` (positions, each within the
        dataset's bound of the original), then ``vx``, ``vy``, ``vz``, ``id``
        and the named attributes when the dataset has them, all in the
        original particle order. With ``group``, ``group`` holds each
        particle's friends-of-friends group at the dataset's linking length,
        labelled by the smallest particle index in the group; the groups are
        those of the original positions.
        """
        ticket = {"particles": name}
        if group:
            ticket["group"] = True
        reader = self._flight.do_get(flight.Ticket(json.dumps(ticket).encode()), self._options)
        table = reader.read_all()
        return {field.name: table.column(i).to_numpy() for i, field in enumerate(table.schema)}

    def endpoints(self, name: str, region=None) -> list[Endpoint]:
        """Return the parts of an array as independent read tasks.

        Each ``Endpoint.read`` opens its own connection, so the tasks can run
        in threads or processes. With dask installed::

            import dask, dask.array as da
            parts = c.endpoints("TS")
            arr = da.concatenate([da.from_delayed(dask.delayed(p.read)(), p.shape, p.dtype) for p in parts])
        """
        info = self.info(name, region)
        dtype = np.dtype(info.schema.metadata[b"epsilon.dtype"].decode())
        out = []
        for ep in info.endpoints:
            ticket = ep.ticket.ticket
            r = tuple(tuple(p) for p in json.loads(ticket)["region"])
            shape = tuple(stop - start for start, stop in r)
            out.append(Endpoint(region=r, shape=shape, dtype=dtype, read=_EndpointReader(self._location, self._token, self._kwargs, ticket, shape, dtype)))
        return out

    def write(self, name: str, array, bound: float | None = None, mode: str = "rel", codec: str | None = None,
              chunks: Sequence[int] | None = None, fill: float | None = None) -> dict:
        """Create array ``name`` in the store from a numpy array.

        ``mode`` is ``"rel"`` (|x - x'| <= bound times the value range),
        ``"abs"`` (|x - x'| <= bound) or ``"none"`` (lossless, no bound).
        Returns the server's result: name, rows and the absolute bound.
        """
        a = np.ascontiguousarray(array)
        if a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        if a.ndim == 0:
            raise ValueError("a 0-dimensional array cannot be stored: reshape it to (1,)")
        cmd = {"create": name, "mode": mode, "shape": list(a.shape)}
        if mode != "none":
            if bound is None:
                raise ValueError(f"mode {mode!r} needs a bound")
            cmd["bound"] = float(bound)
        elif bound is not None:
            raise ValueError("mode 'none' is lossless and takes no bound")
        if codec:
            cmd["codec"] = codec
        if chunks:
            cmd["chunks"] = [int(c) for c in chunks]
        if fill is not None:
            cmd["fill"] = float(fill)
        if mode == "rel":
            values = a[np.isfinite(a)] if a.dtype.kind == "f" else a.ravel()
            if fill is not None:
                values = values[values != fill]
            lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
            cmd["value_range"] = [lo, hi]

        value_type = pa.from_numpy_dtype(a.dtype)
        if a.ndim == 1:
            col_type = value_type
        else:
            col_type = pa.fixed_shape_tensor(value_type, list(a.shape[1:]))
        schema = pa.schema([pa.field("data", col_type, nullable=False)], metadata={"epsilon.shape": json.dumps(list(a.shape))})
        row_bytes = max(1, a[0].nbytes if a.ndim > 1 else a.itemsize)
        rows_per_batch = max(1, WRITE_BATCH_BYTES // row_bytes)

        desc = flight.FlightDescriptor.for_command(json.dumps(cmd))
        writer, reader = self._flight.do_put(desc, schema, self._options)
        try:
            for start in range(0, a.shape[0], rows_per_batch):
                part = a[start : start + rows_per_batch]
                if a.ndim == 1:
                    col = pa.array(part, type=value_type)
                else:
                    storage = pa.FixedSizeListArray.from_arrays(pa.array(part.reshape(-1), type=value_type), int(np.prod(a.shape[1:])))
                    col = pa.ExtensionArray.from_storage(col_type, storage)
                writer.write_batch(pa.record_batch([col], schema=schema))
            writer.done_writing()
            meta = reader.read()
        finally:
            writer.close()
        return json.loads(meta.to_pybytes()) if meta is not None else {}


class _EndpointReader:
    """A picklable callable that reads one endpoint on its own connection."""

    def __init__(self, location, token, kwargs, ticket, shape, dtype):
        self.location, self.token, self.kwargs = location, token, kwargs
        self.ticket, self.shape, self.dtype = ticket, shape, dtype

    def __call__(self) -> np.ndarray:
        out = np.empty(self.shape, dtype=self.dtype)
        with Client(self.location, self.token, **self.kwargs) as c:
            c._read_ticket(self.ticket, out)
        return out


def _describe(name: str, md: dict, info: flight.FlightInfo) -> dict:
    def get(key):
        v = md.get(key.encode())
        return None if v is None else v.decode()

    d = {"name": name, "records": info.total_records, "bytes": info.total_bytes}
    if get("epsilon.particles") is not None:
        d["particles"] = json.loads(get("epsilon.particles"))
    if get("epsilon.shape") is not None:
        d.update(
            shape=tuple(json.loads(get("epsilon.shape"))),
            dtype=get("epsilon.dtype"),
            codec=get("epsilon.codec"),
            mode=get("epsilon.mode"),
            bound=float(get("epsilon.bound")),
            abs_bound=float(get("epsilon.abs_bound")),
        )
    return d
