package npy

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
)

// headerWithDict returns a version 1.0 header around dict.
func headerWithDict(dict string) []byte {
	b := append([]byte(nil), magic...)
	b = append(b, 1, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(dict)+1))
	return append(append(b, dict...), '\n')
}

func TestReadHeaderRejectsRepeatedKeys(t *testing.T) {
	// Python keeps the last of repeated keys, so numpy reads these as
	// (3, 2) of <f8 in C order: epsilon must not read another shape.
	for _, dict := range []string{
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'shape': (3, 2), }",
		"{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }",
		"{'descr': '<f4', 'fortran_order': False, 'fortran_order': True, 'shape': (3, 2), }",
	} {
		_, err := ReadHeader(bytes.NewReader(headerWithDict(dict)))
		require.ErrorContains(t, err, "more than once", dict)
	}
}

// FuzzReadHeader parses arbitrary header dictionaries: it must return an
// error or a header with a valid dtype and sizes of 0 or more.
func FuzzReadHeader(f *testing.F) {
	for _, shape := range [][]int{{7}, {10, 192, 288}, {}} {
		b, err := AppendHeader(nil, codecs.Float32, shape)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add(headerWithDict("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999, 2), }"))
	f.Add(headerWithDict("{'descr': '|u1', 'fortran_order': False, 'shape': (-1,), }"))
	f.Add([]byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ReadHeader(bytes.NewReader(b))
		if err != nil {
			return
		}
		require.True(t, h.DType.Valid())
		require.NotEmpty(t, h.Shape)
		for _, d := range h.Shape {
			require.GreaterOrEqual(t, d, 0)
		}
		require.LessOrEqual(t, h.DataOffset, int64(len(b)))
	})
}
