package store

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/errstat"
	"github.com/epsilon-db/epsilon/internal/realdata"
)

func openTest(t testing.TB) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "db"), &Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// smooth returns n values of a smooth 3-D-like signal with some noise.
func smooth(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([]float32, n)
	for i := range out {
		x := float64(i)
		out[i] = float32(100*math.Sin(x/37) + 20*math.Cos(x/5.3) + rng.NormFloat64())
	}
	return out
}

func abs(v float64) codecs.Bound { return codecs.Bound{Mode: codecs.ModeAbs, Value: v} }

func requireWithin[T float32 | float64](t *testing.T, orig, dec []T, bound float64, fill *float64) {
	t.Helper()
	s := errstat.Compare(orig, dec, bound, fill)
	require.NoError(t, s.Err())
}

func TestWriteReadWhole(t *testing.T) {
	db := openTest(t)
	shape := []int{10, 33, 47}
	data := smooth(chunk.Shape(shape).Count(), 1)
	_, err := db.Create("a", ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{4, 16, 16}, Bound: abs(0.01)})
	require.NoError(t, err)
	require.NoError(t, db.Write("a", chunk.Full(shape), data))
	got := make([]float32, len(data))
	require.NoError(t, db.Read("a", chunk.Full(shape), got))
	requireWithin(t, data, got, 0.01, nil)

	st, err := db.Stat("a")
	require.NoError(t, err)
	require.Equal(t, 3*3*3, st.ChunksTotal)
	require.Equal(t, 27, st.ChunksStored)
	require.Greater(t, st.Ratio, 1.5)
}

func TestRealFieldsWithinBound(t *testing.T) {
	m := realdata.ForTest(t)
	bounds := []float64{1e-2, 1e-3, 1e-4, 1e-5, 1e-6}
	if testing.Short() {
		bounds = []float64{1e-2, 1e-4}
	}
	db := openTest(t)
	for _, f := range m.Fields() {
		raw, err := m.Read(f)
		require.NoError(t, err)
		for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
			data := convertRaw(raw, f.DType, dt)
			var fill *float64
			if f.Fill != nil {
				// The fill value as the data holds it: a float32 widened
				// to float64 when the file is float32.
				v := *f.Fill
				if f.DType == "float32" {
					v = float64(float32(v))
				}
				fill = &v
			}
			var vr valueRange
			vr.add(data, dt, fill != nil, derefOr(fill))
			require.True(t, vr.ok, f.Name())
			valueRange := vr.hi - vr.lo
			for _, mode := range []codecs.Mode{codecs.ModeAbs, codecs.ModeRel} {
				for _, rel := range bounds {
					name := fmt.Sprintf("%s_%s_%s_%g", f.Name(), dt, mode, rel)
					b := codecs.Bound{Mode: mode, Value: rel}
					if mode == codecs.ModeAbs {
						b.Value = rel * valueRange
					}
					opts := ArrayOptions{DType: dt, Shape: f.Shape, Bound: b, Fill: fill}
					info, err := db.Import(name, bytes.NewReader(data), int64(len(data)), opts, nil)
					require.NoError(t, err, name)
					require.InDelta(t, rel*valueRange, info.AbsBound, 1e-9*valueRange, name)
					checkArray(t, db, info, data)
				}
			}
		}
	}
}

func derefOr(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func checkArray(t *testing.T, db *DB, info *ArrayInfo, raw []byte) {
	t.Helper()
	got := make([]byte, len(raw))
	require.NoError(t, db.Read(info.Name, chunk.Full(info.Shape), got))
	switch info.DType {
	case codecs.Float32:
		requireWithin(t, viewAs[float32](raw), viewAs[float32](got), info.AbsBound, info.Fill)
	case codecs.Float64:
		requireWithin(t, viewAs[float64](raw), viewAs[float64](got), info.AbsBound, info.Fill)
	default:
		require.Equal(t, raw, got)
	}
}

// convertRaw converts raw little-endian values of dtype from ("float32" or
// "float64") to dtype to.
func convertRaw(raw []byte, from string, to codecs.DType) []byte {
	var vals []float64
	if from == "float32" {
		for _, v := range viewAs[float32](raw) {
			vals = append(vals, float64(v))
		}
	} else {
		vals = append(vals, viewAs[float64](raw)...)
	}
	if to == codecs.Float64 {
		return bytes.Clone(sliceBytes(vals))
	}
	out := make([]float32, len(vals))
	for i, v := range vals {
		out[i] = float32(v)
	}
	return sliceBytes(out)
}

func TestSpecialValuesExact(t *testing.T) {
	db := openTest(t)
	shape := []int{20, 30}
	data := smooth(600, 2)
	fill := 9.96921e36
	for i := 0; i < 600; i += 7 {
		data[i] = float32(fill)
	}
	data[5], data[77], data[78] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))
	data[300] = math.Float32frombits(0x7fc00123) // a NaN with a payload
	_, err := db.Create("s", ArrayOptions{DType: codecs.Float32, Shape: shape, Bound: codecs.Bound{Mode: codecs.ModeRel, Value: 1e-3}, Fill: &fill})
	require.NoError(t, err)
	require.NoError(t, db.Write("s", chunk.Full(shape), data))
	got := make([]float32, 600)
	require.NoError(t, db.Read("s", chunk.Full(shape), got))
	info, err := db.Info("s")
	require.NoError(t, err)
	require.NotNil(t, info.ValueMin, "the first write fixes the value range")
	require.Less(t, *info.ValueMax, 1e30, "the fill value is left out of the range")
	requireWithin(t, data, got, info.AbsBound, info.Fill)
	require.Equal(t, uint32(0x7fc00123), math.Float32bits(got[300]))
}

func TestEdgeShapes(t *testing.T) {
	cases := []struct {
		shape, chunks []int
	}{
		{[]int{1}, nil},
		{[]int{1, 1, 1}, nil},
		{[]int{1, 17, 1}, []int{1, 5, 1}},
		{[]int{13, 1, 7}, []int{4, 1, 3}},
		{[]int{7, 11, 13}, []int{3, 5, 7}},
		{[]int{101}, []int{1000}},
		{[]int{5, 6}, []int{50, 60}},
		{[]int{2, 3, 2, 3, 2}, []int{1, 2, 2, 2, 1}},
		{[]int{2, 1, 2, 1, 2, 1, 2, 3}, nil},
	}
	db := openTest(t)
	for i, c := range cases {
		name := fmt.Sprintf("e%d", i)
		n := chunk.Shape(c.shape).Count()
		data := make([]float64, n)
		for j := range data {
			data[j] = math.Sin(float64(j)) * 10
		}
		_, err := db.Create(name, ArrayOptions{DType: codecs.Float64, Shape: c.shape, Chunks: c.chunks, Bound: abs(1e-3)})
		require.NoError(t, err, "shape %v", c.shape)
		require.NoError(t, db.Write(name, chunk.Full(c.shape), data))
		got := make([]float64, n)
		require.NoError(t, db.Read(name, chunk.Full(c.shape), got))
		requireWithin(t, data, got, 1e-3, nil)

		// A region of one value, in the last cell of the array.
		r := chunk.Region{Start: make([]int, len(c.shape)), Stop: make([]int, len(c.shape))}
		for d, s := range c.shape {
			r.Start[d], r.Stop[d] = s-1, s
		}
		one := make([]float64, 1)
		require.NoError(t, db.Read(name, r, one))
		require.InDelta(t, data[n-1], one[0], 1e-3, "shape %v", c.shape)
	}
}

func TestEmptyArray(t *testing.T) {
	db := openTest(t)
	shape := []int{0, 5}
	_, err := db.Create("empty", ArrayOptions{DType: codecs.Float32, Shape: shape, Bound: abs(1)})
	require.NoError(t, err)
	require.NoError(t, db.Write("empty", chunk.Full(shape), []float32{}))
	require.NoError(t, db.Read("empty", chunk.Full(shape), []float32{}))
	st, err := db.Stat("empty")
	require.NoError(t, err)
	require.Equal(t, 0, st.ChunksTotal)
}

func TestUnwrittenChunksReadFill(t *testing.T) {
	db := openTest(t)
	fill := -999.0
	_, err := db.Create("f", ArrayOptions{DType: codecs.Float32, Shape: []int{8, 8}, Chunks: []int{4, 4}, Bound: abs(0.1), Fill: &fill})
	require.NoError(t, err)
	r := chunk.Region{Start: []int{0, 0}, Stop: []int{4, 4}}
	require.NoError(t, db.Write("f", r, smooth(16, 3)))
	got := make([]float32, 64)
	require.NoError(t, db.Read("f", chunk.Full([]int{8, 8}), got))
	require.Equal(t, float32(-999), got[4], "chunk (0,1) was never written")
	require.Equal(t, float32(-999), got[63])
}

func TestIntegerArraysLossless(t *testing.T) {
	db := openTest(t)
	data := make([]int64, 1000)
	for i := range data {
		data[i] = int64(i*i) - 1<<40
	}
	_, err := db.Create("ids", ArrayOptions{DType: codecs.Int64, Shape: []int{1000}, Chunks: []int{300}})
	require.NoError(t, err)
	require.NoError(t, db.Write("ids", chunk.Full([]int{1000}), data))
	got := make([]int64, 1000)
	require.NoError(t, db.Read("ids", chunk.Full([]int{1000}), got))
	require.Equal(t, data, got)
}

// TestPartialWritesKeepBound writes random regions of an array and checks,
// after each write, every value against the last original written there.
// Re-encoding a chunk from decoded values would let errors add up; the
// coverage bitmap must prevent that.
func TestPartialWritesKeepBound(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 11))
	db := openTest(t)
	shape := chunk.Shape{9, 14, 11}
	const bound = 0.05
	_, err := db.Create("p", ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{4, 5, 6}, Bound: abs(bound)})
	require.NoError(t, err)
	model := make([]float32, shape.Count()) // unwritten values read as 0
	full := chunk.Full(shape)
	for step := 0; step < 60; step++ {
		r := chunk.Region{Start: make([]int, 3), Stop: make([]int, 3)}
		for d := range shape {
			a, b := rng.IntN(shape[d]), rng.IntN(shape[d])
			r.Start[d], r.Stop[d] = min(a, b), max(a, b)+1
		}
		if step%10 == 9 {
			r = full
		}
		data := smooth(r.Count(), rng.Uint64())
		require.NoError(t, db.Write("p", r, data))
		chunk.Copy(model, shape, r.Start, data, r.Shape(), make([]int, 3), r.Shape())

		got := make([]float32, shape.Count())
		require.NoError(t, db.Read("p", full, got))
		s := errstat.Compare(model, got, bound, nil)
		require.NoError(t, s.Err(), "step %d after writing %v", step, r)
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db, err := Open(dir, nil)
	require.NoError(t, err)
	data := smooth(500, 4)
	_, err = db.Create("x", ArrayOptions{DType: codecs.Float32, Shape: []int{500}, Bound: abs(0.01), Attrs: []byte(`{"units":"K"}`)})
	require.NoError(t, err)
	require.NoError(t, db.Write("x", chunk.Full([]int{500}), data))
	require.NoError(t, db.Close())
	require.ErrorIs(t, db.Read("x", chunk.Full([]int{500}), data), ErrClosed)

	db, err = Open(dir, &Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	got := make([]float32, 500)
	require.NoError(t, db.Read("x", chunk.Full([]int{500}), got))
	requireWithin(t, data, got, 0.01, nil)
	info, err := db.Info("x")
	require.NoError(t, err)
	require.JSONEq(t, `{"units":"K"}`, string(info.Attrs))
	require.ErrorIs(t, db.Write("x", chunk.Full([]int{500}), data), ErrReadOnly)
}

func TestDeleteAndList(t *testing.T) {
	db := openTest(t)
	for _, n := range []string{"b", "a", "c/d"} {
		_, err := db.Create(n, ArrayOptions{DType: codecs.Float32, Shape: []int{10}, Bound: abs(1)})
		require.NoError(t, err)
		require.NoError(t, db.Write(n, chunk.Full([]int{10}), smooth(10, 5)))
	}
	list, err := db.List()
	require.NoError(t, err)
	require.Len(t, list, 3)
	require.Equal(t, "a", list[0].Name)
	require.NoError(t, db.Delete("b"))
	_, err = db.Info("b")
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorIs(t, db.Delete("b"), ErrNotFound)

	// A new array under the old name starts empty.
	_, err = db.Create("b", ArrayOptions{DType: codecs.Float32, Shape: []int{10}, Bound: abs(1)})
	require.NoError(t, err)
	st, err := db.Stat("b")
	require.NoError(t, err)
	require.Equal(t, 0, st.ChunksStored)
}

func TestCorruptChunkDetected(t *testing.T) {
	db := openTest(t)
	shape := []int{8, 8}
	info, err := db.Create("c", ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{4, 4}, Bound: abs(0.01)})
	require.NoError(t, err)
	require.NoError(t, db.Write("c", chunk.Full(shape), smooth(64, 6)))
	key := appendChunkKey(nil, info.ID, []int{1, 0})
	v, closer, err := db.pdb.Get(key)
	require.NoError(t, err)
	stream := bytes.Clone(v)
	closer.Close()

	var events []CorruptionInfo
	db.opts.Events.Corruption = func(ci CorruptionInfo) { events = append(events, ci) }
	for _, mutate := range []func([]byte) []byte{
		func(s []byte) []byte { s[len(s)-1] ^= 0x10; return s }, // payload bit flip
		func(s []byte) []byte { s[20] ^= 0x01; return s },       // header bit flip
		func(s []byte) []byte { return s[:len(s)/2] },           // truncated
		func(s []byte) []byte { return nil },                    // empty
	} {
		require.NoError(t, db.pdb.Set(key, mutate(bytes.Clone(stream)), nil))
		err := db.Read("c", chunk.Full(shape), make([]float32, 64))
		require.ErrorIs(t, err, ErrCorrupt)
		require.ErrorContains(t, err, `array "c" chunk [1 0]`)
		// Reads that do not touch the chunk still work.
		require.NoError(t, db.Read("c", chunk.Region{Start: []int{0, 0}, Stop: []int{4, 8}}, make([]float32, 32)))
	}
	require.Len(t, events, 4)
	require.Equal(t, []int{1, 0}, events[0].Coords)
}

func TestBadInputWritesNothing(t *testing.T) {
	db := openTest(t)
	good := ArrayOptions{DType: codecs.Float32, Shape: []int{4, 4}, Bound: abs(0.1)}
	cases := []struct {
		name string
		opts func(o *ArrayOptions)
		want string
	}{
		{"dtype", func(o *ArrayOptions) { o.DType = 99 }, "invalid dtype 99"},
		{"codec", func(o *ArrayOptions) { o.Codec = "zfp" }, `unknown codec "zfp"`},
		{"zero bound", func(o *ArrayOptions) { o.Bound = abs(0) }, "invalid abs bound 0: must be a finite number greater than 0"},
		{"negative bound", func(o *ArrayOptions) { o.Bound = abs(-1) }, "invalid abs bound -1"},
		{"nan bound", func(o *ArrayOptions) { o.Bound = abs(math.NaN()) }, "invalid abs bound NaN"},
		{"inf bound", func(o *ArrayOptions) { o.Bound = codecs.Bound{Mode: codecs.ModeRel, Value: math.Inf(1)} }, "invalid rel bound +Inf"},
		{"zero chunk", func(o *ArrayOptions) { o.Chunks = []int{2, 0} }, "dimension 1 has size 0"},
		{"chunk dims", func(o *ArrayOptions) { o.Chunks = []int{2} }, "chunk shape [2] has 1 dimensions"},
		{"shape", func(o *ArrayOptions) { o.Shape = []int{4, -4} }, "dimension 1 has size -4"},
		{"nine dims", func(o *ArrayOptions) { o.Shape = []int{1, 1, 1, 1, 1, 1, 1, 1, 1} }, "allowed are 1 to 8"},
		{"int lossy", func(o *ArrayOptions) { o.DType = codecs.Int32; o.Codec = "lossless" }, "integer arrays are stored losslessly"},
		{"fill nan", func(o *ArrayOptions) { f := math.NaN(); o.Fill = &f }, "fill value NaN: must be finite"},
		{"attrs", func(o *ArrayOptions) { o.Attrs = []byte("{") }, "attrs are not valid JSON"},
	}
	for _, c := range cases {
		o := good
		c.opts(&o)
		_, err := db.Create("bad", o)
		require.ErrorContains(t, err, c.want, c.name)
	}
	_, err := db.Create("bad name!", good)
	require.ErrorIs(t, err, ErrInvalidName)
	_, err = db.Import("imp", bytes.NewReader(make([]byte, 60)), 60, good, nil)
	require.ErrorContains(t, err, "the input has 60 bytes, shape 4x4 of f32 needs 64")

	list, err := db.List()
	require.NoError(t, err)
	require.Empty(t, list, "failed calls must create nothing")

	_, err = db.Create("ok", good)
	require.NoError(t, err)
	_, err = db.Create("ok", good)
	require.ErrorIs(t, err, ErrExists)
	require.ErrorIs(t, db.Write("missing", chunk.Full([]int{4, 4}), make([]float32, 16)), ErrNotFound)
	require.ErrorIs(t, db.Read("missing", chunk.Full([]int{4, 4}), make([]float32, 16)), ErrNotFound)

	bad := []struct {
		r    chunk.Region
		want string
	}{
		{chunk.Region{Start: []int{0, 0}, Stop: []int{5, 4}}, "outside the array, allowed is 0:4"},
		{chunk.Region{Start: []int{2, 0}, Stop: []int{2, 4}}, "start 2 >= stop 2"},
		{chunk.Region{Start: []int{0}, Stop: []int{4}}, "has 1 dimensions, the array has 2"},
	}
	for _, b := range bad {
		require.ErrorContains(t, db.Write("ok", b.r, make([]float32, 16)), b.want)
		require.ErrorContains(t, db.Read("ok", b.r, make([]float32, 16)), b.want)
	}
	require.ErrorContains(t, db.Write("ok", chunk.Full([]int{4, 4}), make([]float32, 15)), "buffer has 60 bytes, region 0:4,0:4 of f32 needs 64")
	require.ErrorContains(t, db.Write("ok", chunk.Full([]int{4, 4}), make([]float64, 16)), "does not match the array dtype f32")
	st, err := db.Stat("ok")
	require.NoError(t, err)
	require.Equal(t, 0, st.ChunksStored, "rejected writes store no chunk")
}

// TestConcurrentReadersSeeWholeWrites runs readers against a writer that
// rewrites the whole array with a new generation each time. One write is one
// batch and each read uses one snapshot, so every read must see a single
// generation in every chunk.
func TestConcurrentReadersSeeWholeWrites(t *testing.T) {
	db := openTest(t)
	shape := chunk.Shape{16, 64}
	_, err := db.Create("g", ArrayOptions{DType: codecs.Float64, Shape: shape, Chunks: []int{4, 16}, Bound: abs(0.01)})
	require.NoError(t, err)
	gen := func(g int) []float64 {
		out := make([]float64, shape.Count())
		for i := range out {
			out[i] = float64(g*1000) + math.Sin(float64(i)/9)
		}
		return out
	}
	require.NoError(t, db.Write("g", chunk.Full(shape), gen(0)))

	const generations = 30
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for g := 1; g <= generations; g++ {
			if err := db.Write("g", chunk.Full(shape), gen(g)); err != nil {
				errs <- err
				return
			}
		}
	}()
	// A second writer on another array runs at the same time.
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := db.Create("other", ArrayOptions{DType: codecs.Float32, Shape: []int{100}, Bound: abs(0.1)}); err != nil {
			errs <- err
			return
		}
		for i := 0; i < 20; i++ {
			if err := db.Write("other", chunk.Full([]int{100}), smooth(100, uint64(i))); err != nil {
				errs <- err
				return
			}
		}
	}()
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := make([]float64, shape.Count())
			for i := 0; i < 40; i++ {
				if err := db.Read("g", chunk.Full(shape), got); err != nil {
					errs <- err
					return
				}
				g := int(math.Round(got[0] / 1000))
				if s := errstat.Compare(gen(g), got, 0.01, nil); !s.OK() {
					errs <- fmt.Errorf("read mixes generations: %v", s.Err())
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestImportExportFile(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t)
	shape := chunk.Shape{12, 40, 30}
	data := smooth(shape.Count(), 8)
	src := filepath.Join(dir, "in.raw")
	require.NoError(t, os.WriteFile(src, sliceBytes(data), 0o644))
	f, err := os.Open(src)
	require.NoError(t, err)
	defer f.Close()
	var calls int
	info, err := db.Import("imp", f, int64(4*len(data)), ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{5, 16, 30}, Bound: codecs.Bound{Mode: codecs.ModeRel, Value: 1e-4}},
		func(done, total int) { calls++; require.LessOrEqual(t, done, total) })
	require.NoError(t, err)
	require.Positive(t, calls)

	r := chunk.Region{Start: []int{3, 7, 2}, Stop: []int{11, 33, 29}}
	out, err := os.Create(filepath.Join(dir, "out.raw"))
	require.NoError(t, err)
	require.NoError(t, db.Export("imp", r, out, 0, nil))
	require.NoError(t, out.Close())
	exported, err := os.ReadFile(filepath.Join(dir, "out.raw"))
	require.NoError(t, err)
	read := make([]float32, r.Count())
	require.NoError(t, db.Read("imp", r, read))
	require.Equal(t, sliceBytes(read), exported, "export equals read of the same region")
	want := make([]float32, r.Count())
	chunk.Copy(want, r.Shape(), make([]int, 3), data, shape, r.Start, r.Shape())
	requireWithin(t, want, read, info.AbsBound, nil)
}

func TestImportFailureRemovesArray(t *testing.T) {
	db := openTest(t)
	_, err := db.Import("broken", failingReader{after: 1000}, 4*4096, ArrayOptions{DType: codecs.Float32, Shape: []int{4096}, Chunks: []int{256}, Bound: abs(0.1)}, nil)
	require.ErrorContains(t, err, "injected read failure")
	_, err = db.Info("broken")
	require.ErrorIs(t, err, ErrNotFound)
}

type failingReader struct{ after int64 }

func (r failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.after {
		return 0, errors.New("injected read failure")
	}
	clear(p)
	return len(p), nil
}

type halfLossless struct{}

func (halfLossless) ChunkBound(_ *ArrayInfo, coords []int, _ []byte) (float64, error) {
	if coords[0] == 0 {
		return 0, nil
	}
	return 0.5, nil
}

func TestBoundPolicyPerChunk(t *testing.T) {
	db := openTest(t)
	shape := chunk.Shape{8, 100}
	_, err := db.Create("pol", ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{4, 100}, Bound: abs(0.01)})
	require.NoError(t, err)
	require.NoError(t, db.SetPolicy("pol", halfLossless{}))
	data := smooth(800, 9)
	require.NoError(t, db.Write("pol", chunk.Full(shape), data))
	st, err := db.Stat("pol")
	require.NoError(t, err)
	require.Equal(t, 0.0, st.Chunks[0].AbsBound)
	require.Equal(t, 0.5, st.Chunks[1].AbsBound)
	got := make([]float32, 800)
	require.NoError(t, db.Read("pol", chunk.Full(shape), got))
	require.Equal(t, data[:400], got[:400], "bound 0 stores the chunk exactly")
	requireWithin(t, data[400:], got[400:], 0.5, nil)
}
