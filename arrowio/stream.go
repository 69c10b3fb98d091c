package arrowio

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

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
// slab while emit handles the current one, so at most two slabs of
// batchBytes are in memory at a time. emit must not keep the record after
// it returns: its buffer is reused.
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
		buf  []byte
		err  error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan decoded, 1)
	free := make(chan []byte, 2)
	free <- nil
	free <- nil
	go func() {
		defer close(ready)
		for _, slab := range slabs {
			var buf []byte
			select {
			case buf = <-free:
			case <-ctx.Done():
				return
			}
			n := int(int64(slab.Count()) * int64(l.DType.Size()))
			if cap(buf) < n {
				buf = make([]byte, n)
			}
			buf = buf[:n]
			err := db.Read(l.Name, slab, buf)
			select {
			case ready <- decoded{rows: slab.Stop[0] - slab.Start[0], buf: buf, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for d := range ready {
		if d.err != nil {
			return d.err
		}
		rec, err := NewRecord(schema, d.rows, d.buf)
		if err != nil {
			return err
		}
		err = emit(rec)
		rec.Release()
		if err != nil {
			return err
		}
		free <- d.buf
	}
	return ctx.Err()
}
