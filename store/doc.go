// Package store is the epsilon engine: arrays of chunks, each chunk an
// error-bounded stream from package codecs, kept in a Pebble database on
// local disk.
//
// # Arrays
//
// An array has a name, a dtype, a shape of 1 to 8 dimensions, a chunk shape,
// a codec, an error bound, an optional fill value and free-form JSON
// attributes (ArrayOptions).
//
//   - Create adds an empty array, and Delete removes one.
//   - Write stores a region. Read decodes a region into a caller's buffer,
//     touching only the chunks the region intersects.
//   - Import and Export stream a raw C-order file in and out chunk by chunk.
//   - Stat reports sizes and the codec of each chunk.
//
// # Guarantees
//
//   - Bound: every finite, non-fill value read back is within the array's
//     absolute bound of the value last written (checked by the codec for
//     each value at encode time). NaN, ±Inf and fill values come back
//     bit-exact. A write that covers a chunk only in part stages that chunk
//     losslessly with a coverage bitmap (see coverage.go), so errors never
//     add up across partial writes.
//   - Atomicity and durability: one Write is one Pebble batch, synced to the
//     write-ahead log before Write returns (unless Options.NoSync). Import
//     commits a batch every few chunks per core; if it fails, it deletes
//     the array.
//   - Isolation: Read, Export and Stat read from one Pebble snapshot.
//   - Concurrency: a DB is safe for concurrent use. Reads never block.
//     Writes to different arrays run in parallel; writes to one array are
//     serialized by a per-array lock.
//   - Corruption: every chunk carries a CRC-32C over header and payload. A
//     chunk that fails it returns an error wrapping ErrCorrupt that names
//     the array and the chunk coordinates, and EventListener.Corruption
//     fires; wrong values are never returned silently.
//
// # Key layout, format version 1
//
// Keys sort bytewise. Integers in keys are big-endian so that their byte
// order is their numeric order.
//
//	key                                         value
//	0x00 'v'                                    store format version (uvarint)
//	0x00 'n'                                    next array ID (uint64, 8 bytes)
//	0x01 name                                   catalog entry: ArrayInfo as JSON
//	0x02 id(8) c0(4) c1(4) ... c[n-1](4)        chunk stream (package codecs)
//	0x03 id(8) c0(4) c1(4) ... c[n-1](4)        coverage bitmap of a partly
//	                                            written chunk (a lossless
//	                                            codecs stream of uint64 words)
//
// id is the array's numeric ID, assigned at Create and never reused, so a
// deleted array's keys can be dropped with one range deletion and a new
// array of the same name starts empty. c0 .. c[n-1] are the chunk
// coordinates. All chunks of one array are contiguous, in the C order of
// the chunk grid, so the chunks of a region form one key range per run of
// chunks along the last dimension; Read seeks once per run. keys.go builds
// and parses every key.
//
// Open rejects a store whose format version differs from FormatVersion.
//
// # Events and logging
//
// The store never prints. Options.Logger receives Pebble's messages and
// Options.Events receives typed events (chunks written, corruption found);
// the command line decides what a person sees.
package store
