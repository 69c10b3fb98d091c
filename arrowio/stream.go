package arrowio

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/store"
)

// MaxBatchBytes is the largest record batch this package builds or accepts.
const MaxBatchBytes = 64 << 20

// Errors that callers match with errors.Is. The Flight server maps
// ErrInvalidRequest to InvalidArgument and ErrTooLarge to ResourceExhausted.
var (
	ErrInvalidRequest = errors.New("invalid request")
	ErrTooLarge       = errors.New("request too large")
)

// Slabs splits the leading dimension of l's region into slabs of whole rows
// of at most maxBytes each. Where a slab holds at least one chunk's extent
// along the leading dimension, its ends fall on chunk boundaries, so that no
// chunk is decoded for two slabs. It returns an error wrapping ErrTooLarge
// when a single row is larger than maxBytes.
func Slabs(l Layout, maxBytes int64) ([]chunk.Region, error) {
	rowBytes := l.RowBytes()
	if rowBytes > maxBytes {
		return nil, fmt.Errorf("%w: one row of region %v of array %q is %d bytes, more than the batch limit %d: request a region with fewer trailing values",
			ErrTooLarge, l.Region, l.Name, rowBytes, maxBytes)
	}
	rowsPer := int(maxBytes / rowBytes)
	extent := l.Chunks[0]
	var out []chunk.Region
	for start := l.Region.Start[0]; start < l.Region.Stop[0]; {
		stop := min(l.Region.Stop[0], start+rowsPer)
		if rowsPer >= extent && stop < l.Region.Stop[0] {
			if aligned := stop / extent * extent; aligned > start {
				stop = aligned
			}
		}
		slab := chunk.Region{Start: append([]int(nil), l.Region.Start...), Stop: append([]int(nil), l.Region.Stop...)}
		slab.Start[0], slab.Stop[0] = start, stop
		out = append(out, slab)
		start = stop
	}
	return out, nil
}

// StreamRegion reads the region of l from db slab by slab (see Slabs) and
// calls emit with one record batch per slab, in order. It decodes the next
// slab while emit handles the current one. emit may retain the record, to
// send it asynchronously, say. A slab buffer is reused only after the last
// reference to its record is released. When no buffer is free, a new one is
// allocated, so memory grows only while records are retained.
func StreamRegion(ctx context.Context, db *store.DB, l Layout, batchBytes int64, emit func(arrow.RecordBatch) error) error {
	schema, err := l.Schema()
	if err != nil {
		return err
	}
	slabs, err := Slabs(l, batchBytes)
	if err != nil {
		return err
	}
	type decoded struct {
		rows int
		buf  *memory.Buffer
		err  error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pool := &slabPool{keep: 3}
	ready := make(chan decoded, 1)
	go func() {
		defer close(ready)
		for _, slab := range slabs {
			n := int(int64(slab.Count()) * int64(l.DType.Size()))
			buf := memory.NewBufferWithAllocator(pool.Allocate(n), pool)
			err := db.Read(l.Name, slab, buf.Bytes())
			select {
			case ready <- decoded{rows: slab.Stop[0] - slab.Start[0], buf: buf, err: err}:
			case <-ctx.Done():
				buf.Release()
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		// Stop the decoder and release the slab it decoded ahead, when
		// emit or a read failed.
		cancel()
		for d := range ready {
			d.buf.Release()
		}
	}()
	for d := range ready {
		if d.err != nil {
			d.buf.Release()
			return d.err
		}
		rec, err := newRecord(schema, d.rows, d.buf)
		d.buf.Release()
		if err != nil {
			return err
		}
		err = emit(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}

// slabPool is the memory.Allocator of StreamRegion's slab buffers: Free
// keeps up to keep buffers for reuse. Buffers are not zeroed on reuse,
// because every Read overwrites its whole buffer.
type slabPool struct {
	mu   sync.Mutex
	keep int
	free [][]byte // guarded by mu
}

func (p *slabPool) Allocate(size int) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, b := range p.free {
		if cap(b) >= size {
			p.free = append(p.free[:i], p.free[i+1:]...)
			return b[:size]
		}
	}
	return make([]byte, size)
}

func (p *slabPool) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		return b[:size]
	}
	out := p.Allocate(size)
	copy(out, b)
	p.Free(b)
	return out
}

func (p *slabPool) Free(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < p.keep {
		p.free = append(p.free, b[:cap(b)])
	}
}
