package store

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/errstat"
	"github.com/epsilon-db/epsilon/internal/realdata"
)

func axisPtr(a int) *int { return &a }

func rel(v float64) codecs.Bound { return codecs.Bound{Mode: codecs.ModeRel, Value: v} }

// TestTemporalGain imports the three time series with and without the
// temporal mode, with the same chunks of one timestep and the same bound,
// checks every value, and logs the ratios.
func TestTemporalGain(t *testing.T) {
	m := realdata.ForTest(t)
	db := openTest(t)
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-40s %6s %12s %12s %12s %8s\n", "series", "rel", "default", "1-step", "temporal", "gain")
	for _, sub := range []string{"cesm_lens_TS", "cesm_lens_PRECT", "ccsm_fice"} {
		f, ok := m.Lookup(sub)
		require.True(t, ok, sub)
		raw, err := m.Read(f)
		require.NoError(t, err)
		steps := append([]int{1}, f.Shape[1:]...)
		for _, r := range []float64{1e-4, 1e-3} {
			ratio := func(kind string, o ArrayOptions) float64 {
				name := fmt.Sprintf("%s_%g_%s", sub, r, kind)
				o.DType, o.Shape, o.Bound = codecs.Float32, f.Shape, rel(r)
				info, err := db.Import(name, bytes.NewReader(raw), int64(len(raw)), o, nil)
				require.NoError(t, err, name)
				got := make([]byte, len(raw))
				require.NoError(t, db.Read(name, chunk.Full(info.Shape), got))
				s := errstat.Compare(viewAs[float32](raw), viewAs[float32](got), info.AbsBound, info.Fill)
				require.NoError(t, s.Err(), name)
				st, err := db.Stat(name)
				require.NoError(t, err)
				return st.Ratio
			}
			plain := ratio("default", ArrayOptions{})
			single := ratio("single", ArrayOptions{Chunks: steps})
			temporal := ratio("temporal", ArrayOptions{TimeAxis: axisPtr(0)})
			fmt.Fprintf(&table, "%-40s %6g %12.2f %12.2f %12.2f %7.2fx\n", f.Name(), r, plain, single, temporal, temporal/single)
		}
	}
	t.Log(table.String())
}

// writeSeries creates a temporal array of nt timesteps of 32x40 smooth
// values and writes it one timestep per call, returning the values.
func writeSeries(t *testing.T, db *DB, name string, nt int, key int) []float32 {
	t.Helper()
	shape := []int{nt, 32, 40}
	_, err := db.Create(name, ArrayOptions{DType: codecs.Float32, Shape: shape, Bound: abs(0.01), TimeAxis: axisPtr(0), KeyInterval: key})
	require.NoError(t, err)
	// Each timestep is the first one plus a small smooth drift, so that
	// residuals pay.
	base := smooth(32*40, 3)
	vals := make([]float32, nt*32*40)
	for i := range vals {
		j := i % (32 * 40)
		vals[i] = base[j] + float32(0.3*float64(i/(32*40))*math.Sin(float64(j)/50))
	}
	for ts := range nt {
		r := chunk.Region{Start: []int{ts, 0, 0}, Stop: []int{ts + 1, 32, 40}}
		require.NoError(t, db.Write(name, r, vals[ts*32*40:(ts+1)*32*40]))
	}
	return vals
}

func readAll(t *testing.T, db *DB, name string) []float32 {
	t.Helper()
	info, err := db.Info(name)
	require.NoError(t, err)
	got := make([]float32, chunk.Shape(info.Shape).Count())
	require.NoError(t, db.Read(name, chunk.Full(info.Shape), got))
	return got
}

func residualCount(t *testing.T, db *DB, name string) int {
	t.Helper()
	info, err := db.Info(name)
	require.NoError(t, err)
	lo, hi := chunkBounds(info.ID)
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	require.NoError(t, err)
	defer it.Close()
	n := 0
	for valid := it.First(); valid; valid = it.Next() {
		if isResidual(it.Value()) {
			n++
		}
	}
	return n
}

func TestTemporalWritesWithinBound(t *testing.T) {
	db := openTest(t)
	vals := writeSeries(t, db, "ts", 20, 4)
	requireWithin(t, vals, readAll(t, db, "ts"), 0.01, nil)
	require.Equal(t, 15, residualCount(t, db, "ts"), "timesteps 0, 4, 8, 12, 16 are keys, the others residuals")

	// One timestep in the middle of a chain, read alone.
	one := make([]float32, 32*40)
	require.NoError(t, db.Read("ts", chunk.Region{Start: []int{7, 0, 0}, Stop: []int{8, 32, 40}}, one))
	requireWithin(t, vals[7*32*40:8*32*40], one, 0.01, nil)
}

func TestTemporalOverwriteKeepsLaterSteps(t *testing.T) {
	db := openTest(t)
	vals := writeSeries(t, db, "ts", 10, 8)
	before := readAll(t, db, "ts")

	// Overwrite timestep 2 with other values: timestep 3 was a residual
	// against the old timestep 2 and must read as before.
	fresh := smooth(32*40, 99)
	require.NoError(t, db.Write("ts", chunk.Region{Start: []int{2, 0, 0}, Stop: []int{3, 32, 40}}, fresh))
	copy(vals[2*32*40:], fresh)
	after := readAll(t, db, "ts")
	requireWithin(t, vals, after, 0.01, nil)
	for i := range after {
		if i/(32*40) != 2 {
			require.Equal(t, before[i], after[i], "value %d outside the overwritten timestep changed", i)
		}
	}

	// A partial write into the re-stored timestep 3 keeps the bound: its
	// other values are approximations and must not be requantized.
	part := smooth(10*40, 5)
	require.NoError(t, db.Write("ts", chunk.Region{Start: []int{3, 0, 0}, Stop: []int{4, 10, 40}}, part))
	copy(vals[3*32*40:], part)
	requireWithin(t, vals, readAll(t, db, "ts"), 0.01, nil)
}

func TestTemporalPersistsAcrossReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db, err := Open(dir, &Options{NoSync: true})
	require.NoError(t, err)
	vals := writeSeries(t, db, "ts", 6, 3)
	require.NoError(t, db.Close())

	db, err = Open(dir, &Options{NoSync: true})
	require.NoError(t, err)
	defer db.Close()
	info, err := db.Info("ts")
	require.NoError(t, err)
	require.NotNil(t, info.TimeAxis)
	require.Equal(t, 0, *info.TimeAxis)
	require.Equal(t, 3, info.KeyInterval)
	requireWithin(t, vals, readAll(t, db, "ts"), 0.01, nil)
}

func TestTemporalDefaultsAndValidation(t *testing.T) {
	db := openTest(t)
	info, err := db.Create("a", ArrayOptions{DType: codecs.Float32, Shape: []int{50, 64, 64}, Bound: abs(1), TimeAxis: axisPtr(0)})
	require.NoError(t, err)
	require.Equal(t, 1, info.Chunks[0])
	require.Equal(t, DefaultKeyInterval, info.KeyInterval)

	cases := map[string]struct {
		o    ArrayOptions
		want string
	}{
		"axis out of range":  {ArrayOptions{DType: codecs.Float32, Shape: []int{4, 4}, Bound: abs(1), TimeAxis: axisPtr(2)}, "time axis 2"},
		"negative axis":      {ArrayOptions{DType: codecs.Float32, Shape: []int{4, 4}, Bound: abs(1), TimeAxis: axisPtr(-1)}, "time axis -1"},
		"chunks span time":   {ArrayOptions{DType: codecs.Float32, Shape: []int{4, 4}, Chunks: []int{2, 4}, Bound: abs(1), TimeAxis: axisPtr(0)}, "spans 2 timesteps"},
		"pwrel":              {ArrayOptions{DType: codecs.Float32, Shape: []int{4, 4}, Bound: codecs.Bound{Mode: codecs.ModePWRel, Value: 0.1}, TimeAxis: axisPtr(0)}, "pwrel=0.1"},
		"lossless":           {ArrayOptions{DType: codecs.Float32, Shape: []int{4, 4}, TimeAxis: axisPtr(0)}, "need an abs, rel, psnr or norm bound"},
		"integer":            {ArrayOptions{DType: codecs.Int32, Shape: []int{4, 4}, TimeAxis: axisPtr(0)}, "need f32 or f64"},
		"key without axis":   {ArrayOptions{DType: codecs.Float32, Shape: []int{4, 4}, Bound: abs(1), KeyInterval: 4}, "without a time axis"},
		"key interval large": {ArrayOptions{DType: codecs.Float32, Shape: []int{4, 4}, Bound: abs(1), TimeAxis: axisPtr(0), KeyInterval: 1 << 20}, "key interval 1048576"},
	}
	for name, c := range cases {
		_, err := db.Create("bad", c.o)
		require.ErrorContains(t, err, c.want, name)
	}
	_, err = db.Info("bad")
	require.ErrorIs(t, err, ErrNotFound, "a rejected array must not be created")
}

func TestTemporalCorruptChainDetected(t *testing.T) {
	db := openTest(t)
	writeSeries(t, db, "ts", 4, 8)
	info, err := db.Info("ts")
	require.NoError(t, err)
	// Remove the key chunk: timestep 1 is a residual with no reference.
	require.NoError(t, db.pdb.Delete(appendChunkKey(nil, info.ID, []int{0, 0, 0}), nil))
	got := make([]float32, 32*40)
	err = db.Read("ts", chunk.Region{Start: []int{1, 0, 0}, Stop: []int{2, 32, 40}}, got)
	require.ErrorIs(t, err, ErrCorrupt)
}

func TestTemporalVerifyCleanResiduals(t *testing.T) {
	db := openTest(t)
	writeSeries(t, db, "ts", 10, 4)
	require.Positive(t, residualCount(t, db, "ts"))
	problems, err := db.Verify("", nil)
	require.NoError(t, err)
	require.Empty(t, problems)

	// A flipped byte in a key chunk makes it and the residuals after it
	// unreadable; verify names the key chunk.
	info, err := db.Info("ts")
	require.NoError(t, err)
	key := appendChunkKey(nil, info.ID, []int{4, 0, 0})
	v, closer, err := db.pdb.Get(key)
	require.NoError(t, err)
	bad := bytes.Clone(v)
	closer.Close()
	bad[len(bad)/2] ^= 0x10
	require.NoError(t, db.pdb.Set(key, bad, nil))
	problems, err = db.Verify("ts", nil)
	require.NoError(t, err)
	require.NotEmpty(t, problems)
	require.Equal(t, ProblemCorruptChunk, problems[0].Kind)
	require.Equal(t, []int{4, 0, 0}, problems[0].Coords)
}

func TestTemporalRecompressResiduals(t *testing.T) {
	db := openTest(t)
	vals := writeSeries(t, db, "ts", 10, 4)
	require.Positive(t, residualCount(t, db, "ts"))
	_, err := db.Recompress("ts", RecompressOptions{Bound: abs(0.05)})
	require.NoError(t, err)
	requireWithin(t, vals, readAll(t, db, "ts"), 0.05, nil)
	problems, err := db.Verify("ts", nil)
	require.NoError(t, err)
	require.Empty(t, problems)

	// ModeRel on an array that never recorded a range reads the range
	// from the stored values, residuals included.
	_, err = db.Recompress("ts", RecompressOptions{Bound: rel(0.05)})
	require.NoError(t, err)
	info, err := db.Info("ts")
	require.NoError(t, err)
	requireWithin(t, vals, readAll(t, db, "ts"), info.AbsBound, nil)
}
