package store

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
)

// Write stores data, the values of region r in C order, into array name.
// data is a slice of the array's element type ([]float32 for f32 and so on)
// or a []byte of raw little-endian values.
//
// The write is atomic: all its chunks are committed in one Pebble batch,
// synced to the write-ahead log before Write returns (unless
// Options.NoSync or Options.WriteBehind; with WriteBehind, Write copies
// data and returns, and Flush makes it durable). Chunks the region covers only in part are decoded,
// merged with data and encoded again.
func (db *DB) Write(name string, r chunk.Region, data any) error {
	if err := db.checkOpen(true); err != nil {
		return err
	}
	if db.wb != nil {
		return db.wb.write(name, r, data)
	}
	unlock := db.lockArray(name)
	defer unlock()
	info, err := getInfo(db.pdb, name)
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	raw, err := bytesOf(data, info.DType)
	if err != nil {
		return fmt.Errorf("write array %q: %w", name, err)
	}
	if err := validateRegion(r, info.Shape); err != nil {
		return fmt.Errorf("write array %q: %w", name, err)
	}
	if want := r.Count() * info.DType.Size(); len(raw) != want {
		return fmt.Errorf("write array %q: buffer has %d bytes, region %v of %s needs %d", name, len(raw), r, info.DType, want)
	}

	// A write of the whole array stores every chunk, so from now on a
	// missing chunk means lost data.
	complete := !info.Complete && r.Equal(chunk.Full(info.Shape))
	info.Complete = info.Complete || complete
	return db.writeLocked(info, r, raw, complete)
}

// writeLocked stores raw, the values of region r, into the array that info
// describes, and writes info into the same batch when infoChanged or when
// the first values resolve a ModeRel bound. The caller holds the array's
// write lock and has validated r and raw against info.
func (db *DB) writeLocked(info *ArrayInfo, r chunk.Region, raw []byte, infoChanged bool) error {
	name := info.Name
	if !info.resolved() {
		var vr valueRange
		fill := info.params(nil)
		vr.add(raw, info.DType, fill.HasFill, fill.Fill)
		if vr.ok {
			info.setRange(vr.lo, vr.hi)
			infoChanged = true
		}
	}

	grid := info.Grid()
	var coords [][]int
	_ = grid.ForEach(r, func(c []int) error {
		coords = append(coords, append([]int(nil), c...))
		return nil
	})
	size := info.DType.Size()
	load := func(c []int, region chunk.Region, buf []byte) (chunkPlan, error) {
		inter, _ := region.Intersect(r)
		full := inter.Equal(region)
		var cov coverage
		if !full {
			var err error
			if cov, err = db.loadStaged(info, c, region, buf); err != nil {
				return chunkPlan{}, err
			}
		}
		copyValues(buf, region.Shape(), offsetIn(inter, region), raw, r.Shape(), offsetIn(inter, r), inter.Shape(), size)
		if !full {
			cov.mark(region.Shape(), offsetIn(inter, region), inter.Shape())
			full = cov.full(region.Count())
			if !full {
				return chunkPlan{staged: true, coverage: cov.encode()}, nil
			}
		}
		return chunkPlan{dropCoverage: db.hasCoverage(info.ID, c)}, nil
	}
	chunks, err := db.encodeChunks(info, coords, load)
	if err != nil {
		return fmt.Errorf("write array %q: %w", name, err)
	}
	var extra func(*pebble.Batch) error
	if infoChanged {
		extra = func(b *pebble.Batch) error { return setInfo(b, info) }
	}
	if err := db.commitChunks(info, coords, chunks, extra); err != nil {
		return fmt.Errorf("write array %q: %w", name, err)
	}
	return nil
}

// hasCoverage reports whether chunk coords of array id has a coverage
// bitmap. The caller holds the array's write lock.
func (db *DB) hasCoverage(id uint64, coords []int) bool {
	_, closer, err := db.pdb.Get(appendCoverageKey(nil, id, coords))
	if errors.Is(err, pebble.ErrNotFound) {
		return false
	}
	if err == nil {
		closer.Close()
	}
	return true // on a read error, delete it anyway: a stale bitmap is worse than a needless delete
}

// decodeChunk decodes stream, the stored chunk at coords, into buf and checks
// that its header matches the catalog.
func (db *DB) decodeChunk(info *ArrayInfo, coords []int, region chunk.Region, stream, buf []byte) error {
	h, err := codecs.DecodeOn(db.device, buf, stream)
	if h.Shape != nil && (h.DType != info.DType || !chunk.Shape(h.Shape).Equal(region.Shape())) {
		err = fmt.Errorf("%w: chunk holds %s %v, the catalog expects %s %v", ErrCorrupt, h.DType, h.Shape, info.DType, region.Shape())
	}
	if err != nil {
		err = fmt.Errorf("array %q chunk %v: %w", info.Name, coords, err)
		if errors.Is(err, ErrCorrupt) {
			if f := db.opts.Events.Corruption; f != nil {
				f(CorruptionInfo{Array: info.Name, Coords: append([]int(nil), coords...), Err: err})
			}
		}
		return err
	}
	return nil
}

// validateRegion checks r against an array of the given shape. The full
// region of an empty array is valid and holds no value. The error wraps
// ErrInvalidRegion.
func validateRegion(r chunk.Region, shape []int) error {
	s := chunk.Shape(shape)
	if s.Count() == 0 && r.Equal(chunk.Full(s)) {
		return nil
	}
	if err := r.ValidateIn(s); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidRegion, err)
	}
	return nil
}
