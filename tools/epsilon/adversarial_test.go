package main

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/store"
)

// writeRawF32 writes n float32 values to a file in dir and returns its path.
func writeRawF32(t *testing.T, dir string, n int) string {
	t.Helper()
	raw := make([]byte, 0, 4*n)
	for i := range n {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(math.Sin(float64(i)/7))))
	}
	path := filepath.Join(dir, "in.raw")
	require.NoError(t, os.WriteFile(path, raw, 0o644))
	return path
}

func TestRejectedImportCreatesNoStore(t *testing.T) {
	dir := t.TempDir()
	src := writeRawF32(t, dir, 20)
	cases := [][]string{
		{"--name", "a", "--dtype", "f32", "--shape", "4,4", "--mode", "abs", "--bound", "0.1"},
		{"--name", "a", "--dtype", "f32", "--shape", "1,1,1,1,1,1,1,1,20", "--mode", "abs", "--bound", "0.1"},
		{"--name", "bad name", "--dtype", "f32", "--shape", "4,5", "--mode", "abs", "--bound", "0.1"},
		{"--name", "a", "--dtype", "f32", "--shape", "4,5", "--mode", "abs", "--bound", "0.1", "--fill", "1e39"},
		{"--name", "a", "--dtype", "f32", "--shape", "4,5", "--mode", "abs", "--bound", "0.1", "--time-axis", "2"},
	}
	for i, c := range cases {
		db := filepath.Join(dir, "db", strings.Repeat("x", i+1))
		args := append(append([]string{"import", "--db", db}, c...), src)
		_, err := run(t, args...)
		require.Error(t, err, "%v", c)
		_, err = os.Stat(db)
		require.True(t, os.IsNotExist(err), "rejected import %v left the store folder %s", c, db)
	}
}

func TestRejectedImportKeepsExistingStore(t *testing.T) {
	dir := t.TempDir()
	src := writeRawF32(t, dir, 20)
	db := filepath.Join(dir, "db")
	_, err := run(t, "import", "--db", db, "--name", "a", "--dtype", "f32", "--shape", "4,5", "--mode", "abs", "--bound", "0.1", src)
	require.NoError(t, err)
	_, err = run(t, "import", "--db", db, "--name", "b", "--dtype", "f32", "--shape", "4,4", "--mode", "abs", "--bound", "0.1", src)
	require.Error(t, err)
	out, err := run(t, "ls", "--db", db)
	require.NoError(t, err)
	require.Contains(t, out, "a ")
}

func TestFailedExportKeepsExistingFile(t *testing.T) {
	dir := t.TempDir()
	src := writeRawF32(t, dir, 20)
	db := filepath.Join(dir, "db")
	_, err := run(t, "import", "--db", db, "--name", "a", "--dtype", "f32", "--shape", "4,5", "--mode", "abs", "--bound", "0.1", src)
	require.NoError(t, err)
	corruptFirstChunk(t, db)

	out := filepath.Join(dir, "out.npy")
	require.NoError(t, os.WriteFile(out, []byte("earlier results"), 0o644))
	_, err = run(t, "export", "--db", db, "--name", "a", out)
	require.ErrorIs(t, err, codecs.ErrCorrupt)
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, "earlier results", string(got), "a failed export must leave the existing file alone")
	left, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	require.ElementsMatch(t, []string{src, db, out}, left, "a failed export leaves no temporary file")
}

// corruptFirstChunk flips the last payload byte of the first chunk value
// of the store in dir.
func corruptFirstChunk(t *testing.T, dir string) {
	t.Helper()
	s, err := store.Open(dir, nil)
	require.NoError(t, err)
	defer s.Close()
	it, err := s.Pebble().NewIter(&pebble.IterOptions{LowerBound: []byte{0x02}, UpperBound: []byte{0x03}})
	require.NoError(t, err)
	require.True(t, it.First(), "store has no chunk")
	bad := append([]byte(nil), it.Value()...)
	key := append([]byte(nil), it.Key()...)
	require.NoError(t, it.Close())
	bad[len(bad)-1] ^= 0x01
	require.NoError(t, s.Pebble().Set(key, bad, pebble.Sync))
}

func TestStoreThatIsAFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "notastore")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	for _, args := range [][]string{
		{"ls", "--db", file},
		{"inspect", "--db", file, "--name", "a"},
		{"export", "--db", file, "--name", "a", filepath.Join(dir, "o.raw")},
	} {
		_, err := run(t, args...)
		require.ErrorContains(t, err, "is not a directory", "%v", args)
	}
}

func TestImportCodecHelpNamesRegisteredCodecs(t *testing.T) {
	flag := newImportCommand().Flags().Lookup("codec")
	require.NotNil(t, flag)
	for _, name := range codecs.Names() {
		require.Contains(t, flag.Usage, name)
	}
	if _, err := codecs.ByName("block"); err != nil {
		require.NotContains(t, flag.Usage, "block", "help offers a codec that is not registered")
	}
}
