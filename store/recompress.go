package store

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
)

// ErrBoundTooTight marks a recompression to a bound tighter than the one the
// array is stored at: the original values are gone, so the error against
// them cannot shrink.
var ErrBoundTooTight = errors.New("bound is tighter than the stored bound")

// RecompressOptions selects the new encoding of an array.
type RecompressOptions struct {
	// Bound is the new error bound against the original values. ModeRel
	// resolves against the value range in the catalog entry or, for an
	// array that never recorded one, against the range of the stored
	// values (decoded, so within the old bound of the original range).
	Bound codecs.Bound
	// Codec names the new codec; "" keeps the array's codec.
	Codec string
	// Progress, when not nil, receives the chunks done and the total.
	Progress Progress
}

// RecompressResult describes a finished recompression.
type RecompressResult struct {
	Info *ArrayInfo
	// Chunks counts the chunks re-encoded; Skipped counts those kept as they
	// were (already at the new bound, or staged with a coverage bitmap).
	Chunks, Skipped         int
	BytesBefore, BytesAfter int64
}

// Recompress re-encodes array name at a looser bound or with another codec.
//
// The new bound e2 holds against the original values, not against the
// stored approximation: a chunk stored within e1 of its originals is
// decoded and encoded again within e2 - e1 of the decoded values, so every
// value ends within e2 of its original. A bound below the stored bound of
// any chunk is rejected with ErrBoundTooTight before anything is written.
//
// Crash safety: the catalog entry with the new bound is committed first,
// then the chunks in batches. A crash leaves some chunks at their old bound
// and some at the new one, and all of them within the new bound the catalog
// states.
//
// NOTE: chunks with a coverage bitmap (partly written, stored losslessly)
// are kept as they are. After a crash, running Recompress again treats the
// chunks not yet re-encoded as stored at the new bound and skips them. A
// BoundPolicy is not consulted: every chunk gets the uniform bound. A new
// codec needs a bound looser than every chunk's stored bound. Arrays
// stored at ModePWRel, and ModePWRel targets, are rejected.
func (db *DB) Recompress(name string, o RecompressOptions) (res *RecompressResult, err error) {
	if err := db.checkOpen(true); err != nil {
		return nil, err
	}
	unlock := db.lockArray(name)
	defer unlock()
	start := time.Now()
	defer func() {
		if f := db.opts.Events.CompactionFinished; f != nil {
			ci := CompactionInfo{Array: name, Duration: time.Since(start), Err: err}
			if res != nil {
				ci.Chunks, ci.BytesBefore, ci.BytesAfter = res.Chunks, res.BytesBefore, res.BytesAfter
			}
			f(ci)
		}
	}()

	info, err := getInfo(db.pdb, name)
	if err != nil {
		return nil, fmt.Errorf("recompress: %w", err)
	}
	snap := db.pdb.NewSnapshot()
	defer snap.Close()
	if o.Bound.Mode == codecs.ModeRel && info.ValueMin == nil && info.DType.IsFloat() {
		// A ModeRel bound needs the value range, which arrays stored in
		// another mode never recorded: take it from the stored values.
		withRange := *info
		if err := db.storedRange(snap, &withRange); err != nil {
			return nil, fmt.Errorf("recompress array %q: %w", name, err)
		}
		info = &withRange
	}
	next, newAbs, err := recompressedInfo(info, o)
	if err != nil {
		return nil, fmt.Errorf("recompress array %q: %w", name, err)
	}
	codec, err := codecs.ByName(next.Codec)
	if err != nil {
		return nil, fmt.Errorf("recompress array %q: %w", name, err)
	}

	plan, err := db.planRecompress(snap, info, newAbs)
	if err != nil {
		return nil, fmt.Errorf("recompress array %q: %w", name, err)
	}
	if next.Codec != info.Codec && plan.atBound != nil {
		return nil, fmt.Errorf("recompress array %q: codec %s at absolute bound %g: chunk %v is already stored at that bound, which leaves no error to re-encode it with; choose a looser bound",
			name, next.Codec, newAbs, plan.atBound)
	}
	res = &RecompressResult{Info: next, Skipped: plan.skipped, BytesBefore: plan.bytes, BytesAfter: plan.bytes}

	b := db.pdb.NewBatch()
	err = setInfo(b, next)
	if err == nil {
		err = db.commit(b)
	}
	b.Close()
	if err != nil {
		return nil, fmt.Errorf("recompress array %q: commit catalog entry: %w", name, err)
	}

	grid := info.Grid()
	group := 4 * db.opts.Concurrency
	total := len(plan.chunks)
	for first := 0; first < total; first += group {
		batch := plan.chunks[first:min(first+group, total)]
		coords := make([][]int, len(batch))
		for i, c := range batch {
			coords[i] = c.coords
		}
		encoded, err := db.reencodeChunks(snap, next, grid, codec, batch, newAbs)
		if err == nil {
			err = db.commitChunks(next, coords, encoded, nil)
		}
		if err != nil {
			return res, fmt.Errorf("recompress array %q: %w", name, err)
		}
		for i, c := range batch {
			res.BytesAfter += int64(len(encoded[i].stream)) - c.storedBytes
		}
		res.Chunks += len(batch)
		if o.Progress != nil {
			o.Progress(res.Chunks, total)
		}
	}
	return res, nil
}

// recompressedInfo validates o against info and returns the new catalog
// entry and the new absolute bound.
func recompressedInfo(info *ArrayInfo, o RecompressOptions) (*ArrayInfo, float64, error) {
	if err := o.Bound.Validate(); err != nil {
		return nil, 0, err
	}
	if info.Mode == codecs.ModePWRel || o.Bound.Mode == codecs.ModePWRel {
		// A pwrel chunk has no absolute stored bound to subtract from the
		// new one, and its stream decodes only with pwrel parameters.
		return nil, 0, fmt.Errorf("array stored at %s cannot be recompressed to %s: recompression does not support mode pwrel", info.ErrorBound(), o.Bound)
	}
	next := *info
	next.Mode, next.Bound = o.Bound.Mode, o.Bound.Value
	if o.Codec != "" {
		next.Codec = o.Codec
	}
	if _, err := codecs.ByName(next.Codec); err != nil {
		return nil, 0, err
	}
	if !info.DType.IsFloat() && (next.Codec != "lossless" || o.Bound.Mode != codecs.ModeNone) {
		return nil, 0, fmt.Errorf("integer dtype %s is stored losslessly: use mode none and codec lossless", info.DType)
	}
	newAbs := 0.0
	switch {
	case o.Bound.Mode == codecs.ModeRel && info.ValueMin != nil:
		newAbs = o.Bound.Absolute(*info.ValueMax - *info.ValueMin)
	case o.Bound.Mode == codecs.ModeRel:
		// No value is stored yet: the first write resolves the bound.
		next.ValueMin, next.ValueMax = nil, nil
	default:
		newAbs = o.Bound.Absolute(0)
	}
	next.AbsBound = newAbs
	if info.RecompressedBound > 0 || info.AbsBound > 0 {
		next.RecompressedBound = newAbs
	}
	return &next, newAbs, nil
}

type recompressChunk struct {
	coords      []int
	storedBound float64
	storedBytes int64
}

type recompressPlan struct {
	chunks  []recompressChunk
	skipped int
	bytes   int64
	// atBound is the first chunk kept because it is already stored at
	// the new bound, or nil.
	atBound []int
}

// planRecompress reads every chunk header of info in snap, rejects a bound
// tighter than any chunk's stored bound, and lists the chunks to re-encode.
func (db *DB) planRecompress(snap *pebble.Snapshot, info *ArrayInfo, newAbs float64) (*recompressPlan, error) {
	staged := map[string]bool{}
	lo, hi := coverageBounds(info.ID)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	for valid := it.First(); valid; valid = it.Next() {
		staged[string(it.Key()[1:])] = true
	}
	err = it.Error()
	it.Close()
	if err != nil {
		return nil, err
	}

	plan := &recompressPlan{}
	lo, hi = chunkBounds(info.ID)
	it, err = snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		coords := make([]int, len(info.Shape))
		if _, err := parseChunkKey(it.Key(), coords); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		h, _, err := codecs.ParseHeader(v)
		if err != nil {
			db.reportCorruption(info.Name, coords, err)
			return nil, fmt.Errorf("chunk %v: %w", coords, err)
		}
		plan.bytes += int64(len(v))
		isStaged := staged[string(it.Key()[1:])]
		stored := max(h.AbsBound, info.RecompressedBound)
		if isStaged {
			// The chunk's decoded values came from a chunk encoded at most
			// at the array's bound; its new values are exact.
			stored = max(info.AbsBound, info.RecompressedBound)
		}
		if stored > newAbs {
			return nil, fmt.Errorf("%w: the new absolute bound %g is below the bound %g that chunk %v is stored at, and the original values are not kept",
				ErrBoundTooTight, newAbs, stored, coords)
		}
		if isStaged || stored == newAbs {
			if !isStaged && plan.atBound == nil {
				plan.atBound = coords
			}
			plan.skipped++
			continue
		}
		plan.chunks = append(plan.chunks, recompressChunk{coords: coords, storedBound: stored, storedBytes: int64(len(v))})
	}
	return plan, it.Error()
}

// reencodeChunks decodes the chunks of batch from snap and encodes each
// within newAbs minus its stored bound.
func (db *DB) reencodeChunks(snap *pebble.Snapshot, info *ArrayInfo, grid *chunk.Grid, codec codecs.Codec, batch []recompressChunk, newAbs float64) ([]encodedChunk, error) {
	out := make([]encodedChunk, len(batch))
	errs := make([]error, len(batch))
	next := make(chan int, len(batch))
	for i := range batch {
		next <- i
	}
	close(next)
	runWorkers(min(db.opts.Concurrency, len(batch)), func() {
		var raw []byte
		for i := range next {
			c := batch[i]
			region := grid.ChunkRegion(c.coords)
			n := region.Count() * info.DType.Size()
			if cap(raw) < n {
				raw = make([]byte, n)
			}
			raw = raw[:n]
			stream, closer, err := snap.Get(appendChunkKey(nil, info.ID, c.coords))
			if err != nil {
				errs[i] = fmt.Errorf("chunk %v: %w", c.coords, err)
				continue
			}
			err = db.decodeStored(snap, nil, info, c.coords, region, stream, raw)
			closer.Close()
			if err != nil {
				errs[i] = err
				continue
			}
			params := info.params(region.Shape())
			params.Bound = residualBound(newAbs, c.storedBound)
			out[i].stream, errs[i] = codecs.Encode(nil, codec, info.ErrorBound(), params, raw)
		}
	})
	return out, errors.Join(errs...)
}

// residualBound returns the bound for re-encoding values that are within
// stored of their originals so that they end within total: total - stored,
// rounded down so that the sum of the two cannot round above total.
func residualBound(total, stored float64) float64 {
	d := total - stored
	if d <= 0 {
		return 0
	}
	for d+stored > total {
		d = math.Nextafter(d, 0)
	}
	return d
}

// storedRange sets the value range of info from the decoded values of its
// stored chunks, when any value is finite and not the fill value.
func (db *DB) storedRange(snap *pebble.Snapshot, info *ArrayInfo) error {
	lo, hi := chunkBounds(info.ID)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer it.Close()
	grid := info.Grid()
	p := info.params(nil)
	var vr valueRange
	var raw []byte
	for valid := it.First(); valid; valid = it.Next() {
		coords := make([]int, len(info.Shape))
		if _, err := parseChunkKey(it.Key(), coords); err != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		region := grid.ChunkRegion(coords)
		n := region.Count() * info.DType.Size()
		if cap(raw) < n {
			raw = make([]byte, n)
		}
		raw = raw[:n]
		if err := db.decodeStored(snap, nil, info, coords, region, v, raw); err != nil {
			return err
		}
		vr.add(raw, info.DType, p.HasFill, p.Fill)
	}
	if err := it.Error(); err != nil {
		return err
	}
	if vr.ok {
		lo, hi := vr.lo, vr.hi
		info.ValueMin, info.ValueMax = &lo, &hi
	}
	return nil
}
