package store

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"

	"github.com/epsilon-db/epsilon/chunk"
)

// sinkFunc receives the decoded values of the chunk at coords, which covers
// region of the array. Sinks run concurrently for different chunks.
type sinkFunc func(coords []int, region chunk.Region, raw []byte) error

// Read reads region r of array name into dst in C order. dst is a slice of
// the array's element type or a []byte of raw little-endian values, with
// exactly r.Count() values.
//
// Read sees one consistent state of the store (a Pebble snapshot) while
// writes go on, and decodes only the chunks that r intersects. Chunks never
// written read as the fill value, or zero without one. A chunk that fails
// its checksum returns an error wrapping ErrCorrupt that names the array and
// the chunk coordinates.
func (db *DB) Read(name string, r chunk.Region, dst any) error {
	if err := db.checkOpen(false); err != nil {
		return err
	}
	snap := db.pdb.NewSnapshot()
	defer snap.Close()
	info, err := getInfo(snap, name)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	raw, err := bytesOf(dst, info.DType)
	if err != nil {
		return fmt.Errorf("read array %q: %w", name, err)
	}
	if err := validateRegion(r, info.Shape); err != nil {
		return fmt.Errorf("read array %q: %w", name, err)
	}
	if want := r.Count() * info.DType.Size(); len(raw) != want {
		return fmt.Errorf("read array %q: buffer has %d bytes, region %v of %s needs %d", name, len(raw), r, info.DType, want)
	}
	size := info.DType.Size()
	sink := func(coords []int, region chunk.Region, buf []byte) error {
		inter, _ := region.Intersect(r)
		copyValues(raw, r.Shape(), offsetIn(inter, r), buf, region.Shape(), offsetIn(inter, region), inter.Shape(), size)
		return nil
	}
	direct := func(region chunk.Region) []byte {
		off, ok := contiguousIn(region, r)
		if !ok {
			return nil
		}
		return raw[off*size : (off+region.Count())*size]
	}
	return db.decodeRegionInto(snap, info, r, direct, sink)
}

// contiguousIn reports whether inner, a region inside outer, is one
// contiguous run of outer's values in C order, and returns the index of
// its first value. That holds when inner spans outer's whole extent in
// every dimension after its first dimension longer than 1.
func contiguousIn(inner, outer chunk.Region) (int, bool) {
	if in, ok := inner.Intersect(outer); !ok || in.Count() != inner.Count() {
		return 0, false
	}
	k := 0
	for k < len(inner.Start)-1 && inner.Stop[k]-inner.Start[k] == 1 {
		k++
	}
	for d := k + 1; d < len(inner.Start); d++ {
		if inner.Start[d] != outer.Start[d] || inner.Stop[d] != outer.Stop[d] {
			return 0, false
		}
	}
	off := 0
	for d := range inner.Start {
		off = off*(outer.Stop[d]-outer.Start[d]) + inner.Start[d] - outer.Start[d]
	}
	return off, true
}

type decodeJob struct {
	coords []int
	stream []byte // nil for a chunk never written
}

// decodeRegion decodes every chunk that r intersects, read from snap with one
// range scan per run of chunks along the last dimension, and hands each to
// sink. Decoding runs on up to Options.Concurrency goroutines.
func (db *DB) decodeRegion(snap *pebble.Snapshot, info *ArrayInfo, r chunk.Region, sink sinkFunc) error {
	return db.decodeRegionInto(snap, info, r, nil, sink)
}

// decodeRegionInto is decodeRegion with a shortcut: when direct returns a
// buffer for a chunk's region, the chunk is decoded straight into it and
// sink is skipped for that chunk.
func (db *DB) decodeRegionInto(snap *pebble.Snapshot, info *ArrayInfo, r chunk.Region, direct func(chunk.Region) []byte, sink sinkFunc) error {
	grid := info.Grid()
	box := grid.ChunksOf(r)
	if box.Empty() {
		return nil
	}
	workers := max(1, min(db.opts.Concurrency, box.Count()))
	cache := newReconCache(info)
	jobs := make(chan decodeJob, 2*workers)
	done := make(chan struct{})
	var (
		failOnce sync.Once
		firstErr error
		failed   atomic.Bool
	)
	fail := func(err error) {
		failOnce.Do(func() {
			firstErr = err
			failed.Store(true)
			close(done)
		})
	}

	go func() {
		defer close(jobs)
		if err := db.scanChunks(snap, info, box, jobs, done); err != nil {
			fail(err)
		}
	}()
	runWorkers(workers, func() {
		var buf []byte
		for job := range jobs {
			if failed.Load() {
				continue // drain, so the scanner can finish
			}
			region := grid.ChunkRegion(job.coords)
			n := region.Count() * info.DType.Size()
			dst := []byte(nil)
			if direct != nil {
				dst = direct(region)
			}
			viaSink := dst == nil
			if viaSink {
				if cap(buf) < n {
					buf = make([]byte, n)
				}
				dst = buf[:n]
			}
			var err error
			switch {
			case job.stream == nil && info.Complete:
				err = db.missingChunk(info, job.coords)
			case job.stream == nil:
				p := info.params(nil)
				fillBytes(dst, info.DType, p.HasFill, p.Fill)
			default:
				err = db.decodeStored(snap, cache, info, job.coords, region, job.stream, dst)
			}
			if err == nil && viaSink {
				err = sink(job.coords, region, dst)
			}
			if err != nil {
				fail(err)
			}
		}
	})
	return firstErr
}

// scanChunks sends a job for every chunk in box, the box of chunk
// coordinates, in key order. It stops early when done is closed.
func (db *DB) scanChunks(snap *pebble.Snapshot, info *ArrayInfo, box chunk.Region, jobs chan<- decodeJob, done <-chan struct{}) error {
	lo, hi := chunkBounds(info.ID)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return readErr(info.Name, err)
	}
	defer it.Close()

	last := len(box.Start) - 1
	rowStart := append([]int(nil), box.Start...)
	rowEnd := append([]int(nil), box.Start...)
	coords := make([]int, len(box.Start))
	var seekKey, endKey []byte
	for {
		// One run: chunks rowStart .. rowEnd along the last dimension.
		rowEnd[last] = box.Stop[last]
		for i := 0; i < last; i++ {
			rowEnd[i] = rowStart[i]
		}
		seekKey = appendChunkKey(seekKey[:0], info.ID, rowStart)
		endKey = appendChunkKey(endKey[:0], info.ID, rowEnd)
		want := rowStart[last]
		for valid := it.SeekGE(seekKey); valid && bytes.Compare(it.Key(), endKey) < 0; valid = it.Next() {
			if _, err := parseChunkKey(it.Key(), coords); err != nil {
				return fmt.Errorf("array %q: %w: %v", info.Name, ErrCorrupt, err)
			}
			v, err := it.ValueAndErr()
			if err != nil {
				return readErr(info.Name, err)
			}
			if coords[last] < want || !equalPrefix(coords, rowStart) {
				return fmt.Errorf("array %q: %w: chunk key %v out of order in row %v", info.Name, ErrCorrupt, coords, rowStart)
			}
			for ; want < coords[last]; want++ {
				if !send(jobs, done, decodeJob{coords: withLast(rowStart, want)}) {
					return nil
				}
			}
			if !send(jobs, done, decodeJob{coords: withLast(rowStart, want), stream: bytes.Clone(v)}) {
				return nil
			}
			want++
		}
		if err := it.Error(); err != nil {
			return readErr(info.Name, err)
		}
		for ; want < box.Stop[last]; want++ {
			if !send(jobs, done, decodeJob{coords: withLast(rowStart, want)}) {
				return nil
			}
		}
		// Advance the odometer over the leading dimensions.
		i := last - 1
		for ; i >= 0; i-- {
			rowStart[i]++
			if rowStart[i] < box.Stop[i] {
				break
			}
			rowStart[i] = box.Start[i]
		}
		if i < 0 {
			return nil
		}
	}
}

func equalPrefix(a, b []int) bool {
	for i := 0; i < len(a)-1; i++ {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func withLast(prefix []int, last int) []int {
	c := append([]int(nil), prefix...)
	c[len(c)-1] = last
	return c
}

func send(jobs chan<- decodeJob, done <-chan struct{}, job decodeJob) bool {
	select {
	case jobs <- job:
		return true
	case <-done:
		return false
	}
}

// missingChunk returns the error for a chunk absent from a complete array,
// whose chunks were all stored, and reports it as corruption.
func (db *DB) missingChunk(info *ArrayInfo, coords []int) error {
	err := fmt.Errorf("array %q chunk %v: %w: the chunk is missing, but every chunk of the array was stored", info.Name, coords, ErrCorrupt)
	if f := db.opts.Events.Corruption; f != nil {
		f(CorruptionInfo{Array: info.Name, Coords: append([]int(nil), coords...), Err: err})
	}
	return err
}
