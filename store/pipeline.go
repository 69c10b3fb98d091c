package store

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
)

// loadFunc fills raw with the values of the chunk at coords, which covers
// region of the array, and returns how to store it.
type loadFunc func(coords []int, region chunk.Region, raw []byte) (chunkPlan, error)

// chunkPlan is the storage decision for one chunk.
type chunkPlan struct {
	// staged stores the chunk losslessly with coverage as its bitmap.
	staged   bool
	coverage []byte
	// dropCoverage deletes a coverage bitmap left by earlier partial writes.
	dropCoverage bool
}

// encodedChunk is a chunk ready to commit.
type encodedChunk struct {
	stream []byte
	plan   chunkPlan
	// successor, when set, is committed with the chunk (see temporal.go).
	successor *successorChunk
}

// encodeChunks loads and encodes the chunks at coords on up to
// Options.Concurrency goroutines and returns them in order.
func (db *DB) encodeChunks(info *ArrayInfo, coords [][]int, load loadFunc) ([]encodedChunk, error) {
	if info.temporal() {
		return db.encodeTemporal(info, coords, load)
	}
	codec, err := codecs.ByName(info.Codec)
	if err != nil {
		return nil, err
	}
	grid := info.Grid()
	bound := info.ErrorBound()
	if !info.resolved() {
		// ModeRel before any value is known: every value so far is a fill
		// value or non-finite, so these chunks are stored losslessly.
		bound = codecs.Bound{}
	}
	out := make([]encodedChunk, len(coords))
	policy := db.policy(info.Name)
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	work := func() {
		var raw []byte
		for {
			i := int(next.Add(1) - 1)
			if i >= len(coords) {
				return
			}
			region := grid.ChunkRegion(coords[i])
			shape := region.Shape()
			n := shape.Count() * info.DType.Size()
			if cap(raw) < n {
				raw = make([]byte, n)
			}
			raw = raw[:n]
			plan, err := load(coords[i], region, raw)
			if err == nil {
				out[i].plan = plan
				out[i].stream, err = db.encodeChunk(nil, codec, bound, policy, info, coords[i], shape, raw, plan)
			}
			if err != nil {
				errOnce.Do(func() { firstErr = err })
				next.Store(int64(len(coords))) // stop the other workers
				return
			}
		}
	}
	runWorkers(min(db.opts.Concurrency, len(coords)), work)
	return out, firstErr
}

// encodeChunk appends to dst the stream of raw, the values of the chunk at
// coords of the given shape, encoded as plan says: losslessly when staged,
// otherwise with the bound that policy chooses, or the array's bound
// without a policy.
func (db *DB) encodeChunk(dst []byte, codec codecs.Codec, bound codecs.Bound, policy BoundPolicy, info *ArrayInfo, coords []int, shape chunk.Shape, raw []byte, plan chunkPlan) ([]byte, error) {
	params := info.params(shape)
	switch {
	case plan.staged:
		params.Bound = 0
	case policy != nil && bound.Mode != codecs.ModeNone:
		b, err := policy.ChunkBound(info, coords, raw)
		if err == nil {
			err = checkChunkBound(info.Name, coords, b)
		}
		if err != nil {
			return dst, err
		}
		params.Bound = b
	}
	return codecs.Encode(dst, db.codecFor(codec, raw, params), bound, params, raw)
}

// commitChunks writes the chunks at coords in one batch, with extra, when
// not nil, adding more to the batch first.
func (db *DB) commitChunks(info *ArrayInfo, coords [][]int, chunks []encodedChunk, extra func(*pebble.Batch) error) error {
	return db.commitChunksWith(db.wopts, info, coords, chunks, extra)
}

// commitChunksWith is commitChunks with the given write options.
func (db *DB) commitChunksWith(wopts *pebble.WriteOptions, info *ArrayInfo, coords [][]int, chunks []encodedChunk, extra func(*pebble.Batch) error) error {
	b := db.pdb.NewBatch()
	defer b.Close()
	grid := info.Grid()
	var key []byte
	var stored, raw int64
	put := func(c []int, ch encodedChunk) error {
		key = appendChunkKey(key[:0], info.ID, c)
		if err := b.Set(key, ch.stream, nil); err != nil {
			return err
		}
		key = appendCoverageKey(key[:0], info.ID, c)
		switch plan := ch.plan; {
		case plan.staged:
			if err := b.Set(key, plan.coverage, nil); err != nil {
				return err
			}
		case plan.dropCoverage:
			if err := b.Delete(key, nil); err != nil {
				return err
			}
		}
		stored += int64(len(ch.stream))
		raw += int64(grid.ChunkRegion(c).Count() * info.DType.Size())
		return nil
	}
	for i, c := range coords {
		if err := put(c, chunks[i]); err != nil {
			return err
		}
		if s := chunks[i].successor; s != nil {
			if err := put(s.coords, s.chunk); err != nil {
				return err
			}
		}
	}
	if extra != nil {
		if err := extra(b); err != nil {
			return err
		}
	}
	if err := db.commitWith(b, wopts); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if f := db.opts.Events.ChunksWritten; f != nil {
		f(ChunksWrittenInfo{Array: info.Name, Chunks: len(coords), RawBytes: raw, StoredBytes: stored})
	}
	return nil
}

// runWorkers runs work on n goroutines and waits for them; n <= 1 runs it on
// the calling goroutine.
func runWorkers(n int, work func()) {
	if n <= 1 {
		work()
		return
	}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	wg.Wait()
}

// copyValues copies a box of count values of size bytes each between two
// C-order byte buffers, as chunk.Copy does for typed buffers.
func copyValues(dst []byte, dstShape chunk.Shape, dstStart []int, src []byte, srcShape chunk.Shape, srcStart []int, count chunk.Shape, size int) {
	last := len(count) - 1
	scale := func(s []int) []int {
		out := append([]int(nil), s...)
		out[last] *= size
		return out
	}
	chunk.Copy(dst, scale(dstShape), scale(dstStart), src, scale(srcShape), scale(srcStart), scale(count))
}

// offsetIn returns the start of inner relative to outer.
func offsetIn(inner, outer chunk.Region) []int {
	off := make([]int, len(inner.Start))
	for i := range off {
		off[i] = inner.Start[i] - outer.Start[i]
	}
	return off
}
