package arrowio_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/arrowio"
	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/realdata"
	"github.com/epsilon-db/epsilon/store"
)

// benchTiles is how many copies of the real TS field (10 x 192 x 288
// float32, 2.2 MB) the benchmark array stacks along time: 300 rows, 66 MB.
const benchTiles = 30

// benchStore imports the TS field, tiled benchTiles times along its
// leading dimension, as array "TS" with the given codec and bound.
func benchStore(b *testing.B, codec string, bound codecs.Bound) (*store.DB, int64) {
	b.Helper()
	m := realdata.ForTest(b)
	f, ok := m.Lookup("cesm_lens_TS")
	require.True(b, ok, "real data file cesm_lens_TS")
	raw, err := m.Read(f)
	require.NoError(b, err)
	tiled := make([]byte, 0, benchTiles*len(raw))
	for range benchTiles {
		tiled = append(tiled, raw...)
	}
	shape := append([]int{benchTiles * f.Shape[0]}, f.Shape[1:]...)
	db, err := store.Open(filepath.Join(b.TempDir(), "db"), &store.Options{NoSync: true})
	require.NoError(b, err)
	b.Cleanup(func() { db.Close() })
	_, err = db.Import("TS", bytesReader(tiled), int64(len(tiled)), store.ArrayOptions{DType: codecs.Float32, Shape: shape, Codec: codec, Bound: bound}, nil)
	require.NoError(b, err)
	return db, int64(len(tiled))
}

var benchCodecs = []struct {
	codec string
	bound codecs.Bound
}{
	{"lossless", codecs.Bound{Mode: codecs.ModeNone}},
	{"block", codecs.Bound{Mode: codecs.ModeAbs, Value: 0.01}},
}

// BenchmarkStreamRegion measures decoding a whole array into record
// batches, without a network.
func BenchmarkStreamRegion(b *testing.B) {
	for _, c := range benchCodecs {
		b.Run(c.codec, func(b *testing.B) {
			db, n := benchStore(b, c.codec, c.bound)
			info, err := db.Info("TS")
			require.NoError(b, err)
			l := arrowio.LayoutOf(info, chunk.Full(info.Shape))
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				err := arrowio.StreamRegion(context.Background(), db, l, 16<<20, func(arrow.RecordBatch) error { return nil })
				require.NoError(b, err)
			}
		})
	}
}

// BenchmarkDoGet measures a whole-array DoGet from a Go Flight client on
// loopback: decode, IPC framing, gRPC and the client's IPC reader.
func BenchmarkDoGet(b *testing.B) {
	for _, c := range benchCodecs {
		for _, batch := range []int64{16 << 20, arrowio.MaxBatchBytes} {
			b.Run(fmt.Sprintf("%s/batch=%dMiB", c.codec, batch>>20), func(b *testing.B) {
				db, n := benchStore(b, c.codec, c.bound)
				client := startServer(b, db, arrowio.ServerOptions{BatchBytes: batch})
				ticket := &flight.Ticket{Ticket: []byte(`{"array": "TS"}`)}
				b.SetBytes(n)
				b.ReportAllocs()
				for b.Loop() {
					stream, err := client.DoGet(context.Background(), ticket)
					require.NoError(b, err)
					r, err := flight.NewRecordReader(stream)
					require.NoError(b, err)
					var rows int64
					for r.Next() {
						rows += r.RecordBatch().NumRows()
					}
					require.NoError(b, r.Err())
					r.Release()
					require.Equal(b, int64(benchTiles*10), rows)
				}
			})
		}
	}
}
