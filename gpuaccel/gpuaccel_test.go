package gpuaccel

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestProbeWithoutDevice checks that probing never panics and, on a machine
// without CUDA, reports ErrNoDevice with the reason.
func TestProbeWithoutDevice(t *testing.T) {
	info, err := Probe()
	if err == nil {
		t.Logf("GPU found: %s, compute %d.%d, %.0f GB/s peak", info.Name, info.ComputeMajor, info.ComputeMinor, info.PeakBandwidth/1e9)
		require.NotEmpty(t, info.Name)
		return
	}
	require.True(t, errors.Is(err, ErrNoDevice), "unexpected error type: %v", err)
	t.Logf("no GPU: %v", err)
}
