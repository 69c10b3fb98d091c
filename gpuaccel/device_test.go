package gpuaccel

import (
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/realdata"
)

// skipWithoutDevice skips the test with the reason, or fails it when the
// environment variable EPSILON_REQUIRE_GPU is 1 (as bench/gpu-check.sh sets
// it on the GPU machine, where a skip would hide a broken setup).
func skipWithoutDevice(t *testing.T, err error) {
	t.Helper()
	if os.Getenv("EPSILON_REQUIRE_GPU") == "1" {
		t.Fatalf("EPSILON_REQUIRE_GPU=1 but no usable CUDA device: %v", err)
	}
	t.Skipf("no usable CUDA device, so the kernels are not run on a GPU here: %v", err)
}

// deviceEngine returns the engine on the GPU with its context current, or
// skips the test when there is no usable device.
func deviceEngine(t *testing.T) *engine {
	t.Helper()
	e, release, err := acquire()
	if err != nil {
		skipWithoutDevice(t, err)
	}
	t.Cleanup(release)
	return e
}

// TestDeviceRealFields runs the kernels on the GPU over every real field,
// whole and as a batch of uneven chunks, and checks that payloads and
// decodes are bit-identical to the CPU codec's.
func TestDeviceRealFields(t *testing.T) {
	m := realdata.ForTest(t)
	e := deviceEngine(t)
	t.Logf("device: %s, compute capability %d.%d", dev.info.Name, dev.info.ComputeMajor, dev.info.ComputeMinor)
	for _, f := range m.Fields() {
		raw, err := m.Read(f)
		require.NoError(t, err)
		for _, rel := range testBounds {
			p := fieldParams(f, rel)
			t.Run(fmt.Sprintf("%s/%g", f.Name(), rel), func(t *testing.T) {
				checkDifferential(t, e, []Chunk{{Src: raw, Params: p}})
				checkDifferential(t, e, splitChunks(raw, p))
			})
		}
	}
}

// TestDeviceStreams checks the registered twin through the stream layer: the
// stream the GPU writes equals the CPU's, and DecodeOn reads it back on the
// GPU with the CPU's values.
func TestDeviceStreams(t *testing.T) {
	m := realdata.ForTest(t)
	if err := Available(); err != nil {
		skipWithoutDevice(t, err)
	}
	dc, ok := codecs.ForDevice("gpu", codecs.IDBlock)
	require.True(t, ok)
	f, ok := m.Lookup("cesm_lens_TS")
	require.True(t, ok)
	raw, err := m.Read(f)
	require.NoError(t, err)
	p := fieldParams(f, 1e-4)
	b := codecs.Bound{Mode: codecs.ModeAbs, Value: p.Bound}

	cpu, err := codecs.Encode(nil, codecs.Block, b, p, raw)
	require.NoError(t, err)
	gpuStream, err := codecs.Encode(nil, dc, b, p, raw)
	require.NoError(t, err)
	require.Equal(t, cpu, gpuStream)

	want := make([]byte, len(raw))
	_, err = codecs.Decode(want, cpu)
	require.NoError(t, err)
	got := make([]byte, len(raw))
	_, err = codecs.DecodeOn("gpu", got, cpu)
	require.NoError(t, err)
	require.Equal(t, want, got)
}
