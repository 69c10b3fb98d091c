package store

import (
	"sync"
	"sync/atomic"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
)

// loadFunc fills raw with the values of the chunk at coords, which covers
// region of the array.
type loadFunc func(coords []int, region chunk.Region, raw []byte) error

// encodeChunks loads and encodes the chunks at coords on up to
// Options.Concurrency goroutines and returns their streams in order.
func (db *DB) encodeChunks(info *ArrayInfo, coords [][]int, load loadFunc) ([][]byte, error) {
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
	streams := make([][]byte, len(coords))
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
			err := load(coords[i], region, raw)
			if err == nil {
				streams[i], err = codecs.Encode(nil, codec, bound, info.params(shape), raw)
			}
			if err != nil {
				errOnce.Do(func() { firstErr = err })
				next.Store(int64(len(coords))) // stop the other workers
				return
			}
		}
	}
	runWorkers(min(db.opts.Concurrency, len(coords)), work)
	return streams, firstErr
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
