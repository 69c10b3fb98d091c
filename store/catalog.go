package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"time"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
)

// ArrayOptions describes an array to create.
type ArrayOptions struct {
	DType codecs.DType
	Shape []int
	// Chunks is the chunk shape; nil selects a shape of about
	// Options.ChunkBytes that keeps the trailing dimensions whole.
	Chunks []int
	// Codec names the codec; "" selects lorenzo for float dtypes and
	// lossless for integer dtypes.
	Codec string
	// Bound is the error bound. ModeNone stores the array losslessly.
	Bound codecs.Bound
	// Fill, when set, is a value that marks missing data (netCDF's
	// _FillValue). It comes back exact, is left out of the value range, and
	// is what reads return for chunks never written.
	Fill *float64
	// ValueRange, when set, is the [min, max] that ModeRel resolves against.
	// Without it the range of the finite, non-fill values of the first
	// write fixes the absolute bound for the life of the array.
	ValueRange *[2]float64
	// Attrs is free-form JSON kept with the array.
	Attrs json.RawMessage
}

// ArrayInfo is the catalog entry of an array.
type ArrayInfo struct {
	Name   string       `json:"name"`
	ID     uint64       `json:"id"`
	DType  codecs.DType `json:"dtype"`
	Shape  []int        `json:"shape"`
	Chunks []int        `json:"chunks"`
	Codec  string       `json:"codec"`
	Mode   codecs.Mode  `json:"mode"`
	Bound  float64      `json:"bound"`
	// AbsBound is the absolute bound every value is stored within. It is 0
	// for lossless arrays and for ModeRel arrays before their first write.
	AbsBound float64 `json:"abs_bound"`
	// RecompressedBound, when not 0, is the absolute bound that every chunk
	// meets against the original values after DB.Recompress re-encoded
	// chunks from their decoded values. A chunk is then within the larger
	// of this and the bound in its stream header.
	RecompressedBound float64 `json:"recompressed_bound,omitempty"`
	// ValueMin and ValueMax are the range ModeRel resolved against.
	ValueMin *float64        `json:"value_min,omitempty"`
	ValueMax *float64        `json:"value_max,omitempty"`
	Fill     *float64        `json:"fill,omitempty"`
	Attrs    json.RawMessage `json:"attrs,omitempty"`
	Created  time.Time       `json:"created"`
}

// ErrorBound returns the bound as the user stated it.
func (a *ArrayInfo) ErrorBound() codecs.Bound { return codecs.Bound{Mode: a.Mode, Value: a.Bound} }

// Grid returns the chunk grid of the array.
func (a *ArrayInfo) Grid() *chunk.Grid {
	g, err := chunk.NewGrid(a.Shape, a.Chunks)
	if err != nil {
		// The catalog entry was validated when it was created.
		panic(fmt.Sprintf("store: catalog entry of %q has an invalid grid: %v", a.Name, err))
	}
	return g
}

// RawBytes returns the uncompressed size of the array.
func (a *ArrayInfo) RawBytes() int64 {
	return int64(chunk.Shape(a.Shape).Count()) * int64(a.DType.Size())
}

// resolved reports whether the absolute bound is known.
func (a *ArrayInfo) resolved() bool {
	return a.Mode != codecs.ModeRel || a.ValueMin != nil
}

func (a *ArrayInfo) setRange(lo, hi float64) {
	a.ValueMin, a.ValueMax = &lo, &hi
	a.AbsBound = a.ErrorBound().Absolute(hi - lo)
}

func (a *ArrayInfo) params(shape []int) codecs.Params {
	p := codecs.Params{DType: a.DType, Shape: shape, Bound: a.AbsBound}
	if a.Fill != nil {
		p.HasFill, p.Fill = true, *a.Fill
	}
	return p
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.\-/]{0,254}$`)

func validateName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("%w: %q: names are 1 to 255 characters of letters, digits, '_', '.', '-' and '/', starting with a letter, digit or '_'", ErrInvalidName, name)
	}
	return nil
}

// newArrayInfo validates o and returns the catalog entry it describes.
func newArrayInfo(name string, o *ArrayOptions, chunkBytes int) (*ArrayInfo, error) {
	if err := validateName(name); err != nil {
		return nil, err
	}
	var errs []error
	if !o.DType.Valid() {
		errs = append(errs, fmt.Errorf("invalid dtype %d: allowed are f32, f64, i8, i16, i32, i64, u8, u16, u32, u64", uint8(o.DType)))
	}
	shape := chunk.Shape(o.Shape)
	if err := shape.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := o.Bound.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	info := &ArrayInfo{
		Name: name, DType: o.DType, Shape: shape.Clone(),
		Mode: o.Bound.Mode, Bound: o.Bound.Value,
		Attrs: o.Attrs, Created: time.Now().UTC(),
	}
	if o.Chunks == nil {
		info.Chunks = chunk.DefaultChunkShape(shape, o.DType.Size(), chunkBytes)
	} else {
		info.Chunks = append([]int(nil), o.Chunks...)
	}
	if _, err := chunk.NewGrid(shape, info.Chunks); err != nil {
		errs = append(errs, err)
	} else if n := chunk.Shape(info.Chunks).Count() * o.DType.Size(); n > codecs.MaxChunkBytes {
		errs = append(errs, fmt.Errorf("chunk shape %v is %d bytes, the maximum is %d", info.Chunks, n, codecs.MaxChunkBytes))
	}

	info.Codec = o.Codec
	if info.Codec == "" {
		info.Codec = "lorenzo"
		if !o.DType.IsFloat() {
			info.Codec = "lossless"
		}
	}
	if _, err := codecs.ByName(info.Codec); err != nil {
		errs = append(errs, err)
	}
	if !o.DType.IsFloat() {
		if info.Codec != "lossless" {
			errs = append(errs, fmt.Errorf("codec %q does not support integer dtype %s: integer arrays use codec lossless", info.Codec, o.DType))
		}
		if o.Bound.Mode != codecs.ModeNone {
			errs = append(errs, fmt.Errorf("error bound %s on integer dtype %s: integer arrays are stored losslessly, use mode none", o.Bound, o.DType))
		}
	}

	if o.Fill != nil {
		f := *o.Fill
		switch {
		case math.IsNaN(f) || math.IsInf(f, 0):
			errs = append(errs, fmt.Errorf("fill value %v: must be finite (NaN and Inf are always stored exactly)", f))
		case o.DType == codecs.Float32 && math.Abs(f) > math.MaxFloat32:
			errs = append(errs, fmt.Errorf("fill value %v is outside the float32 range", f))
		case !o.DType.IsFloat() && (f != math.Trunc(f) || math.Abs(f) > 1<<53):
			errs = append(errs, fmt.Errorf("fill value %v for integer dtype %s: must be an integer of magnitude at most 2^53", f, o.DType))
		}
		if o.DType == codecs.Float32 {
			f = float64(float32(f)) // compare in the precision the values have
		}
		info.Fill = &f
	}
	if o.ValueRange != nil {
		lo, hi := o.ValueRange[0], o.ValueRange[1]
		if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) || lo > hi {
			errs = append(errs, fmt.Errorf("value range [%v, %v]: must be finite with min <= max", lo, hi))
		}
	}
	if len(o.Attrs) > 0 && !json.Valid(o.Attrs) {
		errs = append(errs, fmt.Errorf("attrs are not valid JSON: %.60q", o.Attrs))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	switch {
	case info.Mode == codecs.ModeAbs:
		info.AbsBound = info.Bound
	case info.Mode == codecs.ModeRel && o.ValueRange != nil:
		info.setRange(o.ValueRange[0], o.ValueRange[1])
	}
	return info, nil
}
