package store

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/epsilon-db/epsilon/codecs"
)

// ChunkStat describes one stored chunk.
type ChunkStat struct {
	Coords      []int   `json:"coords"`
	Codec       string  `json:"codec"`
	AbsBound    float64 `json:"abs_bound"`
	RawBytes    int64   `json:"raw_bytes"`
	StoredBytes int64   `json:"stored_bytes"`
}

// ArrayStat is the storage summary of one array.
type ArrayStat struct {
	Info        *ArrayInfo `json:"info"`
	RawBytes    int64      `json:"raw_bytes"`
	StoredBytes int64      `json:"stored_bytes"`
	// Ratio is RawBytes / StoredBytes, or 0 when nothing is stored.
	Ratio float64 `json:"ratio"`
	// ChunksTotal is the number of chunks in the grid; ChunksStored counts
	// those written.
	ChunksTotal  int `json:"chunks_total"`
	ChunksStored int `json:"chunks_stored"`
	// Codecs counts stored chunks by the codec that encoded them, which
	// differs from Info.Codec where a chunk fell back to lossless.
	Codecs map[string]int `json:"codecs"`
	Chunks []ChunkStat    `json:"chunks"`
}

// Stat returns the storage summary of array name. It reads every chunk
// header and verifies its checksum, but decodes no values.
func (db *DB) Stat(name string) (*ArrayStat, error) {
	if err := db.checkOpen(false); err != nil {
		return nil, err
	}
	snap := db.pdb.NewSnapshot()
	defer snap.Close()
	info, err := getInfo(snap, name)
	if err != nil {
		return nil, fmt.Errorf("stat: %w", err)
	}
	grid := info.Grid()
	st := &ArrayStat{Info: info, RawBytes: info.RawBytes(), ChunksTotal: grid.NumChunks(), Codecs: map[string]int{}}
	lo, hi := chunkBounds(info.ID)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, readErr(name, err)
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		coords := make([]int, len(info.Shape))
		if _, err := parseChunkKey(it.Key(), coords); err != nil {
			return nil, fmt.Errorf("array %q: %w: %v", name, ErrCorrupt, err)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, readErr(name, err)
		}
		h, _, err := codecs.ParseHeader(v)
		if err != nil {
			return nil, fmt.Errorf("array %q chunk %v: %w", name, coords, err)
		}
		c, err := codecs.ByID(h.Codec)
		codecName := fmt.Sprintf("id%d", h.Codec)
		if err == nil {
			codecName = c.Name()
		}
		cs := ChunkStat{
			Coords: coords, Codec: codecName, AbsBound: h.AbsBound,
			RawBytes:    int64(grid.ChunkRegion(coords).Count() * info.DType.Size()),
			StoredBytes: int64(len(v)),
		}
		st.Chunks = append(st.Chunks, cs)
		st.Codecs[codecName]++
		st.StoredBytes += cs.StoredBytes
		st.ChunksStored++
	}
	if err := it.Error(); err != nil {
		return nil, readErr(name, err)
	}
	if st.StoredBytes > 0 {
		st.Ratio = float64(st.RawBytes) / float64(st.StoredBytes)
	}
	return st, nil
}
