package store

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/realdata"
)

// heapPeak samples the live heap every millisecond until stop is called and
// returns the highest value seen, in bytes.
func heapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak.Load()
	}
}

// writeSmoothFile writes an array of shape of smooth float32 values to path
// without holding it in memory.
func writeSmoothFile(tb testing.TB, path string, shape chunk.Shape) int64 {
	f, err := os.Create(path)
	require.NoError(tb, err)
	w := bufio.NewWriterSize(f, 1<<20)
	row := shape[len(shape)-1]
	buf := make([]byte, 4*row)
	for r := 0; r < shape.Count()/row; r++ {
		for i := 0; i < row; i++ {
			v := float32(50*math.Sin(float64(r)/40) + 30*math.Cos(float64(i)/25) + float64((r*7+i*13)%17)/17)
			b := math.Float32bits(v)
			buf[4*i], buf[4*i+1], buf[4*i+2], buf[4*i+3] = byte(b), byte(b>>8), byte(b>>16), byte(b>>24)
		}
		_, err := w.Write(buf)
		require.NoError(tb, err)
	}
	require.NoError(tb, w.Flush())
	require.NoError(tb, f.Close())
	return int64(shape.Count()) * 4
}

// BenchmarkImportExportPeakHeap imports and exports a 256 MiB float32 file
// and reports the peak live heap of each, which stays at a few chunks per
// core whatever the array size.
func BenchmarkImportExportPeakHeap(b *testing.B) {
	dir := b.TempDir()
	shape := chunk.Shape{256, 512, 512}
	src := filepath.Join(dir, "in.raw")
	size := writeSmoothFile(b, src, shape)
	opts := ArrayOptions{DType: codecs.Float32, Shape: shape, Bound: codecs.Bound{Mode: codecs.ModeRel, Value: 1e-4}}
	b.SetBytes(size)
	var importPeak, exportPeak uint64
	for i := 0; b.Loop(); i++ {
		db, err := Open(filepath.Join(dir, "db"), nil)
		require.NoError(b, err)
		in, err := os.Open(src)
		require.NoError(b, err)
		runtime.GC()
		stop := heapPeak()
		_, err = db.Import("big", in, size, opts, nil)
		importPeak = max(importPeak, stop())
		require.NoError(b, err)
		in.Close()

		out, err := os.Create(filepath.Join(dir, "out.raw"))
		require.NoError(b, err)
		runtime.GC()
		stop = heapPeak()
		err = db.Export("big", chunk.Full(shape), out, 0, nil)
		exportPeak = max(exportPeak, stop())
		require.NoError(b, err)
		out.Close()
		require.NoError(b, db.Delete("big"))
		require.NoError(b, db.Close())
	}
	b.ReportMetric(float64(size)/(1<<20), "array-MiB")
	b.ReportMetric(float64(importPeak)/(1<<20), "import-peak-heap-MiB")
	b.ReportMetric(float64(exportPeak)/(1<<20), "export-peak-heap-MiB")
}

// BenchmarkStoreReadWrite writes and reads a real field through the store
// (all cores, write-ahead log synced on every write).
func BenchmarkStoreReadWrite(b *testing.B) {
	m := realdata.ForTest(b)
	f, ok := m.Lookup("cesm_lens_TS")
	require.True(b, ok)
	raw, err := m.Read(f)
	require.NoError(b, err)
	db, err := Open(filepath.Join(b.TempDir(), "db"), nil)
	require.NoError(b, err)
	defer db.Close()
	opts := ArrayOptions{DType: codecs.Float32, Shape: f.Shape, Bound: codecs.Bound{Mode: codecs.ModeRel, Value: 1e-4}}
	_, err = db.Create("ts", opts)
	require.NoError(b, err)
	full := chunk.Full(f.Shape)
	b.Run("write", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			require.NoError(b, db.Write("ts", full, raw))
		}
		st, err := db.Stat("ts")
		require.NoError(b, err)
		b.ReportMetric(st.Ratio, "ratio")
	})
	b.Run("read", func(b *testing.B) {
		dst := make([]byte, len(raw))
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			require.NoError(b, db.Read("ts", full, dst))
		}
	})
}
