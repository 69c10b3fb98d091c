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
// # Growing arrays
//
// An array created with ArrayOptions.Unlimited grows along its leading
// dimension (time, in a simulation): Append adds one or more timesteps and
// Read reads any range of those committed. The grown shape is written to
// the catalog in the same Pebble batch as the chunks, so a reader never sees
// a shape whose chunks are missing. The chunks of such an array span their
// full extent along the leading dimension even past the last timestep; a
// chunk that holds fewer timesteps than its extent is staged losslessly
// (see Guarantees) until an Append completes it, and is then encoded with
// the array's bound.
//
// # Write-behind
//
// With Options.WriteBehind, Write and Append copy the caller's values and
// return; the caller may reuse its buffer at once. Encoding runs on
// Options.Concurrency goroutines and one goroutine commits the calls. The
// guarantees, in that mode:
//
//   - Atomicity: each call is one Pebble batch. A reader sees all of it or
//     none of it.
//   - Ordering: calls commit in the order they were made. Calls are safe
//     from any goroutine; concurrent calls are ordered as they take the
//     DB's submission lock, which a call holds while it copies its values.
//   - Visibility: Read, Info, Stat and Export see committed calls only;
//     after Flush returns, every earlier call is visible.
//   - Durability: calls are committed without syncing the write-ahead log.
//     Flush and Close wait for every earlier call and sync the log (unless
//     Options.NoSync). A crash loses only calls not yet flushed, and what
//     survives is always a prefix of the calls in call order, each whole.
//   - Errors: bad input (a wrong shape, length or dtype) is returned by the
//     call itself and writes nothing. A failure after a call returned (an
//     encoder or commit error) is returned, wrapping ErrWriteBehind, by
//     Flush, Close and every later Write and Append; no call after the
//     failed one is committed. Reopen the store to go on.
//   - Memory: copied values not yet encoded and encoded chunks not yet
//     committed stay under Options.MaxPendingBytes; a call that would pass
//     it blocks until the encoders catch up. Outside the cap are one
//     encoder output buffer per goroutine (a chunk's size), and the latest
//     values of each partly written chunk (for Append, one row of chunks
//     per array), kept so that the next call need not decode them again.
//     A single call whose encoded chunks alone pass the cap goes past it.
//     Buffers come from a free list of at most MaxPendingBytes, and while
//     a write-behind DB is open the store sets the Go runtime's soft
//     memory limit, unless the application set one (see memlimit.go).
//   - A Write that covers in part a chunk that this DB has not staged in
//     memory (a chunk completed earlier, or written by an earlier Open)
//     waits for the calls before it to commit and decodes the chunk, so it
//     does not overlap with them. Delete waits for every earlier call.
//
// Without Options.WriteBehind, Write and Append are durable on return.
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
//     write-ahead log before Write returns (unless Options.NoSync, or with
//     Options.WriteBehind, where Flush and Close make earlier calls
//     durable). Import commits a batch every few chunks per core and
//     publishes the array only with its last batch; if it fails, it deletes
//     what it wrote, and if the process dies, the next Open does.
//   - Isolation: Read, Export and Stat read from one Pebble snapshot.
//   - Concurrency: a DB is safe for concurrent use. Reads never block.
//     Writes to different arrays run in parallel; writes to one array are
//     serialized by a per-array lock.
//   - Corruption: every chunk carries a CRC-32C over header and payload. A
//     chunk that fails it returns an error wrapping ErrCorrupt that names
//     the array and the chunk coordinates, and EventListener.Corruption
//     fires; wrong values are never returned silently. An array whose
//     chunks were all stored (by Import, or by a Write of the whole array)
//     is marked complete in its catalog entry, so a chunk missing from it
//     is reported the same way instead of reading as fill values.
//
// # Key layout, format version 1
//
// Keys sort bytewise. Integers in keys are big-endian so that their byte
// order is their numeric order.
//
//	key                                         value
//	0x00 'v'                                    store format version (uvarint)
//	0x00 'n'                                    next array ID (uint64, 8 bytes)
//	0x00 'i' name                               catalog entry of an import in
//	                                            progress (see pending.go);
//	                                            Open removes it and its chunks
//	0x01 name                                   catalog entry: ArrayInfo as JSON
//	0x02 id(8) c0(4) c1(4) ... c[n-1](4)        chunk stream (package codecs)
//	0x03 id(8) c0(4) c1(4) ... c[n-1](4)        coverage bitmap of a partly
//	                                            written chunk (a lossless
//	                                            codecs stream of uint64 words)
//
// The catalog entry of an Unlimited array carries "unlimited": true, which
// changes its chunk grid (see Growing arrays). A build that predates the
// field reads the chunk at the leading edge of such an array as corrupt
// (its stored shape differs from the one expected), never as wrong values.
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
// Options.Events receives typed events (chunks written, compaction finished,
// corruption found);
// the command line decides what a person sees.
package store
