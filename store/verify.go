package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
)

// ProblemKind classifies what Verify found.
type ProblemKind string

// Problem kinds.
const (
	// ProblemCorruptChunk is a chunk that fails its checksum or does not
	// decode.
	ProblemCorruptChunk ProblemKind = "corrupt chunk"
	// ProblemWrongShape is a chunk whose header names another dtype or
	// shape than the catalog entry implies for its coordinates.
	ProblemWrongShape ProblemKind = "wrong shape"
	// ProblemOutsideGrid is a chunk key whose coordinates lie outside the
	// array's chunk grid, or that does not parse.
	ProblemOutsideGrid ProblemKind = "outside grid"
	// ProblemOrphanChunk is a chunk of an array ID no catalog entry has.
	ProblemOrphanChunk ProblemKind = "orphan chunk"
	// ProblemOrphanCoverage is a coverage bitmap without its chunk, of an
	// unknown array, or next to a lossy chunk.
	ProblemOrphanCoverage ProblemKind = "orphan coverage"
	// ProblemCorruptCoverage is a coverage bitmap that fails its checksum.
	ProblemCorruptCoverage ProblemKind = "corrupt coverage"
	// ProblemCorruptCatalog is a catalog entry or store metadata that does
	// not decode or contradicts another.
	ProblemCorruptCatalog ProblemKind = "corrupt catalog"
	// ProblemMissingChunk is a chunk absent from an array whose chunks were
	// all stored (ArrayInfo.Complete).
	ProblemMissingChunk ProblemKind = "missing chunk"
	// ProblemPendingImport is an interrupted import not yet removed; a
	// store opened for writing removes it.
	ProblemPendingImport ProblemKind = "pending import"
	// ProblemStorage is an error Pebble returned while reading, such as a
	// failed sstable block checksum.
	ProblemStorage ProblemKind = "storage error"
)

// Problem is one finding of Verify.
type Problem struct {
	Kind ProblemKind `json:"kind"`
	// Array is the array name, or "" where no catalog entry matches.
	Array string `json:"array,omitempty"`
	// ID is the array ID of the key.
	ID uint64 `json:"id,omitempty"`
	// Coords are the chunk coordinates, nil for catalog problems.
	Coords []int  `json:"coords,omitempty"`
	Detail string `json:"detail"`
}

func (p Problem) String() string {
	var where string
	switch {
	case p.Array != "" && p.Coords != nil:
		where = fmt.Sprintf("array %q chunk %v", p.Array, p.Coords)
	case p.Array != "":
		where = fmt.Sprintf("array %q", p.Array)
	case p.Coords != nil:
		where = fmt.Sprintf("array id %d chunk %v", p.ID, p.Coords)
	case p.ID != 0:
		where = fmt.Sprintf("array id %d", p.ID)
	default:
		where = "store"
	}
	return fmt.Sprintf("%s: %s: %s", where, p.Kind, p.Detail)
}

// Verify decodes every chunk of array name, or of every array when name is
// "", checks each checksum and header against the catalog, and checks the
// catalog against the keys: orphaned chunks and coverage bitmaps, chunks
// outside their grid, interrupted imports. It returns the problems sorted by
// array and chunk; the error is for failures that stop the check itself.
// progress, when not nil, receives the chunks checked out of the chunks in
// the grids. Verify reads one snapshot and runs alongside writes.
func (db *DB) Verify(name string, progress Progress) ([]Problem, error) {
	if err := db.checkOpen(false); err != nil {
		return nil, err
	}
	snap := db.pdb.NewSnapshot()
	defer snap.Close()
	v := &verifier{db: db, snap: snap, arrays: map[uint64]*ArrayInfo{}, progress: progress}
	if name != "" {
		info, err := getInfo(snap, name)
		if err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		v.arrays[info.ID] = info
		v.total = info.Grid().NumChunks()
		lo, hi := chunkBounds(info.ID)
		if err := v.checkChunks(lo, hi); err != nil {
			return nil, err
		}
		v.checkMissing()
		lo, hi = coverageBounds(info.ID)
		if err := v.checkCoverage(lo, hi); err != nil {
			return nil, err
		}
		return v.sorted(), nil
	}

	if err := v.checkCatalog(); err != nil {
		return nil, err
	}
	if err := v.checkChunks([]byte{prefixChunk}, []byte{prefixChunk + 1}); err != nil {
		return nil, err
	}
	v.checkMissing()
	if err := v.checkCoverage([]byte{prefixCoverage}, []byte{prefixCoverage + 1}); err != nil {
		return nil, err
	}
	return v.sorted(), nil
}

type verifier struct {
	db       *DB
	snap     *pebble.Snapshot
	arrays   map[uint64]*ArrayInfo // by array ID, pending imports included
	progress Progress
	total    int

	mu struct {
		sync.Mutex
		problems []Problem
		done     int
		// lossy records the chunk keys present, true for lossy chunks.
		lossy map[string]bool
	}
}

func (v *verifier) add(p Problem) {
	v.mu.Lock()
	v.mu.problems = append(v.mu.problems, p)
	v.mu.Unlock()
}

// storageProblem turns a Pebble read error into a problem when it is a
// corruption error, and returns other errors.
func (v *verifier) storageProblem(err error) error {
	if pebble.IsCorruptionError(err) || errors.Is(err, ErrCorrupt) {
		v.add(Problem{Kind: ProblemStorage, Detail: err.Error()})
		return nil
	}
	return fmt.Errorf("verify: %w", err)
}

// checkCatalog decodes every catalog entry and pending import, and checks
// the format version and the next array ID.
func (v *verifier) checkCatalog() error {
	if err := v.db.checkFormatIn(v.snap); err != nil {
		v.add(Problem{Kind: ProblemCorruptCatalog, Detail: err.Error()})
	}
	var maxID uint64
	byID := map[uint64]string{}
	record := func(info *ArrayInfo) {
		if other, ok := byID[info.ID]; ok {
			v.add(Problem{Kind: ProblemCorruptCatalog, Array: info.Name, ID: info.ID,
				Detail: fmt.Sprintf("array id %d is also used by %q", info.ID, other)})
			return
		}
		byID[info.ID] = info.Name
		v.arrays[info.ID] = info
		v.total += info.Grid().NumChunks()
		maxID = max(maxID, info.ID)
	}

	lo, hi := catalogBounds()
	it, err := v.snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	for valid := it.First(); valid; valid = it.Next() {
		name := string(it.Key()[1:])
		val, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return v.storageProblem(err)
		}
		info, err := decodeInfo(name, val)
		if err != nil {
			v.add(Problem{Kind: ProblemCorruptCatalog, Array: name, Detail: err.Error()})
			continue
		}
		record(info)
	}
	if err := it.Error(); err != nil {
		it.Close()
		return v.storageProblem(err)
	}
	it.Close()

	lo, hi = pendingBounds()
	it, err = v.snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		name := string(it.Key()[len(lo):])
		val, err := it.ValueAndErr()
		if err != nil {
			return v.storageProblem(err)
		}
		info, err := decodeInfo(name, val)
		if err != nil {
			v.add(Problem{Kind: ProblemCorruptCatalog, Array: name, Detail: "pending import: " + err.Error()})
			continue
		}
		v.add(Problem{Kind: ProblemPendingImport, Array: name, ID: info.ID,
			Detail: "an import was interrupted; opening the store for writing removes it"})
		record(info)
	}
	if err := it.Error(); err != nil {
		return v.storageProblem(err)
	}

	next, err := readNextID(v.snap)
	switch {
	case err != nil:
		v.add(Problem{Kind: ProblemCorruptCatalog, Detail: err.Error()})
	case maxID >= next:
		v.add(Problem{Kind: ProblemCorruptCatalog, Detail: fmt.Sprintf("next array id %d is not above the largest array id %d in use", next, maxID)})
	}
	return nil
}

// checkChunks decodes every chunk key in [lo, hi) on up to
// Options.Concurrency goroutines.
func (v *verifier) checkChunks(lo, hi []byte) error {
	it, err := v.snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer it.Close()
	v.mu.lossy = map[string]bool{}

	type job struct {
		info   *ArrayInfo
		coords []int
		stream []byte
	}
	jobs := make(chan job, 2*v.db.opts.Concurrency)
	var wg sync.WaitGroup
	for range v.db.opts.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for j := range jobs {
				v.checkChunk(j.info, j.coords, j.stream, &buf)
			}
		}()
	}

	var iterErr error
	for valid := it.First(); valid; valid = it.Next() {
		key := it.Key()
		if len(key) < 9 {
			v.add(Problem{Kind: ProblemOutsideGrid, Detail: fmt.Sprintf("malformed chunk key %x", key)})
			continue
		}
		id := binary.BigEndian.Uint64(key[1:9])
		info, ok := v.arrays[id]
		if !ok {
			v.add(Problem{Kind: ProblemOrphanChunk, ID: id, Coords: rawCoords(key[9:]),
				Detail: "no catalog entry has this array id"})
			continue
		}
		coords := make([]int, len(info.Shape))
		if _, err := parseChunkKey(key, coords); err != nil {
			v.add(Problem{Kind: ProblemOutsideGrid, Array: info.Name, ID: id, Detail: err.Error()})
			continue
		}
		if !inGrid(info.Grid(), coords) {
			v.add(Problem{Kind: ProblemOutsideGrid, Array: info.Name, ID: id, Coords: coords,
				Detail: fmt.Sprintf("the chunk grid of shape %v in chunks %v has no such chunk", info.Shape, info.Chunks)})
			continue
		}
		val, err := it.ValueAndErr()
		if err != nil {
			iterErr = err
			break
		}
		jobs <- job{info: info, coords: coords, stream: bytes.Clone(val)}
	}
	if iterErr == nil {
		iterErr = it.Error()
	}
	close(jobs)
	wg.Wait()
	if v.progress != nil {
		v.progress(v.total, v.total)
	}
	if iterErr != nil {
		return v.storageProblem(iterErr)
	}
	return nil
}

func (v *verifier) checkChunk(info *ArrayInfo, coords []int, stream []byte, buf *[]byte) {
	region := info.Grid().ChunkRegion(coords)
	n := region.Count() * info.DType.Size()
	if cap(*buf) < n {
		*buf = make([]byte, n)
	}
	lossy := false
	h, _, err := codecs.ParseHeader(stream)
	switch {
	case err != nil:
		v.add(Problem{Kind: ProblemCorruptChunk, Array: info.Name, ID: info.ID, Coords: coords, Detail: err.Error()})
		v.db.reportCorruption(info.Name, coords, err)
	case h.DType != info.DType || !chunk.Shape(h.Shape).Equal(region.Shape()):
		v.add(Problem{Kind: ProblemWrongShape, Array: info.Name, ID: info.ID, Coords: coords,
			Detail: fmt.Sprintf("chunk holds %s %v, the catalog expects %s %v", h.DType, h.Shape, info.DType, region.Shape())})
	default:
		lossy = h.AbsBound > 0
		if err := v.db.decodeStored(v.snap, nil, info, coords, region, stream, (*buf)[:n]); err != nil {
			v.add(Problem{Kind: ProblemCorruptChunk, Array: info.Name, ID: info.ID, Coords: coords, Detail: err.Error()})
		}
	}
	v.mu.Lock()
	v.mu.lossy[string(appendChunkKey(nil, info.ID, coords))] = lossy
	v.mu.done++
	done := v.mu.done
	if v.progress != nil {
		v.progress(min(done, v.total), v.total)
	}
	v.mu.Unlock()
}

// checkCoverage checks every coverage bitmap key in [lo, hi) against the
// chunks checkChunks found.
func (v *verifier) checkCoverage(lo, hi []byte) error {
	it, err := v.snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		key := it.Key()
		if len(key) < 9 {
			v.add(Problem{Kind: ProblemOrphanCoverage, Detail: fmt.Sprintf("malformed coverage key %x", key)})
			continue
		}
		id := binary.BigEndian.Uint64(key[1:9])
		info, ok := v.arrays[id]
		if !ok {
			v.add(Problem{Kind: ProblemOrphanCoverage, ID: id, Coords: rawCoords(key[9:]), Detail: "no catalog entry has this array id"})
			continue
		}
		chunkKey := append([]byte{prefixChunk}, key[1:]...)
		coords := make([]int, len(info.Shape))
		if _, err := parseChunkKey(chunkKey, coords); err != nil {
			v.add(Problem{Kind: ProblemOrphanCoverage, Array: info.Name, ID: id, Detail: err.Error()})
			continue
		}
		lossy, present := v.mu.lossy[string(chunkKey)]
		switch {
		case !present:
			v.add(Problem{Kind: ProblemOrphanCoverage, Array: info.Name, ID: id, Coords: coords, Detail: "coverage bitmap of a chunk that is not stored"})
			continue
		case lossy:
			v.add(Problem{Kind: ProblemOrphanCoverage, Array: info.Name, ID: id, Coords: coords, Detail: "coverage bitmap next to a lossy chunk"})
			continue
		}
		val, err := it.ValueAndErr()
		if err != nil {
			return v.storageProblem(err)
		}
		if _, err := decodeCoverage(val, info.Grid().ChunkRegion(coords).Count()); err != nil {
			v.add(Problem{Kind: ProblemCorruptCoverage, Array: info.Name, ID: id, Coords: coords, Detail: err.Error()})
		}
	}
	if err := it.Error(); err != nil {
		return v.storageProblem(err)
	}
	return nil
}

func (v *verifier) sorted() []Problem {
	ps := v.mu.problems
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Array != b.Array {
			return a.Array < b.Array
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		for k := 0; k < len(a.Coords) && k < len(b.Coords); k++ {
			if a.Coords[k] != b.Coords[k] {
				return a.Coords[k] < b.Coords[k]
			}
		}
		return len(a.Coords) < len(b.Coords)
	})
	return ps
}

// rawCoords parses the coordinates of a key suffix whose dimensions are
// unknown, as 4-byte big-endian numbers; a trailing partial number is
// dropped.
func rawCoords(suffix []byte) []int {
	out := []int{}
	for len(suffix) >= 4 {
		out = append(out, int(binary.BigEndian.Uint32(suffix)))
		suffix = suffix[4:]
	}
	return out
}

// reportCorruption sends a Corruption event.
func (db *DB) reportCorruption(name string, coords []int, err error) {
	if f := db.opts.Events.Corruption; f != nil {
		f(CorruptionInfo{Array: name, Coords: append([]int(nil), coords...), Err: err})
	}
}

// checkFormatIn checks the format version in r without writing.
func (db *DB) checkFormatIn(r reader) error {
	v, closer, err := r.Get(keyFormatVersion)
	if err != nil {
		return fmt.Errorf("format version: %w", err)
	}
	defer closer.Close()
	got, n := binary.Uvarint(v)
	if n <= 0 || got != FormatVersion {
		return fmt.Errorf("format version %x, expected %d", v, FormatVersion)
	}
	return nil
}

// readNextID reads the next array ID; a store without arrays has none and
// returns 1.
func readNextID(r reader) (uint64, error) {
	v, closer, err := r.Get(keyNextID)
	if errors.Is(err, pebble.ErrNotFound) {
		return 1, nil
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, fmt.Errorf("next array id has %d bytes, expected 8", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

func inGrid(g *chunk.Grid, coords []int) bool {
	for i, n := range g.Counts() {
		if coords[i] < 0 || coords[i] >= n {
			return false
		}
	}
	return true
}

// checkMissing reports the chunks absent from complete arrays, after
// checkChunks has recorded the chunks present. Pending imports are skipped,
// since they are still being written.
func (v *verifier) checkMissing() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, info := range v.arrays {
		if !info.Complete {
			continue
		}
		grid := info.Grid()
		_ = grid.ForEach(chunk.Full(info.Shape), func(coords []int) error {
			if _, ok := v.mu.lossy[string(appendChunkKey(nil, info.ID, coords))]; !ok {
				v.mu.problems = append(v.mu.problems, Problem{Kind: ProblemMissingChunk, Array: info.Name, ID: info.ID,
					Coords: append([]int(nil), coords...), Detail: "every chunk of this array was stored, and this one is gone"})
			}
			return nil
		})
	}
}
