package store

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
)

func TestCreateRejectsByteSizeOverflow(t *testing.T) {
	db := openTest(t)
	// 2^62 values of 4 bytes: the value count fits in an int, the byte
	// size does not.
	_, err := db.Create("huge", ArrayOptions{DType: codecs.Float32, Shape: []int{1 << 62}, Chunks: []int{1024}, Bound: abs(0.1)})
	require.Error(t, err)
	require.ErrorContains(t, err, "bytes")
	_, err = db.Info("huge")
	require.ErrorIs(t, err, ErrNotFound)
}

func TestImportRejectsByteSizeOverflow(t *testing.T) {
	db := openTest(t)
	_, err := db.Import("huge", emptyReader{}, 16, ArrayOptions{DType: codecs.Float32, Shape: []int{1<<63 - 1}, Bound: abs(0.1)}, nil)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "needs -")
	_, err = db.Info("huge")
	require.ErrorIs(t, err, ErrNotFound)
}

type emptyReader struct{}

func (emptyReader) ReadAt(p []byte, off int64) (int, error) { return 0, errors.New("no data") }

func TestBufferTypesChecked(t *testing.T) {
	db := openTest(t)
	shape := []int{4, 6}
	_, err := db.Create("a", ArrayOptions{DType: codecs.Float32, Shape: shape, Bound: abs(0.1)})
	require.NoError(t, err)
	full := chunk.Full(shape)
	for _, buf := range []any{nil, []float64(nil), make([]float64, 24), make([]int, 24), "text", []float32(nil), make([]float32, 23), make([]byte, 95)} {
		require.Error(t, db.Write("a", full, buf), "%T", buf)
		require.Error(t, db.Read("a", full, buf), "%T", buf)
	}
	wrongRank := chunk.Region{Start: []int{0, 0, 0}, Stop: []int{1, 4, 6}}
	require.Error(t, db.Write("a", wrongRank, make([]float32, 24)))
	require.Error(t, db.Read("a", wrongRank, make([]float32, 24)))
	bad := chunk.Region{Start: []int{0, -1}, Stop: []int{4, 5}}
	require.Error(t, db.Write("a", bad, make([]float32, 24)))
	require.Error(t, db.Read("a", bad, make([]float32, 24)))
	st, err := db.Stat("a")
	require.NoError(t, err)
	require.Zero(t, st.ChunksStored)
}

func TestFutureStoreFormatRejected(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db, err := Open(dir, nil)
	require.NoError(t, err)
	require.NoError(t, db.Pebble().Set(keyFormatVersion, binary.AppendUvarint(nil, FormatVersion+1), pebble.Sync))
	require.NoError(t, db.Close())
	_, err = Open(dir, nil)
	require.ErrorContains(t, err, "format version 2")
	_, err = Open(dir, &Options{ReadOnly: true})
	require.ErrorContains(t, err, "format version 2")
}

// TestCorruptStoredValuesDetected flips each byte of a stored chunk value in
// turn and reads the array. The checksum covers every byte, so every read
// must fail with ErrCorrupt.
func TestCorruptStoredValuesDetected(t *testing.T) {
	for _, mode := range []codecs.Bound{abs(0.05), {Mode: codecs.ModePWRel, Value: 0.01}} {
		db := openTest(t)
		shape := []int{6, 20}
		data := smooth(120, 3)
		_, err := db.Create("a", ArrayOptions{DType: codecs.Float32, Shape: shape, Bound: mode})
		require.NoError(t, err)
		require.NoError(t, db.Write("a", chunk.Full(shape), data))
		info, err := db.Info("a")
		require.NoError(t, err)
		key := appendChunkKey(nil, info.ID, []int{0, 0})
		v, closer, err := db.Pebble().Get(key)
		require.NoError(t, err)
		orig := append([]byte(nil), v...)
		closer.Close()
		got := make([]float32, 120)
		for i := range orig {
			bad := append([]byte(nil), orig...)
			bad[i] ^= 0x10
			require.NoError(t, db.Pebble().Set(key, bad, pebble.NoSync))
			err := db.Read("a", chunk.Full(shape), got)
			require.ErrorIs(t, err, ErrCorrupt, "%s: byte %d flipped", mode, i)
		}
		// A truncated value and an empty one.
		for _, bad := range [][]byte{orig[:len(orig)-1], nil, orig[:10]} {
			require.NoError(t, db.Pebble().Set(key, bad, pebble.NoSync))
			require.ErrorIs(t, db.Read("a", chunk.Full(shape), got), ErrCorrupt)
		}
	}
}

func TestCorruptCatalogDetected(t *testing.T) {
	db := openTest(t)
	_, err := db.Create("a", ArrayOptions{DType: codecs.Float32, Shape: []int{4}, Bound: abs(0.1)})
	require.NoError(t, err)
	for _, v := range []string{"", "{", `{"name":"b"}`, `{"name":"a","dtype":99,"shape":[4],"chunks":[4],"codec":"auto","mode":1,"bound":0.1}`,
		`{"name":"a","dtype":1,"shape":[4],"chunks":[0],"codec":"auto","mode":1,"bound":0.1}`,
		`{"name":"a","dtype":1,"shape":[-4],"chunks":[4],"codec":"auto","mode":1,"bound":0.1}`,
		`{"name":"a","dtype":1,"shape":[4],"chunks":[4],"codec":"nope","mode":1,"bound":0.1}`} {
		require.NoError(t, db.Pebble().Set(catalogKey("a"), []byte(v), pebble.NoSync))
		_, err := db.Info("a")
		require.ErrorIs(t, err, ErrCorrupt, "catalog %q", v)
		require.ErrorIs(t, db.Read("a", chunk.Full([]int{4}), make([]float32, 4)), ErrCorrupt)
		_, err = db.List()
		require.ErrorIs(t, err, ErrCorrupt)
	}
}

// TestConcurrentDeleteDuringReadWrite deletes and recreates an array while
// other goroutines read and write it. Every call must succeed or fail with
// an error, never panic, and reads that succeed return written values.
func TestConcurrentDeleteDuringReadWrite(t *testing.T) {
	db := openTest(t)
	shape := []int{8, 64}
	data := smooth(8*64, 5)
	opts := ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{2, 64}, Bound: abs(0.01)}
	_, err := db.Create("a", opts)
	require.NoError(t, err)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			got := make([]float32, len(data))
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := db.Write("a", chunk.Full(shape), data); err != nil {
					require.ErrorIs(t, err, ErrNotFound)
				}
				if err := db.Read("a", chunk.Full(shape), got); err != nil {
					require.ErrorIs(t, err, ErrNotFound)
					continue
				}
				for i, v := range got {
					if v != 0 && !(abs32(v-data[i]) <= 0.01) {
						t.Errorf("value %d: got %v, expected 0 or %v within 0.01", i, v, data[i])
						return
					}
				}
			}
		})
	}
	for range 50 {
		if err := db.Delete("a"); err != nil {
			require.ErrorIs(t, err, ErrNotFound)
		}
		if _, err := db.Create("a", opts); err != nil {
			require.ErrorIs(t, err, ErrExists)
		}
	}
	close(stop)
	wg.Wait()
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// TestConcurrentCloseDuringOperations closes the store while reads and
// writes run: each call returns nil or an error, and none panics.
func TestConcurrentCloseDuringOperations(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "db"), &Options{NoSync: true})
	require.NoError(t, err)
	shape := []int{16, 256}
	data := smooth(16*256, 6)
	_, err = db.Create("a", ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{1, 256}, Bound: abs(0.01)})
	require.NoError(t, err)
	require.NoError(t, db.Write("a", chunk.Full(shape), data))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			<-start
			got := make([]float32, len(data))
			for range 50 {
				_ = db.Write("a", chunk.Full(shape), data)
				_ = db.Read("a", chunk.Full(shape), got)
				_, _ = db.Stat("a")
			}
		})
	}
	close(start)
	require.NoError(t, db.Close())
	wg.Wait()
	require.ErrorIs(t, db.Read("a", chunk.Full(shape), make([]float32, len(data))), ErrClosed)
}

// TestReopenCopyTakenWhileWriting copies the store folder while writes go
// on, as a crash would leave it, and opens the copy: it must open, and
// every chunk must read within bound or as never written.
func TestReopenCopyTakenWhileWriting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db, err := Open(dir, nil)
	require.NoError(t, err)
	shape := []int{32, 256}
	data := smooth(32*256, 8)
	_, err = db.Create("a", ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{1, 256}, Bound: abs(0.01)})
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 32 {
			r := chunk.Region{Start: []int{i, 0}, Stop: []int{i + 1, 256}}
			_ = db.Write("a", r, data[i*256:(i+1)*256])
		}
	}()
	copyDir := filepath.Join(t.TempDir(), "copy")
	require.NoError(t, os.CopyFS(copyDir, os.DirFS(dir)))
	<-done
	require.NoError(t, db.Close())
	os.Remove(filepath.Join(copyDir, "LOCK"))

	cp, err := Open(copyDir, nil)
	require.NoError(t, err)
	defer cp.Close()
	got := make([]float32, len(data))
	require.NoError(t, cp.Read("a", chunk.Full(shape), got))
	for i, v := range got {
		if v != 0 {
			require.InDelta(t, data[i], v, 0.01, "value %d", i)
		}
	}
}

// TestDamagedSSTableReturnsError flips a byte inside an sstable of a
// closed store. Reads of the store must return ErrCorrupt, where Pebble's
// default listener would end the process.
func TestDamagedSSTableReturnsError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db, err := Open(dir, nil)
	require.NoError(t, err)
	shape := []int{64, 1024}
	data := smooth(64*1024, 9)
	_, err = db.Create("a", ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{8, 1024}, Bound: abs(0.01)})
	require.NoError(t, err)
	require.NoError(t, db.Write("a", chunk.Full(shape), data))
	require.NoError(t, db.Pebble().Flush())
	require.NoError(t, db.Close())

	ssts, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	require.NoError(t, err)
	require.Len(t, ssts, 1)
	b, err := os.ReadFile(ssts[0])
	require.NoError(t, err)
	b[len(b)/3] ^= 0x40
	require.NoError(t, os.WriteFile(ssts[0], b, 0o644))

	db, err = Open(dir, nil)
	require.NoError(t, err)
	defer db.Close()
	err = db.Read("a", chunk.Full(shape), make([]float32, len(data)))
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, `array "a"`)
	_, err = db.Stat("a")
	require.ErrorIs(t, err, ErrCorrupt)
}
