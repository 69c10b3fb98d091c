package npy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
)

func TestHeaderRoundTrip(t *testing.T) {
	for _, shape := range [][]int{{7}, {10, 192, 288}, {1, 1, 1, 1}} {
		for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64, codecs.Uint8, codecs.Int64} {
			b, err := AppendHeader(nil, dt, shape)
			require.NoError(t, err)
			require.Zero(t, len(b)%64, "data must start at a multiple of 64")
			h, err := ReadHeader(bytes.NewReader(b))
			require.NoError(t, err)
			require.Equal(t, dt, h.DType)
			require.Equal(t, shape, h.Shape)
			require.Equal(t, int64(len(b)), h.DataOffset)
		}
	}
}

func TestReadHeaderRejects(t *testing.T) {
	_, err := ReadHeader(bytes.NewReader([]byte("hello world")))
	require.ErrorContains(t, err, "not an .npy file")
	hdr := "{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(hdr)), 0)
	_, err = ReadHeader(bytes.NewReader(append(b, hdr...)))
	require.ErrorContains(t, err, `dtype ">f4" not supported`)
	hdr = "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 2), }"
	b = append([]byte("\x93NUMPY\x01\x00"), byte(len(hdr)), 0)
	_, err = ReadHeader(bytes.NewReader(append(b, hdr...)))
	require.ErrorContains(t, err, "fortran_order")
}

// TestNumpyReadsOurHeader checks the header against numpy itself when a
// Python with numpy is on the PATH.
func TestNumpyReadsOurHeader(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil || exec.Command(py, "-c", "import numpy").Run() != nil {
		t.Skip("skipping: python3 with numpy not available")
	}
	path := filepath.Join(t.TempDir(), "a.npy")
	b, err := AppendHeader(nil, codecs.Float32, []int{2, 3})
	require.NoError(t, err)
	b = append(b, make([]byte, 24)...)
	require.NoError(t, os.WriteFile(path, b, 0o644))
	out, err := exec.Command(py, "-c", "import numpy,sys; a=numpy.load(sys.argv[1]); print(a.dtype, a.shape)", path).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Equal(t, "float32 (2, 3)\n", string(out))
}
