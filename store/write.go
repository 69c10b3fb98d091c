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
// Options.NoSync). Chunks the region covers only in part are decoded,
// merged with data and encoded again.
func (db *DB) Write(name string, r chunk.Region, data any) error {
	if err := db.checkOpen(true); err != nil {
		return err
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

	infoChanged := false
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
	load := func(c []int, region chunk.Region, buf []byte) error {
		inter, _ := region.Intersect(r)
		if !inter.Equal(region) {
			if err := db.readChunkForMerge(info, c, region, buf); err != nil {
				return err
			}
		}
		copyValues(buf, region.Shape(), offsetIn(inter, region), raw, r.Shape(), offsetIn(inter, r), inter.Shape(), size)
		return nil
	}
	streams, err := db.encodeChunks(info, coords, load)
	if err != nil {
		return fmt.Errorf("write array %q: %w", name, err)
	}

	b := db.pdb.NewBatch()
	defer b.Close()
	var stored int64
	var key []byte
	for i, c := range coords {
		key = appendChunkKey(key[:0], info.ID, c)
		if err := b.Set(key, streams[i], nil); err != nil {
			return err
		}
		stored += int64(len(streams[i]))
	}
	if infoChanged {
		if err := setInfo(b, info); err != nil {
			return err
		}
	}
	if err := b.Commit(db.wopts); err != nil {
		return fmt.Errorf("write array %q: commit: %w", name, err)
	}
	if f := db.opts.Events.ChunksWritten; f != nil {
		f(ChunksWrittenInfo{Array: name, Chunks: len(coords), RawBytes: int64(len(raw)), StoredBytes: stored})
	}
	return nil
}

// readChunkForMerge decodes the stored chunk at coords into buf, or fills
// buf with the fill value when the chunk was never written.
func (db *DB) readChunkForMerge(info *ArrayInfo, coords []int, region chunk.Region, buf []byte) error {
	stream, closer, err := db.pdb.Get(appendChunkKey(nil, info.ID, coords))
	if errors.Is(err, pebble.ErrNotFound) {
		p := info.params(nil)
		fillBytes(buf, info.DType, p.HasFill, p.Fill)
		return nil
	}
	if err != nil {
		return err
	}
	defer closer.Close()
	return db.decodeChunk(info, coords, region, stream, buf)
}

// decodeChunk decodes stream, the stored chunk at coords, into buf and checks
// that its header matches the catalog.
func (db *DB) decodeChunk(info *ArrayInfo, coords []int, region chunk.Region, stream, buf []byte) error {
	h, err := codecs.Decode(buf, stream)
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
// region of an empty array is valid and holds no value.
func validateRegion(r chunk.Region, shape []int) error {
	s := chunk.Shape(shape)
	if s.Count() == 0 && r.Equal(chunk.Full(s)) {
		return nil
	}
	return r.ValidateIn(s)
}
