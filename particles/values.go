package particles

import (
	"encoding/binary"
	"math"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/store"
)

// typed returns v as a slice of the Go type of dtype.
func typed(v []float64, dtype codecs.DType) any {
	if dtype == codecs.Float64 {
		return v
	}
	out := make([]float32, len(v))
	for i, c := range v {
		out[i] = float32(c)
	}
	return out
}

// rawBytes returns v as little-endian values of dtype.
func rawBytes(v []float64, dtype codecs.DType) []byte {
	out := make([]byte, 0, len(v)*dtype.Size())
	for _, c := range v {
		if dtype == codecs.Float32 {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(float32(c)))
		} else {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(c))
		}
	}
	return out
}

// readFloats reads the 1-D float array name of n values into float64.
func readFloats(db *store.DB, name string, dtype codecs.DType, n int) ([]float64, error) {
	r := chunk.Full([]int{n})
	if dtype == codecs.Float64 {
		out := make([]float64, n)
		return out, db.Read(name, r, out)
	}
	buf := make([]float32, n)
	if err := db.Read(name, r, buf); err != nil {
		return nil, err
	}
	out := make([]float64, n)
	for i, c := range buf {
		out[i] = float64(c)
	}
	return out, nil
}
