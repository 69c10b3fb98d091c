package store_test

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/errstat"
	"github.com/epsilon-db/epsilon/store"
)

var errDiskFull = errors.New("injected: no space left on device")

func TestDiskFullWriteFailsEarlierDataReadable(t *testing.T) {
	var full atomic.Bool
	fs := errorfs.Wrap(vfs.NewMem(), errorfs.InjectorFunc(func(op errorfs.Op) error {
		if full.Load() && op.Kind.ReadOrWrite() == errorfs.OpIsWrite {
			return errDiskFull
		}
		return nil
	}))
	db, err := store.Open("db", &store.Options{FS: fs})
	require.NoError(t, err)

	shape, data := crashArray(7)
	_, err = db.Create("kept", store.ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{8, 20, 36}, Bound: codecs.Bound{Mode: codecs.ModeAbs, Value: 0.01}})
	require.NoError(t, err)
	require.NoError(t, db.Write("kept", chunk.Full(shape), data))

	full.Store(true)
	_, err = db.Create("lost", store.ArrayOptions{DType: codecs.Float32, Shape: shape})
	require.ErrorIs(t, err, errDiskFull)

	got := make([]float32, len(data))
	require.NoError(t, db.Read("kept", chunk.Full(shape), got))
	require.NoError(t, errstat.Compare(data, got, 0.01, nil).Err())
	// Pebble cannot commit after a failed log write: later writes fail too.
	err = db.Write("kept", chunk.Full(shape), data)
	require.ErrorIs(t, err, store.ErrFailed)
	_ = db.Close()

	// With space again, a reopened store holds the earlier data.
	full.Store(false)
	db, err = store.Open("db", &store.Options{FS: fs})
	require.NoError(t, err)
	defer db.Close()
	clear(got)
	require.NoError(t, db.Read("kept", chunk.Full(shape), got))
	require.NoError(t, errstat.Compare(data, got, 0.01, nil).Err())
}

func TestIOErrorOnImportLeavesNoArray(t *testing.T) {
	var writes atomic.Int64
	var failAfter atomic.Int64
	failAfter.Store(-1)
	fs := errorfs.Wrap(vfs.NewMem(), errorfs.InjectorFunc(func(op errorfs.Op) error {
		if op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData {
			if n := failAfter.Load(); n >= 0 && writes.Add(1) > n {
				return errDiskFull
			}
		}
		return nil
	}))
	db, err := store.Open("db", &store.Options{FS: fs, Concurrency: 1, ChunkBytes: 4 << 10})
	require.NoError(t, err)
	shape, data := crashArray(8)
	raw := float32Bytes(data)
	_, err = db.Import("first", bytesReader(raw), int64(len(raw)), store.ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{2, 20, 36}, Bound: codecs.Bound{Mode: codecs.ModeAbs, Value: 0.01}}, nil)
	require.NoError(t, err)

	// The third sync fails: the import has committed some batches by then.
	failAfter.Store(2)
	_, err = db.Import("second", bytesReader(raw), int64(len(raw)), store.ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{2, 20, 36}, Bound: codecs.Bound{Mode: codecs.ModeAbs, Value: 0.01}}, nil)
	require.ErrorIs(t, err, errDiskFull)
	_, err = db.Info("second")
	require.ErrorIs(t, err, store.ErrNotFound)

	got := make([]float32, len(data))
	require.NoError(t, db.Read("first", chunk.Full(shape), got))
	require.NoError(t, errstat.Compare(data, got, 0.01, nil).Err())
	_ = db.Close()
}
