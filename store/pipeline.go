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
// region of the array, and says how to store it.
type loadFunc func(coords []int, region chunk.Region, raw []byte) (chunkPlan, error)

// chunkPlan says how to store one chunk.
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
}

// encodeChunks loads and encodes the chunks at coords on up to
// Options.Concurrency goroutines and returns them in order.
func (db *DB) encodeChunks(info *ArrayInfo, coords [][]int, load loadFunc) ([]encodedChunk, error) {
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
				params := info.params(shape)
				switch {
				case plan.staged:
					params.Bound = 0
				case policy != nil && bound.Mode != codecs.ModeNone:
					params.Bound, err = policy.ChunkBound(info, coords[i], raw)
					if err == nil {
						err = checkChunkBound(info.Name, coords[i], params.Bound)
					}
				}
				out[i].plan = plan
				if err == nil {
					out[i].stream, err = codecs.Encode(nil, codec, bound, params, raw)
				}
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

// commitChunks writes the chunks at coords in one batch, with extra, when
// not nil, adding more to the batch first.
func (db *DB) commitChunks(info *ArrayInfo, coords [][]int, chunks []encodedChunk, extra func(*pebble.Batch) error) error {
	b := db.pdb.NewBatch()
	defer b.Close()
	grid := info.Grid()
	var key []byte
	var stored, raw int64
	for i, c := range coords {
		key = appendChunkKey(key[:0], info.ID, c)
		if err := b.Set(key, chunks[i].stream, nil); err != nil {
			return err
		}
		key = appendCoverageKey(key[:0], info.ID, c)
		switch plan := chunks[i].plan; {
		case plan.staged:
			if err := b.Set(key, plan.coverage, nil); err != nil {
				return err
			}
		case plan.dropCoverage:
			if err := b.Delete(key, nil); err != nil {
				return err
			}
		}
		stored += int64(len(chunks[i].stream))
		raw += int64(grid.ChunkRegion(c).Count() * info.DType.Size())
	}
	if extra != nil {
		if err := extra(b); err != nil {
			return err
		}
	}
	if err := db.commit(b); err != nil {
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
