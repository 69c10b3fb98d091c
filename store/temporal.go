package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
)

// Temporal arrays. An array with a time axis has chunks of one timestep
// along it. The chunk at timestep t is stored as a residual stream
// (codecs.TransformDelta) against the reconstruction x'(t-1) of the chunk
// at t-1 with the same other coordinates, that is against the values a
// read of t-1 returns, so x'(t) = x'(t-1) + r'(t) is within the array's
// absolute bound of x(t) and errors do not add up along time. The encoder
// checks every value in float64 (see codecs.EncodeDelta).
//
// Chunks at timesteps 0, K, 2K ... (K = KeyInterval) are key chunks, stored
// without a residual, and so are chunks whose previous timestep was never
// written, staged (partly written) chunks, and chunks whose residual stream
// is not smaller than the chunk encoded on its own: the encoder encodes
// both and keeps the smaller, at twice the encoding work. A read decodes the chain from the nearest chunk that
// is not a residual, at most K chunks.
//
// Overwriting the chunk at t changes x'(t), which the stored residual of
// t+1 was encoded against. So the write also replaces t+1, unless it
// writes t+1 too, with its old reconstruction stored losslessly and an
// empty coverage bitmap: reads return the same values as before, and the
// bitmap records that they are not originals (see coverage.go).

func (a *ArrayInfo) temporal() bool { return a.TimeAxis != nil }

// successorChunk is the chunk one timestep after an overwritten one,
// re-stored so that its values stay what they were.
type successorChunk struct {
	coords []int
	chunk  encodedChunk
}

// reconCache keeps, for each position in space, the latest reconstructed
// timestep that one decodeRegion call decoded, so that a read of
// consecutive timesteps decodes each chunk once.
type reconCache struct {
	axis int
	mu   sync.Mutex
	m    map[string]reconEntry
}

type reconEntry struct {
	t   int
	buf []byte
}

func newReconCache(info *ArrayInfo) *reconCache {
	if !info.temporal() {
		return nil
	}
	return &reconCache{axis: *info.TimeAxis, m: map[string]reconEntry{}}
}

// spatialKey returns coords without the time coordinate, as a map key.
func spatialKey(coords []int, axis int) string {
	b := make([]byte, 0, 4*len(coords))
	for i, c := range coords {
		if i != axis {
			b = fmt.Appendf(b, "%d,", c)
		}
	}
	return string(b)
}

// get returns the reconstruction of the chunk at coords, or nil.
func (c *reconCache) get(coords []int) []byte {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[spatialKey(coords, c.axis)]
	if !ok || e.t != coords[c.axis] {
		return nil
	}
	return e.buf
}

// put keeps a copy of buf, the reconstruction of the chunk at coords, when
// it is later in time than what the cache holds for its position.
func (c *reconCache) put(coords []int, buf []byte) {
	if c == nil {
		return
	}
	key := spatialKey(coords, c.axis)
	t := coords[c.axis]
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok && e.t >= t {
		return
	}
	c.m[key] = reconEntry{t: t, buf: bytes.Clone(buf)}
}

// withTime returns a copy of coords with the time coordinate set to t.
func withTime(coords []int, axis, t int) []int {
	c := slices.Clone(coords)
	c[axis] = t
	return c
}

// getStream returns the stored stream of chunk coords, or nil when the
// chunk was never written.
func getStream(r reader, info *ArrayInfo, coords []int) ([]byte, error) {
	v, closer, err := r.Get(appendChunkKey(nil, info.ID, coords))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("array %q chunk %v: %w", info.Name, coords, err)
	}
	defer closer.Close()
	return bytes.Clone(v), nil
}

// isResidual reports whether stream is a temporal residual. A stream whose
// header does not parse is not, and its decode reports the corruption.
func isResidual(stream []byte) bool {
	h, _, err := codecs.ParseHeader(stream)
	return err == nil && h.Transform == codecs.TransformDelta
}

// decodeStored decodes stream, the stored chunk at coords, into buf. For a
// temporal residual it decodes the chain back to the nearest chunk that is
// not one, reading the earlier chunks from r.
func (db *DB) decodeStored(r reader, cache *reconCache, info *ArrayInfo, coords []int, region chunk.Region, stream, buf []byte) error {
	if !info.temporal() || !isResidual(stream) {
		if err := db.decodeChunk(info, coords, region, stream, buf); err != nil {
			return err
		}
		cache.put(coords, buf)
		return nil
	}
	axis := *info.TimeAxis
	chain := [][]byte{stream}
	var ref []byte
	for t := coords[axis] - 1; ref == nil; t-- {
		prev := withTime(coords, axis, t)
		if t < 0 {
			return db.corruptChunk(info, coords, fmt.Errorf("%w: residual chain reaches before timestep 0", ErrCorrupt))
		}
		if cached := cache.get(prev); cached != nil {
			ref = bytes.Clone(cached)
			break
		}
		s, err := getStream(r, info, prev)
		if err != nil {
			return err
		}
		if s == nil {
			return db.corruptChunk(info, withTime(coords, axis, t+1), fmt.Errorf("%w: residual chunk follows timestep %d, which was never written", ErrCorrupt, t))
		}
		if isResidual(s) {
			chain = append(chain, s)
			continue
		}
		ref = make([]byte, len(buf))
		if err := db.decodeChunk(info, prev, region, s, ref); err != nil {
			return err
		}
	}
	next := make([]byte, len(buf))
	for i := len(chain) - 1; i >= 0; i-- {
		c := withTime(coords, axis, coords[axis]-i)
		out := next
		if i == 0 {
			out = buf
		}
		if err := db.decodeResidual(info, c, region, chain[i], ref, out); err != nil {
			return err
		}
		cache.put(c, out)
		ref, next = out, ref
	}
	return nil
}

// decodeResidual decodes the residual stream of chunk coords against ref
// into buf, checking its header against the catalog as decodeChunk does.
func (db *DB) decodeResidual(info *ArrayInfo, coords []int, region chunk.Region, stream, ref, buf []byte) error {
	h, err := codecs.DecodeDelta(buf, stream, ref)
	if h.Shape != nil && (h.DType != info.DType || !chunk.Shape(h.Shape).Equal(region.Shape())) {
		err = fmt.Errorf("%w: chunk holds %s %v, the catalog expects %s %v", ErrCorrupt, h.DType, h.Shape, info.DType, region.Shape())
	}
	if err != nil {
		return db.corruptChunk(info, coords, err)
	}
	return nil
}

// corruptChunk wraps err with the array and chunk, and reports it to the
// Corruption listener when it is corruption.
func (db *DB) corruptChunk(info *ArrayInfo, coords []int, err error) error {
	err = fmt.Errorf("array %q chunk %v: %w", info.Name, coords, err)
	if errors.Is(err, ErrCorrupt) {
		if f := db.opts.Events.Corruption; f != nil {
			f(CorruptionInfo{Array: info.Name, Coords: slices.Clone(coords), Err: err})
		}
	}
	return err
}

// encodeTemporal is encodeChunks for a temporal array. It encodes the
// chunks of each position in space in time order, each against the
// reconstruction of the one before, and positions in parallel.
func (db *DB) encodeTemporal(info *ArrayInfo, coords [][]int, load loadFunc) ([]encodedChunk, error) {
	codec, err := codecs.ByName(info.Codec)
	if err != nil {
		return nil, err
	}
	axis := *info.TimeAxis
	bound := info.ErrorBound()
	if !info.resolved() {
		bound = codecs.Bound{} // as in encodeChunks
	}

	writing := map[string]bool{}
	groups := map[string][]int{}
	var order []string
	for i, c := range coords {
		writing[string(appendChunkKey(nil, info.ID, c))] = true
		key := spatialKey(c, axis)
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], i)
	}
	for _, idx := range groups {
		sort.Slice(idx, func(a, b int) bool { return coords[idx[a]][axis] < coords[idx[b]][axis] })
	}

	enc := temporalEncoder{db: db, info: info, codec: codec, bound: bound, axis: axis, writing: writing, policy: db.policy(info.Name)}
	out := make([]encodedChunk, len(coords))
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	work := func() {
		for {
			g := int(next.Add(1) - 1)
			if g >= len(order) {
				return
			}
			if err := enc.encodeRun(coords, groups[order[g]], load, out); err != nil {
				errOnce.Do(func() { firstErr = err })
				next.Store(int64(len(order)))
				return
			}
		}
	}
	runWorkers(min(db.opts.Concurrency, len(order)), work)
	return out, firstErr
}

type temporalEncoder struct {
	db      *DB
	info    *ArrayInfo
	codec   codecs.Codec
	bound   codecs.Bound
	axis    int
	writing map[string]bool
	policy  BoundPolicy
}

// encodeRun encodes the chunks coords[i], i in idx, which share their
// position in space and are sorted by time, into out.
func (e *temporalEncoder) encodeRun(coords [][]int, idx []int, load loadFunc, out []encodedChunk) error {
	info := e.info
	grid := info.Grid()
	prevT := -1
	var prevRecon []byte
	for _, i := range idx {
		c := coords[i]
		t := c[e.axis]
		region := grid.ChunkRegion(c)
		shape := region.Shape()
		raw := make([]byte, shape.Count()*info.DType.Size())
		plan, err := load(c, region, raw)
		if err != nil {
			return err
		}
		params := info.params(shape)
		switch {
		case plan.staged:
			params.Bound = 0
		case e.policy != nil && e.bound.Mode != codecs.ModeNone:
			if params.Bound, err = e.policy.ChunkBound(info, c, raw); err != nil {
				return err
			}
			if err := checkChunkBound(info.Name, c, params.Bound); err != nil {
				return err
			}
		}

		var ref []byte
		if !plan.staged && params.Bound > 0 && t%info.KeyInterval != 0 {
			if prevT == t-1 && prevRecon != nil {
				ref = prevRecon
			} else if ref, err = e.reconstruct(withTime(c, e.axis, t-1), len(raw)); err != nil {
				return err
			}
		}
		recon := make([]byte, len(raw))
		stream, err := codecs.Encode(nil, e.codec, e.bound, params, raw)
		if err == nil {
			_, err = codecs.Decode(recon, stream)
		}
		if err == nil && ref != nil {
			// Keep the residual only where it is smaller than the chunk
			// encoded on its own.
			deltaRecon := make([]byte, len(raw))
			var delta []byte
			delta, err = codecs.EncodeDelta(nil, e.codec, e.bound, params, raw, ref, deltaRecon)
			if err == nil && len(delta) < len(stream) {
				stream, recon = delta, deltaRecon
			}
		}
		if err != nil {
			return fmt.Errorf("array %q chunk %v: %w", info.Name, c, err)
		}
		out[i] = encodedChunk{stream: stream, plan: plan}
		prevT, prevRecon = t, recon

		if out[i].successor, err = e.successor(c); err != nil {
			return err
		}
	}
	return nil
}

// reconstruct returns the values a read of chunk coords returns now, or nil
// when the chunk was never written.
//
// NOTE: Import commits a few chunks per core at a time, and the first chunk
// of each batch decodes its previous timestep's chain from the store again
// (up to KeyInterval chunks) instead of keeping it from the batch before.
func (e *temporalEncoder) reconstruct(coords []int, n int) ([]byte, error) {
	stream, err := getStream(e.db.pdb, e.info, coords)
	if err != nil || stream == nil {
		return nil, err
	}
	buf := make([]byte, n)
	region := e.info.Grid().ChunkRegion(coords)
	if err := e.db.decodeStored(e.db.pdb, nil, e.info, coords, region, stream, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// successor returns the replacement of the chunk one timestep after c, when
// that chunk is a stored residual that this call does not write.
func (e *temporalEncoder) successor(c []int) (*successorChunk, error) {
	t := c[e.axis] + 1
	if t >= e.info.Shape[e.axis] {
		return nil, nil
	}
	next := withTime(c, e.axis, t)
	if e.writing[string(appendChunkKey(nil, e.info.ID, next))] {
		return nil, nil
	}
	stream, err := getStream(e.db.pdb, e.info, next)
	if err != nil || stream == nil || !isResidual(stream) {
		return nil, err
	}
	region := e.info.Grid().ChunkRegion(next)
	n := region.Count()
	vals := make([]byte, n*e.info.DType.Size())
	if err := e.db.decodeStored(e.db.pdb, nil, e.info, next, region, stream, vals); err != nil {
		return nil, err
	}
	params := e.info.params(region.Shape())
	params.Bound = 0
	lossless, err := codecs.Encode(nil, codecs.Lossless, e.bound, params, vals)
	if err != nil {
		return nil, err
	}
	plan := chunkPlan{staged: true, coverage: newCoverage(n).encode()}
	return &successorChunk{coords: next, chunk: encodedChunk{stream: lossless, plan: plan}}, nil
}
