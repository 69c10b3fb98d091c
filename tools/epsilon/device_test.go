package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/gpuaccel"
)

// TestDeviceFlag imports and exports with --device cpu and auto, which must
// give the same file, and checks the errors for gpu without a GPU and for
// an unknown device.
func TestDeviceFlag(t *testing.T) {
	src, _ := tsFile(t)
	dir := t.TempDir()
	var exported [][]byte
	for _, device := range []string{"cpu", "auto"} {
		db := filepath.Join(dir, "db-"+device)
		_, err := run(t, "import", "--db", db, "--name", "ts", "--dtype", "f32", "--shape", "10,192,288",
			"--codec", "block", "--mode", "rel", "--bound", "1e-4", "--device", device, src)
		require.NoError(t, err)
		out := filepath.Join(dir, device+".raw")
		_, err = run(t, "export", "--db", db, "--name", "ts", "--device", device, out)
		require.NoError(t, err)
		raw, err := os.ReadFile(out)
		require.NoError(t, err)
		exported = append(exported, raw)
	}
	require.True(t, bytes.Equal(exported[0], exported[1]), "export with --device auto differs from --device cpu")

	_, err := run(t, "export", "--db", filepath.Join(dir, "db-cpu"), "--name", "ts", "--device", "tpu", filepath.Join(dir, "x.raw"))
	require.ErrorContains(t, err, `Options.Device "tpu": allowed are "auto", "cpu" and "gpu"`)

	if gpuaccel.Available() == nil {
		return
	}
	db := filepath.Join(dir, "db-gpu")
	_, err = run(t, "import", "--db", db, "--name", "ts", "--dtype", "f32", "--shape", "10,192,288",
		"--mode", "rel", "--bound", "1e-4", "--device", "gpu", src)
	require.ErrorContains(t, err, `Options.Device "gpu": no usable GPU`)
	_, statErr := os.Stat(db)
	require.True(t, os.IsNotExist(statErr), "import --device gpu created %s without a GPU", db)
}
