package store

import (
	"errors"
	"fmt"
	"io"

	"sync"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
)

// Progress is called with the number of chunks done and the total. Calls
// are serialized but may come from different goroutines.
type Progress func(done, total int)

// Import creates array name from src, which holds size bytes of raw
// little-endian values in C order (a headerless file, or the data part of an
// .npy file), and stores it chunk by chunk.
//
// Import streams: it reads each chunk's values from src when it encodes
// that chunk and commits a batch of chunks at a time, so its peak memory is
// a few chunks per core whatever the size of the array. For ModeRel and
// ModePSNR without ArrayOptions.ValueRange, and for ModeNorm, it first reads
// src once to find the value range and the count of finite, non-fill values.
// The array becomes visible only when its last chunk is committed: if Import
// fails, it deletes what it wrote, and if the process dies, the next Open
// does (see pending.go).
func (db *DB) Import(name string, src io.ReaderAt, size int64, o ArrayOptions, progress Progress) (*ArrayInfo, error) {
	if err := db.checkOpen(true); err != nil {
		return nil, err
	}
	if _, err := newArrayInfo(name, &o, db.opts.ChunkBytes); err != nil {
		return nil, fmt.Errorf("import array %q: %w", name, err)
	}
	shape := chunk.Shape(o.Shape)
	if want := int64(shape.Count()) * int64(o.DType.Size()); want != size {
		return nil, fmt.Errorf("import array %q: the input has %d bytes, shape %s of %s needs %d", name, size, shape, o.DType, want)
	}
	needRange := o.Bound.NeedsRange() && o.ValueRange == nil
	if (needRange || o.Bound.Mode == codecs.ModeNorm) && o.DType.IsFloat() {
		vr, count, err := scanRange(src, size, &o)
		if err != nil {
			return nil, fmt.Errorf("import array %q: %w", name, err)
		}
		if vr.ok && needRange {
			o.ValueRange = &[2]float64{vr.lo, vr.hi}
		}
		o.valueCount = count
	}
	info, err := db.createPending(name, o)
	if err != nil {
		return nil, err
	}
	err = db.importChunks(info, src, progress)
	if err == nil {
		info.Complete = true
		err = db.publishPending(info)
	}
	if err != nil {
		if derr := db.dropPending(info); derr != nil {
			err = errors.Join(err, derr)
		}
		return nil, fmt.Errorf("import array %q: %w", name, err)
	}
	return info, nil
}

// scanRange reads src sequentially and returns the range and the count of
// its finite, non-fill values.
func scanRange(src io.ReaderAt, size int64, o *ArrayOptions) (valueRange, int64, error) {
	var count int64
	var vr valueRange
	elem := int64(o.DType.Size())
	buf := make([]byte, (4<<20)/elem*elem)
	hasFill, fill := o.Fill != nil, 0.0
	if hasFill {
		fill = *o.Fill
	}
	for off := int64(0); off < size; off += int64(len(buf)) {
		n := min(int64(len(buf)), size-off)
		if _, err := src.ReadAt(buf[:n], off); err != nil {
			return vr, 0, fmt.Errorf("read input at byte %d: %w", off, err)
		}
		vr.add(buf[:n], o.DType, hasFill, fill)
		count += countValues(buf[:n], o.DType, hasFill, fill)
	}
	return vr, count, nil
}

// importChunks encodes every chunk of info from src and commits them in
// batches of a few chunks per core.
func (db *DB) importChunks(info *ArrayInfo, src io.ReaderAt, progress Progress) error {
	grid := info.Grid()
	total := grid.NumChunks()
	group := 4 * db.opts.Concurrency
	shape := chunk.Shape(info.Shape)
	size := info.DType.Size()
	load := func(_ []int, region chunk.Region, raw []byte) (chunkPlan, error) {
		return chunkPlan{}, readRegion(src, shape, size, region, raw)
	}

	var coords [][]int
	done := 0
	flush := func() error {
		if len(coords) == 0 {
			return nil
		}
		chunks, err := db.encodeChunks(info, coords, load)
		if err != nil {
			return err
		}
		if err := db.commitChunks(info, coords, chunks, nil); err != nil {
			return err
		}
		done += len(coords)
		coords = coords[:0]
		if progress != nil {
			progress(done, total)
		}
		return nil
	}
	err := grid.ForEach(chunk.Full(shape), func(c []int) error {
		coords = append(coords, append([]int(nil), c...))
		if len(coords) < group {
			return nil
		}
		return flush()
	})
	if err != nil {
		return err
	}
	return flush()
}

// Export writes region r of array name to dst as raw little-endian values in
// C order, starting at byte offset base. It decodes one chunk per worker at
// a time and writes each chunk's rows in place, so its peak memory does not
// depend on the size of the region.
func (db *DB) Export(name string, r chunk.Region, dst io.WriterAt, base int64, progress Progress) error {
	if err := db.checkOpen(false); err != nil {
		return err
	}
	snap := db.pdb.NewSnapshot()
	defer snap.Close()
	info, err := getInfo(snap, name)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := validateRegion(r, info.Shape); err != nil {
		return fmt.Errorf("export array %q: %w", name, err)
	}
	size := int64(info.DType.Size())
	total := info.Grid().ChunksOf(r).Count()
	var progressMu sync.Mutex
	doneChunks := 0
	sink := func(coords []int, region chunk.Region, buf []byte) error {
		inter, _ := region.Intersect(r)
		inChunk := offsetIn(inter, region)
		// Walk the rows of the intersection in the output (region r) and,
		// in the same order, in the chunk.
		var rows [][2]int
		_ = chunk.Runs(region.Shape(), inChunk, inter.Shape(), func(off, n int) error {
			rows = append(rows, [2]int{off, n})
			return nil
		})
		k := 0
		err := chunk.Runs(r.Shape(), offsetIn(inter, r), inter.Shape(), func(off, n int) error {
			for n > 0 {
				src := rows[k]
				m := min(n, src[1])
				if _, err := dst.WriteAt(buf[int64(src[0])*size:int64(src[0]+m)*size], base+int64(off)*size); err != nil {
					return fmt.Errorf("write output: %w", err)
				}
				rows[k] = [2]int{src[0] + m, src[1] - m}
				if rows[k][1] == 0 {
					k++
				}
				off += m
				n -= m
			}
			return nil
		})
		if err == nil && progress != nil {
			progressMu.Lock()
			doneChunks++
			progress(doneChunks, total)
			progressMu.Unlock()
		}
		return err
	}
	return db.decodeRegion(snap, info, r, sink)
}

// readRegion reads region of an array of shape, stored as raw C-order values
// of size bytes in src, into raw. Short rows (a column chunk, say) cost one
// system call each, so when the span from the region's first to its last
// byte is at most four times its size, readRegion reads the span at once
// and copies the rows out.
func readRegion(src io.ReaderAt, shape chunk.Shape, size int, region chunk.Region, raw []byte) error {
	var first, last, runs int
	_ = chunk.Runs(shape, region.Start, region.Shape(), func(off, n int) error {
		if runs == 0 {
			first = off
		}
		last = off + n
		runs++
		return nil
	})
	span := last - first
	if runs > 1 && span*size <= 4*len(raw) && len(raw)/runs < 64<<10 {
		buf := make([]byte, span*size)
		if _, err := src.ReadAt(buf, int64(first)*int64(size)); err != nil {
			return fmt.Errorf("read input at byte %d: %w", int64(first)*int64(size), err)
		}
		pos := 0
		return chunk.Runs(shape, region.Start, region.Shape(), func(off, n int) error {
			pos += copy(raw[pos:], buf[(off-first)*size:(off-first+n)*size])
			return nil
		})
	}
	pos := 0
	return chunk.Runs(shape, region.Start, region.Shape(), func(off, n int) error {
		at := int64(off) * int64(size)
		if _, err := src.ReadAt(raw[pos:pos+n*size], at); err != nil {
			return fmt.Errorf("read input at byte %d: %w", at, err)
		}
		pos += n * size
		return nil
	})
}
