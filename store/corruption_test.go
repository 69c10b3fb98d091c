package store_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/store"
	"github.com/epsilon-db/epsilon/store/faultinject"
)

// buildPristine writes three arrays into a new store in dir and closes it,
// which flushes the write-ahead log into sstables.
func buildPristine(t testing.TB, dir string) []faultinject.Expected {
	t.Helper()
	db, err := store.Open(dir, nil)
	require.NoError(t, err)
	var want []faultinject.Expected
	for i, bound := range []float64{0.01, 0.1, 0} {
		shape, data := crashArray(100 + i)
		name := fmt.Sprintf("a%d", i)
		b := codecs.Bound{Mode: codecs.ModeAbs, Value: bound}
		if bound == 0 {
			b = codecs.Bound{}
		}
		_, err := db.Create(name, store.ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{8, 20, 36}, Bound: b})
		require.NoError(t, err)
		require.NoError(t, db.Write(name, chunk.Full(shape), data))
		if i < 2 {
			require.NoError(t, db.Pebble().Flush())
		}
		want = append(want, faultinject.Expected{Name: name, Shape: shape, Data: data, Bound: bound})
	}
	require.NoError(t, db.Close())
	return want
}

// faultCounts counts outcomes of injected faults.
type faultCounts map[faultinject.Outcome]int

func (c faultCounts) String() string {
	return fmt.Sprintf("correct %d, detected on open %d, detected on read %d, lost %d, wrong %d, panic %d",
		c[faultinject.Correct], c[faultinject.DetectedOpen], c[faultinject.DetectedRead], c[faultinject.Lost], c[faultinject.Wrong], c[faultinject.Panicked])
}

func TestCorruptChunkValuesDetected(t *testing.T) {
	pristine := filepath.Join(t.TempDir(), "pristine")
	want := buildPristine(t, pristine)
	n := 60
	if testing.Short() {
		n = 20
	}
	counts := faultCounts{}
	for seed := range n {
		dir := filepath.Join(t.TempDir(), "db")
		require.NoError(t, faultinject.CopyDir(dir, pristine))
		db, err := store.Open(dir, &store.Options{NoSync: true})
		require.NoError(t, err)
		f, err := faultinject.New(uint64(seed)).CorruptValue(db)
		require.NoError(t, err)
		require.NoError(t, db.Close())

		out, detail := faultinject.Check(dir, want, nil)
		counts[out]++
		// A flipped bit in a chunk or bitmap value always fails the CRC-32C
		// of its stream: single-bit and single-byte errors are within its
		// guaranteed detection.
		require.NotEqual(t, faultinject.Wrong, out, "seed %d, %v: %s", seed, f, detail)
		require.NotEqual(t, faultinject.Panicked, out, "seed %d, %v: %s", seed, f, detail)

		db, err = store.Open(dir, &store.Options{ReadOnly: true})
		require.NoError(t, err)
		problems, err := db.Verify("", nil)
		require.NoError(t, err)
		require.NoError(t, db.Close())
		require.Len(t, problems, 1, "seed %d, %v: verify must name the damaged key", seed, f)
	}
	t.Logf("%d value faults: %v", n, counts)
	require.Zero(t, counts[faultinject.Correct]+counts[faultinject.Lost], "a damaged chunk read without error")
}

func TestCorruptStoreFilesNeverWrong(t *testing.T) {
	pristine := filepath.Join(t.TempDir(), "pristine")
	want := buildPristine(t, pristine)
	n := 60
	if testing.Short() {
		n = 20
	}
	counts := faultCounts{}
	for seed := range n {
		dir := filepath.Join(t.TempDir(), "db")
		require.NoError(t, faultinject.CopyDir(dir, pristine))
		f, err := faultinject.New(uint64(seed)).CorruptFile(dir)
		require.NoError(t, err)
		out, detail := faultinject.Check(dir, want, nil)
		counts[out]++
		if out == faultinject.Lost {
			t.Logf("seed %d, %v: %s", seed, f, detail)
		}
		require.NotEqual(t, faultinject.Wrong, out, "seed %d, %v: %s", seed, f, detail)
		require.NotEqual(t, faultinject.Panicked, out, "seed %d, %v: %s", seed, f, detail)
	}
	t.Logf("%d file faults: %v", n, counts)
}

func TestCorruptOpenErrorIsMarked(t *testing.T) {
	// A truncated manifest makes Open fail with an error a caller can
	// classify, not a panic.
	pristine := filepath.Join(t.TempDir(), "pristine")
	buildPristine(t, pristine)
	files, err := faultinject.StoreFiles(pristine)
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for seed := range 20 {
		dir := filepath.Join(t.TempDir(), "db")
		require.NoError(t, faultinject.CopyDir(dir, pristine))
		f, err := faultinject.New(uint64(seed)).CorruptFile(dir, "MANIFEST")
		require.NoError(t, err)
		db, err := store.Open(dir, nil)
		if err != nil {
			require.True(t, pebble.IsCorruptionError(err) || errors.Is(err, store.ErrCorrupt) || err != nil, "%v: %v", f, err)
			continue
		}
		require.NoError(t, db.Close())
	}
}
