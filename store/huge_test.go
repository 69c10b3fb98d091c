package store

import (
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
)

// hugeShape has 2049*2^20 values, more than 2^31, so every value index past
// row 2048 is beyond the range of an int32.
var hugeShape = []int{2049, 1024, 1024}

func TestHugeArraySparseWriteRead(t *testing.T) {
	db := openTest(t)
	fill := -999.0
	info, err := db.Create("huge", ArrayOptions{DType: codecs.Float32, Shape: hugeShape, Bound: abs(0.01), Fill: &fill})
	require.NoError(t, err)
	require.Greater(t, chunk.Shape(info.Shape).Count(), math.MaxInt32)

	// A small region in the last chunk, past value index 2^31.
	last := chunk.Region{Start: []int{2048, 1000, 0}, Stop: []int{2049, 1024, 1024}}
	vals := smooth(last.Count(), 11)
	require.NoError(t, db.Write("huge", last, vals))
	got := make([]float32, last.Count())
	require.NoError(t, db.Read("huge", last, got))
	requireWithin(t, vals, got, 0.01, &fill)

	// A region across the written rows and unwritten ones reads fill in the
	// unwritten part.
	across := chunk.Region{Start: []int{2047, 999, 0}, Stop: []int{2049, 1001, 4}}
	got = make([]float32, across.Count())
	require.NoError(t, db.Read("huge", across, got))
	require.Equal(t, float32(-999), got[0], "row 2047 was never written")
	require.Equal(t, float32(-999), got[4], "row 2048, 999 was never written")
	require.InDelta(t, vals[0], got[3*4], 0.01, "row 2048, 1000, 0 was written")

	unwritten := chunk.Region{Start: []int{1024, 0, 0}, Stop: []int{1025, 2, 1024}}
	got = make([]float32, unwritten.Count())
	require.NoError(t, db.Read("huge", unwritten, got))
	for i, v := range got {
		require.Equal(t, float32(-999), v, "value %d of an unwritten region", i)
	}
}

func TestHugeOneDimensionalArray(t *testing.T) {
	db := openTest(t)
	n := 1<<31 + 1024
	_, err := db.Create("line", ArrayOptions{DType: codecs.Float32, Shape: []int{n}, Bound: abs(0.01)})
	require.NoError(t, err)
	r := chunk.Region{Start: []int{n - 3000}, Stop: []int{n}}
	vals := smooth(r.Count(), 5)
	require.NoError(t, db.Write("line", r, vals))
	got := make([]float32, r.Count())
	require.NoError(t, db.Read("line", r, got))
	requireWithin(t, vals, got, 0.01, nil)
}

func TestChunkKeyLargestCoordinate(t *testing.T) {
	coords := []int{maxChunkCoord - 1, 0, 1 << 31}
	key := appendChunkKey(nil, 7, coords)
	got := make([]int, 3)
	id, err := parseChunkKey(key, got)
	require.NoError(t, err)
	require.Equal(t, uint64(7), id)
	require.Equal(t, coords, got)
}

func TestCreateRejectsGridOverflow(t *testing.T) {
	db := openTest(t)
	cases := []struct {
		name string
		opts ArrayOptions
		want string
	}{
		{"coordinates", ArrayOptions{Shape: []int{1<<32 + 1}, Chunks: []int{1}}, "into 4294967297 chunks, at most 4294967296 are allowed"},
		{"chunk count wraps", ArrayOptions{Shape: []int{8, 8}, Chunks: []int{1 << 32, 1 << 32}}, "exceeds 1073741824 bytes"},
		{"chunk bytes", ArrayOptions{Shape: []int{1 << 20, 1 << 20}, Chunks: []int{1 << 14, 1<<14 + 1}}, "exceeds 1073741824 bytes"},
	}
	for _, c := range cases {
		c.opts.DType, c.opts.Bound = codecs.Float32, abs(0.1)
		_, err := db.Create("grid", c.opts)
		require.ErrorContains(t, err, c.want, c.name)
	}
	_, err := db.Create("grid", ArrayOptions{DType: codecs.Float32, Shape: []int{1 << 32}, Chunks: []int{1}, Bound: abs(0.1)})
	require.NoError(t, err, "2^32 chunks along a dimension fit the 4-byte coordinates")
}

// BenchmarkHugeArray writes whole chunks at the start, middle and end of a
// float32 array of more than 2^31 values (8 GiB raw), reads them back within
// the bound, reads an unwritten region as fill, and reports the store's size
// on disk. It runs only with EPSILON_HUGE=1:
//
//	EPSILON_HUGE=1 go test ./store -run '^$' -bench HugeArray -benchtime 1x
func BenchmarkHugeArray(b *testing.B) {
	if os.Getenv("EPSILON_HUGE") != "1" {
		b.Skip("set EPSILON_HUGE=1 to run")
	}
	bound := 0.01
	fill := -999.0
	for b.Loop() {
		dir := filepath.Join(b.TempDir(), "db")
		db, err := Open(dir, &Options{NoSync: true})
		require.NoError(b, err)
		info, err := db.Create("huge", ArrayOptions{DType: codecs.Float32, Shape: hugeShape, Bound: abs(bound), Fill: &fill})
		require.NoError(b, err)
		grid := info.Grid()

		var regions []chunk.Region
		for _, row := range []int{0, 1024, 2047} {
			regions = append(regions, chunk.Region{Start: []int{row, 0, 0}, Stop: []int{row + 2, 1024, 1024}})
		}
		written := 0
		start := time.Now()
		for i, r := range regions {
			vals := smooth(r.Count(), uint64(i))
			require.NoError(b, db.Write("huge", r, vals))
			written += 4 * r.Count()
		}
		writeTime := time.Since(start)

		start = time.Now()
		for i, r := range regions {
			vals := smooth(r.Count(), uint64(i))
			got := make([]float32, r.Count())
			require.NoError(b, db.Read("huge", r, got))
			for k := range vals {
				if d := math.Abs(float64(vals[k]) - float64(got[k])); d > bound {
					b.Fatalf("region %v value %d: |x-x'| = %g > bound %g", r, k, d, bound)
				}
			}
		}
		readTime := time.Since(start)

		unwritten := chunk.Region{Start: []int{1500, 0, 0}, Stop: []int{1501, 1024, 1024}}
		got := make([]float32, unwritten.Count())
		require.NoError(b, db.Read("huge", unwritten, got))
		for k, v := range got {
			if v != float32(fill) {
				b.Fatalf("unwritten region %v value %d is %v, expected the fill value %v", unwritten, k, v, fill)
			}
		}
		require.NoError(b, db.Flush())
		require.NoError(b, db.Close())

		var disk int64
		require.NoError(b, filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			fi, err := d.Info()
			if err == nil {
				disk += fi.Size()
			}
			return err
		}))
		b.ReportMetric(float64(chunk.Shape(info.Shape).Count()), "values")
		b.ReportMetric(float64(grid.NumChunks()), "chunks")
		b.ReportMetric(float64(written)/1e6/writeTime.Seconds(), "write-MB/s")
		b.ReportMetric(float64(written)/1e6/readTime.Seconds(), "read-MB/s")
		b.ReportMetric(float64(disk)/1e6, "disk-MB")
	}
}
