package store

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/epsilon-db/epsilon/codecs"
)

// NOTE: the store reinterprets typed slices as their bytes and writes those
// bytes as they are, so the on-disk value encoding (little-endian) equals
// the host's. epsilon builds only for little-endian hosts (see endian.go).

// bytesOf returns the bytes of data, which must be a slice of the Go type
// that matches dtype ([]float32 for f32, []uint16 for u16 and so on) or a
// []byte of raw little-endian values.
func bytesOf(data any, dtype codecs.DType) ([]byte, error) {
	var b []byte
	var got codecs.DType
	switch v := data.(type) {
	case []byte:
		return v, nil
	case []float32:
		b, got = sliceBytes(v), codecs.Float32
	case []float64:
		b, got = sliceBytes(v), codecs.Float64
	case []int8:
		b, got = sliceBytes(v), codecs.Int8
	case []int16:
		b, got = sliceBytes(v), codecs.Int16
	case []int32:
		b, got = sliceBytes(v), codecs.Int32
	case []int64:
		b, got = sliceBytes(v), codecs.Int64
	case []uint16:
		b, got = sliceBytes(v), codecs.Uint16
	case []uint32:
		b, got = sliceBytes(v), codecs.Uint32
	case []uint64:
		b, got = sliceBytes(v), codecs.Uint64
	default:
		return nil, fmt.Errorf("unsupported buffer type %T: use a slice of the array's element type or []byte", data)
	}
	if got != dtype {
		return nil, fmt.Errorf("buffer of type %T does not match the array dtype %s", data, dtype)
	}
	return b, nil
}

func sliceBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(zero)))
}

func viewAs[T any](b []byte) []T {
	var zero T
	n := len(b) / int(unsafe.Sizeof(zero))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
}

// valueRange widens [lo, hi] by the finite values of raw that are not the
// fill value. It returns ok=false while no such value has been seen.
type valueRange struct {
	lo, hi float64
	ok     bool
}

func (vr *valueRange) add(raw []byte, dtype codecs.DType, hasFill bool, fill float64) {
	switch dtype {
	case codecs.Float32:
		addRange(vr, viewAs[float32](raw), hasFill, float32(fill))
	case codecs.Float64:
		addRange(vr, viewAs[float64](raw), hasFill, fill)
	}
}

func addRange[T float32 | float64](vr *valueRange, vals []T, hasFill bool, fill T) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		x := float64(v)
		if x-x != 0 || (hasFill && v == fill) {
			continue // NaN or ±Inf, or the fill value
		}
		lo = min(lo, x)
		hi = max(hi, x)
	}
	if lo > hi {
		return
	}
	if !vr.ok {
		vr.lo, vr.hi, vr.ok = lo, hi, true
		return
	}
	vr.lo, vr.hi = min(vr.lo, lo), max(vr.hi, hi)
}

// fillBytes sets every value of raw to the fill value, or to zero without one.
func fillBytes(raw []byte, dtype codecs.DType, hasFill bool, fill float64) {
	if !hasFill || fill == 0 {
		clear(raw)
		return
	}
	switch dtype {
	case codecs.Float32:
		for i, v := 0, viewAs[float32](raw); i < len(v); i++ {
			v[i] = float32(fill)
		}
	case codecs.Float64:
		for i, v := 0, viewAs[float64](raw); i < len(v); i++ {
			v[i] = fill
		}
	case codecs.Int8, codecs.Uint8:
		for i := range raw {
			raw[i] = byte(int64(fill))
		}
	case codecs.Int16, codecs.Uint16:
		for i, v := 0, viewAs[uint16](raw); i < len(v); i++ {
			v[i] = uint16(int64(fill))
		}
	case codecs.Int32, codecs.Uint32:
		for i, v := 0, viewAs[uint32](raw); i < len(v); i++ {
			v[i] = uint32(int64(fill))
		}
	case codecs.Int64:
		for i, v := 0, viewAs[int64](raw); i < len(v); i++ {
			v[i] = int64(fill)
		}
	case codecs.Uint64:
		for i, v := 0, viewAs[uint64](raw); i < len(v); i++ {
			v[i] = uint64(fill)
		}
	}
}
