package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/realdata"
)

// openMode opens a store in a fresh folder, with write-behind when wb is set.
func openMode(t testing.TB, wb bool, o Options) *DB {
	t.Helper()
	o.NoSync = true
	o.WriteBehind = wb
	db, err := Open(filepath.Join(t.TempDir(), "db"), &o)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func modes() []struct {
	name string
	wb   bool
} {
	return []struct {
		name string
		wb   bool
	}{{"sync", false}, {"writebehind", true}}
}

// loadTS returns the cesm_lens_TS field: 10 daily timesteps of 192x288.
func loadTS(t *testing.T) ([]float32, []int) {
	m := realdata.ForTest(t)
	f, ok := m.Lookup("cesm_lens_TS")
	require.True(t, ok, "cesm_lens_TS is missing from the data set")
	raw, err := m.Read(f)
	require.NoError(t, err)
	return append([]float32(nil), viewAs[float32](raw)...), f.Shape
}

func TestAppendRealFieldStepByStep(t *testing.T) {
	data, shape := loadTS(t)
	step := shape[1] * shape[2]
	const bound = 0.05 // kelvin
	for _, mode := range modes() {
		t.Run(mode.name, func(t *testing.T) {
			db := openMode(t, mode.wb, Options{})
			_, err := db.Create("TS", ArrayOptions{
				DType: codecs.Float32, Shape: []int{0, shape[1], shape[2]}, Unlimited: true,
				Chunks: []int{4, 96, 144}, Bound: abs(bound),
			})
			require.NoError(t, err)
			for i := range shape[0] {
				r, err := db.Append("TS", []int{1, shape[1], shape[2]}, data[i*step:(i+1)*step])
				require.NoError(t, err, "timestep %d", i)
				require.Equal(t, i, r.Start[0])
				require.Equal(t, i+1, r.Stop[0])
			}
			require.NoError(t, db.Flush())

			info, err := db.Info("TS")
			require.NoError(t, err)
			require.Equal(t, shape, info.Shape)

			for _, rows := range [][2]int{{0, 10}, {3, 7}, {9, 10}, {0, 1}, {4, 8}} {
				r := chunk.Full(shape)
				r.Start[0], r.Stop[0] = rows[0], rows[1]
				got := make([]float32, r.Count())
				require.NoError(t, db.Read("TS", r, got))
				requireWithin(t, data[rows[0]*step:rows[1]*step], got, bound, nil)
			}

			// Timesteps 0-7 fill two chunk rows, which are encoded lossily;
			// timesteps 8-9 half fill the third, which stays staged.
			st, err := db.Stat("TS")
			require.NoError(t, err)
			require.Equal(t, 12, st.ChunksStored)
			for _, c := range st.Chunks {
				if c.Coords[0] < 2 {
					require.Equal(t, bound, c.AbsBound, "chunk %v", c.Coords)
				} else {
					require.Equal(t, 0.0, c.AbsBound, "chunk %v", c.Coords)
				}
			}
			require.Greater(t, st.Ratio, 2.0)
		})
	}
}

func TestAppendCompletesStagedChunkAfterReopen(t *testing.T) {
	data, shape := loadTS(t)
	step := shape[1] * shape[2]
	dir := filepath.Join(t.TempDir(), "db")
	for i, wb := range []bool{true, false, true} {
		// Each handle appends a part of the series: 0-2, 3-5, 6-9.
		db, err := Open(dir, &Options{NoSync: true, WriteBehind: wb})
		require.NoError(t, err)
		if i == 0 {
			_, err = db.Create("TS", ArrayOptions{DType: codecs.Float32, Shape: []int{0, shape[1], shape[2]}, Unlimited: true, Chunks: []int{4, 192, 288}, Bound: abs(0.01)})
			require.NoError(t, err)
		}
		first, last := 3*i, min(3*i+3, 10)
		if i == 2 {
			last = 10
		}
		for s := first; s < last; s++ {
			_, err := db.Append("TS", []int{1, shape[1], shape[2]}, data[s*step:(s+1)*step])
			require.NoError(t, err)
		}
		require.NoError(t, db.Close())
	}
	db, err := Open(dir, &Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	got := make([]float32, len(data))
	require.NoError(t, db.Read("TS", chunk.Full(shape), got))
	requireWithin(t, data, got, 0.01, nil)
}

func TestAppendBadInput(t *testing.T) {
	for _, mode := range modes() {
		t.Run(mode.name, func(t *testing.T) {
			db := openMode(t, mode.wb, Options{})
			_, err := db.Create("u", ArrayOptions{DType: codecs.Float32, Shape: []int{0, 4, 5}, Unlimited: true, Bound: abs(0.1)})
			require.NoError(t, err)
			_, err = db.Create("fixed", ArrayOptions{DType: codecs.Float32, Shape: []int{3, 4, 5}, Bound: abs(0.1)})
			require.NoError(t, err)

			cases := []struct {
				name, array string
				shape       []int
				data        any
				want        string
			}{
				{"wrong trailing shape", "u", []int{1, 5, 4}, make([]float32, 20), "trailing dimensions [5 4], the array's are [4 5]"},
				{"wrong rank", "u", []int{1, 20}, make([]float32, 20), "has 2 dimensions, the array has 3"},
				{"no timestep", "u", []int{0, 4, 5}, []float32{}, "appends 0 timesteps"},
				{"short buffer", "u", []int{2, 4, 5}, make([]float32, 20), "buffer has 80 bytes, data shape [2 4 5] of f32 needs 160"},
				{"wrong dtype", "u", []int{1, 4, 5}, make([]float64, 20), "does not match the array dtype"},
				{"fixed shape", "fixed", []int{1, 4, 5}, make([]float32, 20), "fixed shape [3 4 5]"},
			}
			for _, c := range cases {
				_, err := db.Append(c.array, c.shape, c.data)
				require.ErrorContains(t, err, c.want, c.name)
			}
			_, err = db.Append("missing", []int{1, 4, 5}, make([]float32, 20))
			require.ErrorIs(t, err, ErrNotFound)

			// Bad input writes nothing and does not break the pipeline.
			require.NoError(t, db.Flush())
			info, err := db.Info("u")
			require.NoError(t, err)
			require.Equal(t, []int{0, 4, 5}, info.Shape)
			_, err = db.Append("u", []int{1, 4, 5}, make([]float32, 20))
			require.NoError(t, err)
			require.NoError(t, db.Flush())
		})
	}
}

func TestCreateUnlimitedValidation(t *testing.T) {
	db := openTest(t)
	_, err := db.Create("z", ArrayOptions{DType: codecs.Float32, Shape: []int{0, 0, 5}, Unlimited: true})
	require.ErrorContains(t, err, "trailing dimension 1 has size 0")

	info, err := db.Create("d", ArrayOptions{DType: codecs.Float32, Shape: []int{0, 64, 64}, Unlimited: true, Bound: abs(1)})
	require.NoError(t, err)
	// 16 KiB per timestep: a default chunk of 1 MiB spans 64 timesteps.
	require.Equal(t, []int{64, 64, 64}, info.Chunks)

	info, err = db.Create("big", ArrayOptions{DType: codecs.Float32, Shape: []int{0, 1024, 1024}, Unlimited: true, Bound: abs(1)})
	require.NoError(t, err)
	require.Equal(t, 1, info.Chunks[0])
	require.Less(t, chunk.Shape(info.Chunks).Count()*4, 2<<20)
}

// stepValue is the value at index i of timestep s, so that a reader can
// check which timestep it reads.
func stepValue(s, i int) float32 { return float32(1000*s + i%97) }

func TestConcurrentAppendReadersSeeWholeTimesteps(t *testing.T) {
	for _, mode := range modes() {
		t.Run(mode.name, func(t *testing.T) {
			db := openMode(t, mode.wb, Options{MaxPendingBytes: 64 << 10})
			fill := -1.0
			trailing := []int{6, 10}
			_, err := db.Create("a", ArrayOptions{DType: codecs.Float32, Shape: []int{0, 6, 10}, Unlimited: true, Chunks: []int{3, 4, 5}, Bound: abs(0.01), Fill: &fill})
			require.NoError(t, err)
			const steps = 40
			var done atomic.Bool
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for !done.Load() {
						info, err := db.Info("a")
						if err != nil {
							errs <- err
							return
						}
						n := info.Shape[0]
						if n == 0 {
							continue
						}
						got := make([]float32, n*60)
						if err := db.Read("a", chunk.Full(info.Shape), got); err != nil {
							errs <- err
							return
						}
						for i, v := range got {
							want := stepValue(i/60, i%60)
							if d := float64(v - want); d > 0.01 || d < -0.01 {
								errs <- fmt.Errorf("shape %v: value %d (timestep %d) is %v, expected %v", info.Shape, i, i/60, v, want)
								return
							}
						}
					}
				}()
			}
			for s := range steps {
				vals := make([]float32, 60)
				for i := range vals {
					vals[i] = stepValue(s, i)
				}
				_, err := db.Append("a", append([]int{1}, trailing...), vals)
				require.NoError(t, err)
				if s%7 == 0 {
					require.NoError(t, db.Flush())
				}
			}
			require.NoError(t, db.Flush())
			done.Store(true)
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			info, err := db.Info("a")
			require.NoError(t, err)
			require.Equal(t, steps, info.Shape[0])
		})
	}
}

// gatePolicy blocks every chunk encoding until its gate is closed, and
// records the highest reserved byte count it sees.
type gatePolicy struct {
	gate    chan struct{}
	wb      *writeBehind
	peak    atomic.Int64
	calls   atomic.Int64
	failAt  int64 // the call that fails, counting from 1; 0: none
	failErr error
}

func (p *gatePolicy) ChunkBound(info *ArrayInfo, _ []int, _ []byte) (float64, error) {
	<-p.gate
	p.wb.mu.Lock()
	pending := p.wb.mu.pending
	p.wb.mu.Unlock()
	for {
		old := p.peak.Load()
		if pending <= old || p.peak.CompareAndSwap(old, pending) {
			break
		}
	}
	if n := p.calls.Add(1); n == p.failAt {
		return 0, p.failErr
	}
	return info.AbsBound, nil
}

func TestWriteBehindBlocksAtMaxPending(t *testing.T) {
	const maxPending = 1 << 20
	db := openMode(t, true, Options{MaxPendingBytes: maxPending, Concurrency: 2})
	// A timestep is 256 KiB and one chunk.
	_, err := db.Create("a", ArrayOptions{DType: codecs.Float32, Shape: []int{0, 256, 256}, Unlimited: true, Chunks: []int{1, 256, 256}, Bound: abs(0.01)})
	require.NoError(t, err)
	p := &gatePolicy{gate: make(chan struct{}), wb: db.wb}
	require.NoError(t, db.SetPolicy("a", p))
	step := smooth(256*256, 3)

	// With encoding stalled, four timesteps fill the cap and the fifth
	// blocks.
	for range 4 {
		_, err := db.Append("a", []int{1, 256, 256}, step)
		require.NoError(t, err)
	}
	returned := make(chan error, 1)
	go func() {
		_, err := db.Append("a", []int{1, 256, 256}, step)
		returned <- err
	}()
	select {
	case err := <-returned:
		t.Fatalf("Append returned (%v) while %d bytes were pending with a cap of %d", err, maxPending, maxPending)
	case <-time.After(200 * time.Millisecond):
	}
	close(p.gate)
	require.NoError(t, <-returned)
	for range 20 {
		_, err := db.Append("a", []int{1, 256, 256}, step)
		require.NoError(t, err)
	}
	require.NoError(t, db.Flush())
	require.LessOrEqual(t, p.peak.Load(), int64(maxPending))
	require.Greater(t, p.peak.Load(), int64(maxPending/2), "the pipeline never filled")

	db.wb.mu.Lock()
	require.Zero(t, db.wb.mu.pending, "bytes still reserved after Flush")
	db.wb.mu.Unlock()
	info, err := db.Info("a")
	require.NoError(t, err)
	require.Equal(t, 25, info.Shape[0])
}

func TestWriteBehindErrorSurfacesOnFlush(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db, err := Open(dir, &Options{NoSync: true, WriteBehind: true, Concurrency: 1})
	require.NoError(t, err)
	_, err = db.Create("a", ArrayOptions{DType: codecs.Float32, Shape: []int{0, 8, 8}, Unlimited: true, Chunks: []int{1, 8, 8}, Bound: abs(0.01)})
	require.NoError(t, err)
	gate := make(chan struct{})
	close(gate)
	policyErr := errors.New("policy rejects this chunk")
	require.NoError(t, db.SetPolicy("a", &gatePolicy{gate: gate, wb: db.wb, failAt: 3, failErr: policyErr}))
	step := smooth(64, 4)
	for range 2 {
		_, err := db.Append("a", []int{1, 8, 8}, step)
		require.NoError(t, err)
	}
	require.NoError(t, db.Flush())
	// The third timestep fails in the encoder, after Append returned.
	_, err = db.Append("a", []int{1, 8, 8}, step)
	require.NoError(t, err)
	err = db.Flush()
	require.ErrorIs(t, err, ErrWriteBehind)
	require.ErrorIs(t, err, policyErr)
	require.ErrorContains(t, err, `append array "a"`)

	_, err = db.Append("a", []int{1, 8, 8}, step)
	require.ErrorIs(t, err, ErrWriteBehind, "the next call returns the failure")
	require.ErrorIs(t, db.Write("a", chunk.Region{Start: []int{0, 0, 0}, Stop: []int{1, 8, 8}}, step), ErrWriteBehind)
	require.ErrorIs(t, db.Close(), ErrWriteBehind)

	// The failed call and everything after it are not in the store.
	db, err = Open(dir, &Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	info, err := db.Info("a")
	require.NoError(t, err)
	require.Equal(t, []int{2, 8, 8}, info.Shape)
}

func TestWriteBehindCloseWaitsForEveryCall(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db, err := Open(dir, &Options{WriteBehind: true, MaxPendingBytes: 256 << 10})
	require.NoError(t, err)
	_, err = db.Create("a", ArrayOptions{DType: codecs.Float64, Shape: []int{0, 50, 40}, Unlimited: true, Chunks: []int{3, 25, 40}, Bound: abs(1e-3)})
	require.NoError(t, err)
	var all []float64
	for s := range 17 {
		vals := make([]float64, 2000)
		for i := range vals {
			vals[i] = float64(s) + float64(i)/2000
		}
		all = append(all, vals...)
		_, err := db.Append("a", []int{1, 50, 40}, vals)
		require.NoError(t, err)
	}
	require.NoError(t, db.Close())

	_, err = db.Append("a", []int{1, 50, 40}, make([]float64, 2000))
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, db.Write("a", chunk.Region{Start: []int{0, 0, 0}, Stop: []int{1, 50, 40}}, make([]float64, 2000)), ErrClosed)
	require.ErrorIs(t, db.Flush(), ErrClosed)
	require.ErrorIs(t, db.Close(), ErrClosed)

	db, err = Open(dir, nil)
	require.NoError(t, err)
	defer db.Close()
	got := make([]float64, len(all))
	require.NoError(t, db.Read("a", chunk.Full([]int{17, 50, 40}), got))
	requireWithin(t, all, got, 1e-3, nil)
}

func TestWriteBehindPartialWritesKeepBound(t *testing.T) {
	db := openMode(t, true, Options{})
	shape := []int{12, 30}
	_, err := db.Create("p", ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{4, 16}, Bound: abs(0.01)})
	require.NoError(t, err)
	data := smooth(360, 5)
	// Row by row: each chunk is staged three times, then completed.
	for row := range 12 {
		r := chunk.Region{Start: []int{row, 0}, Stop: []int{row + 1, 30}}
		require.NoError(t, db.Write("p", r, data[row*30:(row+1)*30]))
	}
	// Overwrite part of a completed (lossy) chunk: this reloads it from the
	// store, whose values are now approximations.
	patch := smooth(4, 6)
	require.NoError(t, db.Write("p", chunk.Region{Start: []int{5, 3}, Stop: []int{7, 5}}, patch))
	require.NoError(t, db.Flush())

	want := append([]float32(nil), data...)
	want[5*30+3], want[5*30+4], want[6*30+3], want[6*30+4] = patch[0], patch[1], patch[2], patch[3]
	got := make([]float32, 360)
	require.NoError(t, db.Read("p", chunk.Full(shape), got))
	requireWithin(t, want, got, 0.01, nil)

	st, err := db.Stat("p")
	require.NoError(t, err)
	for _, c := range st.Chunks {
		if c.Coords[0] == 1 && c.Coords[1] == 0 {
			require.Equal(t, 0.0, c.AbsBound, "the patched chunk is staged")
		} else {
			require.Equal(t, 0.01, c.AbsBound, "chunk %v", c.Coords)
		}
	}
}

func TestWriteBehindDeleteAndCreateAgain(t *testing.T) {
	db := openMode(t, true, Options{})
	opts := ArrayOptions{DType: codecs.Float32, Shape: []int{0, 10}, Unlimited: true, Chunks: []int{4, 10}, Bound: abs(0.01)}
	_, err := db.Create("a", opts)
	require.NoError(t, err)
	for range 3 {
		_, err := db.Append("a", []int{1, 10}, smooth(10, 7))
		require.NoError(t, err)
	}
	require.NoError(t, db.Delete("a"))
	_, err = db.Info("a")
	require.ErrorIs(t, err, ErrNotFound)

	_, err = db.Create("a", opts)
	require.NoError(t, err)
	vals := smooth(10, 8)
	r, err := db.Append("a", []int{1, 10}, vals)
	require.NoError(t, err)
	require.Equal(t, 0, r.Start[0], "the new array starts empty")
	require.NoError(t, db.Flush())
	got := make([]float32, 10)
	require.NoError(t, db.Read("a", r, got))
	requireWithin(t, vals, got, 0.01, nil)
}

func TestAppendModeRelResolvesOnFirstValues(t *testing.T) {
	for _, mode := range modes() {
		t.Run(mode.name, func(t *testing.T) {
			db := openMode(t, mode.wb, Options{})
			_, err := db.Create("r", ArrayOptions{DType: codecs.Float32, Shape: []int{0, 100}, Unlimited: true, Chunks: []int{2, 100}, Bound: codecs.Bound{Mode: codecs.ModeRel, Value: 1e-3}})
			require.NoError(t, err)
			var all []float32
			for s := range 5 {
				vals := smooth(100, uint64(10+s))
				all = append(all, vals...)
				_, err := db.Append("r", []int{1, 100}, vals)
				require.NoError(t, err)
			}
			require.NoError(t, db.Flush())
			info, err := db.Info("r")
			require.NoError(t, err)
			require.NotNil(t, info.ValueMin)
			require.Greater(t, info.AbsBound, 0.0)
			got := make([]float32, 500)
			require.NoError(t, db.Read("r", chunk.Full(info.Shape), got))
			requireWithin(t, all, got, info.AbsBound, nil)
		})
	}
}
