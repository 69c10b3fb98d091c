package store

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/errstat"
)

// TestConcurrentWritersReadersVerify runs writers on different arrays, two
// writers on the same array, readers, Verify and Recompress at once. Each
// write to the shared array fills the whole array with one constant, so a
// torn chunk (half from one write, half from another) shows as two values
// in one read.
func TestConcurrentWritersReadersVerify(t *testing.T) {
	db := openTest(t)
	shape := []int{24, 40}
	full := chunk.Full(shape)
	n := full.Count()
	_, err := db.Create("shared", ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{8, 16}, Bound: abs(0.01)})
	require.NoError(t, err)
	rounds := 20
	if testing.Short() {
		rounds = 8
	}

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]float32, n)
			for r := range rounds {
				for i := range buf {
					buf[i] = float32(1000*w + r)
				}
				if err := db.Write("shared", full, buf); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("own%d", w)
			data := smooth(n, uint64(w))
			if _, err := db.Create(name, ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{8, 16}, Bound: abs(0.01)}); err != nil {
				errs <- err
				return
			}
			got := make([]float32, n)
			for range rounds {
				if err := db.Write(name, full, data); err != nil {
					errs <- err
					return
				}
				if err := db.Read(name, full, got); err != nil {
					errs <- err
					return
				}
				if err := errstat.Compare(data, got, 0.01, nil).Err(); err != nil {
					errs <- fmt.Errorf("array %s: %w", name, err)
					return
				}
			}
		}()
	}
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := make([]float32, n)
			for range rounds {
				if err := db.Read("shared", full, got); err != nil {
					errs <- err
					return
				}
				// Every write stores an integer constant, and the codec
				// may move each value by up to the bound, so all values
				// of an untorn read lie within the bound of one integer.
				want := math.Round(float64(got[0]))
				for i := range got {
					if math.Abs(float64(got[i])-want) > 0.01 {
						errs <- fmt.Errorf("torn read of shared: value %v at 0 and %v at %d", got[0], got[i], i)
						return
					}
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 3 {
			problems, err := db.Verify("", nil)
			if err != nil {
				errs <- err
				return
			}
			if len(problems) > 0 {
				errs <- fmt.Errorf("verify during writes: %v", problems)
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	// Recompress serializes with writers through the same array lock.
	_, err = db.Recompress("shared", RecompressOptions{Bound: abs(0.5)})
	require.NoError(t, err)
	problems, err := db.Verify("", nil)
	require.NoError(t, err)
	require.Empty(t, problems)
}

// TestConcurrentRecompressAndWrites recompresses an array while another
// goroutine writes regions of it; every value read afterwards is within the
// looser bound of the last value written to it.
func TestConcurrentRecompressAndWrites(t *testing.T) {
	db := openTest(t)
	shape := []int{32, 32}
	data := smooth(32*32, 3)
	_, err := db.Create("a", ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{8, 8}, Bound: abs(0.01)})
	require.NoError(t, err)
	require.NoError(t, db.Write("a", chunk.Full(shape), data))

	var wg sync.WaitGroup
	wg.Add(1)
	var writeErr error
	go func() {
		defer wg.Done()
		for k := range 8 {
			r := chunk.Region{Start: []int{4 * k, 0}, Stop: []int{4*k + 4, 32}}
			buf := make([]float32, r.Count())
			for i := range buf {
				buf[i] = float32(k)
				data[(4*k+i/32)*32+i%32] = float32(k)
			}
			if writeErr = db.Write("a", r, buf); writeErr != nil {
				return
			}
		}
	}()
	_, err = db.Recompress("a", RecompressOptions{Bound: abs(0.2)})
	wg.Wait()
	require.NoError(t, err)
	require.NoError(t, writeErr)
	got := make([]float32, len(data))
	require.NoError(t, db.Read("a", chunk.Full(shape), got))
	require.NoError(t, errstat.Compare(data, got, 0.2, nil).Err())
}
