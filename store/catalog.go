package store

import (
	"cmp"
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
	// Codec names the codec; "" selects auto for float dtypes and
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
	// TimeAxis, when set, is the dimension along which the array is a time
	// series. Chunks then span one timestep along it, and each chunk is
	// stored as the residual against the reconstruction of the chunk one
	// timestep earlier, except key chunks (see KeyInterval). The array
	// needs a float dtype and an abs, rel, psnr or norm bound.
	TimeAxis *int
	// KeyInterval is the distance in timesteps between key chunks, which
	// are stored without a residual: timesteps 0, K, 2K and so on. A read
	// of one chunk decodes at most K chunks. Default 8; only with TimeAxis.
	KeyInterval int

	// valueCount is the number of finite, non-fill values that ModeNorm
	// resolves against; Import sets it from the data, and 0 means the
	// array's size, which is never smaller.
	valueCount int64
	// Unlimited lets the leading dimension grow with DB.Append. Shape[0]
	// is then the initial extent, usually 0. Without Chunks, the chunk
	// extent along the leading dimension is chosen so that a chunk is
	// about Options.ChunkBytes.
	Unlimited bool
}

// DefaultKeyInterval is the key chunk interval of a temporal array whose
// ArrayOptions.KeyInterval is 0.
const DefaultKeyInterval = 8

// maxKeyInterval caps KeyInterval, and so the chunks one read decodes.
const maxKeyInterval = 1 << 16

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
	// AbsBound is the absolute bound every finite, non-fill value is
	// stored within. It is 0 for lossless arrays, for ModeRel and ModePSNR
	// arrays before their first write, and for ModePWRel arrays, whose
	// bound is Bound * |x| for each value x.
	AbsBound float64 `json:"abs_bound"`
	// RecompressedBound, when not 0, is the absolute bound that every chunk
	// meets against the original values after DB.Recompress re-encoded
	// chunks from their decoded values. A chunk is then within the larger
	// of this and the bound in its stream header.
	RecompressedBound float64 `json:"recompressed_bound,omitempty"`
	// ValueMin and ValueMax are the range ModeRel and ModePSNR resolved
	// against.
	ValueMin *float64 `json:"value_min,omitempty"`
	ValueMax *float64 `json:"value_max,omitempty"`
	// ValueCount is the value count ModeNorm resolved against.
	ValueCount int64 `json:"value_count,omitempty"`
	// TimeAxis and KeyInterval are those of ArrayOptions; KeyInterval is
	// set whenever TimeAxis is.
	TimeAxis    *int            `json:"time_axis,omitempty"`
	KeyInterval int             `json:"key_interval,omitempty"`
	Fill        *float64        `json:"fill,omitempty"`
	Attrs       json.RawMessage `json:"attrs,omitempty"`
	Created     time.Time       `json:"created"`
	// Unlimited marks an array whose leading dimension grows with Append.
	// Its chunks always span the full chunk extent along that dimension,
	// so the chunk at the leading edge keeps its shape as the array grows.
	Unlimited bool `json:"unlimited,omitempty"`
	// Complete records that every chunk of the grid has been stored: Import
	// and a Write of the whole array set it, and chunks are never removed
	// but with the array. A chunk missing from a complete array is then
	// reported as corruption instead of being read as fill values.
	Complete bool `json:"complete,omitempty"`
}

// ErrorBound returns the bound as the user stated it.
func (a *ArrayInfo) ErrorBound() codecs.Bound { return codecs.Bound{Mode: a.Mode, Value: a.Bound} }

// Grid returns the chunk grid of the array. For an Unlimited array the grid
// covers the leading dimension rounded up to whole chunks.
func (a *ArrayInfo) Grid() *chunk.Grid {
	shape := a.Shape
	if a.Unlimited && len(shape) > 0 && len(a.Chunks) == len(shape) && a.Chunks[0] > 0 {
		shape = chunk.Shape(shape).Clone()
		shape[0] = (shape[0] + a.Chunks[0] - 1) / a.Chunks[0] * a.Chunks[0]
	}
	g, err := chunk.NewGrid(shape, a.Chunks)
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
	return !a.ErrorBound().NeedsRange() || a.ValueMin != nil
}

func (a *ArrayInfo) setRange(lo, hi float64) {
	a.ValueMin, a.ValueMax = &lo, &hi
	a.AbsBound = a.ErrorBound().Resolve(hi-lo, a.ValueCount)
}

// params returns the codec parameters of a chunk of shape. Bound is the
// absolute bound, or for ModePWRel the point-wise relative bound, which
// the stream layer reads that way.
func (a *ArrayInfo) params(shape []int) codecs.Params {
	p := codecs.Params{DType: a.DType, Shape: shape, Bound: a.AbsBound}
	if a.Mode == codecs.ModePWRel {
		p.Bound = a.Bound
	}
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
	} else if o.DType.Valid() && shape.Count() > math.MaxInt64/o.DType.Size() {
		// Byte offsets and sizes of the array and its regions are int64.
		errs = append(errs, fmt.Errorf("shape %v of %s exceeds %d bytes", []int(shape), o.DType, int64(math.MaxInt64)))
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
		Attrs: o.Attrs, Created: time.Now().UTC(), Unlimited: o.Unlimited,
	}
	errs = append(errs, validateTemporal(o, len(shape))...)
	switch {
	case o.Chunks == nil && o.Unlimited:
		info.Chunks = unlimitedChunkShape(shape, o.DType.Size(), chunkBytes)
	case o.Chunks == nil:
		info.Chunks = defaultChunks(shape, o, chunkBytes)
	default:
		info.Chunks = append([]int(nil), o.Chunks...)
	}
	if o.Unlimited {
		if err := checkUnlimited(shape); err != nil {
			errs = append(errs, err)
		}
	}
	if o.TimeAxis != nil && len(errs) == 0 {
		axis := *o.TimeAxis
		if len(info.Chunks) == len(shape) && info.Chunks[axis] != 1 {
			errs = append(errs, fmt.Errorf("chunk shape %v spans %d timesteps along time axis %d: temporal arrays need chunks of 1 along it", info.Chunks, info.Chunks[axis], axis))
		}
		info.TimeAxis = &axis
		info.KeyInterval = cmp.Or(o.KeyInterval, DefaultKeyInterval)
	}
	if grid, err := chunk.NewGrid(shape, info.Chunks); err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, checkChunkGrid(grid, o.DType)...)
	}

	info.Codec = o.Codec
	if info.Codec == "" {
		info.Codec = "auto"
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
	case info.Mode == codecs.ModeNorm:
		info.ValueCount = o.valueCount
		if info.ValueCount <= 0 {
			info.ValueCount = int64(shape.Count())
		}
		info.AbsBound = info.ErrorBound().Resolve(0, info.ValueCount)
	case info.ErrorBound().NeedsRange() && o.ValueRange != nil:
		info.setRange(o.ValueRange[0], o.ValueRange[1])
	}
	return info, nil
}

// validateTemporal checks the time axis options of an array of ndim
// dimensions.
func validateTemporal(o *ArrayOptions, ndim int) []error {
	var errs []error
	if o.TimeAxis == nil {
		if o.KeyInterval != 0 {
			errs = append(errs, fmt.Errorf("key interval %d without a time axis: set TimeAxis too", o.KeyInterval))
		}
		return errs
	}
	axis := *o.TimeAxis
	if axis < 0 || axis >= ndim {
		errs = append(errs, fmt.Errorf("time axis %d: allowed are 0 to %d for a %d-dimensional array", axis, ndim-1, ndim))
	}
	if o.KeyInterval < 0 || o.KeyInterval > maxKeyInterval {
		errs = append(errs, fmt.Errorf("key interval %d: allowed are 1 to %d, or 0 for the default %d", o.KeyInterval, maxKeyInterval, DefaultKeyInterval))
	}
	if !o.DType.IsFloat() {
		errs = append(errs, fmt.Errorf("time axis on dtype %s: temporal arrays need f32 or f64", o.DType))
	}
	switch o.Bound.Mode {
	case codecs.ModeAbs, codecs.ModeRel, codecs.ModePSNR, codecs.ModeNorm:
	default:
		errs = append(errs, fmt.Errorf("time axis with error bound %s: temporal arrays need an abs, rel, psnr or norm bound", o.Bound))
	}
	return errs
}

// defaultChunks returns the chunk shape of an array created without one:
// about chunkBytes, trailing dimensions whole, and 1 along the time axis.
func defaultChunks(shape chunk.Shape, o *ArrayOptions, chunkBytes int) []int {
	if o.TimeAxis == nil || *o.TimeAxis < 0 || *o.TimeAxis >= len(shape) {
		return chunk.DefaultChunkShape(shape, o.DType.Size(), chunkBytes)
	}
	axis := *o.TimeAxis
	flat := shape.Clone()
	flat[axis] = min(flat[axis], 1)
	chunks := chunk.DefaultChunkShape(flat, o.DType.Size(), chunkBytes)
	chunks[axis] = 1
	return chunks
}

// countValues returns the number of finite values of raw that are not the
// fill value.
func countValues(raw []byte, dtype codecs.DType, hasFill bool, fill float64) int64 {
	var n int64
	switch dtype {
	case codecs.Float32:
		f := float32(fill)
		for _, v := range viewAs[float32](raw) {
			if v-v == 0 && !(hasFill && v == f) {
				n++
			}
		}
	case codecs.Float64:
		for _, v := range viewAs[float64](raw) {
			if v-v == 0 && !(hasFill && v == fill) {
				n++
			}
		}
	}
	return n
}

// checkChunkGrid returns an error for each limit of the key and stream
// formats that grid breaks: a chunk of more than codecs.MaxChunkBytes raw
// bytes, or more chunks along a dimension than a 4-byte chunk key
// coordinate numbers.
func checkChunkGrid(grid *chunk.Grid, dtype codecs.DType) []error {
	var errs []error
	chunkShape := grid.ChunkShape()
	maxValues := codecs.MaxChunkBytes / dtype.Size()
	values := 1
	for _, d := range chunkShape {
		// Compare before multiplying, so a huge chunk shape cannot wrap
		// around to a small count.
		if d > maxValues/values {
			errs = append(errs, fmt.Errorf("chunk shape %v of %s exceeds %d bytes, the maximum chunk size", []int(chunkShape), dtype, codecs.MaxChunkBytes))
			break
		}
		values *= d
	}
	for i, n := range grid.Counts() {
		if n > maxChunkCoord {
			errs = append(errs, fmt.Errorf("chunk shape %v cuts dimension %d of shape %v into %d chunks, at most %d are allowed: use larger chunks", []int(chunkShape), i, []int(grid.Shape()), n, int64(maxChunkCoord)))
		}
	}
	return errs
}
