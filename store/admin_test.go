package store

import (
	"bytes"
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
)

func createWritten(t *testing.T, db *DB, name string, shape, chunks []int, bound codecs.Bound, seed uint64) []float32 {
	t.Helper()
	data := smooth(chunk.Shape(shape).Count(), seed)
	_, err := db.Create(name, ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: chunks, Bound: bound})
	require.NoError(t, err)
	require.NoError(t, db.Write(name, chunk.Full(shape), data))
	return data
}

func TestVerifyCleanStore(t *testing.T) {
	db := openTest(t)
	createWritten(t, db, "a", []int{20, 30}, []int{8, 8}, abs(0.01), 1)
	createWritten(t, db, "b", []int{50}, []int{7}, codecs.Bound{}, 2)
	// A partial write leaves staged chunks with coverage bitmaps.
	require.NoError(t, db.Write("a", chunk.Region{Start: []int{1, 1}, Stop: []int{3, 5}}, make([]float32, 8)))

	var calls int
	problems, err := db.Verify("", func(done, total int) { calls++ })
	require.NoError(t, err)
	require.Empty(t, problems)
	require.Positive(t, calls)

	problems, err = db.Verify("a", nil)
	require.NoError(t, err)
	require.Empty(t, problems)
}

func TestVerifyFindsEveryProblem(t *testing.T) {
	var corruptions []CorruptionInfo
	db, err := Open(filepath.Join(t.TempDir(), "db"), &Options{NoSync: true, Events: EventListener{
		Corruption: func(c CorruptionInfo) { corruptions = append(corruptions, c) },
	}})
	require.NoError(t, err)
	defer db.Close()
	createWritten(t, db, "a", []int{20, 30}, []int{8, 8}, abs(0.01), 1)
	info, err := db.Info("a")
	require.NoError(t, err)
	pdb := db.Pebble()

	// A flipped bit in chunk (1,2).
	key := appendChunkKey(nil, info.ID, []int{1, 2})
	v, closer, err := pdb.Get(key)
	require.NoError(t, err)
	bad := bytes.Clone(v)
	closer.Close()
	bad[len(bad)/2] ^= 0x10
	require.NoError(t, pdb.Set(key, bad, nil))
	// Chunk (0,0) holds the stream of a chunk of another shape: (2,3) is
	// 4 by 6 values, (0,0) is 8 by 8.
	v, closer, err = pdb.Get(appendChunkKey(nil, info.ID, []int{2, 3}))
	require.NoError(t, err)
	require.NoError(t, pdb.Set(appendChunkKey(nil, info.ID, []int{0, 0}), bytes.Clone(v), nil))
	closer.Close()
	// A chunk outside the grid, a chunk of an unknown array, a coverage
	// bitmap of a chunk never written.
	require.NoError(t, pdb.Set(appendChunkKey(nil, info.ID, []int{9, 0}), bad, nil))
	require.NoError(t, pdb.Set(appendChunkKey(nil, 77, []int{0, 0}), bad, nil))
	require.NoError(t, pdb.Set(appendCoverageKey(nil, info.ID, []int{0, 1}), newCoverage(64).encode(), nil))

	problems, err := db.Verify("", nil)
	require.NoError(t, err)
	kinds := map[ProblemKind][]Problem{}
	for _, p := range problems {
		kinds[p.Kind] = append(kinds[p.Kind], p)
	}
	require.Len(t, problems, 5, "%v", problems)
	require.Len(t, kinds[ProblemCorruptChunk], 1)
	require.Equal(t, []int{1, 2}, kinds[ProblemCorruptChunk][0].Coords)
	require.Contains(t, kinds[ProblemCorruptChunk][0].String(), `array "a" chunk [1 2]: corrupt chunk: `)
	require.Len(t, kinds[ProblemWrongShape], 1)
	require.Equal(t, []int{0, 0}, kinds[ProblemWrongShape][0].Coords)
	require.Len(t, kinds[ProblemOutsideGrid], 1)
	require.Equal(t, []int{9, 0}, kinds[ProblemOutsideGrid][0].Coords)
	require.Len(t, kinds[ProblemOrphanChunk], 1)
	require.Equal(t, uint64(77), kinds[ProblemOrphanChunk][0].ID)
	require.Len(t, kinds[ProblemOrphanCoverage], 1)
	require.Equal(t, []int{0, 1}, kinds[ProblemOrphanCoverage][0].Coords)
	require.Len(t, corruptions, 1)
	require.Equal(t, []int{1, 2}, corruptions[0].Coords)

	// Verifying one array sees its own chunks, not other arrays' keys.
	problems, err = db.Verify("a", nil)
	require.NoError(t, err)
	require.Len(t, problems, 4, "%v", problems)
}

func TestPendingImportInvisibleAndRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db, err := Open(dir, &Options{NoSync: true})
	require.NoError(t, err)
	info, err := db.createPending("p", ArrayOptions{DType: codecs.Float32, Shape: []int{10}, Chunks: []int{5}, Bound: abs(0.1)})
	require.NoError(t, err)
	chunks, err := db.encodeChunks(info, [][]int{{0}}, func(_ []int, _ chunk.Region, raw []byte) (chunkPlan, error) {
		return chunkPlan{}, nil
	})
	require.NoError(t, err)
	require.NoError(t, db.commitChunks(info, [][]int{{0}}, chunks, nil))

	_, err = db.Info("p")
	require.ErrorIs(t, err, ErrNotFound)
	_, err = db.Create("p", ArrayOptions{DType: codecs.Float32, Shape: []int{10}})
	require.ErrorIs(t, err, ErrExists)
	list, err := db.List()
	require.NoError(t, err)
	require.Empty(t, list)
	problems, err := db.Verify("", nil)
	require.NoError(t, err)
	require.Len(t, problems, 1)
	require.Equal(t, ProblemPendingImport, problems[0].Kind)
	require.NoError(t, db.Close())

	// Reopening for writing removes the pending record and its chunk.
	db, err = Open(dir, &Options{NoSync: true})
	require.NoError(t, err)
	defer db.Close()
	problems, err = db.Verify("", nil)
	require.NoError(t, err)
	require.Empty(t, problems)
	lo, hi := chunkBounds(info.ID)
	it, err := db.Pebble().NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	require.NoError(t, err)
	require.False(t, it.First(), "a chunk of the interrupted import is left")
	require.NoError(t, it.Close())
	_, err = db.Create("p", ArrayOptions{DType: codecs.Float32, Shape: []int{10}})
	require.NoError(t, err)
}

func TestRecompressLooserBound(t *testing.T) {
	var events []CompactionInfo
	db, err := Open(filepath.Join(t.TempDir(), "db"), &Options{NoSync: true, Events: EventListener{
		CompactionFinished: func(c CompactionInfo) { events = append(events, c) },
	}})
	require.NoError(t, err)
	defer db.Close()
	shape := []int{40, 64}
	data := createWritten(t, db, "a", shape, []int{16, 32}, abs(0.01), 3)
	before, err := db.Stat("a")
	require.NoError(t, err)

	res, err := db.Recompress("a", RecompressOptions{Bound: abs(0.1)})
	require.NoError(t, err)
	require.Equal(t, 6, res.Chunks)
	require.Less(t, res.BytesAfter, res.BytesBefore)
	require.Len(t, events, 1)
	require.Equal(t, "a", events[0].Array)

	got := make([]float32, len(data))
	require.NoError(t, db.Read("a", chunk.Full(shape), got))
	requireWithin(t, data, got, 0.1, nil)
	info, err := db.Info("a")
	require.NoError(t, err)
	require.Equal(t, 0.1, info.AbsBound)
	require.Equal(t, 0.1, info.RecompressedBound)
	after, err := db.Stat("a")
	require.NoError(t, err)
	require.Greater(t, after.Ratio, before.Ratio)
	// The stream headers hold the residual bound 0.1 - 0.01.
	require.InDelta(t, 0.09, after.Chunks[0].AbsBound, 1e-12)

	// Again to 0.3: each chunk is stored within 0.1, so it is re-encoded
	// within 0.2 of its decoded values.
	_, err = db.Recompress("a", RecompressOptions{Bound: abs(0.3)})
	require.NoError(t, err)
	require.NoError(t, db.Read("a", chunk.Full(shape), got))
	requireWithin(t, data, got, 0.3, nil)
	st, err := db.Stat("a")
	require.NoError(t, err)
	require.InDelta(t, 0.2, st.Chunks[0].AbsBound, 1e-12)

	// A partial write into the recompressed array keeps the bound: the
	// decoded neighbours are approximations and must not be quantized
	// again.
	patch := chunk.Region{Start: []int{2, 2}, Stop: []int{5, 9}}
	require.NoError(t, db.Write("a", patch, make([]float32, patch.Count())))
	require.NoError(t, db.Read("a", chunk.Full(shape), got))
	for i := 2; i < 5; i++ {
		for j := 2; j < 9; j++ {
			data[i*shape[1]+j] = 0
		}
	}
	requireWithin(t, data, got, 0.3, nil)
	problems, err := db.Verify("a", nil)
	require.NoError(t, err)
	require.Empty(t, problems)
}

func TestRecompressRejectsTighterBound(t *testing.T) {
	db := openTest(t)
	shape := []int{30, 30}
	data := createWritten(t, db, "a", shape, []int{10, 10}, abs(0.05), 4)
	before, err := db.Stat("a")
	require.NoError(t, err)

	_, err = db.Recompress("a", RecompressOptions{Bound: abs(0.01)})
	require.ErrorIs(t, err, ErrBoundTooTight)
	require.Contains(t, err.Error(), "0.01")
	require.Contains(t, err.Error(), "0.05")
	_, err = db.Recompress("a", RecompressOptions{Bound: codecs.Bound{}})
	require.ErrorIs(t, err, ErrBoundTooTight)
	_, err = db.Recompress("a", RecompressOptions{Bound: abs(0.1), Codec: "nosuchcodec"})
	require.Error(t, err)

	// Nothing changed.
	after, err := db.Stat("a")
	require.NoError(t, err)
	require.Equal(t, before.StoredBytes, after.StoredBytes)
	require.Equal(t, before.Info.AbsBound, after.Info.AbsBound)
	got := make([]float32, len(data))
	require.NoError(t, db.Read("a", chunk.Full(shape), got))
	requireWithin(t, data, got, 0.05, nil)
}

func TestRecompressLosslessToLossy(t *testing.T) {
	db := openTest(t)
	shape := []int{64, 64}
	data := createWritten(t, db, "a", shape, []int{32, 32}, codecs.Bound{}, 5)
	res, err := db.Recompress("a", RecompressOptions{Bound: codecs.Bound{Mode: codecs.ModeRel, Value: 1e-3}, Codec: "lorenzo"})
	require.NoError(t, err)
	require.Equal(t, 4, res.Chunks)
	info, err := db.Info("a")
	require.NoError(t, err)
	require.Equal(t, "lorenzo", info.Codec)
	require.Positive(t, info.AbsBound)
	got := make([]float32, len(data))
	require.NoError(t, db.Read("a", chunk.Full(shape), got))
	requireWithin(t, data, got, info.AbsBound, nil)
	st, err := db.Stat("a")
	require.NoError(t, err)
	chunks := 0
	for _, n := range st.Codecs {
		chunks += n
	}
	require.Equal(t, 4, chunks, "array a has 4 chunks: %v", st.Codecs)
}

func TestCompactAndStoreStat(t *testing.T) {
	var events []CompactionInfo
	db, err := Open(filepath.Join(t.TempDir(), "db"), &Options{NoSync: true, Events: EventListener{
		CompactionFinished: func(c CompactionInfo) { events = append(events, c) },
	}})
	require.NoError(t, err)
	defer db.Close()
	createWritten(t, db, "a", []int{64, 64}, []int{16, 64}, abs(0.01), 6)
	createWritten(t, db, "b", []int{64, 64}, []int{16, 64}, abs(0.01), 7)
	require.NoError(t, db.Delete("b"))

	require.NoError(t, db.Compact(context.Background()))
	require.Len(t, events, 1)
	require.Empty(t, events[0].Array)
	require.NoError(t, events[0].Err)

	st, err := db.StoreStat()
	require.NoError(t, err)
	require.Len(t, st.Arrays, 1)
	require.Equal(t, "a", st.Arrays[0].Info.Name)
	require.Equal(t, int64(64*64*4), st.RawBytes)
	require.Greater(t, st.Ratio, 1.0)
	require.Len(t, st.Levels, 7)
	var files int64
	for _, l := range st.Levels {
		files += l.Files
	}
	require.Positive(t, files, "a manual compaction leaves the data in sstables")
	chunks := 0
	for _, n := range st.Codecs {
		chunks += n
	}
	require.Equal(t, 4, chunks, "array a has 4 chunks: %v", st.Codecs)
}

func TestRecompressCorruptChunkWritesNothing(t *testing.T) {
	db := openTest(t)
	shape := []int{32, 32}
	data := createWritten(t, db, "a", shape, []int{8, 32}, abs(0.01), 8)
	info, err := db.Info("a")
	require.NoError(t, err)
	key := appendChunkKey(nil, info.ID, []int{3, 0})
	v, closer, err := db.Pebble().Get(key)
	require.NoError(t, err)
	bad := bytes.Clone(v)
	closer.Close()
	bad[len(bad)-1] ^= 1
	require.NoError(t, db.Pebble().Set(key, bad, nil))

	_, err = db.Recompress("a", RecompressOptions{Bound: abs(0.2)})
	require.ErrorIs(t, err, ErrCorrupt)
	require.Contains(t, err.Error(), "[3 0]")
	require.False(t, errors.Is(err, ErrBoundTooTight))

	after, err := db.Info("a")
	require.NoError(t, err)
	require.Equal(t, 0.01, after.AbsBound)
	got := make([]float32, 3*32)
	require.NoError(t, db.Read("a", chunk.Region{Start: []int{0, 0}, Stop: []int{3, 32}}, got))
	requireWithin(t, data[:3*32], got, 0.01, nil)
}

func TestRecompressRejectsPointwiseRelative(t *testing.T) {
	db := openTest(t)
	shape := []int{40, 64}
	data := smooth(chunk.Shape(shape).Count(), 5)
	for i := range data {
		data[i] = data[i]*1000 + 5000
	}
	pwrel := func(v float64) codecs.Bound { return codecs.Bound{Mode: codecs.ModePWRel, Value: v} }
	_, err := db.Create("a", ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{16, 32}, Bound: pwrel(0.01)})
	require.NoError(t, err)
	require.NoError(t, db.Write("a", chunk.Full(shape), data))
	before, err := db.Stat("a")
	require.NoError(t, err)

	for _, b := range []codecs.Bound{abs(1), pwrel(0.1), pwrel(0.001), {Mode: codecs.ModeRel, Value: 0.1}} {
		_, err = db.Recompress("a", RecompressOptions{Bound: b})
		require.ErrorContains(t, err, "pwrel", "bound %v", b)
	}
	createWritten(t, db, "b", shape, []int{16, 32}, abs(0.01), 6)
	_, err = db.Recompress("b", RecompressOptions{Bound: pwrel(0.1)})
	require.ErrorContains(t, err, "pwrel")

	after, err := db.Stat("a")
	require.NoError(t, err)
	require.Equal(t, before.StoredBytes, after.StoredBytes)
	require.Equal(t, codecs.ModePWRel, after.Info.Mode)
	got := make([]float32, len(data))
	require.NoError(t, db.Read("a", chunk.Full(shape), got))
	for i := range data {
		require.LessOrEqual(t, math.Abs(float64(data[i])-float64(got[i])), 0.01*math.Abs(float64(data[i])), "index %d", i)
	}
}

func TestRecompressRejectsCodecChangeAtStoredBound(t *testing.T) {
	db := openTest(t)
	shape := []int{40, 64}
	data := createWritten(t, db, "a", shape, []int{16, 32}, abs(0.01), 8)
	before, err := db.Stat("a")
	require.NoError(t, err)

	_, err = db.Recompress("a", RecompressOptions{Bound: abs(0.01), Codec: "interp"})
	require.ErrorContains(t, err, "interp")
	require.ErrorContains(t, err, "0.01")
	after, err := db.Stat("a")
	require.NoError(t, err)
	require.Equal(t, before.Info.Codec, after.Info.Codec)
	require.Equal(t, before.StoredBytes, after.StoredBytes)

	// At a looser bound every chunk is re-encoded with the new codec.
	res, err := db.Recompress("a", RecompressOptions{Bound: abs(0.05), Codec: "interp"})
	require.NoError(t, err)
	require.Equal(t, 6, res.Chunks)
	require.Equal(t, "interp", res.Info.Codec)
	got := make([]float32, len(data))
	require.NoError(t, db.Read("a", chunk.Full(shape), got))
	requireWithin(t, data, got, 0.05, nil)
	// The same bound and codec again is a no-op.
	res, err = db.Recompress("a", RecompressOptions{Bound: abs(0.05)})
	require.NoError(t, err)
	require.Zero(t, res.Chunks)
}
