package particles

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/npy"
)

// LoadColumns reads a table of cols values per particle (N×cols, C order)
// from a headerless little-endian file of dtype, or from an .npy file
// (recognized by its extension), which carries its own dtype. It returns
// the columns and the dtype of the file, which must be f32 or f64.
func LoadColumns(path string, dtype codecs.DType, cols int) ([][]float64, codecs.DType, error) {
	raw, dtype, err := loadRaw(path, dtype)
	if err != nil {
		return nil, 0, err
	}
	size := dtype.Size()
	if len(raw)%size != 0 || (len(raw)/size)%cols != 0 {
		return nil, 0, fmt.Errorf("%s: %d bytes is not a whole number of rows of %d %s values (%d values)", path, len(raw), cols, dtype, len(raw)/max(size, 1))
	}
	n := len(raw) / size / cols
	out := make([][]float64, cols)
	for c := range out {
		out[c] = make([]float64, n)
	}
	for k := range n * cols {
		v, err := valueAt(raw[k*size:], dtype)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		out[k%cols][k/cols] = v
	}
	return out, dtype, nil
}

// LoadIDs reads integer ids, one per particle, from a headerless file of
// dtype or an .npy file.
func LoadIDs(path string, dtype codecs.DType) ([]int64, error) {
	raw, dtype, err := loadRaw(path, dtype)
	if err != nil {
		return nil, err
	}
	size := dtype.Size()
	if dtype.IsFloat() || len(raw)%size != 0 {
		return nil, fmt.Errorf("%s: ids must be a whole number of integer values, got %d bytes of %s", path, len(raw), dtype)
	}
	out := make([]int64, len(raw)/size)
	for i := range out {
		b := raw[i*size:]
		switch dtype {
		case codecs.Int8:
			out[i] = int64(int8(b[0]))
		case codecs.Uint8:
			out[i] = int64(b[0])
		case codecs.Int16:
			out[i] = int64(int16(binary.LittleEndian.Uint16(b)))
		case codecs.Uint16:
			out[i] = int64(binary.LittleEndian.Uint16(b))
		case codecs.Int32:
			out[i] = int64(int32(binary.LittleEndian.Uint32(b)))
		case codecs.Uint32:
			out[i] = int64(binary.LittleEndian.Uint32(b))
		case codecs.Int64:
			out[i] = int64(binary.LittleEndian.Uint64(b))
		case codecs.Uint64:
			v := binary.LittleEndian.Uint64(b)
			if v > math.MaxInt64 {
				return nil, fmt.Errorf("%s: id %d at index %d does not fit int64", path, v, i)
			}
			out[i] = int64(v)
		}
	}
	return out, nil
}

func loadRaw(path string, dtype codecs.DType) ([]byte, codecs.DType, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	if strings.HasSuffix(strings.ToLower(path), ".npy") {
		h, err := npy.ReadHeader(f)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		dtype = h.DType
	}
	raw, err := io.ReadAll(f)
	return raw, dtype, err
}

func valueAt(b []byte, dtype codecs.DType) (float64, error) {
	switch dtype {
	case codecs.Float32:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), nil
	case codecs.Float64:
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
	}
	return 0, fmt.Errorf("dtype %s: positions and velocities are f32 or f64", dtype)
}

// SaveColumns writes the columns as an N×len(cols) table of dtype to path:
// an .npy file when the name ends in .npy, headerless values otherwise.
func SaveColumns(path string, cols [][]float64, dtype codecs.DType) error {
	n := len(cols[0])
	var out []byte
	if strings.HasSuffix(strings.ToLower(path), ".npy") {
		var err error
		if out, err = npy.AppendHeader(nil, dtype, []int{n, len(cols)}); err != nil {
			return err
		}
	}
	for i := range n {
		for _, c := range cols {
			out = append(out, rawBytes(c[i:i+1], dtype)...)
		}
	}
	return os.WriteFile(path, out, 0o644)
}

// SaveIDs writes ids as i64 values to path, .npy or headerless.
func SaveIDs(path string, ids []int64) error {
	var out []byte
	if strings.HasSuffix(strings.ToLower(path), ".npy") {
		var err error
		if out, err = npy.AppendHeader(nil, codecs.Int64, []int{len(ids)}); err != nil {
			return err
		}
	}
	for _, v := range ids {
		out = binary.LittleEndian.AppendUint64(out, uint64(v))
	}
	return os.WriteFile(path, out, 0o644)
}
