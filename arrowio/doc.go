// Package arrowio maps arrays of an epsilon store to Apache Arrow record
// batches and serves a store over Arrow Flight.
//
// # Layout
//
// A region of an array becomes record batches with one row per index along
// the leading dimension of the region:
//
//   - two or more dimensions: one column "data" of the canonical extension
//     type arrow.fixed_shape_tensor (TensorType), whose storage is a
//     fixed_size_list of float32, float64 or an integer type, and whose
//     extension metadata is {"shape": [trailing dimensions]}. pyarrow reads it
//     as a FixedShapeTensorArray, and to_numpy_ndarray gives the N-D array.
//   - one dimension: one plain column "data" of the element type.
//
// The schema metadata describes the array: epsilon.name, epsilon.dtype
// (numpy name), epsilon.shape and epsilon.chunks (JSON lists),
// epsilon.region (JSON list of [start, stop] pairs), epsilon.codec,
// epsilon.mode, epsilon.bound, epsilon.abs_bound and, when the array has
// one, epsilon.fill. WriteFile writes the same batches as an Arrow IPC file.
//
// Particle sets map to one record per particle and one column per
// quantity: x, y, z, then vx, vy, vz and id when present, then named
// attributes, then an int64 "group" column on request (ParticleSchema,
// ParticleRecord). The schema metadata holds epsilon.name and, for stored
// datasets, epsilon.particles (ParticleMeta as JSON). The Flight server
// reads particle sets through the ParticleSource interface, by default
// through StoreParticles. StoreParticles serves the datasets of the
// particles package in their original order with the correction applied.
// Its group column holds friends-of-friends labels (the smallest particle
// index of each group) at the dataset's linking length.
//
// # Flight service
//
// Server implements these Flight calls:
//
//   - ListFlights: one FlightInfo per array and particle set, with the
//     descriptor path [name]. The arrays that hold a particle set
//     (ParticleSetInfo.Arrays) are left out.
//   - GetFlightInfo: for the path [name] or a CMD descriptor holding a
//     ticket, the schema, the total records and decoded bytes, and one
//     endpoint per slab of whole chunks along the leading dimension (about
//     ServerOptions.EndpointBytes each), so that clients can read slabs in
//     parallel; a particle set has one endpoint. Endpoints carry no
//     location: read them from the same server.
//   - DoGet: the ticket is JSON (Ticket): {"array": NAME},
//     {"array": NAME, "region": [[start, stop], ...]} or
//     {"particles": NAME} or {"particles": NAME, "group": true}. Batches
//     hold at most ServerOptions.BatchBytes; the server decodes one slab
//     while gRPC sends the previous one, so an array read holds a few
//     batches in memory whatever the size of the region. A particle read
//     holds the whole set, because the correction and the groups need
//     every position.
//
// # Sending without copies
//
// The server registers its own gRPC codec (flightCodec): FlightData
// messages of DoGet batches are encoded with their body slices referenced,
// not copied, and each record is retained until gRPC has written it. Every
// other message goes through the standard protobuf codec.
//   - DoPut: the descriptor command is JSON (PutCommand), such as
//     {"create": NAME, "mode": "rel", "bound": 1e-4, "value_range": [lo, hi]},
//     followed by batches in the DoGet layout, which must cover the array
//     from row 0 to the end. A failed DoPut deletes the array again.
//   - DoAction "stat" with body {"name": NAME}: the JSON of
//     store.StatReport, which `epsilon inspect --json` prints too.
//
// Status codes: malformed tickets, commands and batches get InvalidArgument
// with the reason, unknown names NotFound, existing names AlreadyExists,
// requests over ServerOptions.MaxRegionBytes (default 4 GiB decoded) or rows
// over MaxBatchBytes ResourceExhausted, corrupt chunks DataLoss, and calls
// without the bearer token (when ServerOptions.Token is set)
// Unauthenticated. gRPC rejects messages larger than MaxBatchBytes plus
// 1 MiB, and the IPC reader of a DoPut allocates at most 2*MaxBatchBytes
// plus 1 MiB at a time, whatever sizes the message headers claim.
//
// NOTE: a DoPut creates the array first and fills it batch by batch, so a
// concurrent DoGet of the same name may see rows not yet written (as fill
// values) until the DoPut ends.
package arrowio
