package store

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/gpuaccel"
)

func TestDeviceOptionInvalid(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	_, err := Open(dir, &Options{Device: "tpu"})
	require.ErrorContains(t, err, `Options.Device "tpu": allowed are "auto", "cpu" and "gpu"`)
	_, statErr := os.Stat(dir)
	require.True(t, os.IsNotExist(statErr), "Open wrote %s despite the invalid option", dir)
}

func TestDeviceGPUWithoutGPU(t *testing.T) {
	if err := gpuaccel.Available(); err == nil {
		t.Skip("a GPU is usable here, so DeviceGPU opens")
	}
	dir := filepath.Join(t.TempDir(), "db")
	_, err := Open(dir, &Options{Device: DeviceGPU})
	require.ErrorContains(t, err, `Options.Device "gpu": no usable GPU`)
	require.ErrorIs(t, err, gpuaccel.ErrNoDevice)
	_, statErr := os.Stat(dir)
	require.True(t, os.IsNotExist(statErr), "Open wrote %s without a GPU", dir)
}

// TestDeviceSameStreams writes the same array with every usable device and
// checks that the stored sizes agree (the GPU writes the CPU's bytes) and
// that every store reads back within the bound.
func TestDeviceSameStreams(t *testing.T) {
	devices := []string{DeviceCPU, DeviceAuto}
	if gpuaccel.Available() == nil {
		devices = append(devices, DeviceGPU)
	}
	shape := []int{10, 33, 47}
	data := smooth(chunk.Shape(shape).Count(), 3)
	var stored []int64
	for _, device := range devices {
		db, err := Open(filepath.Join(t.TempDir(), device), &Options{NoSync: true, Device: device})
		require.NoError(t, err)
		_, err = db.Create("a", ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{4, 16, 16}, Codec: "block", Bound: abs(0.01)})
		require.NoError(t, err)
		require.NoError(t, db.Write("a", chunk.Full(shape), data))
		got := make([]float32, len(data))
		require.NoError(t, db.Read("a", chunk.Full(shape), got))
		requireWithin(t, data, got, 0.01, nil)
		st, err := db.Stat("a")
		require.NoError(t, err)
		stored = append(stored, st.StoredBytes)
		require.NoError(t, db.Close())
	}
	for i := range stored {
		require.Equal(t, stored[0], stored[i], "device %s stored a different number of bytes than %s", devices[i], devices[0])
	}
}
