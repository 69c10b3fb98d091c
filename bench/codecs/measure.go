package main

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"
	"unsafe"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/realdata"
	"github.com/epsilon-db/epsilon/qos"
)

// chunkTarget is the chunk size the store aims for.
const chunkTarget = 1 << 20

// field is one real field cut into chunks as the store cuts it.
type field struct {
	file       realdata.File
	dtype      codecs.DType
	shape      chunk.Shape
	chunkShape chunk.Shape
	raw        []byte
	hasFill    bool
	fill       float64
	// valueRange is max - min over the finite, non-fill values.
	valueRange float64
	chunks     []fieldChunk
}

type fieldChunk struct {
	region chunk.Region
	raw    []byte
}

// loadField reads f and cuts it into chunks of about chunkTarget bytes.
func loadField(m *realdata.Manifest, f realdata.File) (*field, error) {
	raw, err := m.Read(f)
	if err != nil {
		return nil, err
	}
	dt, err := codecs.ParseDType(f.DType)
	if err != nil {
		return nil, err
	}
	fd := &field{file: f, dtype: dt, shape: chunk.Shape(f.Shape), raw: raw}
	if f.Fill != nil {
		fd.hasFill, fd.fill = true, *f.Fill
	}
	if want := fd.shape.Count() * dt.Size(); len(raw) != want {
		return nil, fmt.Errorf("field %s has %d bytes, shape %v of %s needs %d", f.Name(), len(raw), f.Shape, dt, want)
	}
	fd.chunkShape = chunk.DefaultChunkShape(fd.shape, dt.Size(), chunkTarget)
	grid, err := chunk.NewGrid(fd.shape, fd.chunkShape)
	if err != nil {
		return nil, err
	}
	// Copy in bytes: the last dimension counts bytes instead of values.
	byteShape := bytesShape(fd.shape, dt.Size())
	err = grid.ForEach(chunk.Full(fd.shape), func(coords []int) error {
		r := grid.ChunkRegion(coords)
		count := bytesShape(r.Shape(), dt.Size())
		buf := make([]byte, count.Count())
		chunk.Copy(buf, count, make([]int, len(count)), raw, byteShape, bytesStart(r.Start, dt.Size()), count)
		fd.chunks = append(fd.chunks, fieldChunk{region: r, raw: buf})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if fd.valueRange, err = finiteRange(fd); err != nil {
		return nil, err
	}
	return fd, nil
}

func bytesShape(s chunk.Shape, size int) chunk.Shape {
	out := s.Clone()
	out[len(out)-1] *= size
	return out
}

func bytesStart(start []int, size int) []int {
	out := slices.Clone(start)
	out[len(out)-1] *= size
	return out
}

// finiteRange returns max - min over the finite, non-fill values of fd.
func finiteRange(fd *field) (float64, error) {
	var stats qos.ErrorStats
	var fill *float64
	if fd.hasFill {
		fill = &fd.fill
	}
	// Compare against itself computes the range of the compared values.
	if fd.dtype == codecs.Float32 {
		v := viewAs[float32](fd.raw)
		stats = qos.Compare(v, v, 0, fill)
	} else {
		v := viewAs[float64](fd.raw)
		stats = qos.Compare(v, v, 0, fill)
	}
	if !(stats.ValueRange > 0) {
		return 0, fmt.Errorf("field %s has no value range", fd.file.Name())
	}
	return stats.ValueRange, nil
}

// viewAs returns little-endian float bytes as a slice of T, which assumes a
// little-endian host as the engine does.
func viewAs[T float32 | float64](b []byte) []T {
	var zero T
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(zero)))
}

// measureGo runs codec c on every chunk of fd at the relative bound rel,
// reps times each way, and returns the row with median times.
func measureGo(fd *field, c codecs.Codec, rel float64, reps int) (Row, error) {
	abs := rel * fd.valueRange
	bound := codecs.Bound{Mode: codecs.ModeRel, Value: rel}
	params := make([]codecs.Params, len(fd.chunks))
	for i, ch := range fd.chunks {
		params[i] = codecs.Params{DType: fd.dtype, Shape: ch.region.Shape(), Bound: abs, HasFill: fd.hasFill, Fill: fd.fill}
	}

	streams := make([][]byte, len(fd.chunks))
	var compTimes []float64
	for range reps {
		runtime.GC()
		start := time.Now()
		for i, ch := range fd.chunks {
			s, err := codecs.Encode(streams[i][:0], c, bound, params[i], ch.raw)
			if err != nil {
				return Row{}, fmt.Errorf("%s on %s at rel %g: %w", c.Name(), fd.file.Name(), rel, err)
			}
			streams[i] = s
		}
		compTimes = append(compTimes, time.Since(start).Seconds())
	}

	decoded := make([][]byte, len(fd.chunks))
	for i, ch := range fd.chunks {
		decoded[i] = make([]byte, len(ch.raw))
	}
	var decTimes []float64
	for range reps {
		runtime.GC()
		start := time.Now()
		for i, s := range streams {
			if _, err := codecs.Decode(decoded[i], s); err != nil {
				return Row{}, fmt.Errorf("%s on %s at rel %g: decode: %w", c.Name(), fd.file.Name(), rel, err)
			}
		}
		decTimes = append(decTimes, time.Since(start).Seconds())
	}

	// Reassemble the field and compare it with the original.
	out := make([]byte, len(fd.raw))
	byteShape := bytesShape(fd.shape, fd.dtype.Size())
	compressed := 0
	for i, ch := range fd.chunks {
		count := bytesShape(ch.region.Shape(), fd.dtype.Size())
		chunk.Copy(out, byteShape, bytesStart(ch.region.Start, fd.dtype.Size()), decoded[i], count, make([]int, len(count)), count)
		compressed += len(streams[i])
	}
	var fill *float64
	if fd.hasFill {
		fill = &fd.fill
	}
	var stats qos.ErrorStats
	if fd.dtype == codecs.Float32 {
		stats = qos.Compare(viewAs[float32](fd.raw), viewAs[float32](out), abs, fill)
	} else {
		stats = qos.Compare(viewAs[float64](fd.raw), viewAs[float64](out), abs, fill)
	}
	row := Row{
		Field:           fd.file.Name(),
		Family:          family(fd.file.Name()),
		Codec:           c.Name(),
		Rel:             rel,
		Abs:             abs,
		RawBytes:        int64(len(fd.raw)),
		CompressedBytes: int64(compressed),
		Values:          int64(fd.shape.Count()),
		MaxError:        stats.MaxAbsError,
		Violations:      stats.Violations + stats.SpecialMismatches,
		CompressS:       median(compTimes),
		DecompressS:     median(decTimes),
	}
	if !math.IsInf(stats.PSNR, 0) {
		p := stats.PSNR
		row.PSNR = &p
	}
	return row, nil
}

// median returns the median of xs, which must not be empty.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
