package codecs_test

import (
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/codecs/codectest"
	"github.com/epsilon-db/epsilon/internal/realdata"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata")

// encodeFloats returns the raw little-endian bytes of vals as dt.
func encodeFloats(dt codecs.DType, vals []float64) []byte {
	out := make([]byte, 0, len(vals)*dt.Size())
	for _, v := range vals {
		if dt == codecs.Float32 {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(float32(v)))
		} else {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
		}
	}
	return out
}

// f32ToF64 widens raw float32 bytes to raw float64 bytes.
func f32ToF64(raw []byte) []byte {
	out := make([]byte, 0, 2*len(raw))
	for i := 0; i+4 <= len(raw); i += 4 {
		v := math.Float32frombits(binary.LittleEndian.Uint32(raw[i:]))
		out = binary.LittleEndian.AppendUint64(out, math.Float64bits(float64(v)))
	}
	return out
}

// roundTripLorenzo encodes raw with the Lorenzo codec directly and through
// the stream layer, checks both decoded chunks value by value, and returns
// the Lorenzo payload and the stream.
func roundTripLorenzo(t testing.TB, raw []byte, p codecs.Params) (payload, stream []byte) {
	t.Helper()
	payload, err := codecs.Lorenzo.AppendEncode(nil, raw, p)
	require.NoError(t, err)
	got := make([]byte, len(raw))
	require.NoError(t, codecs.Lorenzo.Decode(got, payload, p))
	codectest.RequireWithinBound(t, p.DType, raw, got, p.Bound, p.HasFill, p.Fill)

	stream, err = codecs.Encode(nil, codecs.Lorenzo, codecs.Bound{Mode: codecs.ModeAbs, Value: p.Bound}, p, raw)
	require.NoError(t, err)
	clear(got)
	h, err := codecs.Decode(got, stream)
	require.NoError(t, err)
	require.Contains(t, []codecs.ID{codecs.IDLorenzo, codecs.IDLossless}, h.Codec)
	codectest.RequireWithinBound(t, p.DType, raw, got, p.Bound, p.HasFill, p.Fill)
	return payload, stream
}

// valueRange returns max - min over the finite values of raw that are not
// the fill value.
func valueRange(dt codecs.DType, raw []byte, hasFill bool, fill float64) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := 0; i < len(raw); i += dt.Size() {
		var v float64
		if dt == codecs.Float32 {
			f := math.Float32frombits(binary.LittleEndian.Uint32(raw[i:]))
			if hasFill && f == float32(fill) {
				continue
			}
			v = float64(f)
		} else {
			v = math.Float64frombits(binary.LittleEndian.Uint64(raw[i:]))
			if hasFill && v == fill {
				continue
			}
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	return hi - lo
}

// chunkRows returns how many slices along the first dimension make a chunk
// of about 1 MiB.
func chunkRows(shape []int, size int) int {
	slice := size
	for _, d := range shape[1:] {
		slice *= d
	}
	return max(1, min(shape[0], (1<<20)/slice))
}

func TestLorenzoRealFields(t *testing.T) {
	m := realdata.ForTest(t)
	rels := []float64{1e-2, 1e-3, 1e-4, 1e-5, 1e-6}
	if testing.Short() {
		rels = []float64{1e-2, 1e-4}
	}
	for _, f := range m.Fields() {
		t.Run(f.Name(), func(t *testing.T) {
			t.Parallel()
			raw32, err := m.Read(f)
			require.NoError(t, err)
			srcType, err := codecs.ParseDType(f.DType)
			require.NoError(t, err)
			hasFill, fill := f.Fill != nil, 0.0
			if hasFill {
				fill = *f.Fill
			}

			for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
				raw := raw32
				if dt != srcType {
					if srcType != codecs.Float32 {
						continue // only float32 fields are widened
					}
					raw = f32ToF64(raw32)
				}
				valRange := valueRange(dt, raw, hasFill, fill)
				require.Greater(t, valRange, 0.0)

				rows := chunkRows(f.Shape, dt.Size())
				sliceBytes := len(raw) / f.Shape[0]
				for _, rel := range rels {
					bound := rel * valRange
					var payloadBytes int
					for r0 := 0; r0 < f.Shape[0]; r0 += rows {
						r1 := min(r0+rows, f.Shape[0])
						shape := append([]int{r1 - r0}, f.Shape[1:]...)
						p := codecs.Params{DType: dt, Shape: shape, Bound: bound, HasFill: hasFill, Fill: fill}
						payload, _ := roundTripLorenzo(t, raw[r0*sliceBytes:r1*sliceBytes], p)
						payloadBytes += len(payload)
					}
					t.Logf("%s rel=%g: ratio %.2f", dt, rel, float64(len(raw))/float64(payloadBytes))
				}
			}
		})
	}
}

// smoothField returns values of a smooth function over shape in C order.
func smoothField(shape []int) []float64 {
	n := 1
	for _, d := range shape {
		n *= d
	}
	vals := make([]float64, n)
	for i := range vals {
		rest, v := i, 0.0
		for k := len(shape) - 1; k >= 0; k-- {
			c := rest % shape[k]
			rest /= shape[k]
			v += math.Sin(float64(c)*0.3+float64(k)) * float64(k+1)
		}
		vals[i] = v + 0.01*float64(i%7)
	}
	return vals
}

func TestLorenzoSpecialValues(t *testing.T) {
	const fill = -999.0
	nanPayload := math.Float64frombits(0x7ff8_0000_dead_beef)
	nan32Payload := float64(math.Float32frombits(0x7fc0_beef))
	shape := []int{9, 11, 13}
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		for _, layout := range []string{"scattered", "blocks"} {
			t.Run(fmt.Sprintf("%s_%s", dt, layout), func(t *testing.T) {
				vals := smoothField(shape)
				specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), fill, nanPayload, nan32Payload}
				if layout == "scattered" {
					rng := rand.New(rand.NewPCG(7, 8))
					for i := range vals {
						if rng.IntN(10) == 0 {
							vals[i] = specials[rng.IntN(len(specials))]
						}
					}
				} else {
					for i := range vals {
						if (i/40)%3 == 1 {
							vals[i] = specials[(i/120)%len(specials)]
						}
					}
				}
				raw := encodeFloats(dt, vals)
				if dt == codecs.Float32 {
					// Keep a float32 NaN payload that the float64 conversion
					// in encodeFloats would not carry over.
					binary.LittleEndian.PutUint32(raw[4*5:], 0x7fa0_0001)
				}
				p := codecs.Params{DType: dt, Shape: shape, Bound: 1e-3, HasFill: true, Fill: fill}
				payload, _ := roundTripLorenzo(t, raw, p)
				require.Less(t, len(payload), len(raw), "specials must not defeat compression")
			})
		}
	}
}

func TestLorenzoFillCostsNoVerbatimBytes(t *testing.T) {
	// Half of the values are fill in blocks, as with land in an ocean
	// field. With verbatim fill the payload would hold 2000 raw values.
	const fill = 1e35
	vals := smoothField([]int{40, 100})
	for i := range vals {
		if (i/100)%2 == 0 {
			vals[i] = fill
		}
	}
	raw := encodeFloats(codecs.Float32, vals)
	p := codecs.Params{DType: codecs.Float32, Shape: []int{40, 100}, Bound: 1e-2, HasFill: true, Fill: fill}
	payload, _ := roundTripLorenzo(t, raw, p)
	require.Less(t, len(payload), 2000)
}

func TestLorenzoNegativeZeroAgainstFill(t *testing.T) {
	vals := []float64{1, math.Copysign(0, -1), 0, 2, math.Copysign(0, -1)}
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		raw := encodeFloats(dt, vals)
		p := codecs.Params{DType: dt, Shape: []int{len(vals)}, Bound: 0.5, HasFill: true, Fill: 0}
		roundTripLorenzo(t, raw, p)
	}
}

func TestLorenzoConstant(t *testing.T) {
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		vals := make([]float64, 20*30*40)
		for i := range vals {
			vals[i] = 273.15
		}
		raw := encodeFloats(dt, vals)
		p := codecs.Params{DType: dt, Shape: []int{20, 30, 40}, Bound: 1e-4}
		payload, stream := roundTripLorenzo(t, raw, p)
		require.Less(t, len(payload), 200, "%s constant chunk", dt)

		h, _, err := codecs.ParseHeader(stream)
		require.NoError(t, err)
		require.Equal(t, codecs.IDLorenzo, h.Codec)
	}
}

func TestLorenzoNoiseFallsBackToLossless(t *testing.T) {
	// Random bit patterns span every exponent, so no value is predictable
	// and zstd finds nothing to remove.
	rng := rand.New(rand.NewPCG(9, 10))
	raw := make([]byte, 4*64*64)
	for i := 0; i < len(raw); i += 4 {
		binary.LittleEndian.PutUint32(raw[i:], rng.Uint32())
	}
	p := codecs.Params{DType: codecs.Float32, Shape: []int{64, 64}, Bound: 1e-44}
	_, stream := roundTripLorenzo(t, raw, p)
	h, _, err := codecs.ParseHeader(stream)
	require.NoError(t, err)
	require.Equal(t, codecs.IDLossless, h.Codec)
}

func TestLorenzoShapes(t *testing.T) {
	shapes := [][]int{
		{1}, {1, 1, 1}, {2}, {1000},
		{1, 50}, {50, 1}, {1, 1, 30, 1}, {5, 1, 7, 1, 9}, {1, 6, 1, 8}, {1, 96, 144},
		{3, 4, 5, 6}, {2, 3, 4, 5, 6}, {2, 2, 3, 3, 4, 5}, {2, 2, 2, 2, 2, 3, 4}, {2, 2, 2, 2, 2, 2, 2, 3},
		{7, 11, 13}, {97, 101}, {1009}, {2, 3}, {3, 2, 2},
	}
	for _, shape := range shapes {
		for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
			t.Run(fmt.Sprintf("%s_%v", dt, shape), func(t *testing.T) {
				raw := encodeFloats(dt, smoothField(shape))
				p := codecs.Params{DType: dt, Shape: shape, Bound: 1e-3}
				roundTripLorenzo(t, raw, p)
			})
		}
	}
}

func TestLorenzoSizeOneDimensionsDropped(t *testing.T) {
	vals := smoothField([]int{96, 144})
	raw := encodeFloats(codecs.Float32, vals)
	want, err := codecs.Lorenzo.AppendEncode(nil, raw, codecs.Params{DType: codecs.Float32, Shape: []int{96, 144}, Bound: 1e-3})
	require.NoError(t, err)
	for _, shape := range [][]int{{1, 96, 144}, {96, 1, 144}, {96, 144, 1}, {1, 1, 96, 1, 144}} {
		got, err := codecs.Lorenzo.AppendEncode(nil, raw, codecs.Params{DType: codecs.Float32, Shape: shape, Bound: 1e-3})
		require.NoError(t, err)
		require.Equal(t, want, got, "shape %v must be predicted as 96x144", shape)
	}
}

func TestLorenzoSlabsIndependent(t *testing.T) {
	// Two identical 3-D slabs of a 4-D chunk predict the same way, so the
	// 4-D payload codes the slab twice: its codes repeat exactly.
	slab := encodeFloats(codecs.Float32, smoothField([]int{4, 5, 6}))
	raw := append(append([]byte(nil), slab...), slab...)
	p := codecs.Params{DType: codecs.Float32, Shape: []int{2, 4, 5, 6}, Bound: 1e-3}
	roundTripLorenzo(t, raw, p)

	got := make([]byte, len(raw))
	payload, err := codecs.Lorenzo.AppendEncode(nil, raw, p)
	require.NoError(t, err)
	require.NoError(t, codecs.Lorenzo.Decode(got, payload, p))
	require.Equal(t, got[:len(slab)], got[len(slab):], "both slabs decode to the same bits")
}

func TestLorenzoExtremeBounds(t *testing.T) {
	vals := smoothField([]int{10, 20})
	for _, bound := range []float64{1e300, math.MaxFloat64, 1e-300, 5e-324} {
		for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
			raw := encodeFloats(dt, vals)
			p := codecs.Params{DType: dt, Shape: []int{10, 20}, Bound: bound}
			roundTripLorenzo(t, raw, p)
		}
	}
}

func TestLorenzoTinyBoundHugeValues(t *testing.T) {
	vals := smoothField([]int{16, 16})
	for i := range vals {
		vals[i] *= 1e30
	}
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		raw := encodeFloats(dt, vals)
		roundTripLorenzo(t, raw, codecs.Params{DType: dt, Shape: []int{16, 16}, Bound: 1e-30})
	}
}

func TestLorenzoHugeValuesOverflowPrediction(t *testing.T) {
	// Neighbours near the float64 maximum make the predictor overflow to
	// infinity, which must not break the reconstruction.
	vals := []float64{math.MaxFloat64, -math.MaxFloat64, math.MaxFloat64, math.MaxFloat64, -math.MaxFloat64, 0, 1, math.MaxFloat64 / 2}
	raw := encodeFloats(codecs.Float64, vals)
	roundTripLorenzo(t, raw, codecs.Params{DType: codecs.Float64, Shape: []int{2, 4}, Bound: 1e-3})
	raw32 := encodeFloats(codecs.Float32, []float64{math.MaxFloat32, -math.MaxFloat32, math.MaxFloat32, 3})
	roundTripLorenzo(t, raw32, codecs.Params{DType: codecs.Float32, Shape: []int{2, 2}, Bound: 1e30})
}

func TestLorenzoRejectsUnsupported(t *testing.T) {
	raw := make([]byte, 16)
	for _, p := range []codecs.Params{
		{DType: codecs.Int32, Shape: []int{4}, Bound: 1},
		{DType: codecs.Float32, Shape: []int{4}, Bound: 0},
		{DType: codecs.Float32, Shape: []int{4}, Bound: math.Inf(1)},
		{DType: codecs.Float32, Shape: []int{4}, Bound: math.NaN()},
	} {
		_, err := codecs.Lorenzo.AppendEncode(nil, raw, p)
		require.ErrorIs(t, err, codecs.ErrUnsupported, "params %+v", p)
	}
}

func TestLorenzoDecodeRejectsCorrupt(t *testing.T) {
	raw := encodeFloats(codecs.Float32, smoothField([]int{20, 30}))
	p := codecs.Params{DType: codecs.Float32, Shape: []int{20, 30}, Bound: 1e-3}
	payload, err := codecs.Lorenzo.AppendEncode(nil, raw, p)
	require.NoError(t, err)
	dst := make([]byte, len(raw))

	t.Run("truncated", func(t *testing.T) {
		for cut := 0; cut < len(payload); cut++ {
			require.ErrorIs(t, codecs.Lorenzo.Decode(dst, payload[:cut], p), codecs.ErrCorrupt, "cut at %d", cut)
		}
	})
	t.Run("other_bound", func(t *testing.T) {
		q := p
		q.Bound = 2e-3
		require.ErrorIs(t, codecs.Lorenzo.Decode(dst, payload, q), codecs.ErrCorrupt)
	})
	t.Run("other_shape", func(t *testing.T) {
		q := p
		q.Shape = []int{30, 20}
		require.NoError(t, codecs.Lorenzo.Decode(dst, payload, q), "same count and dimensions decode, if wrongly")
		q.Shape = []int{600}
		require.ErrorIs(t, codecs.Lorenzo.Decode(dst, payload, q), codecs.ErrCorrupt)
		q.Shape = []int{2, 10, 30}
		require.ErrorIs(t, codecs.Lorenzo.Decode(dst, payload, q), codecs.ErrCorrupt)
	})
	t.Run("other_dtype", func(t *testing.T) {
		q := p
		q.DType = codecs.Float64
		require.ErrorIs(t, codecs.Lorenzo.Decode(make([]byte, 2*len(raw)), payload, q), codecs.ErrCorrupt)
		q.DType = codecs.Int32
		require.ErrorIs(t, codecs.Lorenzo.Decode(dst, payload, q), codecs.ErrCorrupt)
	})
	t.Run("wrong_destination", func(t *testing.T) {
		require.Error(t, codecs.Lorenzo.Decode(dst[:len(dst)-4], payload, p))
	})
	t.Run("stream_bit_flips", func(t *testing.T) {
		stream, err := codecs.Encode(nil, codecs.Lorenzo, codecs.Bound{Mode: codecs.ModeAbs, Value: p.Bound}, p, raw)
		require.NoError(t, err)
		for i := 0; i < len(stream); i += 3 {
			bad := append([]byte(nil), stream...)
			bad[i] ^= 0x04
			_, err := codecs.Decode(dst, bad)
			require.ErrorIs(t, err, codecs.ErrCorrupt, "flip in byte %d", i)
		}
	})
}

// goldenInput is a 13x17 float32 ramp plus sine with one NaN and one fill
// value.
func goldenInput() ([]byte, codecs.Params) {
	const rows, cols = 13, 17
	vals := make([]float64, rows*cols)
	for i := range rows {
		for j := range cols {
			vals[i*cols+j] = 0.25*float64(i) + 0.1*float64(j) + math.Sin(float64(i*cols+j)*0.2)
		}
	}
	vals[3*cols+4] = math.NaN()
	vals[7*cols+9] = -1e30
	p := codecs.Params{DType: codecs.Float32, Shape: []int{rows, cols}, Bound: 1e-3, HasFill: true, Fill: -1e30}
	return encodeFloats(codecs.Float32, vals), p
}

// TestLorenzoGolden pins the stream bytes of a small chunk, so a change of
// the payload format shows up. The payload's last step is zstd, so a zstd
// library update that changes its output also changes these bytes; then
// check that the old golden still decodes and rerun with -update.
func TestLorenzoGolden(t *testing.T) {
	raw, p := goldenInput()
	stream, err := codecs.Encode(nil, codecs.Lorenzo, codecs.Bound{Mode: codecs.ModeAbs, Value: p.Bound}, p, raw)
	require.NoError(t, err)
	h, _, err := codecs.ParseHeader(stream)
	require.NoError(t, err)
	require.Equal(t, codecs.IDLorenzo, h.Codec, "the golden chunk must use the lorenzo payload")

	path := filepath.Join("testdata", "lorenzo_golden.hex")
	if *updateGolden {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(hex.EncodeToString(stream)+"\n"), 0o644))
	}
	text, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run TestLorenzoGolden -update to create it")
	golden, err := hex.DecodeString(strings.TrimSpace(string(text)))
	require.NoError(t, err)

	// The stored stream must decode within the bound, whatever this build
	// writes, and this build must write the same bytes.
	got := make([]byte, len(raw))
	_, err = codecs.Decode(got, golden)
	require.NoError(t, err)
	codectest.RequireWithinBound(t, p.DType, raw, got, p.Bound, p.HasFill, p.Fill)
	require.Equal(t, hex.EncodeToString(golden), hex.EncodeToString(stream))
}

// fuzzShapes are the chunk shapes FuzzLorenzoDecode picks from.
var fuzzShapes = [][]int{{1}, {17}, {4, 5}, {3, 4, 5}, {2, 3, 2, 3}, {1, 6, 1}}

// fuzzParams derives chunk parameters from one fuzz byte: bit 0 picks the
// dtype, bit 1 the fill value, the rest the shape.
func fuzzParams(sel byte) codecs.Params {
	p := codecs.Params{DType: codecs.Float32, Shape: fuzzShapes[int(sel>>2)%len(fuzzShapes)], Bound: 0.01}
	if sel&1 != 0 {
		p.DType = codecs.Float64
	}
	if sel&2 != 0 {
		p.HasFill, p.Fill = true, -9
	}
	return p
}

func FuzzLorenzoDecode(f *testing.F) {
	rng := rand.New(rand.NewPCG(11, 12))
	for sel := range byte(4 * len(fuzzShapes)) {
		p := fuzzParams(sel)
		vals := smoothField(p.Shape)
		for i := range vals {
			switch rng.IntN(8) {
			case 0:
				vals[i] = math.NaN()
			case 1:
				vals[i] = -9
			case 2:
				vals[i] = rng.NormFloat64() * 100
			}
		}
		payload, err := codecs.Lorenzo.AppendEncode(nil, encodeFloats(p.DType, vals), p)
		require.NoError(f, err)
		f.Add(payload, sel)
		f.Add(payload[:len(payload)/2], sel)
		flipped := append([]byte(nil), payload...)
		flipped[len(flipped)*2/3] ^= 0x20
		f.Add(flipped, sel)
	}
	f.Fuzz(func(t *testing.T, payload []byte, sel byte) {
		p := fuzzParams(sel)
		dst := make([]byte, p.Count()*p.DType.Size())
		err := codecs.Lorenzo.Decode(dst, payload, p)
		if err != nil {
			require.ErrorIs(t, err, codecs.ErrCorrupt)
		}
	})
}

// benchmarkChunks cuts cesm_lens_TS (float32, 10x192x288) into chunks of
// 4x192x288 and returns the chunks and their params at rel 1e-4.
func benchmarkChunks(b *testing.B) ([][]byte, []codecs.Params, int) {
	m := realdata.ForTest(b)
	f, ok := m.Lookup("cesm_lens_TS")
	if !ok {
		b.Skip("cesm_lens_TS is not in the data set")
	}
	raw, err := m.Read(f)
	require.NoError(b, err)
	bound := 1e-4 * valueRange(codecs.Float32, raw, false, 0)
	sliceBytes := len(raw) / f.Shape[0]
	var chunks [][]byte
	var params []codecs.Params
	for r0 := 0; r0 < f.Shape[0]; r0 += 4 {
		r1 := min(r0+4, f.Shape[0])
		chunks = append(chunks, raw[r0*sliceBytes:r1*sliceBytes])
		shape := append([]int{r1 - r0}, f.Shape[1:]...)
		params = append(params, codecs.Params{DType: codecs.Float32, Shape: shape, Bound: bound})
	}
	return chunks, params, len(raw)
}

func BenchmarkLorenzoEncode(b *testing.B) {
	chunks, params, rawBytes := benchmarkChunks(b)
	benchEncode(b, codecs.Lorenzo, chunks, params, rawBytes)
}

func BenchmarkLorenzoDecode(b *testing.B) {
	chunks, params, rawBytes := benchmarkChunks(b)
	benchDecode(b, codecs.Lorenzo, chunks, params, rawBytes)
}
